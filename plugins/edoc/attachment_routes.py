"""Pages of a document's attachments (DOC-5): the list with every version, upload, replace,
download. ``attachment_routes(rules)`` builds them around the flow's access checks."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.response import File

from plugins.edoc import attachments
from plugins.edoc.attachments import AccessRules, AttachmentRefused
from plugins.edoc.display import when
from plugins.edoc.tables import Document
from portal.api import CurrentUser
from portal.web import current_user, login_required, portal_of, redirect, render

# The upload limit plus room for the form's other fields and the multipart framing.
BODY_LIMIT = attachments.MAX_BYTES + 64 * 1024


def attachment_routes(rules: AccessRules) -> list:
    async def page(request: Request, document_id: int, *, error: str | None = None, status_code: int = 200) -> Response:
        user = current_user(request)
        if not await rules.can_read(user, document_id):
            raise NotFoundException()
        document = await Document.select(Document.id, Document.title).where(Document.id == document_id).first()
        return await render(request, "edoc/attachments.html", status_code=status_code, document=document,
                            attachments=await attachments.attachments_of(document_id),
                            can_edit=await rules.can_edit(user, document_id), error=error, when=when,
                            max_mb=attachments.MAX_BYTES // (1024 * 1024))

    async def upload_of(request: Request) -> tuple[str, str, bytes, bool]:
        form = await request.form()
        item = form.get("file")
        if not isinstance(item, UploadFile) or not item.filename:
            return "", "", b"", False
        return item.filename, item.content_type or "", await item.read(), bool(form.get("is_body"))

    async def editable(user: CurrentUser, document_id: int) -> None:
        if not await rules.can_read(user, document_id):
            raise NotFoundException()
        if not await rules.can_edit(user, document_id):
            raise PermissionDeniedException()

    @get("/documents/{document_id:int}/attachments", guards=[login_required], name="edoc:attachments")
    async def attachments_page(request: Request, document_id: int) -> Response:
        return await page(request, document_id)

    @post("/documents/{document_id:int}/attachments", guards=[login_required], name="edoc:attachment_add",
          request_max_body_size=BODY_LIMIT)
    async def attachment_add(request: Request, document_id: int) -> Response:
        portal, user = portal_of(request), current_user(request)
        await editable(user, document_id)
        filename, content_type, data, is_body = await upload_of(request)
        try:
            attachment_id = await attachments.add_attachment(portal.settings.data_dir, user, document_id, filename, content_type,
                                                             data, marked_as_body=is_body)
        except AttachmentRefused as refused:
            return await page(request, document_id, error=str(refused), status_code=400)
        await portal.audit("edoc.attachment_add", actor=user, target_type="edoc_document", target_id=document_id,
                           summary=f"{attachment_id}: {attachments.safe_filename(filename)}")
        return redirect(f"/edoc/documents/{document_id}/attachments")

    @post("/attachments/{attachment_id:int}/versions", guards=[login_required], name="edoc:attachment_replace",
          request_max_body_size=BODY_LIMIT)
    async def attachment_replace(request: Request, attachment_id: int) -> Response:
        portal, user = portal_of(request), current_user(request)
        try:
            attachment = await attachments.attachment_of(attachment_id)
        except attachments.NotFound:
            raise NotFoundException() from None
        document_id = attachment["document"]
        await editable(user, document_id)
        filename, content_type, data, is_body = await upload_of(request)
        try:
            version = await attachments.replace_attachment(portal.settings.data_dir, user, attachment_id, filename,
                                                           content_type, data, marked_as_body=is_body)
        except AttachmentRefused as refused:
            return await page(request, document_id, error=str(refused), status_code=400)
        await portal.audit("edoc.attachment_replace", actor=user, target_type="edoc_document", target_id=document_id,
                           summary=f"{attachment_id} v{version}: {attachments.safe_filename(filename)}")
        return redirect(f"/edoc/documents/{document_id}/attachments")

    @get("/attachments/versions/{version_id:int}", guards=[login_required], name="edoc:attachment_download")
    async def attachment_download(request: Request, version_id: int) -> File:
        portal, user = portal_of(request), current_user(request)
        try:
            row, path = await attachments.version_file(portal.settings.data_dir, version_id)
        except attachments.NotFound:
            raise NotFoundException() from None
        if not await rules.can_read(user, row["document"]) or not path.exists():
            raise NotFoundException()
        # Always a download of opaque bytes: an uploaded HTML or SVG file never runs in the portal's origin.
        return File(path=path, media_type="application/octet-stream", headers={
            "content-disposition": attachments.content_disposition(row["filename"]),
            "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'none'; sandbox",
            "cache-control": "private, no-store",
        })

    return [attachments_page, attachment_add, attachment_replace, attachment_download]


