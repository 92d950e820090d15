"""Working days by the Chinese holiday calendar (法定节假日 and 调休 working weekends), for
handling deadlines (DOC-10).

The calendar is the ``chinesecalendar`` package, which knows the years up to its release (the
State Council publishes each year's holidays in the preceding November or December). For a year
it does not know yet, Monday to Friday count as working days; ``calendar_knows(year)`` tells
which, so a page can say that a deadline may move once the year's holidays are published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import chinese_calendar

from portal.localtime import ZONE


@lru_cache(maxsize=64)
def calendar_knows(year: int) -> bool:
    """Whether the holiday calendar covers ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date) -> bool:
    if calendar_knows(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``): a
    document received on a Monday and handled on the Tuesday took one working day."""
    days = 0
    day = start + timedelta(days=1)
    while day <= end:
        days += is_working_day(day)
        day += timedelta(days=1)
    return days


def add_working_days(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (``day`` itself when ``n`` is 0)."""
    if n < 0:
        raise ValueError("n must not be negative")
    while n:
        day += timedelta(days=1)
        n -= is_working_day(day)
    return day


def local_day(moment: datetime) -> date:
    """The Beijing day of an aware moment: deadlines count the office's days."""
    return moment.astimezone(ZONE).date()


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
