"""Working days by the Chinese holiday calendar (portal.workdays, public to plugins)."""

from datetime import date, timedelta

import pytest

from portal.workdays import add_working_days, calendar_knows, is_working_day, working_days_between


def test_national_day_is_a_holiday_and_its_make_up_saturday_a_working_day():
    # 2025: National Day and Mid-Autumn 1–8 October; Sunday 28 September and Saturday 11 October are worked.
    assert not is_working_day(date(2025, 10, 1))
    assert not is_working_day(date(2025, 10, 8))
    assert is_working_day(date(2025, 9, 28))
    assert is_working_day(date(2025, 10, 11))
    assert is_working_day(date(2025, 10, 9))


def test_counting_working_days_skips_the_holiday():
    # Received Tuesday 30 September 2025; five working days later is Tuesday 14 October
    # (9, 10, 11 (Saturday worked), 13, 14).
    assert add_working_days(date(2025, 9, 30), 5) == date(2025, 10, 14)
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 14)) == 5
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 8)) == 0
    assert add_working_days(date(2025, 9, 30), 0) == date(2025, 9, 30)
    assert working_days_between(date(2025, 10, 14), date(2025, 9, 30)) == 0


def test_a_year_the_calendar_does_not_know_counts_monday_to_friday():
    year = next(y for y in range(2026, 2100) if not calendar_knows(y))
    first_monday = next(date(year, 1, d) for d in range(1, 8) if date(year, 1, d).weekday() == 0)
    assert calendar_knows(2025)
    assert is_working_day(first_monday) and not is_working_day(first_monday + timedelta(days=5))
    assert add_working_days(first_monday, 5) == first_monday + timedelta(days=7)


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2025, 1, 6), -1)
