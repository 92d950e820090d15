"""Sending mail (MAIL-4, MAIL-5): compose a message, store the Sent copy, track each recipient.

``send`` validates a :class:`Draft`, builds the RFC 5322 message, and in one transaction
stores the Sent copy, the ``Outgoing`` row, one ``Delivery`` row per recipient and one
``webmail.relay`` job per external recipient (see ``relay.py``), so nothing is half-sent.
Internal recipients get their copy right after, directly into their inbox; their delivery
turns ``opened`` when they read it (``services.mark_seen``).

Drafts are messages in the Drafts folder; saving again replaces the previous version, and
sending a draft removes it. Reply, reply-all and forward prefill a :class:`Draft` from a
message of the user's own mailbox.
"""

from __future__ import annotations

import email.utils
import mimetypes
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser

from plugins.webmail.blobs import read_blob, store_blobs
from plugins.webmail.levels import BUILT_IN, Limits, limits_for_mailbox, room_for
from plugins.webmail.mime import attachment_bytes, decode_header_value, parse_message, safe_filename
from plugins.webmail.services import (
    ROWS_PER_STATEMENT,
    Copy,
    announce,
    ensure_mailbox,
    find_recipients,
    folder_id,
    get_message,
    in_chunks,
    local_domains,
    store_message,
    store_copies,
)
from plugins.webmail.tables import Delivery, Mailbox, Message, Outgoing
from portal.db import write_transaction
from portal.i18n import gettext as _
from portal.jobs import enqueue

DEFAULT_MAX_MESSAGE = 25 * 1024 * 1024
# Inside the organisation a notice may go to everyone (MAIL-4); outside, the relay is no mass mailer.
MAX_RECIPIENTS = 2000
MAX_EXTERNAL_RECIPIENTS = 100
MAX_SUBJECT = 500
MAX_BODY = 1_000_000  # characters
MAX_ATTACHMENTS = 50
STATUSES = ("queued", "delivered", "opened", "deferred", "failed", "bounced")
# Header of a saved draft only (never sent): the "separate display" choice.
DRAFT_SEPARATE = "X-Portal-Separate-Display"
RELAY_JOB = "webmail.relay"

_ADDRESS = re.compile(
    r"^(?=.{3,254}$)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


class ValidationError(ValueError):
    """Bad input: ``errors`` maps a form field to a message a person understands."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class Draft:
    """What the compose form holds. Addresses are plain ``local@domain`` strings."""

    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    subject: str = ""
    body: str = ""
    # New uploads: (filename, content type, bytes).
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)
    separate_display: bool = False
    in_reply_to: str = ""
    references: str = ""
    # The saved draft this continues (replaced on save, removed on send).
    draft_id: int | None = None
    # A message of the user's own mailbox whose attachments (MIME part indexes) are carried
    # over (a forward, or a reopened draft), and whether it goes along whole as message/rfc822.
    source_id: int | None = None
    carry: list[int] = field(default_factory=list)
    attach_original: bool = False


def split_addresses(text: str) -> list[str]:
    """Addresses from a field as people type them: separated by commas, semicolons or new
    lines (also full-width ，；), with or without a name (``张伟 <zw@x.gov.example>``)."""
    text = re.sub(r"[;；，\n\r]", ",", text or "")
    found: list[str] = []
    seen: set[str] = set()  # a mass send pastes a thousand addresses
    for name, address in email.utils.getaddresses([text]):
        value = (address or name).strip().strip("<>").strip()
        if value and value.lower() not in seen:
            seen.add(value.lower())
            found.append(value)
    # getaddresses drops what it cannot read; keep raw leftovers so they are reported, not lost.
    for piece in (p.strip() for p in text.split(",")):
        if piece and "@" not in piece and "<" not in piece and piece not in found and not any(piece in f for f in found):
            found.append(piece)
    return found


def valid_address(address: str) -> bool:
    return bool(_ADDRESS.match(address or ""))


def max_message_bytes(portal) -> int:
    try:
        return int(portal.plugin_settings("webmail").get("max_message_bytes", DEFAULT_MAX_MESSAGE))
    except (TypeError, ValueError):
        return DEFAULT_MAX_MESSAGE


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


# Validation -----------------------------------------------------------------------------


async def _resolved_attachments(portal, mailbox_id: int, draft: Draft) -> list[tuple[str, str, bytes]]:
    """The new uploads plus what is carried over from the source message (own mailbox only)."""
    files = [(safe_filename(n), c or "application/octet-stream", d) for n, c, d in draft.attachments]
    if draft.source_id is None or not (draft.carry or draft.attach_original):
        return files
    row = await get_message(mailbox_id, draft.source_id)
    if row is None:
        raise ValidationError({"attachments": _("The message to forward is not in your mailbox.")})
    raw = await read_blob(portal, row["blob_sha"])
    for index in draft.carry[:MAX_ATTACHMENTS]:
        found = attachment_bytes(raw, index)
        if found is not None:
            info, data = found
            files.append((info.filename, info.content_type, data))
    if draft.attach_original:
        files.append((safe_filename((row["subject"] or "message")[:100] + ".eml"), "message/rfc822", raw))
    return files


def validate(portal, draft: Draft, files: list[tuple[str, str, bytes]], *, sending: bool, limits: Limits = BUILT_IN) -> Draft:
    """The draft with addresses normalised; raises ValidationError with a message per field.
    ``limits`` are the sender's service level (MAIL-12): recipients, message size, mass send."""
    errors: dict[str, str] = {}
    lists = {}
    for name in ("to", "cc", "bcc"):
        addresses = [a.strip() for a in getattr(draft, name) if a.strip()]
        bad = [a for a in addresses if not valid_address(a)]
        if bad:
            errors[name] = _("Not a valid address: %(addresses)s", addresses=", ".join(bad[:5]))
        lists[name] = [a.lower() for a in addresses]
    everyone = {a for name in ("to", "cc", "bcc") for a in lists[name]}
    if sending and not everyone and "to" not in errors:
        errors["to"] = _("Enter at least one recipient.")
    most = min(MAX_RECIPIENTS, limits.max_recipients)
    if len(everyone) > most:
        errors["to"] = _("At most %(count)s recipients, please.", count=most)
    if draft.separate_display and not limits.allows("mass_send"):
        errors["separate_display"] = _("Your service level does not include mass send with separate display.")
    if len(draft.subject) > MAX_SUBJECT or "\n" in draft.subject or "\r" in draft.subject:
        errors["subject"] = _("Enter a subject of at most %(count)s characters on one line.", count=MAX_SUBJECT)
    if len(draft.body) > MAX_BODY:
        errors["body"] = _("The text is too long: at most %(count)s characters.", count=MAX_BODY)
    limit = min(max_message_bytes(portal), limits.max_message_bytes)
    if len(files) > MAX_ATTACHMENTS:
        errors["attachments"] = _("At most %(count)s attachments, please.", count=MAX_ATTACHMENTS)
    elif sum(len(d) for _n, _c, d in files) + len(draft.body.encode()) > limit:
        errors["attachments"] = _("The attachments are too large: at most %(size)s MB in all.",
                                  size=round(limit / 1048576, 1))
    if errors:
        raise ValidationError(errors)
    return replace(draft, to=lists["to"], cc=lists["cc"], bcc=lists["bcc"], subject=draft.subject.strip())


# Building the message ---------------------------------------------------------------------


def build_message(*, to: list[str], cc: list[str], bcc: list[str] | None = None, **content) -> bytes:
    """The RFC 5322 bytes (CRLF line ends). ``bcc`` only for the sender's own copies."""
    return addressed(build_content(**content), to=to, cc=cc, bcc=bcc or [])


def addressed(content: bytes, *, to: list[str], cc: list[str] = (), bcc: list[str] = ()) -> bytes:
    """``content`` (see ``build_content``) with its To, Cc and Bcc, right after From.

    The addresses are plain ASCII ``local@domain`` (``validate`` saw to it), so they are written
    as they are, folded between addresses; the email package parses each address it is given,
    which took most of a second for a mass send to a thousand."""
    fields = b"".join(_address_field(name, addresses) for name, addresses in (("To", to), ("Cc", cc), ("Bcc", bcc))
                      if addresses)
    end = content.index(b"\r\n")  # From is the first field; it ends where no folded line follows
    while content[end + 2:end + 3] in (b" ", b"\t"):
        end = content.index(b"\r\n", end + 2)
    return content[:end + 2] + fields + content[end + 2:]


def _address_field(name: str, addresses: list[str]) -> bytes:
    lines, line = [], f"{name}:"
    for n, address in enumerate(addresses):
        piece = f" {address}," if n < len(addresses) - 1 else f" {address}"
        if len(line) + len(piece) > 78 and line != f"{name}:":
            lines.append(line)
            line = piece
        else:
            line += piece
    lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def build_content(*, sender_name: str, sender_address: str, subject: str, body: str,
                  files: list[tuple[str, str, bytes]], message_id: str, date: datetime,
                  in_reply_to: str = "", references: str = "", extra_headers: dict[str, str] | None = None) -> bytes:
    """The message without its addressees: what every copy of one send has in common."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(display_name=sender_name, addr_spec=sender_address)
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(date)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (extra_headers or {}).items():
        message[name] = value
    message.set_content(body or "", cte="quoted-printable" if not body.isascii() else "7bit")
    for filename, content_type, data in files:
        if content_type == "message/rfc822":
            try:
                inner = BytesParser(policy=policy.SMTP).parsebytes(data)
                message.add_attachment(inner, disposition="attachment", filename=filename)
                continue
            except Exception:  # noqa: BLE001 - not a message after all: attach the bytes as they are
                content_type = "application/octet-stream"
        maintype, _sep, subtype = (content_type or "application/octet-stream").partition("/")
        if maintype == "text":
            maintype, subtype = "application", "octet-stream"  # bytes as they are, no re-encoding
        if maintype == "multipart" or not subtype:
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes(policy=policy.SMTP)


def _guess_type(filename: str, declared: str) -> str:
    if declared and declared != "application/octet-stream" and "/" in declared:
        return declared.lower()[:100]
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def upload(filename: str, content_type: str, data: bytes) -> tuple[str, str, bytes]:
    """A (filename, content type, bytes) attachment from an upload, name made safe."""
    name = safe_filename(filename)
    return name, _guess_type(name, content_type), data


# Sending ----------------------------------------------------------------------------------


async def _sender(user) -> dict:
    return await ensure_mailbox(user.id)


async def send(portal, user, draft: Draft) -> int:
    """Send ``draft`` as ``user``; returns the ``Outgoing`` id. Raises ValidationError."""
    mailbox = await _sender(user)
    limits = await limits_for_mailbox(mailbox)
    files = await _resolved_attachments(portal, mailbox["id"], draft)
    draft = validate(portal, draft, files, sending=True, limits=limits)
    recipients = list(dict.fromkeys([*draft.to, *draft.cc, *draft.bcc]))
    domains = await local_domains()
    outside = [r for r in recipients if _domain(r) not in domains]
    if outside and not limits.allows("external_sending"):
        raise ValidationError({"to": _("Your service level does not allow sending outside the organisation: %(addresses)s",
                                       addresses=", ".join(outside[:5]))})
    if len(outside) > MAX_EXTERNAL_RECIPIENTS:
        raise ValidationError({"to": _("At most %(count)s recipients outside the organisation, please.",
                                       count=MAX_EXTERNAL_RECIPIENTS)})
    address = mailbox["address"]
    content = build_content(
        sender_name=user.display_name or "", sender_address=address, subject=draft.subject, body=draft.body,
        files=files, message_id=email.utils.make_msgid(domain=_domain(address) or "localhost"), date=_now(),
        in_reply_to=draft.in_reply_to, references=draft.references)
    # Every copy is this content with its own addressees: parsed once for the rows of all.
    parsed = parse_message(content)
    # What the sender keeps shows every recipient, Bcc included; what recipients get never has Bcc.
    sent_copy = addressed(content, to=draft.to, cc=draft.cc, bcc=draft.bcc)
    _check_room(mailbox, len(sent_copy))
    if draft.separate_display:
        # 群发单显 (MAIL-4): each recipient's copy is To him alone.
        copies = {r: addressed(content, to=[r]) for r in recipients}
    else:
        shared = addressed(content, to=draft.to, cc=draft.cc)
        copies = {r: shared for r in recipients}
    found = await find_recipients([r for r in recipients if _domain(r) in domains])
    # A recipient whose service level has no room left gets nothing; his delivery says why (MAIL-12).
    full = {r for r, recipient in found.items() if not recipient.has_room(len(copies[r]))}

    everyone_to, everyone_cc = ", ".join(draft.to), ", ".join(draft.cc)
    async with write_transaction():
        # The Sent copy's blob and every recipient's, for his rows now or for the relay later.
        sent_sha, *copy_shas = await store_blobs([sent_copy, *copies.values()])
        shas = dict(zip(copies, copy_shas))
        stored = await store_copies([Copy(parsed, mailbox["id"], sent_sha, len(sent_copy), "sent", seen=True,
                                          to=everyone_to, cc=everyone_cc)])
        rows = await Outgoing.insert(Outgoing(mailbox=mailbox["id"], sent_copy=stored[0].message_id,
                                              separate_display=draft.separate_display)).returning(Outgoing.id)
        outgoing_id = rows[0]["id"]
        deliveries = await _insert_deliveries(outgoing_id, recipients, domains, found, shas, full)
        for r in recipients:
            if _domain(r) not in domains:
                await enqueue(RELAY_JOB, {"delivery_id": deliveries[r]})
        if draft.draft_id is not None:
            await _remove_draft(mailbox["id"], draft.draft_id)

    separate = draft.separate_display
    internal = [Copy(parsed, found[r].mailbox_id, shas[r], len(copies[r]), to=r if separate else everyone_to,
                     cc="" if separate else everyone_cc, delivery_id=deliveries[r])
                for r in recipients if r in found and r not in full]
    await _deliver_internal(portal, internal)
    return outgoing_id


def _check_room(mailbox: dict, size: int) -> None:
    """The sender keeps a copy (Sent, Drafts): refuse when his own mailbox has no room for it."""
    if not room_for(mailbox, size):
        raise ValidationError({"attachments": _("Your mailbox is full: delete messages and empty the trash, then try again.")})


async def _insert_deliveries(outgoing_id: int, recipients: list[str], domains: set[str], found: dict,
                             shas: dict[str, str], full: set[str]) -> dict[str, int]:
    """One ``Delivery`` row per recipient, a few statements for any number; their ids by recipient."""
    now = _now()
    values = []
    for r in recipients:
        internal = _domain(r) in domains
        refused = "no such user" if internal and r not in found else "mailbox full" if r in full else ""
        values.append((outgoing_id, r, internal, "failed" if refused else "queued", refused, None, now, shas[r]))
    ids: dict[str, int] = {}
    for chunk in in_chunks(values, ROWS_PER_STATEMENT):
        rows = await Delivery.raw(
            "INSERT INTO webmail_delivery (outgoing, recipient, internal, status, detail, next_try_at, updated_at, blob_sha) "
            f"VALUES {', '.join(['({}, {}, {}, {}, {}, {}, {}, {})'] * len(chunk))} RETURNING id, recipient",
            *[value for row in chunk for value in row])
        ids.update({row["recipient"]: row["id"] for row in rows})
    return ids


async def _deliver_internal(portal, copies: list[Copy]) -> None:
    """Straight into the recipients' inboxes, all in one transaction. If that fails it is left
    to the relay job, which delivers internal recipients the same way and retries."""
    if not copies:
        return
    ids = [c.delivery_id for c in copies]
    try:
        stored = await store_copies(copies)
    except Exception as error:  # noqa: BLE001 - retried by the job, never lost
        async with write_transaction():
            for chunk in in_chunks(ids, 500):
                await Delivery.update({Delivery.status: "deferred", Delivery.detail: str(error)[:500],
                                       Delivery.updated_at: _now()}).where(Delivery.id.is_in(chunk))
            for delivery_id in ids:
                await enqueue(RELAY_JOB, {"delivery_id": delivery_id}, delay=30)
        return
    for chunk in in_chunks(ids, 500):
        await Delivery.update({Delivery.status: "delivered", Delivery.updated_at: _now()}).where(
            Delivery.id.is_in(chunk) & (Delivery.status == "queued"))
    announce(portal, [(copy.parsed, item) for copy, item in zip(copies, stored)])


# Drafts -----------------------------------------------------------------------------------


async def _remove_draft(mailbox_id: int, message_id: int) -> None:
    drafts = await folder_id(mailbox_id, "drafts")
    row = await Message.select(Message.id, Message.size).where(
        (Message.id == message_id) & (Message.mailbox == mailbox_id) & (Message.folder == drafts)).first()
    if row is None:
        return
    await Message.delete().where(Message.id == row["id"])
    used = await Mailbox.select(Mailbox.used_bytes).where(Mailbox.id == mailbox_id).first()
    await Mailbox.update({Mailbox.used_bytes: max(0, used["used_bytes"] - row["size"])}).where(Mailbox.id == mailbox_id)


async def save_draft(portal, user, draft: Draft) -> int:
    """Store the draft in Drafts, replacing its previous version; returns the new message id."""
    mailbox = await _sender(user)
    limits = await limits_for_mailbox(mailbox)
    files = await _resolved_attachments(portal, mailbox["id"], draft)
    draft = validate(portal, draft, files, sending=False, limits=limits)
    address = mailbox["address"]
    raw = build_message(
        sender_name=user.display_name or "", sender_address=address, to=draft.to, cc=draft.cc, bcc=draft.bcc,
        subject=draft.subject, body=draft.body, files=files,
        message_id=email.utils.make_msgid(domain=_domain(address) or "localhost"), date=_now(),
        in_reply_to=draft.in_reply_to, references=draft.references,
        extra_headers={DRAFT_SEPARATE: "yes"} if draft.separate_display else None,
    )
    _check_room(mailbox, len(raw))
    async with write_transaction():
        if draft.draft_id is not None:
            await _remove_draft(mailbox["id"], draft.draft_id)
        stored = await store_message(raw, [(mailbox["id"], "drafts")], seen=True)
    return stored[0].message_id


@dataclass
class Prefill:
    """A compose form filled from a message: the draft and the attachments it carries."""

    draft: Draft
    carried: list = field(default_factory=list)  # mime.Attachment of the source
    original_subject: str = ""


async def _own_raw(portal, user, message_id: int) -> tuple[dict, dict, bytes] | None:
    mailbox = await _sender(user)
    row = await get_message(mailbox["id"], message_id)
    if row is None:
        return None
    return mailbox, row, await read_blob(portal, row["blob_sha"])


def _headers(raw: bytes):
    return BytesHeaderParser(policy=policy.default).parsebytes(raw)


async def open_draft(portal, user, message_id: int) -> Prefill | None:
    """A saved draft of the user's, to continue writing; None if it is not his draft."""
    found = await _own_raw(portal, user, message_id)
    if found is None:
        return None
    mailbox, row, raw = found
    if row["folder"] != await folder_id(mailbox["id"], "drafts"):
        return None
    parsed = parse_message(raw)
    headers = _headers(raw)
    bcc = [a for _n, a in email.utils.getaddresses([decode_header_value(str(v)) for v in headers.get_all("bcc", [])])]
    carried = [a for a in parsed.attachments if not a.inline]
    draft = Draft(to=[a for _n, a in parsed.to], cc=[a for _n, a in parsed.cc], bcc=bcc, subject=parsed.subject,
                  body=parsed.text, separate_display=bool(headers.get(DRAFT_SEPARATE)),
                  in_reply_to=parsed.in_reply_to, references=parsed.references, draft_id=message_id,
                  source_id=message_id, carry=[a.index for a in carried])
    return Prefill(draft, carried, parsed.subject)


def _prefixed(prefix: str, subject: str) -> str:
    if re.match(rf"^\s*(?:{prefix}|回复|答复|转发)\s*[:：]", subject, re.I):
        return subject
    return f"{prefix}: {subject}"


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


def _when(parsed) -> str:
    moment = parsed.date or _now()
    return moment.strftime("%Y-%m-%d %H:%M")


async def reply(portal, user, message_id: int, *, everyone: bool = False) -> Prefill | None:
    """A reply (or reply to all, without the user himself) to a message of his mailbox."""
    found = await _own_raw(portal, user, message_id)
    if found is None:
        return None
    mailbox, _row, raw = found
    parsed = parse_message(raw)
    own = mailbox["address"].lower()
    to = [a for _n, a in (parsed.reply_to or [(parsed.sender_name, parsed.sender_address)]) if a]
    cc: list[str] = []
    if everyone:
        to += [a for _n, a in parsed.to]
        cc = [a for _n, a in parsed.cc]
    to = _unique([a for a in to if a.lower() != own])
    cc = [a for a in _unique(cc) if a.lower() != own and a.lower() not in {t.lower() for t in to}]
    if not to and not cc and parsed.sender_address:
        to = [parsed.sender_address]  # a reply to one's own message goes to oneself
    references = " ".join(x for x in (parsed.references, parsed.message_id) if x)[-4000:]
    sender = parsed.sender_name or parsed.sender_address
    intro = _("On %(date)s, %(sender)s wrote:", date=_when(parsed), sender=sender)
    body = f"\n\n{intro}\n{_quote(parsed.text)}\n"
    draft = Draft(to=to, cc=cc, subject=_prefixed("Re", parsed.subject), body=body,
                  in_reply_to=parsed.message_id, references=references)
    return Prefill(draft, [], parsed.subject)


async def forward(portal, user, message_id: int, *, as_attachment: bool = False) -> Prefill | None:
    """A forward: the original quoted with its attachments carried, or the original attached whole."""
    found = await _own_raw(portal, user, message_id)
    if found is None:
        return None
    _mailbox, _row, raw = found
    parsed = parse_message(raw)
    subject = _prefixed("Fwd", parsed.subject)
    if as_attachment:
        return Prefill(Draft(subject=subject, source_id=message_id, attach_original=True), [], parsed.subject)
    sender = f"{parsed.sender_name} <{parsed.sender_address}>" if parsed.sender_name else parsed.sender_address
    lines = [
        "", "", _("---------- Forwarded message ----------"),
        _("From: %(sender)s", sender=sender),
        _("Date: %(date)s", date=_when(parsed)),
        _("Subject: %(subject)s", subject=parsed.subject),
        _("To: %(to)s", to=", ".join(a for _n, a in parsed.to)),
    ]
    if parsed.cc:
        lines.append(_("Cc: %(cc)s", cc=", ".join(a for _n, a in parsed.cc)))
    body = "\n".join(lines) + "\n\n" + parsed.text + "\n"
    carried = [a for a in parsed.attachments if not a.inline]
    draft = Draft(subject=subject, body=body, source_id=message_id, carry=[a.index for a in carried])
    return Prefill(draft, carried, parsed.subject)


def _unique(addresses: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for a in addresses:
        if a and a.lower() not in seen:
            seen.add(a.lower())
            out.append(a)
    return out


# Status -----------------------------------------------------------------------------------


async def outgoing_of(user, outgoing_id: int) -> dict | None:
    """One of the user's sends with its recipients; None for another user's."""
    mailbox = await _sender(user)
    row = await Outgoing.select(
        Outgoing.id, Outgoing.created_at, Outgoing.separate_display, Outgoing.sent_copy,
        Outgoing.sent_copy.subject.as_alias("subject"),
    ).where((Outgoing.id == outgoing_id) & (Outgoing.mailbox == mailbox["id"])).first()
    if row is None:
        return None
    row["deliveries"] = await Delivery.select().where(Delivery.outgoing == outgoing_id).order_by(Delivery.id)
    return row


async def recent_sends(user, limit: int = 50) -> list[dict]:
    """The user's latest sends, newest first, each with a count per delivery status."""
    mailbox = await _sender(user)
    rows = await Outgoing.select(
        Outgoing.id, Outgoing.created_at, Outgoing.sent_copy.subject.as_alias("subject"),
    ).where(Outgoing.mailbox == mailbox["id"]).order_by(Outgoing.id, ascending=False).limit(limit)
    ids = [r["id"] for r in rows] or [0]
    counts: dict[int, dict[str, int]] = {}
    for d in await Delivery.select(Delivery.outgoing, Delivery.status, Delivery.recipient).where(Delivery.outgoing.is_in(ids)):
        counts.setdefault(d["outgoing"], {}).setdefault(d["status"], 0)
        counts[d["outgoing"]][d["status"]] += 1
    for r in rows:
        r["counts"] = counts.get(r["id"], {})
        r["total"] = sum(r["counts"].values())
    return rows


# Directory --------------------------------------------------------------------------------


async def directory(unit_id: int | None) -> dict:
    """The organisation for the address picker: units (tree order) and, for the chosen unit,
    its departments with their members' addresses (members without one under "other")."""
    from portal.accounts.tables import Department, Unit, User

    from plugins.webmail.services import address_for

    units = await Unit.select(Unit.id, Unit.name, Unit.parent).order_by(Unit.name)
    children: dict[int | None, list[dict]] = {}
    for u in units:
        children.setdefault(u["parent"], []).append(u)
    ordered: list[dict] = []

    def walk(parent: int | None, depth: int) -> None:
        for u in children.get(parent, []):
            ordered.append({**u, "depth": depth})
            walk(u["id"], depth + 1)

    walk(None, 0)
    groups: list[dict] = []
    if unit_id is not None and any(u["id"] == unit_id for u in ordered):
        departments = await Department.select(Department.id, Department.name).where(Department.unit == unit_id).order_by(Department.name)
        members = await User.select(User.id, User.username, User.display_name, User.email, User.unit, User.department).where(
            (User.unit == unit_id) & (User.active == True)).order_by(User.display_name)  # noqa: E712
        by_department: dict[int | None, list[dict]] = {}
        for m in members:
            by_department.setdefault(m["department"], []).append(
                {"name": m["display_name"], "address": await address_for(m)})
        for d in departments:
            if by_department.get(d["id"]):
                groups.append({"name": d["name"], "members": by_department[d["id"]]})
        known = {d["id"] for d in departments}
        rest = [m for key, items in by_department.items() if key not in known for m in items]
        if rest:
            groups.append({"name": "", "members": rest})
    return {"units": ordered, "unit_id": unit_id, "groups": groups}
