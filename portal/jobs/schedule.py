"""Durable schedules: work that recurs daily, weekly or monthly, queued once per cycle.

A ``core_schedule`` row names a job kind, its cycle and the local hour a cycle starts at;
``due_at`` is the start of the next cycle. Every worker (the web process's and each
`portal worker`) calls ``queue_due_schedules`` now and then. For a due row it records the
cycle's key and the next ``due_at`` and queues the job in one transaction, and only while
``last_cycle`` still holds the value it read: when two processes see the same due row, one
queues the job and the other finds the row moved on. So a cycle is queued once, a restart
loses none (the row is in the database), and a cycle missed while no worker ran is queued
once when one runs again, not once per missed cycle. The queued job is an ordinary durable
job (``portal.jobs``): retried until it succeeds.

Cycles start at ``hour`` local time (Asia/Shanghai, where the portal's users are): daily
every day, weekly on Mondays, monthly on the first of the month.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.db import write_transaction
from portal.jobs import enqueue, now
from portal.jobs.tables import Schedule

CYCLES = ("daily", "weekly", "monthly")
TIMEZONE = ZoneInfo("Asia/Shanghai")


def _start_on(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TIMEZONE)


def _first_day(cycle: str, day: date) -> date:
    """The first day of the cycle holding ``day``."""
    if cycle == "daily":
        return day
    if cycle == "weekly":
        return day - timedelta(days=day.weekday())
    if cycle == "monthly":
        return day.replace(day=1)
    raise ValueError(f"unknown cycle {cycle!r}")


def _previous_first_day(cycle: str, first: date) -> date:
    if cycle == "daily":
        return first - timedelta(days=1)
    if cycle == "weekly":
        return first - timedelta(days=7)
    return (first - timedelta(days=1)).replace(day=1)


def _next_first_day(cycle: str, first: date) -> date:
    if cycle == "daily":
        return first + timedelta(days=1)
    if cycle == "weekly":
        return first + timedelta(days=7)
    return (first + timedelta(days=32)).replace(day=1)


def cycle_start(cycle: str, moment: datetime, hour: int) -> datetime:
    """When the cycle holding ``moment`` started."""
    first = _first_day(cycle, moment.astimezone(TIMEZONE).date())
    start = _start_on(first, hour)
    return start if start <= moment else _start_on(_previous_first_day(cycle, first), hour)


def next_cycle_start(cycle: str, moment: datetime, hour: int) -> datetime:
    """When the cycle after the one holding ``moment`` starts (always later than ``moment``)."""
    current = cycle_start(cycle, moment, hour)
    return _start_on(_next_first_day(cycle, current.astimezone(TIMEZONE).date()), hour)


def cycle_key(cycle: str, start: datetime) -> str:
    """A cycle's name: ``daily:2026-05-04``, ``weekly:2026-W19``, ``monthly:2026-05``."""
    day = start.astimezone(TIMEZONE).date()
    if cycle == "weekly":
        year, week, _weekday = day.isocalendar()
        return f"weekly:{year}-W{week:02d}"
    if cycle == "monthly":
        return f"monthly:{day:%Y-%m}"
    return f"daily:{day.isoformat()}"


async def get_schedule(name: str) -> dict | None:
    return await Schedule.select().where(Schedule.name == name).first()


async def set_schedule(name: str, kind: str, cycle: str, hour: int, payload: dict) -> None:
    """Create or change a schedule; an empty ``cycle`` pauses it. A new or changed cycle starts
    after now, so saving never queues a job by itself; saving the same cycle and hour (other
    recipients, say) keeps its due time, so a cycle that just started is not skipped."""
    if cycle and cycle not in CYCLES:
        raise ValueError(f"unknown cycle {cycle!r}")
    if not 0 <= hour <= 23:
        raise ValueError(f"hour {hour} is not 0-23")
    moment = now()
    async with write_transaction():
        row = await get_schedule(name)
        unchanged = row is not None and row["due_at"] is not None and (row["cycle"], row["hour"]) == (cycle, hour)
        due_at = row["due_at"] if unchanged else next_cycle_start(cycle, moment, hour) if cycle else None
        values = {Schedule.kind: kind, Schedule.cycle: cycle, Schedule.hour: hour, Schedule.payload: payload,
                  Schedule.due_at: due_at, Schedule.updated_at: moment}
        if row is not None:
            await Schedule.update(values).where(Schedule.name == name)
        else:
            await Schedule.insert(Schedule(name=name, **{column._meta.name: value for column, value in values.items()}))


async def queue_due_schedules(moment: datetime | None = None) -> list[str]:
    """Queue the job of every schedule whose next cycle has started; returns the keys queued."""
    moment = moment or now()
    queued: list[str] = []
    for row in await Schedule.select().where(Schedule.due_at <= moment):
        cycle, hour = row["cycle"], row["hour"]
        if cycle not in CYCLES:
            continue
        key = cycle_key(cycle, cycle_start(cycle, moment, hour))
        async with write_transaction():
            moved = await Schedule.update(
                {Schedule.due_at: next_cycle_start(cycle, moment, hour), Schedule.last_cycle: key}
            ).where((Schedule.id == row["id"]) & (Schedule.last_cycle == row["last_cycle"])).returning(Schedule.id)
            # Not moved: another process took this cycle. Same key: it was queued before (the
            # schedule was changed since), so only the next start moves on.
            if moved and key != row["last_cycle"]:
                payload = row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"] or "{}")
                await enqueue(row["kind"], {**payload, "cycle": key})
                queued.append(key)
    return queued
