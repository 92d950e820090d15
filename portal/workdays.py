"""Working days by the Chinese holiday calendar (法定节假日 and 调休 working weekends), public to
plugins: deadlines of document handling (DOC-10), requests for disclosure (PUB-3) and catalog
updates (CAT-4) are counted in working days.

The calendar is the ``chinesecalendar`` package, which knows the years up to its release (the
State Council publishes each year's holidays in the preceding November or December). For a year
it does not know yet, Monday to Friday count as working days; ``calendar_knows(year)`` tells
which, so a page can say that a deadline may move once the year's holidays are published.

Periods follow the rule of Chinese law that the day an event happens is not counted: a request
received on a Monday with a limit of one working day is due on the Tuesday.
"""

from __future__ import annotations

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
