"""The portal's time zone and its days (public to plugins).

Reports count by day, and a government office's day runs midnight to midnight in Beijing time
whatever the server's clock is set to: every day range of the administration pages and every
``Period`` a statistic receives is in ``ZONE``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from piccolo.engine.postgres import PostgresEngine

ZONE_NAME = "Asia/Shanghai"
ZONE = ZoneInfo(ZONE_NAME)
# Asia/Shanghai has kept one offset (UTC+8, no daylight saving) since 1991, so SQLite, which has
# no time-zone database, can shift by a fixed number of hours.
_SQLITE_SHIFT = f"'+{int(ZONE.utcoffset(datetime(2000, 1, 1)).total_seconds() // 3600)} hours'"


def today() -> date:
    return datetime.now(ZONE).date()


def local(moment: datetime) -> datetime:
    """An aware moment as Beijing time (for display)."""
    return moment.astimezone(ZONE)


def day_start(day: date) -> datetime:
    """The first moment of ``day`` (midnight, Beijing time), an aware datetime."""
    return datetime.combine(day, time(), tzinfo=ZONE)


def day_end(day: date) -> datetime:
    """The first moment after ``day``: the next midnight."""
    return day_start(day + timedelta(days=1))


def day_sql(column: str) -> str:
    """SQL giving the Beijing day (text ``YYYY-MM-DD``) of a ``timestamptz`` column, on the
    engine in use; for ``GROUP BY`` in raw queries. ``column`` is SQL written by the caller,
    never user input."""
    from portal.db import current_engine

    if isinstance(current_engine(), PostgresEngine):
        return f"to_char({column} AT TIME ZONE '{ZONE_NAME}', 'YYYY-MM-DD')"
    return f"strftime('%Y-%m-%d', {column}, {_SQLITE_SHIFT})"
