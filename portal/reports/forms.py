"""Parsing the report filters: day ranges in Beijing time, whole numbers within bounds."""

from __future__ import annotations

import re
from datetime import date, timedelta

from portal.api import Period
from portal.i18n import gettext as _
from portal.localtime import day_end, day_start, today

DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30
EARLIEST = date(2000, 1, 1)


def parse_day(raw: str, name: str, errors: dict[str, str]) -> date | None:
    """A ``YYYY-MM-DD`` day, None when empty; a message in ``errors[name]`` when invalid."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        if not DAY_RE.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None
    if not EARLIEST <= day <= today() + timedelta(days=1):
        errors[name] = _("Enter a date between %(first)s and tomorrow.", first=EARLIEST.isoformat())
        return None
    return day


def period_of(first: date, last: date) -> Period:
    return Period(first, last, day_start(first), day_end(last))


def parse_period(values: dict[str, str], errors: dict[str, str]) -> Period | None:
    """The days ``since`` to ``until`` (included); the last 30 days when both are empty."""
    first = parse_day(values.get("since", ""), "since", errors)
    last = parse_day(values.get("until", ""), "until", errors)
    if errors:
        return None
    last = last or today()
    first = first or last - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if first > last:
        errors["until"] = _("The last day comes before the first.")
        return None
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        errors["until"] = _("Choose at most %(n)s days.", n=MAX_PERIOD_DAYS)
        return None
    return period_of(first, last)


def parse_whole(raw: str, name: str, errors: dict[str, str], *, default: int, low: int, high: int) -> int:
    """A whole number between ``low`` and ``high``; ``default`` when empty."""
    raw = raw.strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not low <= int(raw) <= high:
        errors[name] = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
        return default
    return int(raw)
