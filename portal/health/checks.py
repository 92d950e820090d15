"""Health checks: running them (each bounded in time, a raising check is a failure) and the
core's own: database, disk space, background jobs, locked accounts, accounts under attack.

Plugins add theirs through ``register_health_checks``; ``/health`` runs the database check
and the plugins' checks, the self-check report (``portal.health.report``) runs them all.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from piccolo.query.functions.aggregate import Count, Max

from portal.api import HealthCheck
from portal.i18n import gettext as _

# In order of gravity.
STATUSES = ("ok", "warning", "fail")
CHECK_TIMEOUT = 15.0
# Free space of the data folder's disk: below these shares (or sizes) a warning, a failure.
DISK_WARNING_SHARE, DISK_WARNING_BYTES = 0.15, 2 * 1024**3
DISK_FAIL_SHARE, DISK_FAIL_BYTES = 0.05, 200 * 1024**2
# A queued job this late means the worker is not keeping up (or not running).
JOB_OVERDUE = timedelta(minutes=10)
RECENT_JOB_FAILURES = timedelta(days=7)
# "Under attack" (MAIL-11): this many failed logins of one account within a day.
ATTACK_WINDOW = timedelta(hours=24)
NAMES_SHOWN = 5


@dataclass(frozen=True)
class CheckResult:
    name: str
    label: str
    status: str
    message: str


def normalize(answer) -> tuple[str, str]:
    """A check's (status, message) from what it returned: True/False or a status word."""
    ok, message = answer
    if ok is True:
        return "ok", str(message)
    if ok is False:
        return "fail", str(message)
    if ok in STATUSES:
        return ok, str(message)
    return "fail", _("The check answered %(answer)r instead of a status.", answer=ok)


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=STATUSES.index, default="ok")


async def run_checks(portal, checks: list[HealthCheck], timeout: float = CHECK_TIMEOUT) -> list[CheckResult]:
    """Run every check one after the other; a check that raises or hangs is a failure, not a crash."""
    results = []
    for check in checks:
        try:
            status, message = normalize(await asyncio.wait_for(check.check(portal), timeout))
        except asyncio.TimeoutError:
            status, message = "fail", _("No answer within %(seconds)s seconds.", seconds=int(timeout))
        except Exception as error:  # a failing check is a finding
            status, message = "fail", f"{type(error).__name__}: {error}"
        results.append(CheckResult(check.name, check.label or check.name, status, message))
    return results


def _now() -> datetime:
    return datetime.now(timezone.utc)


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


# The core's checks ---------------------------------------------------------------------------


async def database_check(portal) -> tuple[str, str]:
    from portal.accounts.tables import Unit

    started = time.perf_counter()
    await Unit.count()
    return "ok", _("Reachable; answered in %(ms)s ms.", ms=round((time.perf_counter() - started) * 1000, 1))


def disk_status(free: int, total: int) -> str:
    share = free / total if total else 0
    if share < DISK_FAIL_SHARE or free < DISK_FAIL_BYTES:
        return "fail"
    if share < DISK_WARNING_SHARE or free < DISK_WARNING_BYTES:
        return "warning"
    return "ok"


async def disk_check(portal) -> tuple[str, str]:
    usage = shutil.disk_usage(portal.settings.data_dir)
    return disk_status(usage.free, usage.total), _(
        "%(free)s free of %(total)s (%(percent)s%%) on the disk of the data folder.",
        free=human_bytes(usage.free), total=human_bytes(usage.total), percent=round(100 * usage.free / usage.total),
    )


async def jobs_check(portal) -> tuple[str, str]:
    from portal.jobs.tables import QueuedJob

    moment = _now()
    overdue = await QueuedJob.count().where((QueuedJob.status == "queued") & (QueuedJob.run_at < moment - JOB_OVERDUE))
    failed = await QueuedJob.count().where(
        (QueuedJob.status == "failed") & (QueuedJob.finished_at >= moment - RECENT_JOB_FAILURES))
    status = "warning" if overdue or failed else "ok"
    return status, _("%(overdue)s jobs waiting for more than 10 minutes; %(failed)s failed in the last 7 days.",
                     overdue=overdue, failed=failed)


async def _failing(column, since: datetime, threshold: int, *conditions) -> list[tuple[str, datetime]]:
    """(value of ``column``, latest failure) for those with ``threshold`` failed logins since ``since``."""
    from portal.auth.lockout import FAILURES
    from portal.auth.tables import LoginAttempt

    rows = await (LoginAttempt.select(column.as_alias("key"), Count(LoginAttempt.id, alias="n"),
                                      Max(LoginAttempt.created_at, alias="latest"))
                  .where(LoginAttempt.created_at >= since, LoginAttempt.result.is_in(list(FAILURES)), *conditions)
                  .group_by(column))
    found = []
    for row in rows:
        if row["n"] >= threshold:
            latest = row["latest"]
            if isinstance(latest, str):  # SQLite returns an aggregate's timestamp as text
                latest = datetime.fromisoformat(latest)
            found.append((row["key"], latest))
    return sorted(found)


def _names(values: list[str]) -> str:
    shown = ", ".join(values[:NAMES_SHOWN])
    return shown + (" …" if len(values) > NAMES_SHOWN else "")


async def locked_check(portal) -> tuple[str, str]:
    """Usernames and addresses locked now (MAIL-16), as the lockout page lists them."""
    from portal.auth.lockout import active_locks

    locks = await active_locks()
    users = sorted({lock["value"] for lock in locks if lock["kind"] == "username"})
    addresses = sorted({lock["value"] for lock in locks if lock["kind"] != "username"})
    if not users and not addresses:
        return "ok", _("No username or address is locked.")
    return "warning", _("Locked now: %(users)s usernames (%(user_names)s) and %(addresses)s addresses (%(address_names)s).",
                        users=len(users), user_names=_names(users) or "-", addresses=len(addresses),
                        address_names=_names(addresses) or "-")


async def attacked_accounts_check(portal) -> tuple[str, str]:
    """Existing accounts with many failed logins in the last day (MAIL-11, accounts under attack)."""
    from portal.auth.tables import LoginAttempt

    found = await _failing(LoginAttempt.username, _now() - ATTACK_WINDOW, portal.settings.lockout_threshold,
                           LoginAttempt.user.is_not_null())
    if not found:
        return "ok", _("No account had %(n)s or more failed logins in the last 24 hours.", n=portal.settings.lockout_threshold)
    names = [name for name, _latest in found]
    return "warning", _("%(count)s accounts had %(n)s or more failed logins in the last 24 hours: %(names)s.",
                        count=len(names), n=portal.settings.lockout_threshold, names=_names(names))


def database_health_check() -> HealthCheck:
    return HealthCheck("database", database_check, _("Database"))


def core_checks() -> list[HealthCheck]:
    """The core's checks for the report, labelled in the current language."""
    from portal.tls.store import certificate_check

    return [
        database_health_check(),
        HealthCheck("disk", disk_check, _("Disk space")),
        HealthCheck("jobs", jobs_check, _("Background jobs")),
        HealthCheck("certificate", certificate_check, _("TLS certificate")),
        HealthCheck("locked", locked_check, _("Locked usernames and addresses")),
        HealthCheck("accounts", attacked_accounts_check, _("Accounts under attack")),
    ]
