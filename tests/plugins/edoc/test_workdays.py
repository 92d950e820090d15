"""Working days by the Chinese holiday calendar and the timeliness report (DOC-10)."""

from datetime import date, datetime, timedelta

import pytest

from plugins.edoc.workdays import (
    HandlingRecord,
    add_working_days,
    assess,
    calendar_knows,
    is_working_day,
    timeliness_report,
    working_days_between,
)
from portal.localtime import ZONE


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


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


def test_lateness_of_handled_and_waiting_documents():
    received = at(date(2025, 9, 30))
    on_time = assess(HandlingRecord(1, "农业农村局", received, at(date(2025, 10, 14), 17), 5), date(2025, 11, 1))
    assert on_time.due == date(2025, 10, 14) and not on_time.late and on_time.taken == 5
    late = assess(HandlingRecord(2, "农业农村局", received, at(date(2025, 10, 15)), 5), date(2025, 11, 1))
    assert late.late and late.taken == 6
    waiting = assess(HandlingRecord(3, "农业农村局", received, None, 5), date(2025, 10, 13))
    assert not waiting.late and not waiting.handled
    overdue = assess(HandlingRecord(4, "农业农村局", received, None, 5), date(2025, 10, 15))
    assert overdue.late and not overdue.handled


def test_the_day_of_receipt_is_the_beijing_day():
    # 17:00 UTC on Monday 6 January 2025 is already Tuesday in Beijing: due counts from Tuesday.
    from datetime import timezone

    record = HandlingRecord(1, "办公室", datetime(2025, 1, 6, 17, tzinfo=timezone.utc), None, 1)
    assert assess(record, date(2025, 1, 7)).due == date(2025, 1, 8)


def test_the_report_lists_late_documents_per_department():
    received = at(date(2025, 9, 30))
    records = [
        HandlingRecord(1, "农业农村局", received, at(date(2025, 10, 10)), 5),
        HandlingRecord(2, "农业农村局", received, at(date(2025, 10, 20)), 5),
        HandlingRecord(3, "农业农村局", received, None, 5),
        HandlingRecord(4, "大数据局", received, at(date(2025, 10, 9)), 5),
    ]
    report = timeliness_report(records, date(2025, 10, 31))
    assert [d.department for d in report] == ["农业农村局", "大数据局"]
    agriculture, data = report
    assert (agriculture.total, agriculture.handled, agriculture.waiting) == (3, 2, 1)
    assert [t.record.document_id for t in agriculture.late] == [3, 2]
    assert round(agriculture.on_time_rate, 2) == 0.33
    assert data.late == [] and data.on_time_rate == 1.0
