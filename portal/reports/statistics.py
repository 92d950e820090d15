"""Statistics (MAIL-14): the core's own (logins, administrator operations) and the plugins'
(``register_statistics``: mail sent and received, space used), each a table for a period of
Beijing days, charted as inline SVG and exported as CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from markupsafe import Markup

from portal.api import Column, Link, Period, Statistic, StatisticTable
from portal.audit.tables import AuditEntry
from portal.auth.lockout import FAILURES
from portal.auth.tables import LoginAttempt
from portal.i18n import gettext as _
from portal.localtime import day_sql
from portal.plugins import gather_hook
from portal.reports.charts import Series, chart

BYTE_UNITS = ("B", "KB", "MB", "GB", "TB")


def format_bytes(value: float) -> str:
    """1536 -> "1.5 KB": binary multiples, one decimal below 10."""
    size = float(value)
    for unit in BYTE_UNITS:
        if abs(size) < 1024 or unit == BYTE_UNITS[-1]:
            break
        size /= 1024
    if unit == "B":
        return f"{int(size)} B"
    return f"{size:.1f} {unit}" if size < 10 else f"{size:.0f} {unit}"


def _day_counts(rows: list[dict]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["day"], {})[row["key"]] = row["n"]
    return counts


async def logins_per_day(portal, period: Period) -> StatisticTable:
    rows = await LoginAttempt.raw(
        f"SELECT {day_sql('created_at')} AS day, result AS key, COUNT(*) AS n FROM core_login_attempt "
        "WHERE created_at >= {} AND created_at < {} GROUP BY 1, 2", period.start, period.end)
    counts = _day_counts(rows)
    table = []
    for day in period.days:
        results = counts.get(day.isoformat(), {})
        failed = sum(n for result, n in results.items() if result in FAILURES)
        refused = sum(n for result, n in results.items() if result != "ok" and result not in FAILURES)
        table.append((day, results.get("ok", 0), failed, refused))
    return StatisticTable(
        (Column(_("Day"), "day"), Column(_("Logins")), Column(_("Failed attempts")), Column(_("Refused (locked, disabled)"))),
        table, chart="line",
        note=_("Failed attempts are wrong passwords, wrong codes and unknown usernames; the login records list each one."))


def audit_url(period: Period, **filters: str) -> str:
    return "/admin/audit?" + urlencode({**filters, "since": period.first.isoformat(), "until": period.last.isoformat()})


async def _audit_counts(column: str, period: Period) -> list[dict]:
    return await AuditEntry.raw(
        f"SELECT {column} AS key, COUNT(*) AS n FROM core_audit_entry WHERE created_at >= {{}} AND created_at < {{}} "
        "GROUP BY 1 ORDER BY 2 DESC, 1", period.start, period.end)


async def operations_by_action(portal, period: Period) -> StatisticTable:
    rows = await _audit_counts("action", period)
    return StatisticTable(
        (Column(_("Action"), "text"), Column(_("Operations"))),
        [(Link(r["key"], audit_url(period, action=r["key"])), r["n"]) for r in rows],
        note=_("Each action links to its entries in the audit log."))


async def operations_by_administrator(portal, period: Period) -> StatisticTable:
    rows = await _audit_counts("actor_name", period)
    return StatisticTable(
        (Column(_("User"), "text"), Column(_("Operations"))),
        [(Link(r["key"], audit_url(period, actor=r["key"])), r["n"]) for r in rows],
        note=_("\"system\" is the portal itself (the demo data, jobs). Each user links to his entries in the audit log."))


def core_statistics() -> list[Statistic]:
    return [
        Statistic("core.logins", _("Logins per day"), logins_per_day, order=50),
        Statistic("core.operations_by_action", _("Administrator operations by action"), operations_by_action, order=60),
        Statistic("core.operations_by_administrator", _("Administrator operations by user"),
                  operations_by_administrator, order=61),
    ]


async def all_statistics(portal) -> list[Statistic]:
    """The core's statistics and every enabled plugin's, in page order."""
    found = [*core_statistics(), *await gather_hook(portal.pm, "register_statistics", portal=portal)]
    return sorted(found, key=lambda s: (s.order, s.label))


@dataclass(frozen=True)
class Cell:
    """A value as the page shows it."""

    text: str
    url: str | None = None
    numeric: bool = False


def display_cell(value, column: Column) -> Cell:
    if isinstance(value, Link):
        return Cell(value.text, value.url)
    if column.kind == "bytes" and isinstance(value, (int, float)):
        return Cell(format_bytes(value), numeric=True)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Cell(f"{value:,}", numeric=True)
    return Cell("" if value is None else str(value))


def chart_of(table: StatisticTable, title: str) -> Markup | None:
    """The chart the table asks for, or None (no chart wanted, no rows, nothing numeric)."""
    if not table.chart or not table.rows:
        return None
    kinds = [c.kind for c in table.columns if c.chart]
    measure = "count" if "count" in kinds else "bytes" if "bytes" in kinds else None
    if measure is None:
        return None
    rows = table.rows[: table.chart_rows]
    # Days as MM-DD: the year is in the period above the chart, and thirty full dates crowd the axis.
    labels = [row[0].strftime("%m-%d") if table.columns[0].kind == "day" and isinstance(row[0], date) else str(row[0])
              for row in rows]
    series = [Series(column.label, [float(row[n] or 0) for row in rows])
              for n, column in enumerate(table.columns) if column.kind == measure and column.chart and n > 0]
    return chart(table.chart, labels, series, title=title,
                 value_format=format_bytes if measure == "bytes" else (lambda v: f"{v:,.0f}"))


def csv_rows(table: StatisticTable) -> tuple[list[str], list[tuple]]:
    """Header and rows for the CSV file: byte columns say so in their header and hold raw bytes."""
    header = [f"{c.label} (B)" if c.kind == "bytes" else c.label for c in table.columns]
    return header, [tuple(str(v) if isinstance(v, Link) else v for v in row) for row in table.rows]
