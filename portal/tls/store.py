"""Where the uploaded certificate lives, and the TLS context that serves it without a restart.

``PORTAL_DATA_DIR/tls/`` (mode 0700) holds a folder per installed certificate, with
``chain.pem``, ``key.pem`` (mode 0600, never shown again) and ``details.json``, and
``state.json`` naming the current and the previous folder. Installing writes the new folder,
makes OpenSSL load it, then replaces ``state.json`` in one rename; older folders are removed,
so the previous certificate stays for a rollback.

``ServerTLS.context`` is the one ``ssl.SSLContext`` the HTTPS listener and SMTP STARTTLS use.
Its SNI callback, run for every new handshake, hands the connection a context built from the
current certificate, rebuilt when ``state.json`` changed (looked at most once a second, so
another process's upload applies too). An upload therefore applies to the next connection,
while open connections keep theirs: no restart, no lost request.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from portal.i18n import gettext as _
from portal.tls.certs import EXPIRY_WARNING, CertificateDetails, CertificateRefused, inspect

STATE = "state.json"
RELOAD_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class StoredCertificate:
    folder: Path
    subject: str
    issuer: str
    names: list[str]
    not_before: datetime
    not_after: datetime
    fingerprint: str
    key_description: str
    chain_length: int
    uploaded_at: datetime
    uploaded_by: str

    @property
    def chain_path(self) -> Path:
        return self.folder / "chain.pem"

    @property
    def key_path(self) -> Path:
        return self.folder / "key.pem"

    def days_left(self, moment: datetime | None = None) -> int:
        return (self.not_after - (moment or datetime.now(timezone.utc))).days

    def expired(self, moment: datetime | None = None) -> bool:
        return self.not_after <= (moment or datetime.now(timezone.utc))


def _server_context(chain_path: Path, key_path: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(chain_path, key_path)
    return context


def _write_private(path: Path, data: bytes) -> None:
    """A file only the portal's user can read, created so (never readable for a moment)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


class CertificateStore:
    def __init__(self, folder: Path):
        self.folder = folder

    def _state(self) -> dict:
        try:
            return json.loads((self.folder / STATE).read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def version(self) -> int:
        """Changes whenever another certificate becomes current."""
        try:
            return (self.folder / STATE).stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    def _load(self, name: str | None) -> StoredCertificate | None:
        if not name:
            return None
        folder = self.folder / name
        try:
            details = json.loads((folder / "details.json").read_text())
        except (FileNotFoundError, ValueError):
            return None
        for key in ("not_before", "not_after", "uploaded_at"):
            details[key] = datetime.fromisoformat(details[key])
        return StoredCertificate(folder=folder, **details)

    def current(self) -> StoredCertificate | None:
        return self._load(self._state().get("current"))

    def previous(self) -> StoredCertificate | None:
        return self._load(self._state().get("previous"))

    def install(self, chain_pem: bytes, key_pem: bytes, details: CertificateDetails, uploaded_by: str) -> StoredCertificate:
        """Store a checked chain and key and make them current; the current one becomes the previous."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        moment = datetime.now(timezone.utc)
        name = f"{details.fingerprint.replace(':', '')[:16].lower()}-{moment:%Y%m%d%H%M%S%f}"
        folder = self.folder / name
        folder.mkdir(mode=0o700)
        try:
            (folder / "chain.pem").write_bytes(chain_pem)
            _write_private(folder / "key.pem", key_pem)
            record = {key: value for key, value in asdict(details).items() if key != "warnings"}
            record.update(not_before=details.not_before.isoformat(), not_after=details.not_after.isoformat(),
                          uploaded_at=moment.isoformat(), uploaded_by=uploaded_by)
            (folder / "details.json").write_text(json.dumps(record, ensure_ascii=False))
            try:
                _server_context(folder / "chain.pem", folder / "key.pem")
            except (ssl.SSLError, OSError) as error:
                raise CertificateRefused(_("The TLS library cannot use this certificate and key: %(error)s",
                                           error=getattr(error, "reason", None) or error)) from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self._switch(name, self._state().get("current"))
        return self.current()

    def rollback(self) -> StoredCertificate:
        """Make the previous certificate current again (checked anew: it may have expired since)."""
        previous = self.previous()
        if previous is None:
            raise CertificateRefused(_("There is no previous certificate to go back to."))
        inspect(previous.chain_path.read_bytes(), previous.key_path.read_bytes())
        self._switch(previous.folder.name, self._state().get("current"))
        return self.current()

    def _switch(self, current: str, previous: str | None) -> None:
        temporary = self.folder / f"{STATE}.tmp"
        temporary.write_text(json.dumps({"current": current, "previous": previous if previous != current else None}))
        os.replace(temporary, self.folder / STATE)
        keep = {current, previous}
        for entry in self.folder.iterdir():
            if entry.is_dir() and entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)


class ServerTLS:
    """The listeners' TLS context, switching every new connection to the current certificate."""

    def __init__(self, store: CertificateStore):
        self.store = store
        self._loaded_version: int | None = None
        self._current: ssl.SSLContext | None = None
        self._next_check = 0.0
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.sni_callback = self._choose_context

    def current_context(self) -> ssl.SSLContext | None:
        """A context with the current certificate, or None while none was uploaded."""
        moment = time.monotonic()
        if moment >= self._next_check:
            self._next_check = moment + RELOAD_CHECK_SECONDS
            version = self.store.version()
            if version != self._loaded_version:
                stored = self.store.current()
                self._current = _server_context(stored.chain_path, stored.key_path) if stored else None
                self._loaded_version = version
        return self._current

    def reload(self) -> None:
        """Use the stored current certificate from the next connection on (after an upload here)."""
        self._next_check = 0.0

    def available(self) -> bool:
        return self.current_context() is not None

    def _choose_context(self, connection: ssl.SSLObject, server_name: str | None, initial: ssl.SSLContext):
        try:
            context = self.current_context()
        except (ssl.SSLError, OSError):
            context = None
        if context is None:
            return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE
        connection.context = context
        return None


async def certificate_check(portal) -> tuple[str, str]:
    """The health report's check of the installed certificate (MAIL-10, MAIL-21)."""
    current = portal.tls.store.current()
    if current is None:
        return "warning", _("No certificate has been uploaded: HTTPS and SMTP STARTTLS are off.")
    names, until = ", ".join(current.names), current.not_after.strftime("%Y-%m-%d")
    if current.expired():
        return "fail", _("The certificate for %(names)s expired on %(date)s.", names=names, date=until)
    message = _("The certificate for %(names)s is valid until %(date)s (%(days)s days).", names=names, date=until,
                days=current.days_left())
    return ("warning" if current.not_after - datetime.now(timezone.utc) < EXPIRY_WARNING else "ok"), message
