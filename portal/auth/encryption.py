"""RSA-encrypted password transmission (MAIL-15), on top of TLS.

The login page carries the newest RSA public key and a nonce; ``static/js/login.js`` encrypts
``nonce \\n timestamp \\n password`` with RSA-OAEP (SHA-256) in WebCrypto and posts the ciphertext
instead of the password. Here the server decrypts it and refuses it unless:

- the key is one of ours and still accepted (the previous key stays accepted for a grace period
  after rotation, so a page loaded just before it still works);
- the nonce is ours (an HMAC with the secret key), was issued to this browser (it is bound to the
  CSRF cookie, which every form post carries) less than ``NONCE_SECONDS`` ago, and was never
  received before (``core_used_login_nonce``);
- the timestamp is recent.

The nonce needs no server state until it is used, so showing the login page writes nothing.
Keys live in ``core_login_key``, private keys encrypted with the portal's secret key; the worker
makes a new one every ``login_key_rotation_hours`` (and ``portal serve`` at start when due).
Without JavaScript, or without WebCrypto (plain http to a host other than localhost), the form
posts the password as it is.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from portal.api import Job
from portal.auth.tables import LoginKey, UsedLoginNonce
from portal.db import write_transaction
from portal.i18n import gettext as _
from portal.settings import Settings

log = logging.getLogger("portal.auth")

OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
KEY_FIELD = "password_key"
CIPHER_FIELD = "password_cipher"
# A login page stays usable this long; the key grace period must be longer.
NONCE_SECONDS = 20 * 60
# How old the browser's timestamp may be when the ciphertext arrives (the link may be slow),
# and how far ahead of the server's clock.
TIMESTAMP_PAST_SECONDS = 120
TIMESTAMP_FUTURE_SECONDS = 30
# 2048 bits leave room for passwords of 120 bytes in one RSA-OAEP block, 3072 for 250.
KEY_SIZES = (2048, 3072, 4096)
MAX_CIPHER_CHARS = 1024  # base64 of a 4096-bit block is 684
CHECK_SECONDS = 600  # how often the worker looks whether the key is due for rotation
# (PEM, secret key) -> the private key, or None when that secret key cannot read it.
_loaded_keys: dict[tuple[str, str], rsa.RSAPrivateKey | None] = {}


class RejectedCipher(ValueError):
    """An encrypted password the server will not use; the message says what to do."""


@dataclass(frozen=True)
class PublicKey:
    id: int
    spki: str  # base64 DER, for WebCrypto's importKey("spki")


def now() -> datetime:
    return datetime.now(timezone.utc)


# Keys ----------------------------------------------------------------------------------------


def _rotation(settings: Settings) -> timedelta:
    return timedelta(hours=settings.login_key_rotation_hours)


def _accepted_since(settings: Settings) -> datetime:
    return now() - _rotation(settings) - timedelta(minutes=settings.login_key_grace_minutes)


def _new_key_pair(settings: Settings) -> tuple[str, str]:
    if settings.login_key_bits not in KEY_SIZES:
        raise ValueError(f"login_key_bits must be one of {KEY_SIZES}, not {settings.login_key_bits}")
    private = rsa.generate_private_key(public_exponent=65537, key_size=settings.login_key_bits)
    public = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(settings.secret_key.encode()))
    return base64.b64encode(public).decode(), pem.decode()


def _load_private_key(pem: str, secret_key: str) -> rsa.RSAPrivateKey | None:
    """The private key, or None when the secret key it was stored with has been changed since."""
    if (pem, secret_key) not in _loaded_keys:
        try:
            loaded = serialization.load_pem_private_key(pem.encode(), secret_key.encode())
        except (ValueError, TypeError):
            log.warning("a login key cannot be read with the current secret key; a new one will be made")
            loaded = None
        if len(_loaded_keys) >= 8:
            _loaded_keys.pop(next(iter(_loaded_keys)))
        _loaded_keys[(pem, secret_key)] = loaded
    return _loaded_keys[(pem, secret_key)]


async def _newest_usable(settings: Settings, since: datetime, key_id: int | None = None):
    """(row, private key) of the newest key made after ``since`` that this portal can read, or None."""
    query = LoginKey.select().where(LoginKey.created_at > since).order_by(LoginKey.created_at, ascending=False)
    if key_id is not None:
        query = query.where(LoginKey.id == key_id)
    for row in await query:
        # Reading a key checks it: a fraction of a second, once per process (then cached).
        private_key = await asyncio.to_thread(_load_private_key, row["private_key"], settings.secret_key)
        if private_key is not None:
            return row, private_key
    return None


async def rotate_if_due(settings: Settings) -> bool:
    """Make a new key pair when the newest usable one is older than the rotation period (or there is none)."""
    due_before = now() - _rotation(settings)
    if await _newest_usable(settings, due_before):
        return False
    # Seconds of CPU for a 3072-bit key: off the event loop, and outside any transaction.
    public, private = await asyncio.to_thread(_new_key_pair, settings)
    async with write_transaction():
        if await _newest_usable(settings, due_before):
            return False  # another process was quicker
        await LoginKey.insert(LoginKey(public_key=public, private_key=private))
        await LoginKey.delete().where(LoginKey.created_at < _accepted_since(settings))
    log.info("new RSA key (%s bits) for encrypted login", settings.login_key_bits)
    return True


async def current_public_key(settings: Settings) -> PublicKey | None:
    """The key for a login page shown now: the newest, while pages made with it stay usable."""
    found = await _newest_usable(settings, _accepted_since(settings) + timedelta(seconds=NONCE_SECONDS))
    return PublicKey(found[0]["id"], found[0]["public_key"]) if found else None


async def rotation_job(portal) -> None:
    await rotate_if_due(portal.settings)
    await UsedLoginNonce.delete().where(UsedLoginNonce.used_at < now() - timedelta(seconds=NONCE_SECONDS))


ROTATION_JOB = Job("core.login_key", CHECK_SECONDS, rotation_job)


# Nonces --------------------------------------------------------------------------------------


def _is_number(text: str, digits: int = 15) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= digits


def _mac(secret_key: str, issued: int, random_part: str, binding: str) -> str:
    message = f"login-nonce|{issued}|{random_part}|{binding}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def issue_nonce(secret_key: str, binding: str, issued: int | None = None) -> str:
    """``issued.random.mac``: the server's, for this browser (``binding``), made at ``issued``."""
    issued = int(time.time()) if issued is None else issued
    random_part = secrets.token_urlsafe(12)
    return f"{issued}.{random_part}.{_mac(secret_key, issued, random_part, binding)}"


def _check_nonce(secret_key: str, binding: str, nonce: str) -> str:
    """The nonce's random part, once its MAC, binding and age are right."""
    issued, _dot, rest = nonce.partition(".")
    random_part, _dot, mac = rest.partition(".")
    if not _is_number(issued) or not hmac.compare_digest(mac.encode(), _mac(secret_key, int(issued), random_part, binding).encode()):
        raise RejectedCipher(_("This login page was opened in another browser session. Enter your password again."))
    if not -TIMESTAMP_FUTURE_SECONDS <= time.time() - int(issued) <= NONCE_SECONDS:
        raise RejectedCipher(_("The login page has expired. Enter your password again."))
    return random_part


async def _use_nonce(random_part: str) -> None:
    """Single use: the first arrival inserts the nonce; a later one, even a concurrent one, inserts nothing."""
    inserted = await UsedLoginNonce.insert(UsedLoginNonce(nonce=random_part)).on_conflict(
        target=UsedLoginNonce.nonce, action="DO NOTHING"
    ).returning(UsedLoginNonce.id)
    if not inserted:
        raise RejectedCipher(_("This encrypted password was already sent once. Enter your password again."))


# Decryption ----------------------------------------------------------------------------------


async def decrypt_password(settings: Settings, key_id: str, cipher: str, binding: str) -> str:
    """The password in a posted ciphertext; raises RejectedCipher when it must not be used."""
    unreadable = RejectedCipher(_("The encrypted password could not be read. Enter your password again."))
    if not _is_number(key_id, digits=9) or len(cipher) > MAX_CIPHER_CHARS:
        raise unreadable
    found = await _newest_usable(settings, _accepted_since(settings), key_id=int(key_id))
    if found is None:
        raise RejectedCipher(_("The login page has expired. Enter your password again."))
    private_key = found[1]
    try:
        plain = await asyncio.to_thread(private_key.decrypt, base64.b64decode(cipher, validate=True), OAEP)
        nonce, timestamp, password = plain.decode().split("\n", 2)
    except ValueError:  # bad base64 or padding, not UTF-8, not three lines
        raise unreadable from None
    if not _is_number(timestamp):
        raise unreadable
    random_part = _check_nonce(settings.secret_key, binding, nonce)
    if not -TIMESTAMP_FUTURE_SECONDS <= time.time() - int(timestamp) / 1000 <= TIMESTAMP_PAST_SECONDS:
        raise RejectedCipher(_("The encrypted password is too old. Enter your password again."))
    await _use_nonce(random_part)
    return password
