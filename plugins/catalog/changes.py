"""Catalog updates after a change of law or of duties (CAT-4).

《山东省电子政务和政务数据管理办法》第十六条: when a law or regulation is amended, or a
department's administrative duties change, the department updates its data catalog within
15 working days. An officer of the big-data bureau of a level (a catalog reviewer of that unit)
records the change — its kind, description, legal basis and the day it took effect — and the
departments concerned, of that level or below. Each gets a duty due on the 15th working day
after that day (the day itself not counted; 法定节假日 skipped and 调休 weekends worked counted,
by ``portal.workdays``).

What "updated" means, decided here: the department files (备案) a new version of its catalog
after the change, and that version is approved by the bureau. The day that counts is the day
the version was *submitted*: the department did its part then, and the bureau's review time
never makes it late. While such a version is under review the duty waits (no reminder, never
overdue); a version returned or withdrawn does not count, and the department must file again —
then the day of that later filing counts. Filings submitted from the day of the change (or from
the day it was recorded, if that came first) count, so a department that updated before the
bureau recorded the change is not asked twice. A department whose catalog the change does not
touch cannot file an unchanged catalog (filing refuses it), so its editor declares instead that
no change is needed, with the reason; the bureau sees the declaration. Nothing of this is
stored when it happens: the state of a duty is read from the department's filings each time,
so this module needs no hook in filing.

Reminders go to the department's catalog editors (a live notification and a system message,
e.g. a mail in their inbox): a notice when the change is recorded, one when at most
``REMIND_BEFORE`` working days are left, one when the duty became overdue (then to the bureau's
officers of the recording level too). Each is sent once: ``reminded_stage`` is raised by an
UPDATE that matches only a lower stage before the message goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from plugins.catalog import access, holders
from plugins.catalog.duty_tables import ChangeDuty, ChangeEvent
from plugins.catalog.errors import Forbidden, Invalid, NotFound
from plugins.catalog.tables import Filing
from portal.accounts.tables import Department
from portal.api import CurrentUser, SystemMessage
from portal.db import write_transaction
from portal.i18n import LOCALES, locale_context
from portal.i18n import gettext as _
from portal.jobs import TaskHandler, enqueue
from portal.jobs.schedule import get_schedule, set_schedule
from portal.localtime import day_start, today as local_today
from portal.workdays import add_working_days, calendar_knows, local_day, working_days_between

KINDS = ("law", "duties")
LIMIT_DAYS = 15
REMIND_BEFORE = 3
MAX_TITLE = 200
MAX_DESCRIPTION = 4000
MAX_BASIS = 500
MAX_REASON = 2000
MAX_DEPARTMENTS = 500
# How far from today the day of a change may lie: a typo in the year is caught, a law taking
# effect next month or recorded late is not refused.
DATE_RANGE = timedelta(days=366)

STAGE_NOTICE, STAGE_SOON, STAGE_OVERDUE = 1, 2, 3
NOTICE_KIND = "catalog.change_notice"
REMINDER_KIND = "catalog.change_reminders"
REMINDER_SCHEDULE = "catalog.change_reminders"
# Reminders go out at the start of the office's day, Beijing time.
REMINDER_HOUR = 9
OPEN_STATUSES = ("open", "overdue")


def kind_labels() -> dict[str, str]:
    return {"law": _("A law or regulation was amended (法律法规修改)"),
            "duties": _("A department's duties changed (部门职能变化)")}


def status_labels() -> dict[str, str]:
    return {"open": _("To be updated"), "overdue": _("Overdue"), "under_review": _("Filed, under review"),
            "updated": _("Catalog updated"), "declared": _("No change needed"), "cancelled": _("Cancelled")}


@lru_cache(maxsize=1024)
def due_date(occurred_on: date, limit_days: int = LIMIT_DAYS) -> date:
    """The last day of the update: the ``limit_days``-th working day after the change."""
    return add_working_days(occurred_on, limit_days)


@lru_cache(maxsize=8192)
def _working_days_between(start: date, end: date) -> int:
    """``portal.workdays.working_days_between``, remembered: the holiday calendar asks about each
    day for tens of microseconds, and a page of duties asks about the same few spans again and
    again (today to each due day)."""
    return working_days_between(start, end)


# Recording -------------------------------------------------------------------------------------


@dataclass
class EventForm:
    """What the officer typed, as typed, so a refused form comes back unchanged."""

    kind: str = "law"
    title: str = ""
    description: str = ""
    legal_basis: str = ""
    occurred_on: str = ""
    unit: str = ""
    departments: list[str] = field(default_factory=list)

    @classmethod
    def from_mapping(cls, form) -> EventForm:
        def text(name: str, limit: int) -> str:
            return str(form.get(name, ""))[:limit + 1]

        chosen = form.getall("department") if hasattr(form, "getall") else form.get("department", [])
        return cls(kind=text("kind", 20), title=text("title", MAX_TITLE), description=text("description", MAX_DESCRIPTION),
                   legal_basis=text("legal_basis", MAX_BASIS), occurred_on=text("occurred_on", 20), unit=text("unit", 12),
                   departments=[str(d)[:12] for d in list(chosen)[:MAX_DEPARTMENTS + 1]])

    def department_ids(self) -> list[int]:
        return sorted({int(d) for d in self.departments if d.strip().isdigit() and len(d.strip()) < 10})

    def day(self) -> date | None:
        try:
            return date.fromisoformat(self.occurred_on.strip())
        except ValueError:
            return None

    def errors(self, today: date) -> dict[str, str]:
        """Every fault of the fields themselves (the departments' scope is checked against the unit)."""
        errors: dict[str, str] = {}
        if self.kind not in KINDS:
            errors["kind"] = _("Choose what changed.")
        _required(errors, "title", self.title, MAX_TITLE, _("Name the change in a title."))
        _required(errors, "description", self.description, MAX_DESCRIPTION, _("Describe the change and what it means for the catalogs."))
        _required(errors, "legal_basis", self.legal_basis, MAX_BASIS, _("Name the legal basis (the law, regulation or decision)."))
        day = self.day()
        if day is None:
            errors["occurred_on"] = _("Enter the day the change took effect as YYYY-MM-DD.")
        elif abs(day - today) > DATE_RANGE:
            errors["occurred_on"] = _("The day must lie within a year of today.")
        if not self.department_ids():
            errors["departments"] = _("Choose the departments concerned.")
        elif len(self.department_ids()) > MAX_DEPARTMENTS:
            errors["departments"] = _("At most %(count)d departments.") % {"count": MAX_DEPARTMENTS}
        return errors


def _required(errors: dict, name: str, value: str, limit: int, missing: str) -> None:
    if not value.strip():
        errors[name] = missing
    elif len(value.strip()) > limit:
        errors[name] = _("At most %(count)d characters.") % {"count": limit}


async def recording_units(user: CurrentUser) -> list[dict]:
    """The units whose bureau the user records changes for (id, name), in id order."""
    all_units = await access.units()
    if user.is_admin:
        return [{"id": u["id"], "name": u["name"]} for u in all_units]
    reviewed = set(await access.reviewed_units(user))
    return [{"id": u["id"], "name": u["name"]} for u in all_units if u["id"] in reviewed]


async def departments_within(unit_id: int) -> list[dict]:
    """The departments of the unit and of every unit below it (id, name, unit, unit_name), by unit."""
    unit_ids = await access.unit_ids_below(unit_id)
    return await Department.select(Department.id, Department.name, Department.unit,
                                   Department.unit.name.as_alias("unit_name")) \
        .where(Department.unit.is_in(unit_ids)).order_by(Department.unit).order_by(Department.id)


async def _recording_unit(user: CurrentUser, form: EventForm) -> int:
    units = [u["id"] for u in await recording_units(user)]
    if not units:
        raise Forbidden(_("Only the big-data bureau records changes that oblige catalog updates."))
    raw = form.unit.strip()
    if not raw and len(units) == 1:
        return units[0]
    if not raw.isdigit() or len(raw) > 9:
        raise Invalid(_("Choose the level the change is recorded for."), {"unit": _("Choose the level the change is recorded for.")})
    if int(raw) not in units:
        raise Forbidden(_("You do not record changes for this level."))
    return int(raw)


async def record(user: CurrentUser, form: EventForm, portal, *, today: date | None = None) -> int:
    """Record a change and a duty for each department concerned; their editors are notified
    (a job queued with the record). Returns the event's id."""
    today = today or local_today()
    unit_id = await _recording_unit(user, form)
    errors = form.errors(today)
    wanted = form.department_ids()
    if "departments" not in errors:
        allowed = {d["id"]: d for d in await departments_within(unit_id)}
        if any(d not in allowed for d in wanted):
            errors["departments"] = _("Choose departments of this level or below it.")
    if errors:
        raise Invalid(_("Correct the marked fields."), errors)
    day = form.day()
    due = due_date(day)
    async with write_transaction():
        rows = await ChangeEvent.insert(ChangeEvent(
            unit=unit_id, kind=form.kind, title=form.title.strip(), description=form.description.strip(),
            legal_basis=form.legal_basis.strip(), occurred_on=day, limit_days=LIMIT_DAYS, recorded_by=user.id,
        )).returning(ChangeEvent.id)
        event_id = rows[0]["id"]
        await ChangeDuty.insert(*[ChangeDuty(event=event_id, department=d, unit=allowed[d]["unit"], due_on=due) for d in wanted])
        await enqueue(NOTICE_KIND, {"event": event_id})
        await portal.audit("catalog.change.record", actor=user, target_type="catalog_change_event", target_id=event_id,
                           summary=f"{form.title.strip()} → {len(wanted)}", details={"departments": wanted, "due_on": due.isoformat()})
    return event_id


async def cancel(user: CurrentUser, event_id: int, reason: str, portal) -> None:
    """The recording level's bureau cancels a change recorded by mistake: its duties end, kept."""
    event = await _event(event_id)
    if not await access.can_review(user, event["unit"]):
        raise Forbidden(_("Only the bureau that recorded the change cancels it."))
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        message = _("Say why the change is cancelled (at most %(count)d characters).") % {"count": MAX_REASON}
        raise Invalid(message, {"reason": message})
    async with write_transaction():
        rows = await ChangeEvent.update({ChangeEvent.cancelled_by: user.id, ChangeEvent.cancelled_at: _now(),
                                         ChangeEvent.cancel_reason: reason}) \
            .where((ChangeEvent.id == event_id) & ChangeEvent.cancelled_at.is_null()).returning(ChangeEvent.id)
        if not rows:
            raise Invalid(_("The change was cancelled already."))
        await portal.audit("catalog.change.cancel", actor=user, target_type="catalog_change_event", target_id=event_id,
                           summary=event["title"], details={"reason": reason})


async def declare(user: CurrentUser, duty_id: int, reason: str, portal, *, today: date | None = None) -> None:
    """The department's editor declares that the change needs no change of its catalog."""
    duty = await ChangeDuty.select().where(ChangeDuty.id == duty_id).first()
    if duty is None:
        raise NotFound(_("No such catalog update."))
    await access.require_edit(user, duty["department"])
    state = (await _states(ChangeDuty.id == duty_id, today or local_today()))[0]
    if state.status not in (*OPEN_STATUSES, "under_review"):
        raise Invalid(_("This catalog update is settled already."))
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        message = _("Say why the catalog needs no change (at most %(count)d characters).") % {"count": MAX_REASON}
        raise Invalid(message, {"reason": message})
    async with write_transaction():
        rows = await ChangeDuty.update({ChangeDuty.declared_by: user.id, ChangeDuty.declared_at: _now(),
                                        ChangeDuty.declaration: reason}) \
            .where((ChangeDuty.id == duty_id) & ChangeDuty.declared_at.is_null()).returning(ChangeDuty.id)
        if not rows:
            raise Invalid(_("This catalog update is settled already."))
        await portal.audit("catalog.change.declare", actor=user, target_type="catalog_change_duty", target_id=duty_id,
                           summary=f"{state.department_name}: {state.title}", details={"reason": reason})


def _now() -> datetime:
    return datetime.now(timezone.utc)


# The state of a duty ---------------------------------------------------------------------------


@dataclass
class DutyState:
    """Where a department stands with one change. ``status``: ``open`` (``days_left`` working days
    after today up to the due day), ``overdue`` (``days_late`` working days past it so far),
    ``under_review`` (a version filed on ``done_on`` is with the bureau), ``updated`` (a version
    filed on ``done_on`` was approved), ``declared`` (no change needed, declared on ``done_on``),
    ``cancelled``. ``days_late`` of a settled duty: how many working days late it was done."""

    duty_id: int
    event_id: int
    title: str
    kind: str
    event_unit: int
    department_id: int
    department_name: str
    unit_id: int
    occurred_on: date
    due_on: date
    status: str
    days_left: int = 0
    days_late: int = 0
    done_on: date | None = None
    filing_id: int | None = None
    filing_version: int | None = None
    declaration: str = ""

    @property
    def late(self) -> bool:
        return self.status == "overdue" or self.days_late > 0

    @property
    def waiting(self) -> bool:
        """The department still has to act."""
        return self.status in OPEN_STATUSES


def counts_from(occurred_on: date, recorded_at: datetime) -> datetime:
    """The first moment a filing counts for the change: the day it took effect, or its
    recording if that came first."""
    return min(day_start(occurred_on), recorded_at)


def assess(duty: dict, filings: list[dict], today: date) -> DutyState:
    """The state of one duty (a row with the event's fields) given its department's filings
    (``id``, ``version``, ``status``, ``submitted_at``) and today."""
    state = DutyState(duty["id"], duty["event"], duty["title"], duty["kind"], duty["event_unit"], duty["department"],
                      duty["department_name"], duty["unit"], duty["occurred_on"], duty["due_on"], "open")
    if duty["cancelled_at"] is not None:
        state.status = "cancelled"
        return state
    start = counts_from(duty["occurred_on"], duty["recorded_at"])
    counted = sorted((f for f in filings if f["submitted_at"] >= start and f["status"] in ("approved", "submitted")),
                     key=lambda f: f["submitted_at"])
    approved = next((f for f in counted if f["status"] == "approved"), None)
    pending = next((f for f in counted if f["status"] == "submitted"), None)
    declared_on = local_day(duty["declared_at"]) if duty["declared_at"] else None
    if approved and (declared_on is None or local_day(approved["submitted_at"]) <= declared_on):
        _settle(state, "updated", local_day(approved["submitted_at"]), approved)
    elif declared_on is not None:
        _settle(state, "declared", declared_on)
        state.declaration = duty["declaration"]
    elif pending:
        _settle(state, "under_review", local_day(pending["submitted_at"]), pending)
    elif today <= state.due_on:
        state.days_left = _working_days_between(today, state.due_on)
    else:
        state.status = "overdue"
        state.days_late = _working_days_between(state.due_on, today)
    return state


def _settle(state: DutyState, status: str, day: date, filing: dict | None = None) -> None:
    state.status = status
    state.done_on = day
    state.days_late = _working_days_between(state.due_on, day)
    if filing:
        state.filing_id, state.filing_version = filing["id"], filing["version"]


async def _states(condition, today: date) -> list[DutyState]:
    """The states of the duties matching ``condition``, by due day."""
    rows = await ChangeDuty.select(
        ChangeDuty.all_columns(), ChangeDuty.event.title.as_alias("title"), ChangeDuty.event.kind.as_alias("kind"),
        ChangeDuty.event.unit.as_alias("event_unit"), ChangeDuty.event.occurred_on.as_alias("occurred_on"),
        ChangeDuty.event.recorded_at.as_alias("recorded_at"), ChangeDuty.event.cancelled_at.as_alias("cancelled_at"),
        ChangeDuty.department.name.as_alias("department_name"),
    ).where(condition).order_by(ChangeDuty.due_on).order_by(ChangeDuty.id)
    if not rows:
        return []
    earliest = min(counts_from(r["occurred_on"], r["recorded_at"]) for r in rows)
    filings: dict[int, list[dict]] = {}
    for f in await Filing.select(Filing.id, Filing.department, Filing.version, Filing.status, Filing.submitted_at).where(
            Filing.department.is_in(sorted({r["department"] for r in rows})) & (Filing.submitted_at >= earliest)
            & Filing.status.is_in(["approved", "submitted"])):
        filings.setdefault(f["department"], []).append(f)
    return [assess(r, filings.get(r["department"], []), today) for r in rows]


# Reading ---------------------------------------------------------------------------------------


def _by_urgency(states: list[DutyState]) -> list[DutyState]:
    """Waiting duties first, the most urgent first; then the others, the latest first."""
    waiting = sorted((s for s in states if s.waiting or s.status == "under_review"), key=lambda s: (s.due_on, s.duty_id))
    done = sorted((s for s in states if s not in waiting), key=lambda s: (s.due_on, s.duty_id), reverse=True)
    return waiting + done


async def duties_for_editor(user: CurrentUser, *, today: date | None = None) -> list[DutyState]:
    """The duties of the departments whose catalog the user edits."""
    departments = await access.editable_departments(user)
    if not departments:
        return []
    return _by_urgency(await _states(ChangeDuty.department.is_in(departments), today or local_today()))


async def department_countdown(department_id: int, *, today: date | None = None) -> list[DutyState]:
    """What the department still has to do (or has filed and awaits), most urgent first: for the
    countdown on its catalog page (``catalog/changes/_countdown.html``)."""
    states = await _states(ChangeDuty.department == department_id, today or local_today())
    return [s for s in _by_urgency(states) if s.waiting or s.status == "under_review"]


def _scope_condition(scope: set[int] | None):
    return None if scope is None else ChangeDuty.unit.is_in(sorted(scope) or [0])


@dataclass
class EventSummary:
    event: dict
    departments: int
    counts: dict[str, int]


async def events_for_bureau(user: CurrentUser, *, today: date | None = None, limit: int = 200) -> list[EventSummary]:
    """The changes the user's bureau sees (recorded at its level or below, or concerning its
    departments), newest first, each with its duties counted by status."""
    scope = await holders.overseen_units(user)
    if scope is not None and not scope:
        return []
    query = ChangeEvent.select().order_by(ChangeEvent.id, ascending=False).limit(limit)
    if scope is not None:
        concerned = ChangeDuty.select(ChangeDuty.event).where(ChangeDuty.unit.is_in(sorted(scope)))
        query = query.where(ChangeEvent.unit.is_in(sorted(scope)) | ChangeEvent.id.is_in(
            sorted({r["event"] for r in await concerned}) or [0]))
    events = await query
    if not events:
        return []
    condition = ChangeDuty.event.is_in([e["id"] for e in events])
    scoped = _scope_condition(scope)
    states = await _states(condition if scoped is None else condition & scoped, today or local_today())
    summaries = []
    for event in events:
        counts: dict[str, int] = {}
        for state in states:
            if state.event_id == event["id"]:
                counts[state.status] = counts.get(state.status, 0) + 1
        summaries.append(EventSummary(event, sum(counts.values()), counts))
    return summaries


@dataclass
class EventView:
    event: dict
    states: list[DutyState]
    may_cancel: bool
    recorded_by_name: str
    cancelled_by_name: str


async def _event(event_id: int) -> dict:
    event = await ChangeEvent.select().where(ChangeEvent.id == event_id).first()
    if event is None:
        raise NotFound(_("No such change."))
    return event


async def event_of_duty(duty_id: int) -> int | None:
    row = await ChangeDuty.select(ChangeDuty.event).where(ChangeDuty.id == duty_id).first()
    return row["event"] if row else None


async def event_for(user: CurrentUser, event_id: int, *, today: date | None = None) -> EventView:
    """A change as the user may see it: the bureau officers overseeing its level see every
    department's state (those of a lower level only their departments'); a department's editors
    see the change and their own departments' states; nobody else sees it (404)."""
    event = await _event(event_id)
    today = today or local_today()
    states = await _states(ChangeDuty.event == event_id, today)
    scope = await holders.overseen_units(user)
    if scope is None or event["unit"] in scope:
        visible = states
    else:
        editable = set(await access.editable_departments(user))
        visible = [s for s in states if s.unit_id in scope or s.department_id in editable]
    if not visible and not (scope is None or event["unit"] in scope):
        raise NotFound(_("No such change."))
    names = await access.names_of([event["recorded_by"], event["cancelled_by"]])
    may_cancel = event["cancelled_at"] is None and await access.can_review(user, event["unit"])
    return EventView(event, visible, may_cancel, names.get(event["recorded_by"], ""), names.get(event["cancelled_by"], ""))


@dataclass
class OverdueDepartment:
    department_id: int
    department_name: str
    unit_id: int
    unit_name: str
    duties: list[DutyState]

    @property
    def most_late(self) -> int:
        return max(s.days_late for s in self.duties)


async def overdue_departments(user: CurrentUser, *, today: date | None = None) -> list[OverdueDepartment]:
    """The departments overseen by the user's bureau that let a catalog update run past its due
    day, the latest first, each with its overdue duties."""
    scope = await holders.overseen_units(user)
    if scope is not None and not scope:
        return []
    today = today or local_today()
    condition = (ChangeDuty.due_on < today) & ChangeDuty.declared_at.is_null()
    scoped = _scope_condition(scope)
    states = [s for s in await _states(condition if scoped is None else condition & scoped, today) if s.status == "overdue"]
    unit_names = {u["id"]: u["name"] for u in await access.units()}
    grouped: dict[int, OverdueDepartment] = {}
    for state in states:
        grouped.setdefault(state.department_id, OverdueDepartment(
            state.department_id, state.department_name, state.unit_id, unit_names.get(state.unit_id, ""), [])).duties.append(state)
    return sorted(grouped.values(), key=lambda d: (-d.most_late, d.unit_id, d.department_name))


async def states_due_between(first: date, last: date, *, today: date | None = None) -> list[DutyState]:
    """Every duty due from ``first`` to ``last`` (both included), cancelled ones left out: what
    the statistics count."""
    condition = (ChangeDuty.due_on >= first) & (ChangeDuty.due_on <= last) & ChangeDuty.event.cancelled_at.is_null()
    return await _states(condition, today or local_today())


def calendar_note(today: date, states: list[DutyState]) -> bool:
    """Whether a deadline shown falls in a year whose holidays are not published yet."""
    return any(not calendar_knows(s.due_on.year) for s in states) or not calendar_knows(today.year)


# Reminders -------------------------------------------------------------------------------------


def stage_of(state: DutyState, today: date) -> int:
    """The reminder a waiting duty has earned by today."""
    if state.status == "overdue":
        return STAGE_OVERDUE
    if state.status == "open" and state.days_left <= REMIND_BEFORE:
        return STAGE_SOON
    return STAGE_NOTICE


def _message_text(stage: int, state: DutyState, basis: str) -> tuple[str, str]:
    """Subject and body of a reminder in the current language."""
    values = {"department": state.department_name, "title": state.title, "due": state.due_on.isoformat(),
              "occurred": state.occurred_on.isoformat(), "left": state.days_left, "late": state.days_late,
              "basis": basis, "limit": LIMIT_DAYS, "page": "/catalog/changes"}
    if stage == STAGE_OVERDUE:
        subject = _("Catalog update overdue: %(department)s — %(title)s", **values)
        lead = _("The data catalog of %(department)s was due updated by %(due)s after the change “%(title)s” and has not been filed yet.", **values)
    elif stage == STAGE_SOON:
        subject = _("Catalog update due %(due)s: %(department)s — %(title)s", **values)
        lead = _("The data catalog of %(department)s must be updated by %(due)s after the change “%(title)s”: %(left)d working days are left after today.", **values)
    else:
        subject = _("Update your data catalog by %(due)s: %(title)s", **values)
        lead = _("The big-data bureau recorded a change that concerns %(department)s: “%(title)s”, in effect from %(occurred)s (legal basis: %(basis)s). The department's data catalog must be updated within %(limit)d working days, by %(due)s.", **values)
    body = lead + "\n\n" + _("File the updated catalog with the big-data bureau, or declare that the change needs no change of the catalog, on the portal's page %(page)s.", **values)
    return subject, body


def reminder_message(stage: int, state: DutyState, basis: str) -> SystemMessage:
    subject, text = {}, {}
    for locale in LOCALES:
        with locale_context(locale):
            subject[locale], text[locale] = _message_text(stage, state, basis)
    return SystemMessage(subject=subject, text=text)


async def _remind(portal, state: DutyState, stage: int, basis: str) -> int:
    """Raise the duty to ``stage`` and, if this call did, tell its editors (and at the overdue
    stage the recording bureau). Returns the number of people told."""
    async with write_transaction():
        rows = await ChangeDuty.update({ChangeDuty.reminded_stage: stage}) \
            .where((ChangeDuty.id == state.duty_id) & (ChangeDuty.reminded_stage < stage)).returning(ChangeDuty.id)
    if not rows:
        return 0
    recipients = await holders.editors_of(state.department_id)
    if stage == STAGE_OVERDUE:
        recipients = sorted(set(recipients) | set(await holders.reviewers_of(state.event_unit)))
    for user_id in recipients:
        portal.notify(user_id, "catalog_change", event=state.event_id, department=state.department_name, title=state.title,
                      due=state.due_on.isoformat(), left=state.days_left, overdue=state.status == "overdue")
    if recipients:
        await portal.deliver_system_message(recipients, reminder_message(stage, state, basis))
    return len(recipients)


async def send_notices(portal, event_id: int, *, today: date | None = None) -> int:
    """The first message about a change to each department concerned (a duty recorded late
    gets the stage it earned instead, so it is not told twice on the next day)."""
    today = today or local_today()
    event = await ChangeEvent.select(ChangeEvent.legal_basis).where(ChangeEvent.id == event_id).first()
    if event is None:
        return 0
    sent = 0
    for state in await _states((ChangeDuty.event == event_id) & (ChangeDuty.reminded_stage == 0), today):
        if state.waiting:
            sent += await _remind(portal, state, stage_of(state, today), event["legal_basis"])
    return sent


async def send_reminders(portal, *, today: date | None = None) -> int:
    """The daily round: every waiting duty that earned a further reminder gets it."""
    today = today or local_today()
    condition = ChangeDuty.declared_at.is_null() & (ChangeDuty.reminded_stage < STAGE_OVERDUE) \
        & ChangeDuty.event.cancelled_at.is_null()
    states = [s for s in await _states(condition, today) if s.waiting]
    bases = {}
    if states:
        bases = {e["id"]: e["legal_basis"] for e in await ChangeEvent.select(ChangeEvent.id, ChangeEvent.legal_basis)
                 .where(ChangeEvent.id.is_in(sorted({s.event_id for s in states})))}
    sent = 0
    for state in states:
        sent += await _remind(portal, state, stage_of(state, today), bases.get(state.event_id, ""))
    return sent


async def _run_notice(portal, payload: dict) -> None:
    await send_notices(portal, int(payload["event"]))


async def _run_reminders(portal, payload: dict) -> None:
    await send_reminders(portal)


def task_handlers() -> dict[str, TaskHandler]:
    return {NOTICE_KIND: TaskHandler(run=_run_notice, max_attempts=5),
            REMINDER_KIND: TaskHandler(run=_run_reminders, max_attempts=3)}


async def ensure_reminder_schedule() -> None:
    """A daily durable schedule queues the reminder round; made once, an administrator's change kept."""
    if await get_schedule(REMINDER_SCHEDULE) is None:
        await set_schedule(REMINDER_SCHEDULE, REMINDER_KIND, "daily", REMINDER_HOUR, {})
