"""Mailbox rules: provisioning, internal delivery, listing, reading and bulk actions.

Handlers and the SMTP server call these; tests call them without HTTP or SMTP.
"""

from __future__ import annotations

import logging
import sqlite3
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone

from piccolo.columns.combination import WhereRaw

from plugins.webmail.blobs import blob_id, blob_statements
from plugins.webmail.levels import default_quota
from plugins.webmail.mime import ParsedMessage, parse_message
from plugins.webmail.tables import Delivery, Folder, Mailbox, Message
from portal.accounts.tables import Unit, User
from portal.api import CurrentUser
from portal.db import read_raw, write_transaction

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
    async with write_transaction():
        await _create_mailboxes({user_id: await address_for(user)})
    return await Mailbox.select().where(Mailbox.owner == user_id).first()


async def _create_mailboxes(owners: dict[int, str]) -> None:
    """Mailboxes with their system folders for the accounts in ``owners`` (id: address) that
    have none, in the caller's transaction. Another process may be making the same at the same
    moment (two SMTP workers, a page): the mailbox it made stands and this makes nothing. No
    conflict target: PostgreSQL may meet the other's row on the address index first."""
    quota = await default_quota()
    created = await Mailbox.insert(*[Mailbox(owner=owner, address=address, quota_bytes=quota)
                                     for owner, address in owners.items()]).on_conflict(
        action="DO NOTHING").returning(Mailbox.id)
    if created:
        await Folder.insert(*[Folder(mailbox=row["id"], name=kind, kind=kind, position=n)
                              for row in created for n, kind in enumerate(SYSTEM_FOLDERS)])


@dataclass(frozen=True)
class Recipient:
    """A local address that takes mail: its mailbox, the mailbox's owner, and what the mailbox's
    service level (MAIL-12) allows: its quota and used space, its level."""

    mailbox_id: int
    owner_id: int
    address: str = ""
    used_bytes: int = 0
    quota_bytes: int = 0
    level_id: int | None = None

    def has_room(self, size: int) -> bool:
        return self.used_bytes + size <= self.quota_bytes

    def as_mailbox(self) -> dict:
        """The fields of a mailbox row that ``levels`` reads."""
        return {"id": self.mailbox_id, "address": self.address, "used_bytes": self.used_bytes,
                "quota_bytes": self.quota_bytes, "level": self.level_id}


async def find_recipients(addresses) -> dict[str, Recipient]:
    """The mailboxes that take mail for ``addresses``, by address (lower case): local addresses
    of active accounts only, so an unknown or deactivated account is absent (550 at RCPT).
    Nothing is cached: one query per domain when every account has its mailbox already; an
    account's mailbox is provisioned on its first mail."""
    by_domain: dict[str, list[str]] = {}
    for address in sorted({a.strip().lower() for a in addresses}):
        local, _, domain = address.rpartition("@")
        if local:
            by_domain.setdefault(domain, []).append(address)
    found: dict[str, Recipient] = {}
    for domain, group in by_domain.items():
        found.update(await _active_mailboxes(domain, group))
    missing = [a for group in by_domain.values() for a in group if a not in found]
    if missing:
        domains = await local_domains()
        missing = [a for a in missing if a.rpartition("@")[2] in domains]
    if missing:
        found.update(await _provision(missing))
    return found


async def _active_mailboxes(domain: str, addresses: list[str]) -> dict[str, Recipient]:
    """The mailboxes of ``addresses`` (all at ``domain``) whose owner is active, if ``domain``
    is a unit's mail domain."""
    found: dict[str, Recipient] = {}
    for chunk in in_chunks(addresses, 500):
        # The SMTP server asks at every RCPT: read on the loop's own thread (portal.db.read_raw).
        rows = await read_raw(Mailbox,
            "SELECT m.id, m.owner, m.address, m.used_bytes, m.quota_bytes, m.level FROM webmail_mailbox m "
            "JOIN core_user u ON u.id = m.owner "
            f"WHERE u.active = TRUE AND m.address IN ({_marks(len(chunk))}) "
            "AND EXISTS (SELECT 1 FROM core_unit WHERE lower(mail_domain) = {})", *chunk, domain)
        found.update({r["address"]: _recipient(r) for r in rows})
    return found


def _recipient(row: dict) -> Recipient:
    return Recipient(row["id"], row["owner"], row["address"], row["used_bytes"], row["quota_bytes"], row["level"])


async def _provision(addresses: list[str]) -> dict[str, Recipient]:
    """Mailboxes of the accounts behind ``addresses`` that have none yet, created together."""
    wanted = set(addresses)
    users = []
    for chunk in in_chunks(sorted({a.rpartition("@")[0] for a in addresses}), 500):
        users += await User.select(User.id, User.username, User.email, User.unit).where(
            User.username.is_in(chunk) & (User.active == True))  # noqa: E712
    domains = await _unit_domains()
    owners = {user["id"]: address for user in users if (address := _address(user, domains)) in wanted}
    if not owners:
        return {}
    async with write_transaction():
        await _create_mailboxes(owners)
    rows = await Mailbox.select(Mailbox.id, Mailbox.owner, Mailbox.address, Mailbox.used_bytes, Mailbox.quota_bytes,
                                Mailbox.level).where(Mailbox.owner.is_in(list(owners)))
    return {owners[r["owner"]]: _recipient(r) for r in rows}


async def _unit_domains() -> dict[int, str | None]:
    """Every unit's mail domain: its own, or that of the nearest unit above it that has one."""
    units = {u["id"]: u for u in await Unit.select(Unit.id, Unit.parent, Unit.mail_domain)}
    domains: dict[int, str | None] = {}
    for unit_id in units:
        seen: set[int] = set()
        current: int | None = unit_id
        while current in units and current not in seen and not units[current]["mail_domain"]:
            seen.add(current)
            current = units[current]["parent"]
        domains[unit_id] = units[current]["mail_domain"].lower() if current in units and units[current]["mail_domain"] else None
    return domains


def _address(user: dict, domains: dict[int, str | None]) -> str:
    """What ``address_for`` gives, from the unit domains read once."""
    domain = domains.get(user["unit"])
    if domain:
        return f"{user['username']}@{domain}"
    return (user["email"] or f"{user['username']}@localhost").lower()


def in_chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _marks(count: int) -> str:
    """Placeholders of a raw query, one per value (Piccolo writes ? or $n for the engine)."""
    return ", ".join(["{}"] * count)


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


@dataclass(frozen=True)
class Copy:
    """One message to file into a system folder of a mailbox; its blob is ``sha``."""

    parsed: ParsedMessage
    mailbox_id: int
    sha: str
    size: int
    kind: str = "inbox"
    seen: bool = False
    # The To and Cc of this copy when they are not the parsed message's (a sent message's copies
    # are parsed once, without their addressees).
    to: str | None = None
    cc: str | None = None
    delivery_id: int | None = None


_MESSAGE_COLUMNS = ("mailbox, folder, blob_sha, size, message_id, in_reply_to, subject, sender_name, sender_address, "
                    "to_addresses, cc_addresses, sent_at, received_at, seen, flagged, has_attachments, snippet, "
                    "body_text, delivery_id")
# The folder is looked up by the insert itself: no cached id can outlive its folder.
_MESSAGE_VALUES = "({}, (SELECT id FROM webmail_folder WHERE mailbox = {} AND kind = {}), " + ", ".join(["{}"] * 17) + ")"
ROWS_PER_STATEMENT = 100


def _message_values(copy: Copy, now) -> tuple:
    parsed = copy.parsed
    to = copy.to if copy.to is not None else ", ".join(a for _, a in parsed.to)
    cc = copy.cc if copy.cc is not None else ", ".join(a for _, a in parsed.cc)
    return (copy.mailbox_id, copy.mailbox_id, copy.kind, copy.sha, copy.size, parsed.message_id[:300],
            parsed.in_reply_to[:300], parsed.subject[:500], parsed.sender_name[:200], parsed.sender_address[:254].lower(),
            to, cc, parsed.date or now, now, copy.seen, False, parsed.has_attachments,
            parsed.snippet[:200], parsed.text[:200_000], copy.delivery_id)


def _insert_messages(count: int) -> str:
    return (f"INSERT INTO webmail_message ({_MESSAGE_COLUMNS}) VALUES {', '.join([_MESSAGE_VALUES] * count)} "
            "RETURNING id, mailbox, blob_sha, folder")


def _add_used_bytes(count: int) -> str:
    cases = " ".join(["WHEN {} THEN CAST({} AS BIGINT)"] * count)
    return (f"UPDATE webmail_mailbox SET used_bytes = used_bytes + CASE id {cases} ELSE 0 END "
            f"WHERE id IN ({_marks(count)}) RETURNING id, owner")


def _copy_statements(copies: list[Copy], blobs: dict[str, bytes]):
    """The statements that store ``copies``, as (SQL with ``{}`` placeholders, values), a few
    whatever their number: ``blobs`` (raw messages by id), the rows, then each mailbox's used
    space. Each statement's result rows are to be sent back in (a generator)."""
    now = _now()
    for statement in blob_statements(blobs):
        yield statement
    inserted = []
    for chunk in in_chunks(copies, ROWS_PER_STATEMENT):
        inserted += yield _insert_messages(len(chunk)), [value for copy in chunk for value in _message_values(copy, now)]
    if any(r["folder"] is None for r in inserted):
        raise LookupError("a mailbox without its system folder")
    used: dict[int, int] = {}
    for copy in copies:
        used[copy.mailbox_id] = used.get(copy.mailbox_id, 0) + copy.size
    owners: dict[int, int] = {}
    for chunk in in_chunks(list(used.items()), ROWS_PER_STATEMENT):
        rows = yield _add_used_bytes(len(chunk)), [*[value for pair in chunk for value in pair], *[m for m, _ in chunk]]
        owners.update({r["id"]: r["owner"] for r in rows})
    ids: dict[tuple[int, str], list[int]] = {}
    for r in inserted:
        ids.setdefault((r["mailbox"], r["blob_sha"]), []).append(r["id"])
    # Rows of the same mailbox and blob are alike (but for their folder): any order among them will do.
    return [Stored(c.mailbox_id, ids[(c.mailbox_id, c.sha)].pop(0), owners[c.mailbox_id]) for c in copies]


async def store_copies(copies: list[Copy], blobs: dict[str, bytes] | None = None) -> list[Stored]:
    """The rows of ``copies`` (of one message or of several) and the mailboxes' used space, in
    one transaction of a few statements whatever their number, with ``blobs`` (raw messages by
    id) that are not stored yet. Returns them in order."""
    if not copies:
        return []
    statements = _copy_statements(copies, blobs or {})
    async with write_transaction():
        rows = None
        try:
            while True:
                sql, values = statements.send(rows)
                rows = await Message.raw(sql, *values)
        except StopIteration as done:
            return done.value


def store_copies_with(connection: sqlite3.Connection, copies: list[Copy], blobs: dict[str, bytes]) -> list[Stored]:
    """``store_copies`` on a plain SQLite connection in its transaction (portal.db.ThreadWriter)."""
    if not copies:
        return []
    statements = _copy_statements(copies, blobs)
    cursor = connection.cursor()
    cursor.row_factory = sqlite3.Row
    rows = None
    try:
        while True:
            sql, values = statements.send(rows)
            rows = cursor.execute(sql.replace("{}", "?"), values).fetchall()
    except StopIteration as done:
        return done.value


async def store_message(raw: bytes, targets: list[tuple[int, str]], *, seen: bool = False,
                        delivery_ids: dict[int, int] | None = None, parsed: ParsedMessage | None = None) -> list[Stored]:
    """Store one raw message for several mailboxes: its blob once and every row, in one
    transaction. ``targets`` are (mailbox id, folder kind) pairs."""
    sha = blob_id(raw)
    parsed = parsed or parse_message(raw)
    return await store_copies([Copy(parsed, mailbox_id, sha, len(raw), kind, seen, delivery_id=(delivery_ids or {}).get(mailbox_id))
                               for mailbox_id, kind in targets], {sha: raw})


def _now():
    return datetime.now(timezone.utc)


async def deliver_to_inboxes(portal, raw: bytes, mailbox_ids: list[int], delivery_ids: dict[int, int] | None = None) -> list[Stored]:
    """Internal delivery: into each inbox, then each owner's open pages hear of it (MAIL-1)."""
    parsed = parse_message(raw)
    stored = await store_message(raw, [(m, "inbox") for m in mailbox_ids], delivery_ids=delivery_ids, parsed=parsed)
    announce(portal, [(parsed, item) for item in stored])
    return stored


def announce(portal, arrived: list[tuple[ParsedMessage, Stored]]) -> None:
    """Tell each owner's open pages of his new inbox messages (MAIL-1). The event says how many
    arrived, not the unread count, so delivery needs no count query (the page adds them up)."""
    for parsed, item in arrived:
        try:
            portal.notify(item.owner_id, "mail", subject=parsed.subject[:120], sender=parsed.sender_name or parsed.sender_address,
                          added=1, url=f"/webmail/message/{item.message_id}")
        except Exception:
            # The mail is stored: a missed announcement must not turn into a failed delivery.
            log.warning("could not announce message %s", item.message_id, exc_info=True)


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
