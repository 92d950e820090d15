"""RSA-encrypted password transmission (MAIL-15): keys and their rotation, nonces, replay, the login page.

The browser's part (WebCrypto) is in tests/e2e/test_login_encryption.py; here the ciphertexts
are made with ``cryptography``, as the script makes them: RSA-OAEP (SHA-256) over
``nonce \\n milliseconds \\n password``.
"""

import base64
import html
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from portal.auth import encryption
from portal.auth.tables import LoginAttempt, LoginKey, UsedLoginNonce
from portal.testing import csrf_token, post_form

OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
# Smaller keys than the default 3072 bits: each takes a fraction of a second to make instead of seconds.
BITS = 2048


@pytest.fixture
def app(make_app):
    return make_app(login_key_bits=BITS)


@pytest.fixture
def settings(app):
    return app.state.portal.settings


@pytest.fixture
async def key(client, settings):
    assert await encryption.rotate_if_due(settings)
    return await encryption.current_public_key(settings)


def page_data(page_html: str) -> dict[str, str]:
    """The login form's data attributes: key, key-id, nonce, time."""
    form = re.search(r'<form method="post" action="/login" id="login-form"([^>]*)>', page_html).group(1)
    return {name: html.unescape(value) for name, value in re.findall(r'data-([a-z-]+)="([^"]*)"', form)}


def encrypt(spki: str, nonce: str, password: str, sent_ms: int | None = None) -> str:
    public_key = serialization.load_der_public_key(base64.b64decode(spki))
    sent_ms = int(time.time() * 1000) if sent_ms is None else sent_ms
    return base64.b64encode(public_key.encrypt(f"{nonce}\n{sent_ms}\n{password}".encode(), OAEP)).decode()


async def login_page(client) -> dict[str, str]:
    page = await client.get("/login")
    assert page.status_code == 200
    return page_data(page.text)


async def post_encrypted(client, username: str, data: dict[str, str], cipher: str):
    return await post_form(client, "/login", {"username": username, "password": "", "password_key": data["key-id"],
                                              "password_cipher": cipher})


def alert(page_html: str) -> str:
    return html.unescape(re.search(r'role="alert"[^>]*>([^<]+)<', page_html).group(1))


async def age_keys(hours: float) -> None:
    rows = await LoginKey.select(LoginKey.id, LoginKey.created_at)
    for row in rows:
        await LoginKey.update({LoginKey.created_at: row["created_at"] - timedelta(hours=hours)}).where(LoginKey.id == row["id"])


# The login page ------------------------------------------------------------------------------


async def test_login_page_carries_the_public_key_a_nonce_and_the_script(client, key):
    client.headers["accept-language"] = "en"
    page = await client.get("/login")
    data = page_data(page.text)
    assert data["key"] == key.spki and data["key-id"] == str(key.id)
    public_key = serialization.load_der_public_key(base64.b64decode(data["key"]))
    assert public_key.key_size == BITS
    assert abs(int(data["time"]) - time.time()) < 5
    assert re.fullmatch(r"[0-9]+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{24}", data["nonce"])
    assert re.search(r'<script src="/static/core/js/login\.[0-9a-f]{10}\.js" defer></script>', page.text)
    assert 'name="password_cipher"' in page.text
    assert page.headers["cache-control"] == "no-store"
    # Every view gets its own nonce.
    assert (await login_page(client))["nonce"] != data["nonce"]


async def test_without_a_key_the_page_is_the_plain_form_and_it_works(client, make_user):
    user = await make_user("plain")
    page = await client.get("/login")
    assert "data-key" not in page.text and "login." not in page.text and "password_cipher" not in page.text
    response = await post_form(client, "/login", {"username": "plain", "password": user.password})
    assert response.status_code == 303 and response.headers["location"] == "/login/verify"


# Logging in with a ciphertext ----------------------------------------------------------------


async def test_encrypted_password_logs_in(client, make_user, key):
    user = await make_user("alice")
    data = await login_page(client)
    response = await post_encrypted(client, "alice", data, encrypt(data["key"], data["nonce"], user.password))
    assert response.status_code == 303 and response.headers["location"] == "/login/verify"
    response = await post_form(client, "/login/verify", {"code": user.totp_code()})
    assert response.status_code == 303
    assert "Alice" in (await client.get("/")).text


async def test_a_wrong_encrypted_password_is_a_wrong_password(client, make_user, key):
    await make_user("bob")
    client.headers["accept-language"] = "en"
    data = await login_page(client)
    response = await post_encrypted(client, "bob", data, encrypt(data["key"], data["nonce"], "not-his-password"))
    assert response.status_code == 401
    assert alert(response.text) == "Wrong username or password."
    assert [a["result"] for a in await LoginAttempt.select().where(LoginAttempt.username == "bob")] == ["bad_password"]
    assert page_data(response.text)["nonce"] != data["nonce"]  # the page shown again has a fresh nonce


async def test_replaying_the_same_ciphertext_is_refused(client, make_user, key):
    user = await make_user("carol")
    client.headers["accept-language"] = "en"
    data = await login_page(client)
    cipher = encrypt(data["key"], data["nonce"], user.password)
    assert (await post_encrypted(client, "carol", data, cipher)).status_code == 303
    await post_form(client, "/logout")

    replay = await post_encrypted(client, "carol", data, cipher)
    assert replay.status_code == 400
    assert alert(replay.text) == "This encrypted password was already sent once. Enter your password again."
    second_step = await client.get("/login/verify")  # not opened: back to the login page
    assert second_step.status_code == 303 and second_step.headers["location"].startswith("/login?")
    # Refused before the password was looked at: no attempt recorded.
    assert await LoginAttempt.count().where(LoginAttempt.username == "carol") == 0
    assert await UsedLoginNonce.count() == 1


async def test_an_old_timestamp_is_refused(client, make_user, key):
    user = await make_user("dave")
    client.headers["accept-language"] = "en"
    data = await login_page(client)
    old = int((time.time() - encryption.TIMESTAMP_PAST_SECONDS - 60) * 1000)
    response = await post_encrypted(client, "dave", data, encrypt(data["key"], data["nonce"], user.password, sent_ms=old))
    assert response.status_code == 400
    assert alert(response.text) == "The encrypted password is too old. Enter your password again."
    future = int((time.time() + 600) * 1000)
    data = await login_page(client)
    response = await post_encrypted(client, "dave", data, encrypt(data["key"], data["nonce"], user.password, sent_ms=future))
    assert response.status_code == 400


async def test_a_nonce_from_another_session_is_refused(app, client, make_user, key):
    from litestar.testing import AsyncTestClient

    user = await make_user("erin")
    data = await login_page(client)  # the nonce of this browser
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as other:
        other.follow_redirects = False
        other.headers["accept-language"] = "en"
        response = await post_encrypted(other, "erin", data, encrypt(data["key"], data["nonce"], user.password))
        assert csrf_token(other) != csrf_token(client)
    assert response.status_code == 400
    assert alert(response.text) == "This login page was opened in another browser session. Enter your password again."
    # Still good in its own session.
    assert (await post_encrypted(client, "erin", data, encrypt(data["key"], data["nonce"], user.password))).status_code == 303


async def test_an_expired_nonce_is_refused(client, settings, make_user, key):
    user = await make_user("frank")
    client.headers["accept-language"] = "en"
    data = await login_page(client)
    stale = encryption.issue_nonce(settings.secret_key, csrf_token(client),
                                   issued=int(time.time()) - encryption.NONCE_SECONDS - 10)
    response = await post_encrypted(client, "frank", data, encrypt(data["key"], stale, user.password))
    assert response.status_code == 400
    assert alert(response.text) == "The login page has expired. Enter your password again."


async def test_a_forged_nonce_is_refused(client, make_user, key):
    user = await make_user("grace")
    client.headers["accept-language"] = "en"
    data = await login_page(client)
    issued, random_part, mac = data["nonce"].split(".")
    for forged in (f"{issued}.AAAAAAAAAAAAAAAA.{mac}", f"{int(issued) + 1}.{random_part}.{mac}", "x", "", "١٢.a.b"):
        response = await post_encrypted(client, "grace", data, encrypt(data["key"], forged, user.password))
        assert response.status_code == 400, forged
        assert "another browser session" in alert(response.text)


async def test_garbage_is_a_clear_error_never_a_crash(client, make_user, key):
    user = await make_user("heidi")
    client.headers["accept-language"] = "en"
    data = await login_page(client)
    good = encrypt(data["key"], data["nonce"], user.password)
    public_key = serialization.load_der_public_key(base64.b64decode(data["key"]))
    two_lines = base64.b64encode(public_key.encrypt(f"{data['nonce']}\n{user.password}".encode(), OAEP)).decode()
    not_a_number = base64.b64encode(public_key.encrypt(f"{data['nonce']}\nsoon\n{user.password}".encode(), OAEP)).decode()
    latin1 = base64.b64encode(public_key.encrypt(b"\xff\xfe\n1\nx", OAEP)).decode()
    unreadable = "The encrypted password could not be read. Enter your password again."
    cases = [("not base64 !", data["key-id"]), (base64.b64encode(b"short").decode(), data["key-id"]),
             (good[:-8] + "AAAAAAA=", data["key-id"]), (two_lines, data["key-id"]), (not_a_number, data["key-id"]),
             (latin1, data["key-id"]), ("A" * 5000, data["key-id"]), (good, "x"), (good, "99999999999999999999")]
    for cipher, key_id in cases:
        response = await post_form(client, "/login", {"username": "heidi", "password_key": key_id, "password_cipher": cipher})
        assert response.status_code == 400, (cipher[:20], key_id)
        assert alert(response.text) == unreadable
    unknown_key = await post_form(client, "/login", {"username": "heidi", "password_key": "999", "password_cipher": good})
    assert alert(unknown_key.text) == "The login page has expired. Enter your password again."
    assert await LoginAttempt.count() == 0
    # None of that used the nonce up.
    assert (await post_encrypted(client, "heidi", data, good)).status_code == 303


async def test_a_password_in_chinese_survives_the_trip(client, make_user, key):
    user = await make_user("ivan", password="长城万里-密码-2026")
    data = await login_page(client)
    response = await post_encrypted(client, "ivan", data, encrypt(data["key"], data["nonce"], user.password))
    assert response.status_code == 303


# Keys ----------------------------------------------------------------------------------------


async def test_key_rotation_keeps_the_previous_key_for_the_grace_period(client, settings, make_user, key):
    user = await make_user("judy")
    assert not await encryption.rotate_if_due(settings)  # fresh: nothing to do
    old_page = await login_page(client)

    await age_keys(settings.login_key_rotation_hours)  # a day later
    assert await encryption.rotate_if_due(settings)
    new_page = await login_page(client)
    assert new_page["key-id"] != old_page["key-id"]
    assert await LoginKey.count() == 2

    # A page loaded just before the rotation still logs in.
    response = await post_encrypted(client, "judy", old_page, encrypt(old_page["key"], old_page["nonce"], user.password))
    assert response.status_code == 303
    await post_form(client, "/logout")

    # After the grace period the old key is refused (the page says so), and the next rotation deletes it.
    client.headers["accept-language"] = "en"
    old_page = await login_page(client)
    rows = await LoginKey.select().order_by(LoginKey.id)
    past_grace = timedelta(hours=settings.login_key_rotation_hours, minutes=settings.login_key_grace_minutes + 1)
    await LoginKey.update({LoginKey.created_at: datetime.now(timezone.utc) - past_grace}).where(LoginKey.id == rows[0]["id"])
    cipher = encrypt(rows[0]["public_key"], old_page["nonce"], user.password)
    response = await post_form(client, "/login", {"username": "judy", "password_key": str(rows[0]["id"]), "password_cipher": cipher})
    assert response.status_code == 400
    assert alert(response.text) == "The login page has expired. Enter your password again."
    await age_keys(settings.login_key_rotation_hours)
    assert await encryption.rotate_if_due(settings)
    assert await LoginKey.count() == 2  # the one before and the new one


async def test_a_key_nobody_can_read_is_not_offered_and_is_replaced(client, settings):
    # Made with another secret key: the secret key was changed since.
    public, private = encryption._new_key_pair(settings.with_changes(secret_key="another-secret-key"))
    await LoginKey.insert(LoginKey(public_key=public, private_key=private))
    assert await encryption.current_public_key(settings) is None
    assert "data-key" not in (await client.get("/login")).text
    assert await encryption.rotate_if_due(settings)
    assert (await encryption.current_public_key(settings)).spki != public


async def test_private_keys_are_stored_encrypted(client, settings, key):
    row = await LoginKey.select().first()
    assert row["private_key"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(row["private_key"].encode(), None)


async def test_the_worker_rotates_keys_and_forgets_old_nonces(app, client, settings):
    assert encryption.ROTATION_JOB in app.state.portal.worker.periodic
    await encryption.ROTATION_JOB.run(app.state.portal)
    assert await LoginKey.count() == 1
    await UsedLoginNonce.insert(UsedLoginNonce(nonce="old", used_at=datetime.now(timezone.utc) - timedelta(hours=1)),
                                UsedLoginNonce(nonce="recent"))
    await encryption.ROTATION_JOB.run(app.state.portal)
    assert await LoginKey.count() == 1
    assert [r["nonce"] for r in await UsedLoginNonce.select()] == ["recent"]


async def test_an_unsupported_key_size_is_a_clear_error(client, settings):
    with pytest.raises(ValueError, match="login_key_bits must be one of"):
        await encryption.rotate_if_due(settings.with_changes(login_key_bits=1024))
    assert await LoginKey.count() == 0
