from piccolo.columns import JSON, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class QueuedJob(Table, tablename="core_job"):
    """Background work that must survive a crash: written in the same transaction as its cause."""

    kind = Varchar(length=80)
    payload = JSON(default={})
    # queued, running, done, failed
    status = Varchar(length=10, default="queued", index=True)
    attempts = Integer(default=0)
    run_at = Timestamptz(default=TimestamptzNow(), index=True)
    locked_until = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class Schedule(Table, tablename="core_schedule"):
    """Work that recurs daily, weekly or monthly: the job ``kind`` is queued once per cycle
    (``portal.jobs.schedule``)."""

    name = Varchar(length=64, unique=True)
    kind = Varchar(length=80)
    # daily, weekly, monthly; empty while the schedule is paused.
    cycle = Varchar(length=10, default="")
    # Local hour of the day (Asia/Shanghai) at which a cycle starts.
    hour = Integer(default=7)
    # Given to every job the schedule queues (with the cycle's key added).
    payload = JSON(default={})
    # Start of the next cycle; None while paused.
    due_at = Timestamptz(null=True, default=None)
    # Key of the last cycle queued, e.g. "weekly:2026-W18": no cycle is queued twice.
    last_cycle = Varchar(length=40, default="")
    updated_at = Timestamptz(default=TimestamptzNow())
