"""Checking an uploaded certificate chain and private key before the portal serves them (MAIL-21).

``inspect(chain_pem, key_pem)`` refuses, with a reason in plain words (``CertificateRefused``):
garbage, a password-protected or weak key, a key that does not belong to the site's
certificate, a chain out of order (each certificate must be signed by the next), a
certificate without a host name, and one not valid now (expired or not yet valid). It returns
the details to show, with warnings: expiring within 30 days, self-signed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from portal.i18n import gettext as _

MAX_PEM_BYTES = 64 * 1024
MAX_CHAIN = 8
MIN_RSA_BITS = 2048
EXPIRY_WARNING = timedelta(days=30)


class CertificateRefused(ValueError):
    """The upload cannot be used; ``reason`` says why, for the administrator."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CertificateDetails:
    subject: str
    issuer: str
    names: list[str]
    not_before: datetime
    not_after: datetime
    # SHA-256 of the site's certificate (DER), as colon-separated hex.
    fingerprint: str
    key_description: str
    chain_length: int
    warnings: list[str] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def _load_chain(chain_pem: bytes) -> list[x509.Certificate]:
    if not chain_pem.strip():
        raise CertificateRefused(_("Choose the certificate file."))
    if len(chain_pem) > MAX_PEM_BYTES:
        raise CertificateRefused(_("The certificate file is larger than %(kb)s KB: it is not a certificate chain.",
                                   kb=MAX_PEM_BYTES // 1024))
    if b"-----BEGIN CERTIFICATE-----" not in chain_pem:
        raise CertificateRefused(_("The certificate file holds no PEM certificate: it must contain "
                                   "-----BEGIN CERTIFICATE----- blocks."))
    try:
        chain = x509.load_pem_x509_certificates(chain_pem)
    except ValueError:
        raise CertificateRefused(_("The certificate file is damaged: a certificate block in it cannot be read.")) from None
    if len(chain) > MAX_CHAIN:
        raise CertificateRefused(_("The chain has %(n)s certificates; at most %(max)s are accepted.", n=len(chain), max=MAX_CHAIN))
    return chain


def _load_key(key_pem: bytes):
    if not key_pem.strip():
        raise CertificateRefused(_("Choose the private key file."))
    if len(key_pem) > MAX_PEM_BYTES:
        raise CertificateRefused(_("The private key file is larger than %(kb)s KB: it is not a private key.",
                                   kb=MAX_PEM_BYTES // 1024))
    if b"PRIVATE KEY-----" not in key_pem:
        raise CertificateRefused(_("The private key file holds no PEM private key: it must contain a "
                                   "-----BEGIN PRIVATE KEY----- block."))
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise CertificateRefused(_("The private key is protected by a password; upload it without one.")) from None
    except (ValueError, UnsupportedAlgorithm):
        raise CertificateRefused(_("The private key file is damaged or of an unsupported kind.")) from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise CertificateRefused(_("The RSA key has %(bits)s bits; at least %(min)s are needed.",
                                       bits=key.key_size, min=MIN_RSA_BITS))
    elif not isinstance(key, (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        raise CertificateRefused(_("The private key is of an unsupported kind: use an RSA or elliptic-curve key."))
    return key


def _public_der(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_description(key) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    return type(key).__name__.removesuffix("PrivateKey")


def _check_key(chain: list[x509.Certificate], key) -> None:
    mine = _public_der(key.public_key())
    if _public_der(chain[0].public_key()) == mine:
        return
    for position, certificate in enumerate(chain[1:], start=2):
        if _public_der(certificate.public_key()) == mine:
            raise CertificateRefused(_("The private key belongs to certificate %(n)s of the file; the site's own "
                                       "certificate must come first, then the ones that signed it.", n=position))
    raise CertificateRefused(_("The private key does not belong to the certificate: they are not a pair. "
                               "Upload the key that was made together with this certificate."))


def _signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _check_order(chain: list[x509.Certificate]) -> None:
    for position in range(len(chain) - 1):
        if not _signed_by(chain[position], chain[position + 1]):
            signer = next((n for n, other in enumerate(chain, start=1) if other is not chain[position] and _signed_by(chain[position], other)), None)
            if signer is not None:
                raise CertificateRefused(_("The chain is out of order: certificate %(n)s was signed by certificate "
                                           "%(signer)s, but each certificate must be followed by the one that signed it.",
                                           n=position + 1, signer=signer))
            raise CertificateRefused(_("The chain is broken: certificate %(next)s did not sign certificate %(n)s. "
                                       "Put the site's certificate first, then each certificate that signed the one "
                                       "before it.", n=position + 1, next=position + 2))


def host_names(certificate: x509.Certificate) -> list[str]:
    """The names the certificate is valid for: its subject alternative names, else its common name."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        extension = None
    if extension is not None:
        names = [*extension.get_values_for_type(x509.DNSName), *map(str, extension.get_values_for_type(x509.IPAddress))]
        if names:
            return names
    return [attribute.value for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            if isinstance(attribute.value, str)]


def _utc(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _check_dates(chain: list[x509.Certificate], moment: datetime) -> list[str]:
    warnings = []
    for position, certificate in enumerate(chain, start=1):
        which = _("The certificate") if position == 1 else _("Certificate %(n)s of the chain", n=position)
        until, since = certificate.not_valid_after_utc, certificate.not_valid_before_utc
        if until <= moment:
            raise CertificateRefused(_("%(which)s expired on %(date)s.", which=which, date=_utc(until)))
        if since > moment:
            raise CertificateRefused(_("%(which)s is not valid yet: it becomes valid on %(date)s.", which=which,
                                       date=_utc(since)))
        if until - moment < EXPIRY_WARNING:
            warnings.append(_("%(which)s expires in %(days)s days, on %(date)s: renew it soon.", which=which,
                              days=(until - moment).days, date=_utc(until)))
    return warnings


def inspect(chain_pem: bytes, key_pem: bytes, moment: datetime | None = None) -> CertificateDetails:
    """Check a PEM chain (the site's certificate first) and its private key; CertificateRefused if unusable."""
    moment = moment or _now()
    chain = _load_chain(chain_pem)
    key = _load_key(key_pem)
    _check_key(chain, key)
    _check_order(chain)
    leaf = chain[0]
    names = host_names(leaf)
    if not names:
        raise CertificateRefused(_("The certificate names no host: it has neither subject alternative names nor a common name."))
    warnings = _check_dates(chain, moment)
    last = chain[-1]
    if last.issuer == last.subject and _signed_by(last, last) and len(chain) == 1:
        warnings.append(_("The certificate is self-signed: browsers and mail servers will not trust it."))
    return CertificateDetails(
        subject=leaf.subject.rfc4514_string(), issuer=leaf.issuer.rfc4514_string(), names=names,
        not_before=leaf.not_valid_before_utc, not_after=leaf.not_valid_after_utc, fingerprint=fingerprint(leaf),
        key_description=_key_description(key), chain_length=len(chain), warnings=warnings,
    )

