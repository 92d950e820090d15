"""Documents waiting for handling departments (承办, DOC-10): the flow records when a document
reaches a department (``start_handling``) and when the department sends it back
(``finish_handling``); a daily durable job reminds the department heads of what waits and flags
what is overdue; the timeliness report reads the same rows."""

from __future__ import annotations

from datetime import date

from plugins.edoc.parts_tables import Handling
from plugins.edoc.workdays import HandlingRecord, assess
from portal.accounts.tables import RoleAssignment
from portal.db import write_transaction
from portal.jobs import TaskHandler, now
from portal.jobs.schedule import get_schedule, set_schedule
from portal.localtime import today as local_today

DEFAULT_LIMIT_DAYS = 5
REMINDER_KIND = "edoc.handling_reminders"
REMINDER_SCHEDULE = "edoc.handling_reminders"
# Reminders go out at the start of the office's day, Beijing time.
REMINDER_HOUR = 9


async def start_handling(document_id: int, department_id: int, *, limit_days: int = DEFAULT_LIMIT_DAYS) -> int:
    """The document reached the handling department now; it has ``limit_days`` working days."""
    async with write_transaction():
        rows = await Handling.insert(Handling(document=document_id, department=department_id,
                                              limit_days=limit_days)).returning(Handling.id)
    return rows[0]["id"]


async def finish_handling(document_id: int, department_id: int) -> None:
    """The department sent the document back: its open handling ends now."""
    async with write_transaction():
        await Handling.update({Handling.handled_at: now()}).where(
            (Handling.document == document_id) & (Handling.department == department_id) & Handling.handled_at.is_null())


async def withdraw_handling(document_id: int, department_id: int) -> None:
    """The document was recalled before the department opened it: it never waited there."""
    async with write_transaction():
        await Handling.delete().where(
            (Handling.document == document_id) & (Handling.department == department_id) & Handling.handled_at.is_null())


async def reopen_handling(document_id: int, department_id: int) -> None:
    """The department recalled the document it had sent back: its last handling is open again,
    counted from when it first arrived."""
    async with write_transaction():
        last = await Handling.select(Handling.id).where(
            (Handling.document == document_id) & (Handling.department == department_id)
        ).order_by(Handling.id, ascending=False).first()
        if last:
            await Handling.update({Handling.handled_at: None}).where(Handling.id == last["id"])


async def handling_records(unit_id: int | None = None, *, open_only: bool = False) -> list[tuple[dict, HandlingRecord]]:
    """Handling rows (of the departments of ``unit_id``, or all) with their report records."""
    query = Handling.select(
        Handling.all_columns(), Handling.department.name.as_alias("department_name"),
        Handling.department.unit.as_alias("unit"), Handling.document.title.as_alias("title"),
    ).order_by(Handling.received_at)
    if unit_id is not None:
        query = query.where(Handling.department.unit == unit_id)
    if open_only:
        query = query.where(Handling.handled_at.is_null())
    return [(row, HandlingRecord(row["document"], row["department_name"], row["received_at"], row["handled_at"],
                                 row["limit_days"], row["title"])) for row in await query]


async def department_heads(department_id: int) -> list[int]:
    """Active holders of ``department_head`` for the department (scoped to it, or to the unit
    while being a member of the department)."""
    rows = await RoleAssignment.select(RoleAssignment.user).where(
        (RoleAssignment.role == "department_head") & (RoleAssignment.user.active == True)  # noqa: E712
        & ((RoleAssignment.department == department_id)
           | (RoleAssignment.department.is_null() & (RoleAssignment.user.department == department_id))))
    return sorted({r["user"] for r in rows})


async def send_reminders(portal, day: date | None = None) -> int:
    """Notify the heads of each department of the documents it has not handled yet, overdue ones
    flagged; returns the number of notifications sent."""
    day = day or local_today()
    sent = 0
    reminded = []
    for row, record in await handling_records(open_only=True):
        item = assess(record, day)
        for head in await department_heads(row["department"]):
            portal.notify(head, "edoc_handling", document=record.document_id, title=record.title,
                          department=record.department, due=item.due.isoformat(), overdue=item.late)
            sent += 1
        reminded.append(row["id"])
    if reminded:
        async with write_transaction():
            await Handling.update({Handling.reminded_at: now()}).where(Handling.id.is_in(reminded))
    return sent


async def _run_reminders(portal, payload: dict) -> None:
    await send_reminders(portal)


def reminder_handler() -> TaskHandler:
    return TaskHandler(run=_run_reminders, max_attempts=3)


async def ensure_reminder_schedule() -> None:
    """A daily durable schedule queues the reminder job; made once, an administrator's change kept."""
    if await get_schedule(REMINDER_SCHEDULE) is None:
        await set_schedule(REMINDER_SCHEDULE, REMINDER_KIND, "daily", REMINDER_HOUR, {})

