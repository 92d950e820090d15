"""Durable schedules (MAIL-10's periodic report): cycles, once per cycle across processes and restarts."""

import asyncio
from datetime import datetime, timedelta

import pytest

from portal.jobs import Worker, now
from portal.jobs.schedule import (
    TIMEZONE,
    cycle_key,
    cycle_start,
    get_schedule,
    next_cycle_start,
    queue_due_schedules,
    set_schedule,
)
from portal.jobs.tables import QueuedJob, Schedule


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TIMEZONE)


# Cycles -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cycle", "moment", "start", "following", "key"), [
    # 2026-05-06 is a Wednesday.
    ("daily", local(2026, 5, 6, 9, 0), local(2026, 5, 6, 7), local(2026, 5, 7, 7), "daily:2026-05-06"),
    ("daily", local(2026, 5, 6, 6, 59), local(2026, 5, 5, 7), local(2026, 5, 6, 7), "daily:2026-05-05"),
    ("weekly", local(2026, 5, 6, 9, 0), local(2026, 5, 4, 7), local(2026, 5, 11, 7), "weekly:2026-W19"),
    ("weekly", local(2026, 5, 4, 6, 0), local(2026, 4, 27, 7), local(2026, 5, 4, 7), "weekly:2026-W18"),
    ("monthly", local(2026, 5, 6, 9, 0), local(2026, 5, 1, 7), local(2026, 6, 1, 7), "monthly:2026-05"),
    ("monthly", local(2026, 1, 1, 6, 0), local(2025, 12, 1, 7), local(2026, 1, 1, 7), "monthly:2025-12"),
    ("monthly", local(2026, 12, 31, 23, 0), local(2026, 12, 1, 7), local(2027, 1, 1, 7), "monthly:2026-12"),
    # ISO weeks: 2027-01-01 (a Friday) belongs to 2026's last week.
    ("weekly", local(2027, 1, 1, 12, 0), local(2026, 12, 28, 7), local(2027, 1, 4, 7), "weekly:2026-W53"),
])
def test_cycles_start_at_the_local_hour(cycle, moment, start, following, key):
    assert cycle_start(cycle, moment, 7) == start
    assert next_cycle_start(cycle, moment, 7) == following
    assert cycle_key(cycle, cycle_start(cycle, moment, 7)) == key


def test_a_moment_in_utc_is_placed_in_beijing_time():
    # 23:30 UTC on Sunday is 07:30 on Monday in Beijing: the new week has started.
    moment = datetime.fromisoformat("2026-05-03T23:30:00+00:00")
    assert cycle_key("weekly", cycle_start("weekly", moment, 7)) == "weekly:2026-W19"


# Queueing once per cycle -------------------------------------------------------------------


async def _make_due(name: str = "test.report", cycle: str = "daily", late: timedelta = timedelta(minutes=1)) -> None:
    await set_schedule(name, "test.report", cycle, 7, {"recipients": ["a@example.org"]})
    await Schedule.update({Schedule.due_at: now() - late}).where(Schedule.name == name)


async def jobs() -> list[dict]:
    return await QueuedJob.select().where(QueuedJob.kind == "test.report").output(load_json=True)


async def test_saving_a_schedule_queues_nothing_and_sets_the_next_start(app):
    await set_schedule("test.report", "test.report", "weekly", 7, {})
    row = await get_schedule("test.report")
    assert row["due_at"] == next_cycle_start("weekly", now(), 7)
    assert await queue_due_schedules() == []
    assert await jobs() == []


async def test_a_due_cycle_is_queued_once_with_its_key_and_the_payload(app):
    await _make_due()
    moment = now()
    key = cycle_key("daily", cycle_start("daily", moment, 7))
    assert await queue_due_schedules(moment) == [key]
    assert await queue_due_schedules(moment) == []
    queued = await jobs()
    assert [j["payload"] for j in queued] == [{"recipients": ["a@example.org"], "cycle": key}]
    row = await get_schedule("test.report")
    assert row["last_cycle"] == key and row["due_at"] == next_cycle_start("daily", moment, 7)


async def test_two_processes_racing_for_a_cycle_queue_it_once(app):
    await _make_due()
    # Each call stands for a worker process: all read the due row before any of them writes
    # (the reads are outside the write transaction), as processes do.
    results = await asyncio.gather(*[queue_due_schedules() for _ in range(4)])
    assert sum(len(r) for r in results) == 1
    assert len(await jobs()) == 1


async def test_cycles_missed_while_stopped_are_queued_once_on_restart(app):
    await _make_due(late=timedelta(days=3))
    # A worker of a process started afresh (nothing in memory) queues it.
    worker = Worker(app.state.portal, {})
    await worker.queue_schedules()
    assert len(await jobs()) == 1
    assert (await get_schedule("test.report"))["due_at"] > now()


async def test_the_same_cycle_is_not_queued_again_after_the_schedule_is_saved(app):
    await _make_due()
    await queue_due_schedules()
    # Changed to weekly and back to daily within the same day: today's cycle was done.
    await set_schedule("test.report", "test.report", "weekly", 7, {})
    await set_schedule("test.report", "test.report", "daily", 7, {})
    await Schedule.update({Schedule.due_at: now() - timedelta(seconds=1)}).where(Schedule.name == "test.report")
    assert await queue_due_schedules() == []
    assert len(await jobs()) == 1


async def test_saving_the_same_cycle_keeps_a_cycle_that_just_started(app):
    await _make_due()
    await set_schedule("test.report", "test.report", "daily", 7, {"recipients": ["b@example.org"]})
    assert len(await queue_due_schedules()) == 1
    assert (await jobs())[0]["payload"]["recipients"] == ["b@example.org"]


async def test_a_paused_schedule_queues_nothing(app):
    await _make_due()
    await set_schedule("test.report", "test.report", "", 7, {})
    assert (await get_schedule("test.report"))["due_at"] is None
    assert await queue_due_schedules(now() + timedelta(days=40)) == []


async def test_the_worker_looks_at_schedules_at_most_twice_a_minute(app):
    worker = Worker(app.state.portal, {})
    await worker.queue_schedules()
    await _make_due()
    await worker.queue_schedules()
    assert await jobs() == []
    worker._next_schedule_poll = 0.0
    await worker.queue_schedules()
    assert len(await jobs()) == 1


def test_bad_cycles_and_hours_are_refused():
    with pytest.raises(ValueError):
        asyncio.run(set_schedule("x", "x", "hourly", 7, {}))
    with pytest.raises(ValueError):
        asyncio.run(set_schedule("x", "x", "daily", 24, {}))
