"""Staff at work on their unit's catalog (PUB-1): write items, publish them now or at a set
moment, withdraw them with a reason, attach files. Every change is audited.

Who: a user holding ``disclosure.publish`` works on his own unit's catalog (administrators on
every unit's). What is never allowed: publishing an item that is not marked public — a 涉密
(classified) item above all — whatever form or request asks for it; the refusal is here, in the
service, so no route can forget it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from plugins.disclosure.tables import Attachment, Category, Item
from plugins.disclosure.text import clean_line, clean_text
from portal import files
from portal.api import CurrentUser
from portal.db import write_transaction
from portal.i18n import gettext as _
from portal.jobs import now as utc_now
from portal.richtext import plain_text

MAX_TITLE = 200
MAX_ISSUER = 100
MAX_NUMBER = 60
MAX_BODY = 100_000
MAX_REASON = 500
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 20

PUBLIC = "public"
# The 涉密 levels of the Law on Guarding State Secrets; "internal" (内部) is not secret but is
# not for the public either. Only PUBLIC is ever published.
CLASSIFIED = ("secret", "confidential", "top_secret")
CLASSIFICATIONS = (PUBLIC, "internal", *CLASSIFIED)
STATUSES = ("draft", "scheduled", "published", "withdrawn")


def classification_labels() -> dict[str, str]:
    return {"public": _("Public (公开)"), "internal": _("Internal (内部)"), "secret": _("Secret (秘密)"),
            "confidential": _("Confidential (机密)"), "top_secret": _("Top secret (绝密)")}


def status_labels() -> dict[str, str]:
    return {"draft": _("Draft"), "scheduled": _("Scheduled"), "published": _("Published"), "withdrawn": _("Withdrawn")}


class ItemRefused(ValueError):
    """The input cannot be saved. ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class PublishRefused(Exception):
    """The item may not be published (or withdrawn) now; ``str()`` says why, for the user."""


class NotAllowed(PermissionError):
    """The user may not work on that unit's catalog."""


class ItemNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ItemForm:
    category: str
    title: str
    document_date: str = ""
    issuer: str = ""
    document_number: str = ""
    body: str = ""
    classification: str = PUBLIC


@dataclass
class CleanItem:
    category: int
    title: str
    document_date: date | None
    issuer: str
    document_number: str
    body: str
    classification: str
    errors: dict[str, str] = field(default_factory=dict)


def may_manage(user: CurrentUser | None, unit_id: int | None) -> bool:
    """Whether ``user`` works on the catalog of ``unit_id``: a publisher of that unit, or an administrator."""
    if user is None or unit_id is None or not user.can("disclosure.publish"):
        return False
    return user.is_admin or user.unit_id == unit_id


def state(item: dict, moment: datetime | None = None) -> str:
    """The item's state as people name it: ``scheduled`` is published with its moment ahead."""
    if item["status"] == "published" and item["publish_at"] and item["publish_at"] > (moment or utc_now()):
        return "scheduled"
    return item["status"]


async def _validated(unit_id: int, form: ItemForm) -> CleanItem:
    errors: dict[str, str] = {}
    title = clean_line(form.title)
    if not title or len(title) > MAX_TITLE:
        errors["title"] = _("Enter a title of at most %(n)d characters.", n=MAX_TITLE)
    issuer = clean_line(form.issuer)
    if len(issuer) > MAX_ISSUER:
        errors["issuer"] = _("The issuing body may have at most %(n)d characters.", n=MAX_ISSUER)
    number = clean_line(form.document_number)
    if len(number) > MAX_NUMBER:
        errors["document_number"] = _("The document number may have at most %(n)d characters.", n=MAX_NUMBER)
    body = clean_text(form.body)
    if len(body) > MAX_BODY:
        errors["body"] = _("The text may have at most %(n)d characters.", n=MAX_BODY)
    document_date = None
    if form.document_date.strip():
        try:
            document_date = date.fromisoformat(form.document_date.strip())
        except ValueError:
            errors["document_date"] = _("Enter the date as YYYY-MM-DD.")
    if form.classification not in CLASSIFICATIONS:
        errors["classification"] = _("Choose a classification from the list.")
    category_id = int(form.category) if str(form.category).isdigit() and len(str(form.category)) < 10 else 0
    if not category_id or not await Category.exists().where((Category.id == category_id) & (Category.unit == unit_id)):
        errors["category"] = _("Choose a category of this unit's catalog.")
    return CleanItem(category_id, title, document_date, issuer, number, body, form.classification, errors)


async def item(item_id: int) -> dict:
    """Any item (draft, scheduled, withdrawn too) with its category's and unit's names: for staff."""
    row = await Item.select(Item.all_columns(), Item.category.name.as_alias("category_name"),
                            Item.unit.name.as_alias("unit_name"), Item.unit.code.as_alias("unit_code")).where(
        Item.id == item_id).first()
    if row is None:
        raise ItemNotFound(item_id)
    row["state"] = state(row)
    return row


async def managed_item(user: CurrentUser, item_id: int) -> dict:
    """The item when ``user`` works on its unit's catalog; ``NotAllowed`` otherwise."""
    row = await item(item_id)
    if not may_manage(user, row["unit"]):
        raise NotAllowed(item_id)
    return row


async def staff_items(unit_id: int, status: str = "", page: int = 1, page_size: int = 30) -> tuple[list[dict], int]:
    """The unit's items of every state (or of one: ``status`` in ``STATUSES``), newest change
    first; one page, and how many there are."""
    moment = utc_now()
    condition = Item.unit == unit_id
    if status == "scheduled":
        condition &= (Item.status == "published") & (Item.publish_at > moment)
    elif status == "published":
        condition &= (Item.status == "published") & (Item.publish_at <= moment)
    elif status in STATUSES:
        condition &= Item.status == status
    total = await Item.count().where(condition)
    rows = await Item.select(Item.id, Item.title, Item.status, Item.publish_at, Item.classification, Item.updated_at,
                             Item.source, Item.category.name.as_alias("category_name")).where(condition).order_by(
        Item.updated_at, ascending=False).order_by(Item.id, ascending=False).limit(page_size).offset((max(page, 1) - 1) * page_size)
    for row in rows:
        row["state"] = state(row, moment)
    return rows, total


async def create_item(portal, actor: CurrentUser, unit_id: int, form: ItemForm) -> int:
    """Save a new draft in the unit's catalog; returns its id."""
    if not may_manage(actor, unit_id):
        raise NotAllowed(unit_id)
    clean = await _validated(unit_id, form)
    if clean.errors:
        raise ItemRefused(clean.errors)
    async with write_transaction():
        rows = await Item.insert(Item(
            unit=unit_id, category=clean.category, title=clean.title, document_date=clean.document_date,
            issuer=clean.issuer, document_number=clean.document_number, body=clean.body,
            body_text=plain_text(clean.body), classification=clean.classification, status="draft",
            created_by=actor.id, updated_by=actor.id,
        )).returning(Item.id)
    await portal.audit("disclosure.item_create", actor=actor, target_type="disclosure_item", target_id=rows[0]["id"],
                       summary=clean.title)
    return rows[0]["id"]


async def update_item(portal, actor: CurrentUser, item_id: int, form: ItemForm) -> None:
    """Change an item's fields. A withdrawn item stays as it was withdrawn; a published one
    cannot be marked anything but public (withdraw it first)."""
    async with write_transaction():
        row = await managed_item(actor, item_id)
        clean = await _validated(row["unit"], form)
        if row["status"] == "withdrawn":
            clean.errors["form"] = _("A withdrawn item is kept as it was withdrawn and cannot be changed.")
        elif row["status"] == "published" and clean.classification != PUBLIC:
            clean.errors["classification"] = _("A published item must stay public: withdraw it before marking it classified.")
        if clean.errors:
            raise ItemRefused(clean.errors)
        await Item.update({
            Item.category: clean.category, Item.title: clean.title, Item.document_date: clean.document_date,
            Item.issuer: clean.issuer, Item.document_number: clean.document_number, Item.body: clean.body,
            Item.body_text: plain_text(clean.body), Item.classification: clean.classification,
            Item.updated_by: actor.id, Item.updated_at: utc_now(),
        }).where(Item.id == item_id)
    await portal.audit("disclosure.item_update", actor=actor, target_type="disclosure_item", target_id=item_id,
                       summary=clean.title)


def publish_refusal(row: dict) -> str | None:
    """Why the item may not be published, or None."""
    if row["classification"] in CLASSIFIED:
        return _("This item is classified (涉密) and can never be published.")
    if row["classification"] != PUBLIC:
        return _("Only an item marked public can be published; this one is marked internal.")
    if row["status"] == "withdrawn":
        return _("A withdrawn item cannot be published again; write a new item instead.")
    return None


async def publish_item(portal, actor: CurrentUser, item_id: int, publish_at: datetime | None = None) -> datetime:
    """Publish the item now, or at ``publish_at`` when that lies ahead (it stays hidden until
    then); a scheduled item may be given another moment. Returns the moment it becomes public."""
    moment = utc_now()
    when = publish_at if publish_at and publish_at > moment else moment
    async with write_transaction():
        row = await managed_item(actor, item_id)
        refusal = publish_refusal(row)
        if refusal is None and row["status"] == "published" and row["publish_at"] <= moment:
            refusal = _("This item is already published.")
        if refusal:
            raise PublishRefused(refusal)
        await Item.update({Item.status: "published", Item.publish_at: when, Item.updated_by: actor.id,
                           Item.updated_at: moment}).where((Item.id == item_id) & (Item.classification == PUBLIC))
    action = "disclosure.item_schedule" if when > moment else "disclosure.item_publish"
    await portal.audit(action, actor=actor, target_type="disclosure_item", target_id=item_id,
                       summary=f"{row['title']} @ {when.isoformat(timespec='minutes')}")
    return when


async def withdraw_item(portal, actor: CurrentUser, item_id: int, reason: str) -> None:
    """Take a published or scheduled item off every public page, search and feed, for the reason given."""
    reason = clean_line(reason)
    if not reason or len(reason) > MAX_REASON:
        raise ItemRefused({"reason": _("Say why the item is withdrawn, in at most %(n)d characters.", n=MAX_REASON)})
    moment = utc_now()
    async with write_transaction():
        row = await managed_item(actor, item_id)
        if row["status"] != "published":
            raise PublishRefused(_("Only a published or scheduled item can be withdrawn."))
        await Item.update({Item.status: "withdrawn", Item.withdrawn_at: moment, Item.withdrawn_reason: reason,
                           Item.updated_by: actor.id, Item.updated_at: moment}).where(Item.id == item_id)
    await portal.audit("disclosure.item_withdraw", actor=actor, target_type="disclosure_item", target_id=item_id,
                       summary=f"{row['title']}: {reason}")


def attachment_folder(portal) -> Path:
    return portal.settings.data_dir / "disclosure" / "attachments"


async def add_attachment(portal, actor: CurrentUser, item_id: int, filename: str, content_type: str, data: bytes) -> int:
    """Attach a file to an item that is not withdrawn; returns the attachment's id."""
    if not filename or not data:
        raise ItemRefused({"file": _("Choose a file that is not empty.")})
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ItemRefused({"file": _("A file may be at most %(mb)d MB.", mb=MAX_ATTACHMENT_BYTES // (1024 * 1024))})
    name = files.safe_filename(filename)
    row = await managed_item(actor, item_id)
    if row["status"] == "withdrawn":
        raise ItemRefused({"file": _("A withdrawn item is kept as it was withdrawn and cannot be changed.")})
    digest = files.store(attachment_folder(portal), data)
    async with write_transaction():
        if await Attachment.count().where(Attachment.item == item_id) >= MAX_ATTACHMENTS:
            raise ItemRefused({"file": _("An item has at most %(n)d attachments.", n=MAX_ATTACHMENTS)})
        rows = await Attachment.insert(Attachment(
            item=item_id, filename=name, content_type=files.safe_content_type(content_type), size=len(data),
            sha256=digest, created_by=actor.id)).returning(Attachment.id)
        await Item.update({Item.updated_at: utc_now(), Item.updated_by: actor.id}).where(Item.id == item_id)
    await portal.audit("disclosure.attachment_add", actor=actor, target_type="disclosure_item", target_id=item_id,
                       summary=f"{rows[0]['id']}: {name}")
    return rows[0]["id"]


async def remove_attachment(portal, actor: CurrentUser, attachment_id: int) -> int:
    """Remove an attachment of an item that is not withdrawn; returns the item's id. The content
    stays on disk: another attachment may hold the same bytes."""
    attachment = await Attachment.select(Attachment.item, Attachment.filename).where(Attachment.id == attachment_id).first()
    if attachment is None:
        raise ItemNotFound(attachment_id)
    async with write_transaction():
        row = await managed_item(actor, attachment["item"])
        if row["status"] == "withdrawn":
            raise ItemRefused({"file": _("A withdrawn item is kept as it was withdrawn and cannot be changed.")})
        await Attachment.delete().where(Attachment.id == attachment_id)
        await Item.update({Item.updated_at: utc_now(), Item.updated_by: actor.id}).where(Item.id == row["id"])
    await portal.audit("disclosure.attachment_remove", actor=actor, target_type="disclosure_item", target_id=row["id"],
                       summary=f"{attachment_id}: {attachment['filename']}")
    return row["id"]


async def staff_attachment(actor: CurrentUser, attachment_id: int) -> dict:
    """An attachment of an item the user works on (any state), with ``sha256``."""
    row = await Attachment.select(Attachment.id, Attachment.item, Attachment.filename, Attachment.sha256).where(
        Attachment.id == attachment_id).first()
    if row is None:
        raise ItemNotFound(attachment_id)
    await managed_item(actor, row["item"])
    return row
