"""How units keep the deadlines of requests for disclosure (PUB-3): the report page (overdue
requests now, per unit) and the statistic on the administration's statistics page (requests
received, answered and answered late in a period).

The report names requests by number and title only: the applicants' personal data stay with
the unit that was asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from plugins.disclosure.request_deadlines import Deadline, deadline
from plugins.disclosure.request_tables import InfoRequest
from plugins.disclosure.requests import ACTIVE
from portal.api import Column, Period, Statistic, StatisticTable
from portal.localtime import today as local_today
from portal.workdays import local_day


@dataclass
class UnitLine:
    unit_id: int
    unit_name: str
    open: int = 0
    overdue: list[tuple[dict, Deadline]] = field(default_factory=list)


async def overdue_report(today: date, unit_id: int | None = None) -> list[UnitLine]:
    """Per unit (all, or the one given): open requests and the overdue ones, most overdue
    first; units with most overdue first."""
    where = InfoRequest.status.is_in(list(ACTIVE))
    if unit_id is not None:
        where &= InfoRequest.unit == unit_id
    rows = await InfoRequest.select(InfoRequest.id, InfoRequest.number, InfoRequest.title, InfoRequest.received_on,
                                    InfoRequest.due_on, InfoRequest.extension_reason, InfoRequest.unit, InfoRequest.status,
                                    InfoRequest.unit.name.as_alias("unit_name")).where(where).order_by(InfoRequest.due_on)
    lines: dict[int, UnitLine] = {}
    for row in rows:
        line = lines.setdefault(row["unit"], UnitLine(row["unit"], row["unit_name"]))
        line.open += 1
        state = deadline(row["due_on"], today)
        if row["status"] == "open" and state.overdue:
            line.overdue.append((row, state))
    return sorted(lines.values(), key=lambda line: (-len(line.overdue), -line.open, line.unit_name))


async def requests_per_unit(portal, period: Period) -> StatisticTable:
    """Requests received and answered in the period per unit, those answered after their
    deadline, and what is open and overdue now."""
    _ = portal.gettext
    today = local_today()
    rows = await InfoRequest.select(
        InfoRequest.unit.name.as_alias("unit_name"), InfoRequest.received_on, InfoRequest.due_on, InfoRequest.status,
        InfoRequest.replied_at,
    ).where((InfoRequest.received_on <= period.last) & (
        (InfoRequest.received_on >= period.first) | InfoRequest.status.is_in(list(ACTIVE))
        | (InfoRequest.replied_at >= period.start)))
    counts: dict[str, list[int]] = {}
    for row in rows:
        line = counts.setdefault(row["unit_name"], [0, 0, 0, 0, 0])
        line[0] += period.first <= row["received_on"] <= period.last
        if row["replied_at"] is not None and period.start <= row["replied_at"] < period.end:
            line[1] += 1
            line[2] += local_day(row["replied_at"]) > row["due_on"]
        if row["status"] in ACTIVE:
            line[3] += 1
            line[4] += row["status"] == "open" and deadline(row["due_on"], today).overdue
    table = sorted(((name, *values) for name, values in counts.items()), key=lambda r: (-r[1], r[0]))
    columns = (Column(_("Unit"), "text"), Column(_("Received")), Column(_("Answered")), Column(_("Answered late")),
               Column(_("Open now"), chart=False), Column(_("Overdue now"), chart=False))
    return StatisticTable(columns, table, note=_(
        "Requests for disclosure: received and answered within the period; late means answered after the deadline "
        "of 20 working days (40 when extended). Open and overdue count the requests unanswered today; a request "
        "waiting for the applicant's details is open, never overdue."))


def statistics(portal) -> list[Statistic]:
    return [Statistic("disclosure.requests", portal.gettext("Requests for disclosure per unit"), requests_per_unit, order=40)]
