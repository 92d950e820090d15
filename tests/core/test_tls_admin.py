"""The TLS certificate page (MAIL-21): administrators upload, see the details, go back; refusals say why."""

from datetime import timedelta

import pytest

from portal.audit.tables import AuditEntry
from portal.testing import csrf_token, login_as, post_form


@pytest.fixture
async def admin(client, make_user):
    user = await make_user("root", roles=["admin", "staff"])
    client.headers["accept-language"] = "en"
    await login_as(client, user)
    return user


async def upload(client, chain: bytes, key: bytes):
    if not csrf_token(client):
        await client.get("/login")
    return await client.post("/admin/tls", data={"_csrf_token": csrf_token(client)},
                             files={"chain": ("chain.pem", chain, "application/x-pem-file"),
                                    "key": ("key.pem", key, "application/x-pem-file")})


async def test_the_page_says_when_no_certificate_is_installed(client, admin):
    page = await client.get("/admin/tls")
    assert page.status_code == 200
    assert 'id="no-certificate"' in page.text and 'enctype="multipart/form-data"' in page.text
    assert 'href="/admin/tls" aria-current="page"' in page.text


async def test_a_good_upload_is_installed_and_its_details_shown_but_never_the_key(client, admin, app, pki):
    leaf = pki.leaf(("portal.example", "mail.portal.example"))
    response = await upload(client, leaf.chain_pem(), leaf.key_pem())
    assert response.status_code == 303 and response.headers["location"] == "/admin/tls"
    page = await client.get("/admin/tls")
    assert "portal.example, mail.portal.example" in page.text
    assert leaf.fingerprint in page.text and "CN=Portal Test Intermediate CA" in page.text
    assert "is installed: HTTPS and SMTP STARTTLS use it" in page.text
    assert "PRIVATE KEY" not in page.text and b"PRIVATE" not in page.content
    assert app.state.portal.tls.store.current().fingerprint == leaf.fingerprint
    entry = await AuditEntry.select().where(AuditEntry.action == "core.tls.upload").first()
    assert entry["target_id"] == leaf.fingerprint.replace(":", "") and entry["summary"] == "portal.example, mail.portal.example"


async def test_an_expiring_certificate_is_installed_with_a_warning(client, admin, pki):
    leaf = pki.leaf(valid_for=timedelta(days=15))
    assert (await upload(client, leaf.chain_pem(), leaf.key_pem())).status_code == 303
    assert "upload its renewal soon" in (await client.get("/admin/tls")).text


@pytest.mark.parametrize("case", ["garbage", "expired", "mismatched key", "wrong order"])
async def test_a_bad_upload_is_refused_with_the_reason_and_changes_nothing(client, admin, app, pki, case):
    good = pki.leaf()
    assert (await upload(client, good.chain_pem(), good.key_pem())).status_code == 303
    leaf = pki.leaf(("bad.example",))
    expired = pki.leaf(valid_from=timedelta(days=-60), valid_for=timedelta(days=30))
    chain, key, reason = {
        "garbage": (b"GIF89a garbage", leaf.key_pem(), "holds no PEM certificate"),
        "expired": (expired.chain_pem(), expired.key_pem(), "expired on"),
        "mismatched key": (leaf.chain_pem(), pki.leaf().key_pem(), "does not belong to the certificate"),
        "wrong order": (pki.pem(pki.intermediate.certificate, leaf.certificate), leaf.key_pem(), "must come first"),
    }[case]
    response = await upload(client, chain, key)
    assert response.status_code == 400
    assert 'id="tls-error"' in response.text and reason in response.text
    assert app.state.portal.tls.store.current().fingerprint == good.fingerprint


async def test_rollback_brings_the_previous_certificate_back(client, admin, app, pki):
    first, second = pki.leaf(("first.example",)), pki.leaf(("second.example",))
    await upload(client, first.chain_pem(), first.key_pem())
    await upload(client, second.chain_pem(), second.key_pem())
    page = await client.get("/admin/tls")
    assert 'id="previous"' in page.text and "first.example" in page.text
    response = await post_form(client, "/admin/tls/rollback")
    assert response.status_code == 303
    assert app.state.portal.tls.store.current().names == ["first.example"]
    assert "first.example, is in use again" in (await client.get("/admin/tls")).text
    assert await AuditEntry.count().where(AuditEntry.action == "core.tls.rollback") == 1


async def test_rollback_without_a_previous_certificate_says_so(client, admin):
    response = await post_form(client, "/admin/tls/rollback")
    assert response.status_code == 400 and "no previous certificate" in response.text


async def test_staff_and_visitors_cannot_see_or_upload(client, make_user, pki):
    leaf = pki.leaf()
    assert (await client.get("/admin/tls")).status_code == 303  # to the login page
    staff = await make_user("clerk", roles=["staff"])
    await login_as(client, staff)
    assert (await client.get("/admin/tls")).status_code == 403
    assert (await upload(client, leaf.chain_pem(), leaf.key_pem())).status_code == 403
    assert (await post_form(client, "/admin/tls/rollback")).status_code == 403


async def test_an_upload_without_the_csrf_token_is_refused(client, admin, app, pki):
    leaf = pki.leaf()
    response = await client.post("/admin/tls", files={"chain": ("c.pem", leaf.chain_pem()), "key": ("k.pem", leaf.key_pem())})
    assert response.status_code == 403
    assert app.state.portal.tls.store.current() is None


async def test_an_oversized_upload_is_refused(client, admin, app, pki):
    leaf = pki.leaf()
    response = await upload(client, leaf.chain_pem() + b"#" * 100_000, leaf.key_pem())
    assert response.status_code == 400 and "larger than 64 KB" in response.text
    # Past the request limit the server stops reading at once.
    response = await upload(client, b"#" * 300_000, leaf.key_pem())
    assert response.status_code == 413
    assert app.state.portal.tls.store.current() is None
