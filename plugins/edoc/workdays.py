"""Timeliness of document handling (DOC-10): due dates and lateness per department, counted
in working days by the portal's holiday calendar (``portal.workdays``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from portal.workdays import add_working_days, local_day, working_days_between


@dataclass(frozen=True)
class HandlingRecord:
    """A document a department had to handle: what the timeliness report reads."""

    document_id: int
    department: str
    received_at: datetime
    handled_at: datetime | None
    limit_days: int
    title: str = ""


@dataclass(frozen=True)
class Timeliness:
    record: HandlingRecord
    due: date
    # Working days taken so far (until handled, or until today while waiting).
    taken: int
    late: bool
    handled: bool


def assess(record: HandlingRecord, today: date) -> Timeliness:
    """Due date and lateness of one record: due ``limit_days`` working days after the day of
    receipt; late when handled after that day, or still waiting after it."""
    received = local_day(record.received_at)
    due = add_working_days(received, record.limit_days)
    finished = local_day(record.handled_at) if record.handled_at else today
    return Timeliness(record, due, working_days_between(received, finished), finished > due, record.handled_at is not None)


@dataclass(frozen=True)
class DepartmentTimeliness:
    department: str
    total: int
    handled: int
    waiting: int
    late: list[Timeliness]

    @property
    def on_time_rate(self) -> float:
        return 1 - len(self.late) / self.total if self.total else 1.0


def timeliness_report(records: list[HandlingRecord], today: date) -> list[DepartmentTimeliness]:
    """Per department (by name): documents handled, waiting, and the late ones (handled late or
    overdue while waiting), the latest due first; departments with the most late first."""
    by_department: dict[str, list[Timeliness]] = {}
    for record in records:
        by_department.setdefault(record.department, []).append(assess(record, today))
    report = []
    for department, items in by_department.items():
        late = sorted((i for i in items if i.late), key=lambda i: (i.due, i.record.document_id), reverse=True)
        handled = sum(i.handled for i in items)
        report.append(DepartmentTimeliness(department, len(items), handled, len(items) - handled, late))
    return sorted(report, key=lambda d: (-len(d.late), d.department))
