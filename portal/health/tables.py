from piccolo.columns import JSON, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import User


class HealthReport(Table, tablename="core_health_report"):
    """One health self-check report (MAIL-10), kept for the administration page."""

    # The cycle it reports on ("weekly:2026-W19"), or "manual:<id>" for "run now": unique,
    # so a retried job never writes (or mails) a cycle's report twice.
    cycle = Varchar(length=60, unique=True)
    # ok, warning, fail: the worst of its checks.
    status = Varchar(length=10)
    # [{name, status, label: {locale: text}, message: {locale: text}}]
    checks = JSON(default=[])
    recipients = JSON(default=[])
    undelivered = JSON(default=[])
    requested_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    mailed_at = Timestamptz(null=True, default=None)
