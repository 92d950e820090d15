"""Checking and storing an uploaded TLS certificate (MAIL-21): every refusal says why in plain words."""

import os
import ssl
import stat
import time
from datetime import timedelta

import pytest

from portal.i18n import locale_context
from portal.tls.certs import MAX_PEM_BYTES, CertificateRefused, inspect
from portal.tls.store import CertificateStore, ServerTLS

GARBAGE = b"this is not a certificate\n"


@pytest.fixture(autouse=True)
def english():
    """The reasons asserted below are the English messages (the default language is zh_CN)."""
    with locale_context("en"):
        yield


def refusal(chain: bytes, key: bytes) -> str:
    with pytest.raises(CertificateRefused) as refused:
        inspect(chain, key)
    return refused.value.reason


# Accepted ------------------------------------------------------------------------------------


def test_a_good_chain_and_key_give_the_details(pki):
    leaf = pki.leaf(("portal.example", "mail.portal.example"))
    details = inspect(leaf.chain_pem(), leaf.key_pem())
    assert details.names == ["portal.example", "mail.portal.example"]
    assert details.subject == "CN=portal.example"
    assert details.issuer == "CN=Portal Test Intermediate CA"
    assert details.fingerprint == leaf.fingerprint and len(details.fingerprint) == 95
    assert details.chain_length == 2 and details.key_description == "EC secp256r1"
    assert details.not_after == leaf.certificate.not_valid_after_utc
    assert details.warnings == []


def test_an_rsa_key_is_accepted(pki):
    leaf = pki.leaf(key=pki.new_key("rsa"))
    assert inspect(leaf.chain_pem(), leaf.key_pem()).key_description == "RSA 2048"


def test_the_common_name_stands_in_for_missing_alternative_names(pki):
    leaf = pki.leaf(names=(), common_name="legacy.example")
    assert inspect(leaf.chain_pem(), leaf.key_pem()).names == ["legacy.example"]


def test_expiring_within_30_days_is_accepted_with_a_warning(pki):
    leaf = pki.leaf(valid_for=timedelta(days=11))
    [warning] = inspect(leaf.chain_pem(), leaf.key_pem()).warnings
    assert "expires in 9 days" in warning or "expires in 10 days" in warning


def test_a_self_signed_certificate_is_accepted_with_a_warning(pki):
    leaf = pki.leaf(self_signed=True)
    assert "self-signed" in inspect(leaf.chain_pem(), leaf.key_pem()).warnings[0]


# Refused -------------------------------------------------------------------------------------


def test_garbage_is_refused(pki):
    leaf = pki.leaf()
    assert "holds no PEM certificate" in refusal(GARBAGE, leaf.key_pem())
    assert "holds no PEM private key" in refusal(leaf.chain_pem(), GARBAGE)
    assert "Choose the certificate file" in refusal(b"", leaf.key_pem())
    assert "Choose the private key file" in refusal(leaf.chain_pem(), b"  \n")


def test_the_reason_is_in_the_administrator_s_language(pki):
    leaf, other = pki.leaf(), pki.leaf()
    with locale_context("zh_CN"):
        assert refusal(leaf.chain_pem(), other.key_pem()).startswith("私钥与证书不匹配")


def test_a_damaged_block_is_refused(pki):
    leaf = pki.leaf()
    damaged = b"-----BEGIN CERTIFICATE-----\nAAAAnotbase64!!\n-----END CERTIFICATE-----\n"
    assert "damaged" in refusal(damaged, leaf.key_pem())
    damaged_key = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    assert "damaged or of an unsupported kind" in refusal(leaf.chain_pem(), damaged_key)


def test_too_large_files_are_refused(pki):
    leaf = pki.leaf()
    padding = b"#" * MAX_PEM_BYTES
    assert "larger than 64 KB" in refusal(leaf.chain_pem() + padding, leaf.key_pem())
    assert "larger than 64 KB" in refusal(leaf.chain_pem(), leaf.key_pem() + padding)


def test_a_password_protected_key_is_refused(pki):
    leaf = pki.leaf()
    assert "protected by a password" in refusal(leaf.chain_pem(), leaf.key_pem(password=b"secret"))


def test_a_weak_rsa_key_is_refused(pki):
    leaf = pki.leaf(key=pki.new_key("rsa", bits=1024))
    assert "1024 bits; at least 2048" in refusal(leaf.chain_pem(), leaf.key_pem())


def test_a_key_of_another_certificate_is_refused(pki):
    leaf, other = pki.leaf(), pki.leaf()
    assert "does not belong to the certificate" in refusal(leaf.chain_pem(), other.key_pem())


def test_the_site_certificate_must_come_first(pki):
    leaf = pki.leaf()
    upside_down = pki.pem(pki.intermediate.certificate, leaf.certificate)
    assert "belongs to certificate 2 of the file; the site's own certificate must come first" in refusal(upside_down, leaf.key_pem())


def test_a_chain_out_of_order_is_refused(pki):
    leaf = pki.leaf()
    shuffled = pki.pem(leaf.certificate, pki.root.certificate, pki.intermediate.certificate)
    assert "out of order: certificate 1 was signed by certificate 3" in refusal(shuffled, leaf.key_pem())


def test_a_chain_with_a_stranger_is_refused(pki):
    leaf = pki.leaf()
    stranger = pki.ca("Unrelated CA")
    broken = pki.pem(leaf.certificate, stranger.certificate)
    assert "broken: certificate 2 did not sign certificate 1" in refusal(broken, leaf.key_pem())


def test_an_expired_certificate_is_refused(pki):
    leaf = pki.leaf(valid_from=timedelta(days=-100), valid_for=timedelta(days=90))
    assert refusal(leaf.chain_pem(), leaf.key_pem()).startswith("The certificate expired on ")


def test_a_certificate_not_valid_yet_is_refused(pki):
    leaf = pki.leaf(valid_from=timedelta(days=2))
    assert "is not valid yet: it becomes valid on" in refusal(leaf.chain_pem(), leaf.key_pem())


def test_an_expired_intermediate_is_refused(pki):
    old_ca = pki.ca("Old Intermediate", issuer=pki.root, valid_from=timedelta(days=-400), valid_for=timedelta(days=365))
    leaf = pki.leaf(issuer=old_ca, valid_from=timedelta(days=-1))
    assert refusal(leaf.chain_pem(), leaf.key_pem()).startswith("Certificate 2 of the chain expired on ")


def test_a_certificate_without_names_is_refused(pki):
    leaf = pki.leaf(names=(), common_name="")
    assert "names no host" in refusal(leaf.chain_pem(), leaf.key_pem())


# Stored --------------------------------------------------------------------------------------


def install(store: CertificateStore, issued, by: str = "root"):
    chain, key = issued.chain_pem(), issued.key_pem()
    return store.install(chain, key, inspect(chain, key), uploaded_by=by)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_key_is_stored_readable_by_the_portal_only(tmp_path, pki):
    store = CertificateStore(tmp_path / "tls")
    leaf = pki.leaf()
    current = install(store, leaf)
    assert mode(current.key_path) == 0o600
    assert mode(current.folder) == 0o700 and mode(tmp_path / "tls") == 0o700
    assert current.key_path.read_bytes() == leaf.key_pem()
    assert current.fingerprint == leaf.fingerprint and current.uploaded_by == "root"
    assert store.previous() is None


def test_the_previous_certificate_is_kept_and_can_come_back(tmp_path, pki):
    store = CertificateStore(tmp_path / "tls")
    first, second, third = pki.leaf(("one.example",)), pki.leaf(("two.example",)), pki.leaf(("three.example",))
    install(store, first)
    install(store, second)
    assert (store.current().names, store.previous().names) == (["two.example"], ["one.example"])
    assert store.rollback().names == ["one.example"]
    assert store.previous().names == ["two.example"]
    install(store, third)
    # Only the current and the previous certificate stay on disk.
    assert sorted(p.name for p in (tmp_path / "tls").iterdir() if p.is_dir()) == sorted(
        [store.current().folder.name, store.previous().folder.name])
    assert store.previous().names == ["one.example"]


def test_no_rollback_without_a_previous_or_to_an_expired_one(tmp_path, pki):
    store = CertificateStore(tmp_path / "tls")
    with pytest.raises(CertificateRefused, match="no previous certificate"):
        store.rollback()
    install(store, pki.leaf(("short.example",), valid_for=timedelta(days=1, seconds=2)))
    install(store, pki.leaf(("next.example",)))
    time.sleep(2.5)
    with pytest.raises(CertificateRefused, match="expired on"):
        store.rollback()
    assert store.current().names == ["next.example"]


def test_a_certificate_the_tls_library_refuses_leaves_nothing_behind(tmp_path, pki):
    store = CertificateStore(tmp_path / "tls")
    good, other = pki.leaf(), pki.leaf()
    chain = good.chain_pem()
    details = inspect(chain, good.key_pem())
    with pytest.raises(CertificateRefused, match="TLS library cannot use"):
        store.install(chain, other.key_pem(), details, uploaded_by="root")  # skipped the check: OpenSSL refuses
    assert store.current() is None and list((tmp_path / "tls").iterdir()) == []


def test_the_server_context_follows_an_upload_made_by_another_process(tmp_path, pki):
    server = ServerTLS(CertificateStore(tmp_path / "tls"))
    assert server.current_context() is None and not server.available()
    other_process = CertificateStore(tmp_path / "tls")
    leaf = pki.leaf()
    install(other_process, leaf)
    time.sleep(1.1)  # the state file is looked at once a second
    context = server.current_context()
    assert isinstance(context, ssl.SSLContext) and server.available()
    assert server.context.sni_callback is not None
