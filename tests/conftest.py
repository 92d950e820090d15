"""Fixtures come from the ``portal.testing`` pytest plugin (the same ones plugin authors use);
``pki`` (certificates made with ``cryptography`` for the TLS tests, MAIL-21) is defined here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


@dataclass
class Issued:
    """A certificate, its private key and what signed it (None: self-signed)."""

    certificate: x509.Certificate
    key: object
    issuer: Issued | None = None

    def chain_pem(self) -> bytes:
        """This certificate, then every issuer up to (not including) a self-signed root."""
        chain, node = [self.certificate], self.issuer
        while node is not None and node.issuer is not None:
            chain.append(node.certificate)
            node = node.issuer
        return pem(*chain)

    def key_pem(self, password: bytes | None = None) -> bytes:
        encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


class TestPKI:
    """A test root CA, an intermediate CA under it, and leaves as a test needs them."""

    pem = staticmethod(pem)

    def __init__(self):
        self.root = self.ca("Portal Test Root CA")
        self.intermediate = self.ca("Portal Test Intermediate CA", issuer=self.root)

    @staticmethod
    def new_key(kind: str = "ec", bits: int = 2048):
        return rsa.generate_private_key(65537, bits) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())

    def _issue(self, subject: x509.Name, key, issuer: Issued | None, *, ca: bool, names: tuple[str, ...] = (),
               valid_from: timedelta = timedelta(days=-1), valid_for: timedelta = timedelta(days=90)) -> Issued:
        start = datetime.now(timezone.utc) + valid_from
        builder = (x509.CertificateBuilder().subject_name(subject)
                   .issuer_name(issuer.certificate.subject if issuer else subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(start + valid_for)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        return Issued(builder.sign(issuer.key if issuer else key, hashes.SHA256()), key, issuer)

    def ca(self, name: str, issuer: Issued | None = None, **validity) -> Issued:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        return self._issue(subject, self.new_key(), issuer, ca=True, **validity)

    def leaf(self, names: tuple[str, ...] = ("portal.example",), *, issuer: Issued | None = None, key=None,
             common_name: str | None = None, self_signed: bool = False, **validity) -> Issued:
        """A server certificate for ``names`` (SANs; the common name is the first unless given, "" for
        none), signed by the intermediate unless told otherwise."""
        cn = common_name if common_name is not None else names[0] if names else None
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
        return self._issue(subject, key or self.new_key(), None if self_signed else issuer or self.intermediate,
                           ca=False, names=names, **validity)


@pytest.fixture(scope="session")
def pki() -> TestPKI:
    return TestPKI()
