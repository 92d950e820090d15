"""The statistic of catalog updates after changes (CAT-4) for the administration's statistics
page: per department, the duties due in the period and how each was met."""

from __future__ import annotations

from plugins.catalog import access, changes
from portal.api import Column, Period, Statistic, StatisticTable

OUTCOMES = ("in_time", "late", "declared", "under_review", "overdue", "open")


def _outcome(state: changes.DutyState) -> str:
    if state.status == "updated":
        return "late" if state.late else "in_time"
    return state.status


async def change_deadlines(portal, period: Period) -> StatisticTable:
    states = await changes.states_due_between(period.first, period.last)
    unit_names = {u["id"]: u["name"] for u in await access.units()}
    tally: dict[tuple[str, str], dict[str, int]] = {}
    for state in states:
        counts = tally.setdefault((unit_names.get(state.unit_id, ""), state.department_name), dict.fromkeys(OUTCOMES, 0))
        counts[_outcome(state)] += 1
    # The first column names the bars of the chart: the department with its unit.
    rows = sorted(((f"{unit} {department}".strip(), sum(c.values()), *(c[o] for o in OUTCOMES)) for (unit, department), c in tally.items()),
                  key=lambda r: (-(r[6] + r[3]), r[0]))
    _ = portal.gettext
    columns = (Column(_("Department"), "text"), Column(_("Updates due"), chart=False),
               Column(_("Updated in time")), Column(_("Updated late")), Column(_("No change needed")),
               Column(_("Filed, under review")), Column(_("Overdue")), Column(_("Not yet due")))
    return StatisticTable(columns, rows, chart="bar", chart_rows=20,
                          note=_("Catalog updates after a change of law or duties due in the period, by how they were met: an update counts on the day its approved version was filed, in working days by the Chinese holiday calendar."))


def statistics(portal) -> list[Statistic]:
    return [Statistic("catalog.change_deadlines", portal.gettext("Catalog updates after changes, per department"),
                      change_deadlines, order=60)]
