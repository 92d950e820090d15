"""Requests for disclosure (依申请公开, PUB-3): filing, tracking, and the unit's answer.

- Filing: the portal confirms receipt at once with a number, so the day of filing is the day
  of receipt (article 31(3): by internet, the day both sides confirm); the applicant also gets
  a code, shown once, without which the number opens nothing.
- The unit's staff holding ``disclosure.requests`` see their own unit's requests only, answer
  each once (a decision of article 36/37 and the reply, with a file if needed), ask once for
  more details (补正) within 7 working days, extend the deadline once with a reason, and close
  it (after the answer, or with a reason such as a withdrawal). The applicant adds the details
  asked for on his tracking page; the 20 working days count anew from that day. Each action is one conditional UPDATE, so of two colleagues acting at once one
  wins and the other is told; each is written to the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from plugins.disclosure import request_files
from plugins.disclosure.request_deadlines import (
    SUPPLEMENT_MAX_DAYS,
    deadline,
    extended_due,
    first_due,
    may_ask_supplement,
    may_extend,
    supplement_due,
)
from plugins.disclosure.request_fields import RequestForm
from plugins.disclosure.request_tables import InfoRequest
from portal.accounts.tables import Unit
from portal.api import CurrentUser
from portal.db import write_transaction
from portal.i18n import gettext as _
from portal.jobs import now as utc_now
from portal.workdays import local_day

PERMISSION = "disclosure.requests"
# Crockford's base 32: no I, L, O, U, so what is read aloud or copied by hand comes out right.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_RANDOM = 6
CODE_LENGTH = 10
PAGE_SIZE = 50
MAX_REPLY = 5000
MAX_REASON = 2000
DECISIONS = ("granted", "partial", "already_public", "refused", "not_exist", "not_ours", "repeated", "other_law",
             "not_request")
# A refusal, whole or in part, and every answer that gives no information says why.
DECISIONS_WITHOUT_REASON = ("granted", "already_public")
VIEWS = ("open", "overdue", "answered", "closed", "all")
# Not answered yet: being handled, or waiting for the applicant's details.
ACTIVE = ("open", "supplement")


class RequestRefused(ValueError):
    """The action cannot be done; ``str()`` says why, for the page."""


class AlreadyDone(RequestRefused):
    """Someone else answered, extended or closed the request first."""


class NotFound(LookupError):
    pass


def decision_labels() -> dict[str, str]:
    return {
        "granted": _("Disclosed (予以公开)"),
        "partial": _("Partly disclosed (部分公开)"),
        "already_public": _("Already public: where to find it"),
        "refused": _("Not disclosed (不予公开)"),
        "not_exist": _("The information does not exist"),
        "not_ours": _("Not held by this unit: the responsible body"),
        "repeated": _("A repeated request: not handled again"),
        "other_law": _("To be obtained under other laws (registers and the like)"),
        "not_request": _("Not a request for information: use the proper channel"),
    }


def status_labels() -> dict[str, str]:
    return {"open": _("Being handled"), "supplement": _("Waiting for more details from the applicant"),
            "answered": _("Answered"), "closed": _("Closed")}


# Numbers and codes -----------------------------------------------------------------------------


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_number(day: date) -> str:
    return f"{day:%Y%m%d}-{_random(NUMBER_RANDOM)}"


def new_code() -> str:
    return _random(CODE_LENGTH)


def _crockford(text: str) -> str:
    return text.upper().replace("O", "0").replace("I", "1").replace("L", "1")


def normalise_number(text: str) -> str:
    """What a person types for a number: spaces, lower case, a missing hyphen, O for 0."""
    text = "".join(text.split())[:40]
    day, hyphen, rest = text.partition("-")
    if not hyphen and len(text) == 8 + NUMBER_RANDOM:
        day, rest = text[:8], text[8:]
    return f"{day}-{_crockford(rest)}"


def normalise_code(text: str) -> str:
    return _crockford("".join(c for c in text if c.isalnum())[:40])


def display_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def code_hash(number: str, code: str) -> str:
    return hashlib.sha256(f"{number}:{code}".encode()).hexdigest()


def mask_name(name: str) -> str:
    """Enough for the applicant to recognise his request, not enough to name him (张**)."""
    return name[:1] + "*" * min(max(len(name) - 1, 1), 8)


# Filing ----------------------------------------------------------------------------------------


async def askable_units() -> list[dict]:
    """Units in tree order (province › city › county › township), each with its ``depth``."""
    rows = await Unit.select(Unit.id, Unit.name, Unit.parent).order_by(Unit.name)
    children: dict[int | None, list[dict]] = {}
    for row in rows:
        children.setdefault(row["parent"], []).append(row)
    ordered: list[dict] = []

    def walk(parent: int | None, depth: int) -> None:
        for row in children.get(parent, []):
            ordered.append({"id": row["id"], "name": row["name"], "depth": depth})
            walk(row["id"], depth + 1)

    walk(None, 0)
    return ordered


@dataclass(frozen=True)
class Filed:
    id: int
    number: str
    code: str
    received_on: date
    due_on: date


async def file_request(portal, form: RequestForm, *, ip: str = "", at: datetime | None = None) -> Filed:
    """Store a request whose fields were checked (``request_fields.field_errors``)."""
    received_on = local_day(at or utc_now())
    due_on = first_due(received_on)
    code = new_code()
    async with write_transaction():
        number = new_number(received_on)
        while await InfoRequest.exists().where(InfoRequest.number == number):
            number = new_number(received_on)
        row = InfoRequest(
            number=number, code_hash=code_hash(number, code), unit=form.unit_id, applicant_kind=form.applicant_kind,
            name=form.name, id_kind=form.id_kind, id_number=form.normalised_id, phone=form.phone, email=form.email,
            address=form.address, title=form.title, description=form.description, purpose=form.purpose,
            delivery=form.delivery, ip=ip[:45], received_on=received_on, original_due_on=due_on, due_on=due_on,
        )
        if at is not None:
            row.created_at = at
        inserted = await InfoRequest.insert(row).returning(InfoRequest.id)
        await portal.audit("disclosure.request_filed", target_type="disclosure_request", target_id=inserted[0]["id"],
                           summary=number, ip=ip)
    return Filed(inserted[0]["id"], number, code, received_on, due_on)


# Tracking --------------------------------------------------------------------------------------

PUBLIC_COLUMNS = (InfoRequest.id, InfoRequest.number, InfoRequest.created_at, InfoRequest.name, InfoRequest.title, InfoRequest.delivery,
                  InfoRequest.received_on, InfoRequest.original_due_on, InfoRequest.due_on, InfoRequest.extension_reason,
                  InfoRequest.status, InfoRequest.decision, InfoRequest.reply, InfoRequest.reply_reason,
                  InfoRequest.replied_at, InfoRequest.attachment_name, InfoRequest.attachment_sha256,
                  InfoRequest.attachment_size, InfoRequest.closed_at, InfoRequest.close_reason,
                  InfoRequest.supplement_request, InfoRequest.supplement_due_on, InfoRequest.supplement,
                  InfoRequest.supplemented_at)


async def check_code(number: str, code: str) -> bool:
    """Whether ``code`` is the one given with ``number`` (an unknown number compares too, so
    the answer takes as long either way)."""
    row = await InfoRequest.select(InfoRequest.code_hash).where(InfoRequest.number == number).first()
    stored = row["code_hash"] if row else "0" * 64
    return hmac.compare_digest(stored, code_hash(number, code)) and row is not None


async def tracked(number: str) -> dict | None:
    """What the applicant sees of his request (after ``check_code``): never his contacts."""
    row = await InfoRequest.select(*PUBLIC_COLUMNS, InfoRequest.unit.name.as_alias("unit_name")).where(
        InfoRequest.number == number).first()
    if row:
        row["name"] = mask_name(row["name"])
    return row


# The unit's staff ------------------------------------------------------------------------------


def unit_of(user: CurrentUser) -> int | None:
    """The unit whose requests ``user`` handles: his own, with the permission."""
    return user.unit_id if user.can(PERMISSION) else None


QUEUE_COLUMNS = (InfoRequest.id, InfoRequest.number, InfoRequest.name, InfoRequest.title, InfoRequest.received_on,
                 InfoRequest.due_on, InfoRequest.extension_reason, InfoRequest.status, InfoRequest.decision,
                 InfoRequest.replied_at, InfoRequest.closed_at, InfoRequest.supplement_due_on)


async def queue(user: CurrentUser, view: str, today: date, page: int = 1) -> tuple[list[dict], bool]:
    """A page of the unit's requests: open ones by due date, the others newest first; each open
    one with its ``deadline``. Returns (rows, whether there are more)."""
    unit_id = unit_of(user)
    if unit_id is None:
        return [], False
    where = InfoRequest.unit == unit_id
    query = InfoRequest.select(*QUEUE_COLUMNS)
    if view in ("open", "overdue"):
        where &= InfoRequest.status.is_in(list(ACTIVE)) if view == "open" else \
            (InfoRequest.status == "open") & (InfoRequest.due_on < today)
        query = query.order_by(InfoRequest.due_on).order_by(InfoRequest.id)
    else:
        if view in ("answered", "closed"):
            where &= InfoRequest.status == view
        query = query.order_by(InfoRequest.id, ascending=False)
    rows = await query.where(where).limit(PAGE_SIZE + 1).offset((max(page, 1) - 1) * PAGE_SIZE)
    for row in rows:
        row["deadline"] = deadline(row["due_on"], today) if row["status"] == "open" else None
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


async def open_counts(unit_id: int | None, today: date) -> dict[str, int]:
    """Unanswered requests of a unit, and how many of them are overdue."""
    if unit_id is None:
        return {"open": 0, "overdue": 0}
    mine = InfoRequest.unit == unit_id
    return {"open": await InfoRequest.count().where(mine & InfoRequest.status.is_in(list(ACTIVE))),
            "overdue": await InfoRequest.count().where(mine & (InfoRequest.status == "open") & (InfoRequest.due_on < today))}


async def request_for(user: CurrentUser, request_id: int) -> dict:
    """The whole request, for the staff of its unit; NotFound for everybody else (another
    unit's staff learn nothing, not even that it exists)."""
    unit_id = unit_of(user)
    row = await InfoRequest.select(InfoRequest.all_columns(), InfoRequest.unit.name.as_alias("unit_name")).where(
        (InfoRequest.id == request_id) & (InfoRequest.unit == unit_id)).first() if unit_id is not None else None
    if row is None:
        raise NotFound(request_id)
    return row


def _text(value: str, limit: int, missing: str) -> str:
    value = value.strip()
    if not value:
        raise RequestRefused(missing)
    if len(value) > limit:
        raise RequestRefused(_("At most %(limit)s characters.", limit=limit))
    return value


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


async def _update_open(request_id: int, unit_id: int, values: dict, *extra, statuses=("open",)) -> None:
    updated = await InfoRequest.update(values).where(
        (InfoRequest.id == request_id) & (InfoRequest.unit == unit_id) & InfoRequest.status.is_in(list(statuses)), *extra
    ).returning(InfoRequest.id)
    if not updated:
        raise AlreadyDone(_("This request was answered or closed meanwhile. The page shows it as it is now."))


async def reply(portal, user: CurrentUser, request_id: int, decision: str, text: str, reason: str,
                upload: Upload | None = None, *, ip: str = "") -> None:
    """Answer the request once (article 36): a decision, the reply, a reason where the
    decision gives less than everything asked, and a file if needed."""
    row = await request_for(user, request_id)
    if decision not in DECISIONS:
        raise RequestRefused(_("Choose the decision."))
    text = _text(text, MAX_REPLY, _("Write the reply to the applicant."))
    reason = reason.strip()
    if decision not in DECISIONS_WITHOUT_REASON:
        reason = _text(reason, MAX_REASON, _("Give the reason for this decision: the applicant is told why."))
    elif len(reason) > MAX_REASON:
        raise RequestRefused(_("At most %(limit)s characters.", limit=MAX_REASON))
    values = {InfoRequest.status: "answered", InfoRequest.decision: decision, InfoRequest.reply: text,
              InfoRequest.reply_reason: reason, InfoRequest.replied_at: utc_now(), InfoRequest.replied_by: user.id}
    if upload is not None:
        if len(upload.data) > request_files.MAX_BYTES:
            raise RequestRefused(_("The file is larger than %(mb)s MB.", mb=request_files.MAX_BYTES // (1024 * 1024)))
        stored = request_files.store(portal.settings.data_dir, upload.filename, upload.data)
        values.update({InfoRequest.attachment_name: stored.name, InfoRequest.attachment_sha256: stored.sha256,
                       InfoRequest.attachment_size: stored.size})
    async with write_transaction():
        await _update_open(request_id, row["unit"], values, statuses=ACTIVE)
        await portal.audit("disclosure.request_reply", actor=user, target_type="disclosure_request", target_id=request_id,
                           summary=f"{row['number']} {decision}", ip=ip)


async def extend(portal, user: CurrentUser, request_id: int, reason: str, today: date, *, ip: str = "") -> date:
    """Extend the deadline once by 20 working days (article 33), before it has passed; returns
    the new due date."""
    row = await request_for(user, request_id)
    reason = _text(reason, MAX_REASON, _("Give the reason for the extension: the applicant is told."))
    if row["extension_reason"] is not None:
        raise RequestRefused(_("The deadline was already extended once; it cannot be extended again."))
    if not may_extend(row["status"], False, row["due_on"], today):
        raise RequestRefused(_("The deadline has passed or the request is no longer open; it cannot be extended."))
    due_on = extended_due(row["original_due_on"])
    async with write_transaction():
        await _update_open(request_id, row["unit"], {
            InfoRequest.due_on: due_on, InfoRequest.extension_reason: reason, InfoRequest.extended_at: utc_now(),
            InfoRequest.extended_by: user.id}, InfoRequest.extension_reason.is_null())
        await portal.audit("disclosure.request_extend", actor=user, target_type="disclosure_request", target_id=request_id,
                           summary=f"{row['number']} → {due_on.isoformat()}", ip=ip)
    return due_on


async def close(portal, user: CurrentUser, request_id: int, reason: str, *, ip: str = "") -> None:
    """Close an answered request, or an open one with a reason (withdrawn by the applicant, …)."""
    row = await request_for(user, request_id)
    if row["status"] == "closed":
        raise AlreadyDone(_("This request is already closed."))
    reason = reason.strip()
    if row["status"] in ACTIVE:
        reason = _text(reason, MAX_REASON, _("Give the reason for closing a request that has no answer."))
    elif len(reason) > MAX_REASON:
        raise RequestRefused(_("At most %(limit)s characters.", limit=MAX_REASON))
    async with write_transaction():
        updated = await InfoRequest.update({
            InfoRequest.status: "closed", InfoRequest.closed_at: utc_now(), InfoRequest.closed_by: user.id,
            InfoRequest.close_reason: reason,
        }).where((InfoRequest.id == request_id) & (InfoRequest.status == row["status"])).returning(InfoRequest.id)
        if not updated:
            raise AlreadyDone(_("This request was answered or closed meanwhile. The page shows it as it is now."))
        await portal.audit("disclosure.request_close", actor=user, target_type="disclosure_request", target_id=request_id,
                           summary=row["number"], ip=ip)


# More details (补正, article 30) ----------------------------------------------------------------


async def ask_supplement(portal, user: CurrentUser, request_id: int, text: str, days: str, today: date, *,
                         ip: str = "") -> date:
    """Ask the applicant once, within 7 working days of receipt, for what the request lacks;
    he has ``days`` working days to add it. Returns the day his details are due."""
    row = await request_for(user, request_id)
    text = _text(text, MAX_REASON, _("Say what the request lacks: the applicant reads it."))
    if not (days.isascii() and days.isdigit() and 1 <= int(days) <= SUPPLEMENT_MAX_DAYS):
        raise RequestRefused(_("Give the applicant between 1 and %(max)s working days.", max=SUPPLEMENT_MAX_DAYS))
    if row["supplement_request"] is not None:
        raise RequestRefused(_("More details were already asked for once; ask for everything at once."))
    if not may_ask_supplement(row["status"], False, row["received_on"], today):
        raise RequestRefused(_("More details can be asked for only within 7 working days of receipt, while the request is open."))
    due_on = supplement_due(today, int(days))
    async with write_transaction():
        await _update_open(request_id, row["unit"], {
            InfoRequest.status: "supplement", InfoRequest.supplement_request: text, InfoRequest.supplement_due_on: due_on,
            InfoRequest.supplement_asked_at: utc_now(), InfoRequest.supplement_asked_by: user.id},
            InfoRequest.supplement_request.is_null())
        await portal.audit("disclosure.request_supplement_ask", actor=user, target_type="disclosure_request",
                           target_id=request_id, summary=f"{row['number']} → {due_on.isoformat()}", ip=ip)
    return due_on


async def add_supplement(portal, number: str, text: str, *, ip: str = "", at: datetime | None = None) -> date:
    """The applicant's details (after ``check_code``): the request is received anew today and
    due 20 working days later, which is returned."""
    moment = at or utc_now()
    today = local_day(moment)
    text = _text(text, MAX_REASON, _("Write the details the unit asked for."))
    row = await InfoRequest.select(InfoRequest.id, InfoRequest.status, InfoRequest.supplement_due_on).where(
        InfoRequest.number == number).first()
    if row is None or row["status"] != "supplement":
        raise AlreadyDone(_("This request is not waiting for details from you."))
    if today > row["supplement_due_on"]:
        raise RequestRefused(_("The period for the details ended on %(day)s, so the request counts as abandoned. "
                               "You may file a new request.", day=row["supplement_due_on"].isoformat()))
    due_on = first_due(today)
    async with write_transaction():
        updated = await InfoRequest.update({
            InfoRequest.status: "open", InfoRequest.supplement: text, InfoRequest.supplemented_at: moment,
            InfoRequest.received_on: today, InfoRequest.original_due_on: due_on, InfoRequest.due_on: due_on,
        }).where((InfoRequest.id == row["id"]) & (InfoRequest.status == "supplement")).returning(InfoRequest.id)
        if not updated:
            raise AlreadyDone(_("This request is not waiting for details from you."))
        await portal.audit("disclosure.request_supplement", target_type="disclosure_request", target_id=row["id"],
                           summary=number, ip=ip)
    return due_on
