"""Administration page of the site's TLS certificate (MAIL-21): what is installed, uploading a
chain and its private key (checked first, refused with the reason), going back to the previous
one. Administrators only; the private key is never shown."""

from __future__ import annotations

from datetime import datetime, timezone

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile

from portal.admin.routes import ADMIN, flash, pop_flash
from portal.audit.services import write_audit
from portal.i18n import gettext as _
from portal.jobs.schedule import TIMEZONE
from portal.tls.certs import EXPIRY_WARNING, MAX_PEM_BYTES, CertificateRefused, inspect
from portal.tls.store import StoredCertificate
from portal.web import client_ip, current_user, portal_of, redirect, render

# Two PEM files and the form's other fields.
UPLOAD_LIMIT = 2 * MAX_PEM_BYTES + 16 * 1024


def warnings_of(certificate: StoredCertificate | None) -> list[str]:
    if certificate is None:
        return []
    moment = datetime.now(timezone.utc)
    if certificate.expired(moment):
        return [_("This certificate has expired: upload a new one.")]
    found = []
    if certificate.not_after - moment < EXPIRY_WARNING:
        found.append(_("This certificate expires in %(days)s days: upload its renewal soon.", days=certificate.days_left(moment)))
    if certificate.chain_length == 1 and certificate.subject == certificate.issuer:
        found.append(_("The certificate is self-signed: browsers and mail servers will not trust it."))
    return found


async def _page(request: Request, error: str = "", status_code: int = 200) -> Response:
    store = portal_of(request).tls.store
    current, previous = store.current(), store.previous()
    return await render(request, "admin/tls.html", status_code=status_code, current=current, previous=previous,
                        warnings=warnings_of(current), error=error, flash=pop_flash(request), tz=TIMEZONE,
                        max_kb=MAX_PEM_BYTES // 1024)


@get("/admin/tls", guards=ADMIN)
async def tls_page(request: Request) -> Response:
    return await _page(request)


async def _file(form, name: str) -> bytes:
    """An uploaded file's bytes, read only up to one byte past the limit (the check refuses more)."""
    item = form.get(name)
    if not isinstance(item, UploadFile):
        return b""
    return await item.read(MAX_PEM_BYTES + 1)


@post("/admin/tls", guards=ADMIN, request_max_body_size=UPLOAD_LIMIT)
async def tls_upload(request: Request) -> Response:
    form = await request.form()
    chain_pem, key_pem = await _file(form, "chain"), await _file(form, "key")
    portal, user = portal_of(request), current_user(request)
    try:
        details = inspect(chain_pem, key_pem)
        installed = portal.tls.store.install(chain_pem, key_pem, details, uploaded_by=user.username)
    except CertificateRefused as refused:
        return await _page(request, error=refused.reason, status_code=400)
    portal.tls.reload()
    await write_audit("core.tls.upload", actor=user, target_type="certificate", target_id=installed.fingerprint.replace(":", ""),
                      summary=", ".join(installed.names)[:200], ip=client_ip(request))
    flash(request, _("The certificate for %(names)s is installed: HTTPS and SMTP STARTTLS use it from the next "
                     "connection on.", names=", ".join(installed.names)))
    return redirect("/admin/tls")


@post("/admin/tls/rollback", guards=ADMIN)
async def tls_rollback(request: Request) -> Response:
    portal, user = portal_of(request), current_user(request)
    try:
        restored = portal.tls.store.rollback()
    except CertificateRefused as refused:
        return await _page(request, error=refused.reason, status_code=400)
    portal.tls.reload()
    await write_audit("core.tls.rollback", actor=user, target_type="certificate", target_id=restored.fingerprint.replace(":", ""),
                      summary=", ".join(restored.names)[:200], ip=client_ip(request))
    flash(request, _("The previous certificate, for %(names)s, is in use again.", names=", ".join(restored.names)))
    return redirect("/admin/tls")


TLS_ROUTES = [tls_page, tls_upload, tls_rollback]
