"""Requests for shared data between departments (共享申请, CAT-5).

A user of one department requests a resource of another department's approved catalog (an
entry of a total catalog). What the catalog says decides the way:

- 无条件共享 (unconditional): granted at once, and recorded;
- 有条件共享 (conditional): the requester states the purpose and accepts the conditions of use;
  the owner department's catalog editors approve (with a remark, e.g. how to reach the data) or
  refuse (always with the reason);
- 不予共享 (not shared) and every secret resource cannot be requested at all: the service refuses,
  whatever page or URL the request came from.

One department has at most one pending or granted request per resource (a partial unique index
makes two colleagues' simultaneous requests one). A request is seen by the requester, by the
owner department's editors and by the big-data bureau of the owner's level and above, nobody
else — not the requester's colleagues. Every grant is listed for the owner department and for
those bureaus. Every action is audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from plugins.catalog import access, holders, total
from plugins.catalog.duty_tables import ShareRequest
from plugins.catalog.errors import Conflict, Forbidden, Invalid, NotFound
from plugins.catalog.tables import FilingItem
from plugins.catalog.vocabulary import SECRET_LEVELS
from portal.api import CurrentUser, SystemMessage
from portal.db import write_transaction
from portal.i18n import LOCALES, locale_context
from portal.i18n import gettext as _

MAX_PURPOSE = 2000
MAX_ANSWER = 2000
PER_PAGE = 50
STATUSES = ("pending", "granted", "refused", "withdrawn")
REQUESTABLE = ("unconditional", "conditional")


def status_labels() -> dict[str, str]:
    return {"pending": _("Awaiting the owner's decision"), "granted": _("Granted"), "refused": _("Refused"),
            "withdrawn": _("Withdrawn")}


def _now() -> datetime:
    return datetime.now(timezone.utc)


# What may be requested -------------------------------------------------------------------------


@dataclass
class Offer:
    """An approved resource as a requester sees it before asking: its entry, the owner's
    conditions of use, his department's request of it if any, and why he cannot request it
    (empty when he can)."""

    entry: dict
    conditions: str
    owner_department: str
    owner_unit: str
    existing: dict | None
    refusal: str


async def _entry(user: CurrentUser, resource_id: int) -> dict:
    try:
        entry = await total.entry_of_resource(user, resource_id)
    except total.NotAllowed:
        raise Forbidden(_("You may not read the data catalog.")) from None
    # Secret resources never have an entry; the second look guards against a row written by mistake.
    if entry is None or entry["secrecy"] in SECRET_LEVELS:
        raise NotFound(_("No such resource in the approved catalogs."))
    return entry


async def _conditions(entry: dict) -> str:
    """The conditions of use as filed in the approved version the entry comes from."""
    row = await FilingItem.select(FilingItem.snapshot).where(
        (FilingItem.filing == entry["filing"]) & (FilingItem.resource_id == entry["resource_id"])).first()
    if row is None:
        return ""
    snapshot = json.loads(row["snapshot"]) if isinstance(row["snapshot"], str) else row["snapshot"]
    return snapshot.get("share_conditions", "")


def refusal_for(user: CurrentUser, entry: dict, conditions: str) -> str:
    """Why ``user`` cannot request the resource, or ``""``."""
    if entry["share_type"] not in REQUESTABLE:
        reason = _("This resource is not shared (不予共享).")
        return f"{reason} {conditions}".strip()
    if user.department_id is None:
        return _("Shared data is requested for a department; your account belongs to none.")
    if user.department_id == entry["department"]:
        return _("This resource is your own department's.")
    return ""


async def _open_request(department_id: int | None, resource_id: int) -> dict | None:
    if department_id is None:
        return None
    return await ShareRequest.select().where(
        (ShareRequest.requester_department == department_id) & (ShareRequest.resource_id == resource_id)
        & ShareRequest.status.is_in(["pending", "granted"])).first()


async def offer(user: CurrentUser, resource_id: int) -> Offer:
    entry = await _entry(user, resource_id)
    conditions = await _conditions(entry)
    department = await access.department_info(entry["department"])
    return Offer(entry, conditions, department.name if department else "", department.unit_name if department else "",
                 await _open_request(user.department_id, resource_id), refusal_for(user, entry, conditions))


# Requesting ------------------------------------------------------------------------------------


async def request(user: CurrentUser, resource_id: int, purpose: str, accepted: bool, portal) -> int:
    """Request the resource for the user's department; returns the request's id. Unconditional
    resources are granted at once, conditional ones wait for the owner."""
    entry = await _entry(user, resource_id)
    conditions = await _conditions(entry)
    refusal = refusal_for(user, entry, conditions)
    if refusal:
        raise Forbidden(refusal)
    purpose = purpose.strip()
    errors = {}
    if not purpose:
        errors["purpose"] = _("Say what the data is for (用途).")
    elif len(purpose) > MAX_PURPOSE:
        errors["purpose"] = _("At most %(count)d characters.") % {"count": MAX_PURPOSE}
    if entry["share_type"] == "conditional" and not accepted:
        errors["accept"] = _("Conditional sharing requires accepting the conditions of use.")
    if errors:
        raise Invalid(_("Correct the marked fields."), errors)
    unconditional = entry["share_type"] == "unconditional"
    moment = _now()
    async with write_transaction():
        requester = await access.department_info(user.department_id)
        rows = await ShareRequest.insert(ShareRequest(
            resource_id=resource_id, code=entry["code"], name=entry["name"], share_type=entry["share_type"],
            share_method=entry["share_method"], conditions=conditions, owner_department=entry["department"],
            owner_unit=entry["unit"], requester=user.id, requester_department=user.department_id,
            requester_unit=requester.unit_id if requester else (user.unit_id or 0), purpose=purpose,
            status="granted" if unconditional else "pending", requested_at=moment,
            decided_at=moment if unconditional else None,
        )).on_conflict(action="DO NOTHING").returning(ShareRequest.id)
        if not rows:
            raise Conflict(_("Your department has requested this resource already."))
        request_id = rows[0]["id"]
        action = "catalog.share.grant" if unconditional else "catalog.share.request"
        await portal.audit(action, actor=user, target_type="catalog_share_request", target_id=request_id,
                           summary=f"{entry['code']} {entry['name']}",
                           details={"owner_department": entry["department"], "requester_department": user.department_id})
    editors = await holders.editors_of(entry["department"])
    for editor in editors:
        portal.notify(editor, "catalog_share_request", request=request_id, name=entry["name"], status="granted" if unconditional else "pending")
    if not unconditional and editors:
        await portal.deliver_system_message(editors, _request_message(entry, requester.name if requester else "", purpose))
    return request_id


def _request_message(entry: dict, requester_department: str, purpose: str) -> SystemMessage:
    subject, text = {}, {}
    values = {"name": entry["name"], "code": entry["code"], "department": requester_department, "purpose": purpose,
              "page": "/catalog/sharing/incoming"}
    for locale in LOCALES:
        with locale_context(locale):
            subject[locale] = _("Sharing request: %(name)s", **values)
            text[locale] = _("%(department)s requests the shared resource %(code)s %(name)s of your department's catalog.\n\n"
                             "Purpose: %(purpose)s\n\nApprove or refuse it on the portal's page %(page)s.", **values)
    return SystemMessage(subject=subject, text=text)


def _decision_message(row: dict, granted: bool, answer: str) -> SystemMessage:
    subject, text = {}, {}
    values = {"name": row["name"], "code": row["code"], "answer": answer, "page": f"/catalog/sharing/{row['id']}"}
    for locale in LOCALES:
        with locale_context(locale):
            if granted:
                subject[locale] = _("Sharing request granted: %(name)s", **values)
                lead = _("Your request for %(code)s %(name)s was granted.", **values)
            else:
                subject[locale] = _("Sharing request refused: %(name)s", **values)
                lead = _("Your request for %(code)s %(name)s was refused.", **values)
            said = "\n\n" + _("The owner department says: %(answer)s", **values) if answer else ""
            text[locale] = lead + said + "\n\n" + _("See the request on the portal's page %(page)s.", **values)
    return SystemMessage(subject=subject, text=text)


# Reading ---------------------------------------------------------------------------------------


async def _load(request_id: int) -> dict:
    row = await ShareRequest.select().where(ShareRequest.id == request_id).first()
    if row is None:
        raise NotFound(_("No such sharing request."))
    return row


async def may_see(user: CurrentUser, row: dict) -> bool:
    return (row["requester"] == user.id or user.is_admin or await access.can_edit(user, row["owner_department"])
            or await holders.oversees(user, row["owner_unit"]))


async def may_decide(user: CurrentUser, row: dict) -> bool:
    return row["requester"] != user.id and await access.can_edit(user, row["owner_department"])


@dataclass
class RequestView:
    request: dict
    owner_department: str
    requester_department: str
    requester_name: str
    decided_by_name: str
    may_decide: bool
    may_withdraw: bool


async def _with_names(rows: list[dict]) -> list[dict]:
    departments = await access.departments_named([r["owner_department"] for r in rows] + [r["requester_department"] for r in rows])
    people = await access.names_of([r["requester"] for r in rows] + [r["decided_by"] for r in rows])
    for row in rows:
        row["owner_department_name"] = departments.get(row["owner_department"], "")
        row["requester_department_name"] = departments.get(row["requester_department"], "")
        row["requester_name"] = people.get(row["requester"], "")
        row["decided_by_name"] = people.get(row["decided_by"], "")
    return rows


async def request_for(user: CurrentUser, request_id: int) -> RequestView:
    """A request as the user may see it; anyone else gets 404, as if there were none."""
    row = await _load(request_id)
    if not await may_see(user, row):
        raise NotFound(_("No such sharing request."))
    [row] = await _with_names([row])
    return RequestView(row, row["owner_department_name"], row["requester_department_name"], row["requester_name"],
                       row["decided_by_name"], row["status"] == "pending" and await may_decide(user, row),
                       row["status"] == "pending" and row["requester"] == user.id)


async def mine(user: CurrentUser, *, limit: int = 200) -> list[dict]:
    """The user's own requests, newest first."""
    rows = await ShareRequest.select().where(ShareRequest.requester == user.id).order_by(ShareRequest.id, ascending=False).limit(limit)
    return await _with_names(rows)


async def incoming(user: CurrentUser, *, limit: int = 200) -> list[dict]:
    """Requests to the departments whose catalog the user edits: pending ones first (oldest
    first), then the decided ones, newest first."""
    departments = await access.editable_departments(user)
    if not departments:
        return []
    condition = ShareRequest.owner_department.is_in(departments) & (ShareRequest.status != "withdrawn")
    pending = await ShareRequest.select().where(condition & (ShareRequest.status == "pending")).order_by(ShareRequest.id).limit(limit)
    decided = await ShareRequest.select().where(condition & (ShareRequest.status != "pending")) \
        .order_by(ShareRequest.id, ascending=False).limit(limit)
    return await _with_names(pending + decided)


@dataclass
class GrantPage:
    rows: list[dict]
    total: int
    page: int
    pages: int


async def grants(user: CurrentUser, *, page: int = 1, per_page: int = PER_PAGE) -> GrantPage | None:
    """The grants of the departments whose catalog the user edits and of every department the
    user's bureau oversees (its level and below), newest first; None when the user has neither."""
    departments = await access.editable_departments(user)
    scope = await holders.overseen_units(user)
    if not departments and scope is not None and not scope:
        return None
    condition = ShareRequest.status == "granted"
    if scope is not None:
        ours = ShareRequest.owner_department.is_in(departments or [0]) | ShareRequest.owner_unit.is_in(sorted(scope) or [0])
        condition = condition & ours
    count = await ShareRequest.count().where(condition)
    pages = max(1, -(-count // per_page))
    page = min(max(1, page), pages)
    rows = await ShareRequest.select().where(condition).order_by(ShareRequest.decided_at, ascending=False) \
        .order_by(ShareRequest.id, ascending=False).limit(per_page).offset((page - 1) * per_page)
    return GrantPage(await _with_names(rows), count, page, pages)


async def pending_count(user: CurrentUser) -> int:
    departments = await access.editable_departments(user)
    if not departments:
        return 0
    return await ShareRequest.count().where(ShareRequest.owner_department.is_in(departments) & (ShareRequest.status == "pending"))


# Deciding --------------------------------------------------------------------------------------


async def decide(user: CurrentUser, request_id: int, decision: str, answer: str, portal) -> None:
    """The owner department approves (``grant``, with an optional remark) or refuses (``refuse``,
    with the reason) a pending request."""
    row = await _load(request_id)
    if not await may_see(user, row):
        raise NotFound(_("No such sharing request."))
    if not await may_decide(user, row):
        raise Forbidden(_("Only the owner department's catalog editors decide on a request."))
    if decision not in ("grant", "refuse"):
        raise Invalid(_("Approve or refuse the request."))
    answer = answer.strip()
    if len(answer) > MAX_ANSWER:
        message = _("At most %(count)d characters.") % {"count": MAX_ANSWER}
        raise Invalid(message, {"answer": message})
    if decision == "refuse" and not answer:
        message = _("A refusal needs its reason.")
        raise Invalid(message, {"answer": message})
    status = "granted" if decision == "grant" else "refused"
    async with write_transaction():
        rows = await ShareRequest.update({ShareRequest.status: status, ShareRequest.decided_by: user.id,
                                          ShareRequest.decided_at: _now(), ShareRequest.answer: answer}) \
            .where((ShareRequest.id == request_id) & (ShareRequest.status == "pending")).returning(ShareRequest.id)
        if not rows:
            raise Conflict(_("The request was decided or withdrawn meanwhile."))
        await portal.audit("catalog.share.approve" if status == "granted" else "catalog.share.refuse", actor=user,
                           target_type="catalog_share_request", target_id=request_id, summary=f"{row['code']} {row['name']}",
                           details={"answer": answer})
    portal.notify(row["requester"], "catalog_share_decided", request=request_id, name=row["name"], status=status)
    await portal.deliver_system_message([row["requester"]], _decision_message(row, status == "granted", answer))


async def withdraw(user: CurrentUser, request_id: int, portal) -> None:
    """The requester takes back his pending request."""
    row = await _load(request_id)
    if not await may_see(user, row):
        raise NotFound(_("No such sharing request."))
    if row["requester"] != user.id:
        raise Forbidden(_("Only the requester withdraws a request."))
    async with write_transaction():
        rows = await ShareRequest.update({ShareRequest.status: "withdrawn", ShareRequest.decided_at: _now()}) \
            .where((ShareRequest.id == request_id) & (ShareRequest.status == "pending")).returning(ShareRequest.id)
        if not rows:
            raise Conflict(_("The request was decided meanwhile."))
        await portal.audit("catalog.share.withdraw", actor=user, target_type="catalog_share_request", target_id=request_id,
                           summary=f"{row['code']} {row['name']}")


# Finding shared resources ----------------------------------------------------------------------


async def _root_unit(user: CurrentUser) -> int | None:
    all_units = await access.units()
    parents = {u["id"]: u["parent"] for u in all_units}
    unit = user.unit_id if user.unit_id in parents else next((u["id"] for u in all_units if u["parent"] is None), None)
    seen = set()
    while unit is not None and parents.get(unit) is not None and unit not in seen:
        seen.add(unit)
        unit = parents[unit]
    return unit


async def find(user: CurrentUser, text: str, page: int = 1) -> total.Result | None:
    """Approved resources of every level (the province's total catalog, which holds all) that
    match ``text``; None when there is no unit at all."""
    root = await _root_unit(user)
    if root is None:
        return None
    try:
        return await total.visible_resources(user, root, total.Query(text=text, page=page), facets=False)
    except total.NotAllowed:
        raise Forbidden(_("You may not read the data catalog.")) from None
