"""Mailbox rules: provisioning, internal delivery, listing, reading and bulk actions.

Handlers and the SMTP server call these; tests call them without HTTP or SMTP.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass

from piccolo.columns.combination import WhereRaw

from plugins.webmail.blobs import blob_store
from plugins.webmail.levels import default_quota
from plugins.webmail.tables import Delivery, Folder, Mailbox, Message
from portal.accounts.tables import Unit, User
from portal.api import CurrentUser
from portal.db import write_transaction

log = logging.getLogger("portal.webmail")
SYSTEM_FOLDERS = ("inbox", "drafts", "sent", "trash", "spam")
SORTS = {"date": Message.received_at, "sender": Message.sender_address, "subject": Message.subject, "size": Message.size}
PAGE_SIZE = 50
MAX_QUERY = 100


def folder_label(kind: str, name: str, gettext) -> str:
    labels = {"inbox": gettext("Inbox"), "drafts": gettext("Drafts"), "sent": gettext("Sent"),
              "trash": gettext("Trash"), "spam": gettext("Spam")}
    return labels.get(kind, name)


async def local_domains() -> set[str]:
    rows = await Unit.select(Unit.mail_domain).where(Unit.mail_domain.is_not_null())
    return {r["mail_domain"].lower() for r in rows if r["mail_domain"]}


async def _unit_domain(unit_id: int | None) -> str | None:
    """The mail domain of the unit, or of the nearest unit above it that has one."""
    seen: set[int] = set()
    while unit_id is not None and unit_id not in seen:
        seen.add(unit_id)
        row = await Unit.select(Unit.mail_domain, Unit.parent).where(Unit.id == unit_id).first()
        if row is None:
            return None
        if row["mail_domain"]:
            return row["mail_domain"].lower()
        unit_id = row["parent"]
    return None


async def address_for(user: dict) -> str:
    domain = await _unit_domain(user["unit"])
    if domain:
        return f"{user['username']}@{domain}"
    return (user["email"] or f"{user['username']}@localhost").lower()


async def ensure_mailbox(user_id: int) -> dict:
    """The user's mailbox, created with its system folders on first use."""
    mailbox = await Mailbox.select().where(Mailbox.owner == user_id).first()
    if mailbox is not None:
        return mailbox
    user = await User.select(User.username, User.email, User.unit).where(User.id == user_id).first()
    address = await address_for(user)
    async with write_transaction():
        mailbox = await Mailbox.select().where(Mailbox.owner == user_id).first()
        if mailbox is None:
            await Mailbox.insert(Mailbox(owner=user_id, address=address, quota_bytes=await default_quota()))
            mailbox = await Mailbox.select().where(Mailbox.owner == user_id).first()
            await Folder.insert(*[Folder(mailbox=mailbox["id"], name=kind, kind=kind, position=n)
                                  for n, kind in enumerate(SYSTEM_FOLDERS)])
    return mailbox


async def find_mailbox(address: str) -> dict | None:
    """The mailbox of a local address; an account's mailbox is provisioned on first mail."""
    address = address.strip().lower()
    mailbox = await Mailbox.select().where(Mailbox.address == address).first()
    if mailbox is not None:
        return mailbox
    local, _, domain = address.rpartition("@")
    if not local or domain not in await local_domains():
        return None
    user = await User.select(User.id, User.username, User.email, User.unit).where(
        (User.username == local) & (User.active == True)  # noqa: E712
    ).first()
    if user is None or await address_for(user) != address:
        return None
    return await ensure_mailbox(user["id"])


async def folders_of(mailbox_id: int) -> list[dict]:
    return await Folder.select().where(Folder.mailbox == mailbox_id).order_by(Folder.position).order_by(Folder.name)


FOLDER_KEYS = ("id", "mailbox", "name", "kind", "position", "total", "unread")
MAILBOX_KEYS = ("address", "quota_bytes", "used_bytes")
# Raw SQL: every mail page runs it, and building it with Piccolo cost more than running it.
FOLDERS_OF_OWNER = (
    "SELECT f.id, f.mailbox, f.name, f.kind, f.position, f.total, f.unread, m.address, m.quota_bytes, m.used_bytes "
    "FROM webmail_folder f JOIN webmail_mailbox m ON m.id = f.mailbox WHERE m.owner = {} ORDER BY f.position, f.name")


async def mailbox_with_folders(user_id: int) -> tuple[dict, list[dict]]:
    """The user's mailbox (created on first use) and its folders with their counts, in one query."""
    rows = await Folder.raw(FOLDERS_OF_OWNER, user_id)
    if not rows:
        await ensure_mailbox(user_id)
        rows = await Folder.raw(FOLDERS_OF_OWNER, user_id)
    mailbox = {"id": rows[0]["mailbox"], "owner": user_id, **{key: rows[0][key] for key in MAILBOX_KEYS}}
    return mailbox, [{key: row[key] for key in FOLDER_KEYS} for row in rows]


async def folder_id(mailbox_id: int, kind: str) -> int:
    row = await Folder.select(Folder.id).where((Folder.mailbox == mailbox_id) & (Folder.kind == kind)).first()
    return row["id"]


@dataclass(frozen=True)
class Stored:
    mailbox_id: int
    message_id: int
    owner_id: int


async def store_message(portal, raw: bytes, targets: list[tuple[int, str]], *, seen: bool = False,
                        delivery_ids: dict[int, int] | None = None, parsed=None) -> list[Stored]:
    """Store one raw message for several mailboxes: the blob once (fsynced), then every row in
    one transaction. ``targets`` are (mailbox id, folder kind) pairs."""
    from plugins.webmail.mime import parse_message

    sha = blob_store(portal).put(raw)
    parsed = parsed or parse_message(raw)
    stored: list[Stored] = []
    async with write_transaction():
        for mailbox_id, kind in targets:
            mailbox = await Mailbox.select(Mailbox.owner, Mailbox.used_bytes).where(Mailbox.id == mailbox_id).first()
            rows = await Message.insert(Message(
                mailbox=mailbox_id, folder=await folder_id(mailbox_id, kind), blob_sha=sha, size=len(raw),
                message_id=parsed.message_id[:300], in_reply_to=parsed.in_reply_to[:300],
                subject=parsed.subject[:500], sender_name=parsed.sender_name[:200],
                sender_address=parsed.sender_address[:254].lower(),
                to_addresses=", ".join(a for _, a in parsed.to), cc_addresses=", ".join(a for _, a in parsed.cc),
                sent_at=parsed.date or _now(), seen=seen, has_attachments=parsed.has_attachments,
                snippet=parsed.snippet[:200], body_text=parsed.text[:200_000],
                delivery_id=(delivery_ids or {}).get(mailbox_id),
            )).returning(Message.id)
            await Mailbox.update({Mailbox.used_bytes: mailbox["used_bytes"] + len(raw)}).where(Mailbox.id == mailbox_id)
            stored.append(Stored(mailbox_id, rows[0]["id"], mailbox["owner"]))
    return stored


def _now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


async def deliver_to_inboxes(portal, raw: bytes, mailbox_ids: list[int], delivery_ids: dict[int, int] | None = None) -> list[Stored]:
    """Internal delivery: into each inbox, then each owner's open pages hear of it (MAIL-1)."""
    from plugins.webmail.mime import parse_message

    parsed = parse_message(raw)
    stored = await store_message(portal, raw, [(m, "inbox") for m in mailbox_ids], delivery_ids=delivery_ids, parsed=parsed)
    for item in stored:
        try:
            portal.notify(item.owner_id, "mail", subject=parsed.subject[:120], sender=parsed.sender_name or parsed.sender_address,
                          unread=await unread_count(item.mailbox_id), url=f"/webmail/message/{item.message_id}")
        except Exception:
            # The mail is stored: a missed announcement must not turn into a failed delivery.
            log.warning("could not announce message %s", item.message_id, exc_info=True)
    return stored


async def unread_count(mailbox_id: int) -> int:
    """The inbox's unread count, as the folder's triggers keep it."""
    row = await Folder.select(Folder.unread).where((Folder.mailbox == mailbox_id) & (Folder.kind == "inbox")).first()
    return row["unread"]


@dataclass(frozen=True)
class ListQuery:
    folder_id: int
    sort: str = "date"
    descending: bool = True
    unread: bool = False
    flagged: bool = False
    attachments: bool = False
    search: str = ""
    page: int = 1


SEARCHED = "webmail_message.subject", "webmail_message.sender_name", "webmail_message.sender_address", "webmail_message.body_text"
TRIGRAM = 3  # characters in a trigram, the shortest text the index looks up directly
LAST_CHARACTER = "\U0010ffff"


def search_condition(search: str) -> WhereRaw:
    """Messages whose subject, sender or body contain ``search`` (stripped, not empty) as typed:
    a substring, case aside, every character literal (``%``, ``_``, quotes, FTS syntax).

    SQLite reads the trigram index (migration 2026-11-26T12:30:00): a phrase for three
    characters or more; for one or two (the common Chinese word 会议) the postings of every
    trigram that begins with them. PostgreSQL's ILIKE uses its pg_trgm indexes from three
    characters on and scans the folder the other conditions narrow to below that."""
    if Message._meta.db.engine_type == "sqlite":
        if len(search) >= TRIGRAM:
            # One FTS5 string: inside double quotes (doubled when typed) nothing is syntax.
            return WhereRaw("webmail_message.id IN (SELECT rowid FROM webmail_message_fts WHERE webmail_message_fts MATCH {})",
                            '"' + search.replace('"', '""') + '"')
        prefix = search.lower()  # the index holds folded trigrams
        return WhereRaw("webmail_message.id IN (SELECT doc FROM webmail_message_fts_instances WHERE term >= {} AND term <= {})",
                        prefix, prefix + LAST_CHARACTER)
    pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return WhereRaw("(" + " OR ".join(f"{column} ILIKE {{}} ESCAPE '\\'" for column in SEARCHED) + ")",
                    *[pattern] * len(SEARCHED))


LIST_COLUMNS = (Message.id, Message.subject, Message.sender_name, Message.sender_address, Message.to_addresses,
                Message.received_at, Message.size, Message.seen, Message.flagged, Message.has_attachments, Message.snippet)


async def list_messages(mailbox_id: int, query: ListQuery, folder: dict | None = None) -> tuple[list[dict], int]:
    """One page of a folder, with the total count for paging.

    ``folder`` is the folder's row when the caller has it: without a filter other than
    "unread", the total is its count, kept by triggers, instead of a count of every row.
    """
    conditions = [Message.mailbox == mailbox_id, Message.folder == query.folder_id]
    if query.unread:
        conditions.append(Message.seen == False)  # noqa: E712
    if query.flagged:
        conditions.append(Message.flagged == True)  # noqa: E712
    if query.attachments:
        conditions.append(Message.has_attachments == True)  # noqa: E712
    search = query.search.replace("\x00", "").strip()[:MAX_QUERY]
    if search:
        conditions.append(search_condition(search))
    column = SORTS.get(query.sort, Message.received_at)
    page = max(1, query.page)
    rows = await (Message.select(*LIST_COLUMNS).where(*conditions)
                  .order_by(column, ascending=not query.descending).order_by(Message.id, ascending=not query.descending)
                  .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    if query.flagged or query.attachments or search:
        total = await Message.count().where(*conditions)
    else:
        total = await _folder_count(mailbox_id, query.folder_id, "unread" if query.unread else "total", folder)
    return rows, total


async def _folder_count(mailbox_id: int, folder_id: int, column: str, folder: dict | None) -> int:
    if folder is None or folder["id"] != folder_id:
        folder = await Folder.select(Folder.id, Folder.total, Folder.unread).where(
            (Folder.id == folder_id) & (Folder.mailbox == mailbox_id)).first()
    return folder[column] if folder else 0


async def get_message(mailbox_id: int, message_id: int) -> dict | None:
    """A message of this mailbox only: another user's id gives None, never his message."""
    return await Message.select().where((Message.id == message_id) & (Message.mailbox == mailbox_id)).first()


async def mark_seen(mailbox_id: int, message_id: int) -> None:
    row = await get_message(mailbox_id, message_id)
    if row is None or row["seen"]:
        return
    async with write_transaction():
        await Message.update({Message.seen: True}).where(Message.id == message_id)
        if row["delivery_id"]:
            await Delivery.update({Delivery.status: "opened", Delivery.updated_at: _now()}).where(
                (Delivery.id == row["delivery_id"]) & (Delivery.status == "delivered")
            )


ACTIONS = ("move", "delete", "read", "unread", "flag", "unflag")


class ActionError(ValueError):
    pass


async def apply_action(mailbox_id: int, message_ids: list[int], action: str, target_folder: int | None = None) -> int:
    """Bulk action on the user's own messages; ids of other mailboxes are ignored. Returns how many."""
    if action not in ACTIONS:
        raise ActionError(action)
    ids = [r["id"] for r in await Message.select(Message.id).where(
        (Message.mailbox == mailbox_id) & Message.id.is_in(message_ids[:500] or [0]))]
    if not ids:
        return 0
    async with write_transaction():
        if action in ("read", "unread", "flag", "unflag"):
            column = Message.seen if action in ("read", "unread") else Message.flagged
            await Message.update({column: action in ("read", "flag")}).where(Message.id.is_in(ids))
        elif action == "move":
            if target_folder is None or not await Folder.exists().where((Folder.id == target_folder) & (Folder.mailbox == mailbox_id)):
                raise ActionError("folder")
            await Message.update({Message.folder: target_folder}).where(Message.id.is_in(ids))
        else:
            trash = await folder_id(mailbox_id, "trash")
            in_trash = [r["id"] for r in await Message.select(Message.id).where(Message.id.is_in(ids) & (Message.folder == trash))]
            elsewhere = [i for i in ids if i not in in_trash]
            if elsewhere:
                await Message.update({Message.folder: trash}).where(Message.id.is_in(elsewhere))
            if in_trash:
                freed = sum(r["size"] for r in await Message.select(Message.size).where(Message.id.is_in(in_trash)))
                await Message.delete().where(Message.id.is_in(in_trash))
                mailbox = await Mailbox.select(Mailbox.used_bytes).where(Mailbox.id == mailbox_id).first()
                await Mailbox.update({Mailbox.used_bytes: max(0, mailbox["used_bytes"] - freed)}).where(Mailbox.id == mailbox_id)
    return len(ids)


async def mailbox_of(user) -> dict:
    return await ensure_mailbox(user.id)


# Reading pages (MAIL-1, MAIL-18): custom folders, unread counts per folder, trusted image senders.

async def unread_for_owner(user_id: int) -> int:
    """The inbox's unread count for the menu badge; 0 (and no mailbox created) when he has none yet."""
    row = await Folder.select(Folder.unread).where((Folder.mailbox.owner == user_id) & (Folder.kind == "inbox")).first()
    return row["unread"] if row else 0


# The inbox's unread count that a mail page read, for the menu badge of the same page. It is
# keyed by the request's CurrentUser object (the middleware makes one per request), so no
# other request, even one run in the same context, can take it for its own.
_page_unread: ContextVar[tuple[CurrentUser, int] | None] = ContextVar("webmail_page_unread", default=None)


def note_inbox_unread(user: CurrentUser, folders: list[dict]) -> None:
    """Remember the unread count of the inbox among ``folders`` for this request's menu badge."""
    _page_unread.set((user, next(f["unread"] for f in folders if f["kind"] == "inbox")))


async def menu_unread(user: CurrentUser) -> int:
    """The menu badge's count: what this request's page read already, else one query."""
    noted = _page_unread.get()
    if noted is not None and noted[0] is user:
        return noted[1]
    return await unread_for_owner(user.id)


MAX_CUSTOM_FOLDERS = 200


async def create_folder(mailbox_id: int, name: str) -> int:
    """A custom folder; ActionError for an empty, too long or duplicate name (system ones included)."""
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ActionError("name")
    folders = await folders_of(mailbox_id)
    if any(f["name"].lower() == name.lower() for f in folders) or name.lower() in SYSTEM_FOLDERS:
        raise ActionError("duplicate")
    if len(folders) >= MAX_CUSTOM_FOLDERS:
        raise ActionError("too many")
    async with write_transaction():
        rows = await Folder.insert(Folder(mailbox=mailbox_id, name=name, kind="custom", position=100)).returning(Folder.id)
    return rows[0]["id"]


async def images_trusted(mailbox_id: int, sender_address: str) -> bool:
    from plugins.webmail.tables import TrustedImageSender

    address = (sender_address or "").strip().lower()
    return bool(address) and await TrustedImageSender.exists().where(
        (TrustedImageSender.mailbox == mailbox_id) & (TrustedImageSender.sender_address == address))


async def trust_image_sender(mailbox_id: int, sender_address: str) -> None:
    from plugins.webmail.tables import TrustedImageSender

    address = (sender_address or "").strip().lower()[:254]
    if not address or await images_trusted(mailbox_id, address):
        return
    async with write_transaction():
        await TrustedImageSender.insert(TrustedImageSender(mailbox=mailbox_id, sender_address=address))
