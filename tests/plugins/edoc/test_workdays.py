"""The timeliness report of document handling (DOC-10), counted in working days."""

from datetime import date, datetime

from plugins.edoc.workdays import HandlingRecord, assess, timeliness_report
from portal.localtime import ZONE


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


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
