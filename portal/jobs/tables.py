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
