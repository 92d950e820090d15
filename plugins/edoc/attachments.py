"""Attachments of official documents (附件, DOC-5).

- The body (正文) is never an attachment: a file marked as the body, or a word-processor file
  (.doc, .docx, .wps, .ofd, …) named like the document's title or ``正文``, is refused with the
  reason, so the drafter puts the body where it belongs.
- Replacing an attachment adds a version; every earlier version stays and can be downloaded
  (the source system lost edits of attachments; this one keeps them).
- Contents are stored once under ``<data folder>/edoc/attachments/`` by SHA-256, written to a
  temporary file, fsynced and renamed before the row is committed, so a row never names a
  missing file.

Who may read or change a document's attachments is the flow's business: routes take the
checks as ``AccessRules`` (``attachment_routes(rules)``) so the flow wires its own.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from plugins.edoc.parts_tables import Attachment, AttachmentVersion
from plugins.edoc.tables import Document
from portal import files
from portal.api import CurrentUser
from portal.db import write_transaction
from portal.files import MAX_FILENAME, content_disposition, safe_filename  # noqa: F401 (the routes use them from here)
from portal.i18n import gettext as _

MAX_BYTES = 20 * 1024 * 1024
# Formats a document's body is written in: such a file named like the body is the body.
BODY_EXTENSIONS = frozenset({"doc", "docx", "wps", "wpt", "ofd", "rtf", "odt", "pdf"})
BODY_WORDS = ("正文", "body")

AccessCheck = Callable[[CurrentUser, int], Awaitable[bool]]


@dataclass(frozen=True)
class AccessRules:
    """``can_read(user, document_id)`` and ``can_edit(user, document_id)``: who may download a
    document's attachments and who may add or replace them."""

    can_read: AccessCheck
    can_edit: AccessCheck


class AttachmentRefused(ValueError):
    """The upload cannot be an attachment; ``str()`` is the reason, for the form."""


class NotFound(LookupError):
    pass


def _comparable(text: str) -> str:
    """Text as people retype a title: without spaces, punctuation or book-title marks."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum())


def body_refusal(filename: str, title: str, marked_as_body: bool) -> str | None:
    """The reason a file is the document's body, or None when it may be an attachment."""
    if marked_as_body:
        return _("The body of a document is written in the document itself, never uploaded as an attachment.")
    stem, dot, ext = filename.rpartition(".")
    if not dot or ext.lower() not in BODY_EXTENSIONS:
        return None
    wanted = _comparable(stem)
    if wanted and (wanted == _comparable(title) or any(word in wanted for word in BODY_WORDS)):
        return _("This file looks like the document's body (a %(ext)s file named like the document or “正文”). "
                 "The body is never an attachment: write it in the document; rename the file if it really is an attachment.",
                 ext=ext.lower())
    return None


def _blob_path(data_dir: Path, sha256: str) -> Path:
    return files.stored_path(data_dir / "edoc" / "attachments", sha256)


def _store(data_dir: Path, data: bytes) -> str:
    return files.store(data_dir / "edoc" / "attachments", data)


def _check_upload(filename: str, data: bytes) -> str:
    name = safe_filename(filename)
    if not data:
        raise AttachmentRefused(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise AttachmentRefused(_("An attachment may be at most %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024)))
    return name


async def add_attachment(data_dir: Path, user: CurrentUser, document_id: int, filename: str, content_type: str,
                         data: bytes, *, marked_as_body: bool = False) -> int:
    """Attach a file to a document as version 1 of a new attachment; returns the attachment's id."""
    name = _check_upload(filename, data)
    document = await Document.select(Document.title).where(Document.id == document_id).first()
    if document is None:
        raise NotFound(document_id)
    reason = body_refusal(name, document["title"], marked_as_body)
    if reason:
        raise AttachmentRefused(reason)
    digest = _store(data_dir, data)
    async with write_transaction():
        rows = await Attachment.insert(Attachment(document=document_id, created_by=user.id)).returning(Attachment.id)
        attachment_id = rows[0]["id"]
        await AttachmentVersion.insert(_version(attachment_id, 1, name, content_type, data, digest, user))
    return attachment_id


async def replace_attachment(data_dir: Path, user: CurrentUser, attachment_id: int, filename: str, content_type: str,
                             data: bytes, *, marked_as_body: bool = False) -> int:
    """Add the next version of an attachment (earlier ones are kept); returns its number."""
    name = _check_upload(filename, data)
    attachment = await attachment_of(attachment_id)
    reason = body_refusal(name, attachment["title"], marked_as_body)
    if reason:
        raise AttachmentRefused(reason)
    digest = _store(data_dir, data)
    async with write_transaction():
        latest = await AttachmentVersion.select(AttachmentVersion.version).where(
            AttachmentVersion.attachment == attachment_id).order_by(AttachmentVersion.version, ascending=False).first()
        number = latest["version"] + 1
        await AttachmentVersion.insert(_version(attachment_id, number, name, content_type, data, digest, user))
    return number


def _version(attachment_id: int, number: int, name: str, content_type: str, data: bytes, digest: str,
             user: CurrentUser) -> AttachmentVersion:
    return AttachmentVersion(attachment=attachment_id, version=number, filename=name, content_type=files.safe_content_type(content_type),
                             size=len(data), sha256=digest, uploaded_by=user.id)


async def attachment_of(attachment_id: int) -> dict:
    """The attachment with its document's id and title."""
    row = await Attachment.select(Attachment.id, Attachment.document, Attachment.document.title.as_alias("title")).where(
        Attachment.id == attachment_id).first()
    if row is None:
        raise NotFound(attachment_id)
    return row


async def attachments_of(document_id: int) -> list[dict]:
    """The document's attachments, oldest first, each with its versions newest first
    (``versions[0]`` is the current one)."""
    attachments = await Attachment.select(Attachment.id).where(Attachment.document == document_id).order_by(Attachment.id)
    if not attachments:
        return []
    versions = await AttachmentVersion.select(
        AttachmentVersion.all_columns(), AttachmentVersion.uploaded_by.display_name.as_alias("uploader")
    ).where(AttachmentVersion.attachment.is_in([a["id"] for a in attachments])).order_by(AttachmentVersion.version, ascending=False)
    for attachment in attachments:
        attachment["versions"] = [v for v in versions if v["attachment"] == attachment["id"]]
    return attachments


async def has_attachments(document_id: int) -> bool:
    """Whether the document has at least one attachment (the office check of DOC-5)."""
    return await Attachment.exists().where(Attachment.document == document_id)


async def version_file(data_dir: Path, version_id: int) -> tuple[dict, Path]:
    """A version's row (with its document's id) and the path of its content."""
    row = await AttachmentVersion.select(
        AttachmentVersion.all_columns(), AttachmentVersion.attachment.document.as_alias("document")
    ).where(AttachmentVersion.id == version_id).first()
    if row is None:
        raise NotFound(version_id)
    return row, _blob_path(data_dir, row["sha256"])
