"""What the report pages render with (MAIL-14): SVG charts, CSV files, day ranges in Beijing time."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone

import pytest

from portal.api import Column, Link, StatisticTable
from portal.localtime import ZONE, day_end, day_start, today
from portal.reports.charts import Series, chart, nice_step
from portal.reports.csv_export import BOM, cell, csv_response, csv_text
from portal.reports.forms import MAX_PERIOD_DAYS, parse_period, parse_whole
from portal.reports.statistics import chart_of, csv_rows, display_cell, format_bytes

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & \'quoted\''


def parse_svg(markup) -> ET.Element:
    """The chart must be well-formed XML: a label that broke out of its element would not parse."""
    return ET.fromstring(str(markup))


# Charts --------------------------------------------------------------------------------------


def test_bar_chart_draws_one_bar_per_value_with_its_figure():
    svg = parse_svg(chart("bar", ["一月", "二月", "三月"], [Series("发送", [3, 0, 12]), Series("接收", [5, 1, 2])],
                          title="邮件"))
    bars = svg.findall(f"{SVG}rect")
    assert len(bars) == 6 + 2  # six bars and the two legend swatches
    titles = [b.find(f"{SVG}title").text for b in bars if b.find(f"{SVG}title") is not None]
    assert "三月 · 发送: 12" in titles and "一月 · 接收: 5" in titles
    heights = {t: float(b.get("height")) for b, t in zip(bars, titles)}
    assert heights["三月 · 发送: 12"] > heights["一月 · 接收: 5"] > heights["二月 · 接收: 1"] > heights["二月 · 发送: 0"] == 0
    assert svg.get("role") == "img" and svg.get("aria-label") == "邮件"


def test_line_chart_draws_a_polyline_per_series():
    svg = parse_svg(chart("line", ["a", "b", "c", "d"], [Series("x", [1, 2, 3, 4])], title="t"))
    (line,) = svg.findall(f"{SVG}polyline")
    assert len(line.get("points").split()) == 4
    assert len(svg.findall(f"{SVG}circle")) == 4
    assert not svg.findall(f"{SVG}text[@class='legend']")  # one series: no legend


def test_chart_labels_and_titles_are_escaped():
    markup = str(chart("bar", [HOSTILE], [Series(HOSTILE, [1])], title=HOSTILE))
    assert "<script" not in markup
    assert "&lt;script&gt;" in markup and "&amp;" in markup
    svg = parse_svg(markup)
    assert svg.get("aria-label") == HOSTILE  # escaped in the markup, intact as text
    texts = "".join(svg.itertext())
    assert HOSTILE[:12] in texts


def test_chart_has_no_inline_style_so_the_csp_allows_it():
    markup = str(chart("line", ["a", "b"], [Series("s", [1, 2]), Series("t", [2, 1])], title="t"))
    assert "style" not in markup
    assert 'class="line s0"' in markup and 'class="line s1"' in markup


def test_chart_thins_out_category_labels_and_shortens_long_ones():
    labels = [f"第{n}个很长很长很长很长的单位名称" for n in range(60)]
    svg = parse_svg(chart("bar", labels, [Series("s", list(range(60)))], title="t"))
    axis_labels = [t.text for t in svg.findall(f"{SVG}text[@class='axis']") if t.get("transform")]
    assert 10 <= len(axis_labels) <= 16
    assert all(len(text) <= 14 for text in axis_labels) and axis_labels[0].endswith("…")


def test_chart_of_nothing_is_refused():
    with pytest.raises(ValueError):
        chart("bar", [], [Series("s", [])], title="t")
    with pytest.raises(ValueError):
        chart("pie", ["a"], [Series("s", [1])], title="t")


@pytest.mark.parametrize("maximum, step", [(0, 1), (3, 1), (10, 5), (37, 10), (120, 50), (999, 500), (0.5, 1)])
def test_nice_step_is_a_round_number_reaching_the_maximum(maximum, step):
    assert nice_step(maximum) == step
    assert nice_step(maximum) * 4 >= maximum


def test_a_statistic_table_charts_its_measures_and_not_what_it_keeps_out():
    table = StatisticTable((Column("单位", "text"), Column("邮箱数", chart=False), Column("已用", "bytes"),
                            Column("配额", "bytes", chart=False)),
                           [("甲", 3, 2048, 10_000), ("乙", 1, 1024, 10_000)])
    svg = parse_svg(chart_of(table, "空间"))
    titles = [t.text for t in svg.iter(f"{SVG}title")]
    assert "甲 · 已用: 2.0 KB" in titles and not any("配额" in t or "邮箱数" in t for t in titles)
    assert chart_of(StatisticTable((Column("a", "text"),), [("x",)]), "t") is None
    assert chart_of(StatisticTable((Column("a", "text"), Column("n")), []), "t") is None
    assert chart_of(StatisticTable((Column("a", "text"), Column("n")), [("x", 1)], chart=""), "t") is None


def test_a_day_table_labels_its_axis_by_month_and_day():
    table = StatisticTable((Column("Day", "day"), Column("n")), [(date(2026, 3, 1), 1), (date(2026, 3, 2), 2)], chart="line")
    svg = parse_svg(chart_of(table, "t"))
    assert [t.text for t in svg.findall(f"{SVG}text[@class='axis']") if t.get("transform")] == ["03-01", "03-02"]


def test_bars_keep_a_readable_width_when_there_are_few():
    svg = parse_svg(chart("bar", ["a", "b"], [Series("s", [1, 2])], title="t"))
    assert all(float(r.get("width")) <= 48 for r in svg.findall(f"{SVG}rect"))


def test_cells_show_links_figures_and_sizes():
    assert display_cell(Link("root", "/admin/users/1"), Column("u", "text")).url == "/admin/users/1"
    assert display_cell(1234567, Column("n")).text == "1,234,567"
    assert display_cell(1536, Column("b", "bytes")).text == "1.5 KB"
    assert display_cell(date(2026, 1, 2), Column("d", "day")).text == "2026-01-02"
    assert [format_bytes(v) for v in (0, 1023, 1024, 15 * 1024**2, 3 * 1024**3)] == ["0 B", "1023 B", "1.0 KB", "15 MB", "3.0 GB"]
    header, rows = csv_rows(StatisticTable((Column("u", "text"), Column("b", "bytes")), [(Link("x", "/y"), 5)]))
    assert header == ["u", "b (B)"] and rows == [("x", 5)]


# CSV -----------------------------------------------------------------------------------------


def test_csv_starts_with_a_bom_and_quotes_what_needs_it():
    text = csv_text(["名称", "说明"], [["黄河县", 'a "quoted", comma'], ["two\nlines", 3]])
    assert text.startswith(BOM)
    assert text.endswith("\r\n")
    assert '"a ""quoted"", comma"' in text and '"two\nlines"' in text
    assert list(csv.reader(io.StringIO(text[1:]))) == [["名称", "说明"], ["黄河县", 'a "quoted", comma'], ["two\nlines", "3"]]


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_csv_cells_that_a_spreadsheet_would_evaluate_stay_text(value):
    assert cell(value) == "'" + value
    (row,) = list(csv.reader(io.StringIO(csv_text(["h"], [[value]])[1:])))[1:]
    assert row[0].startswith("'")


def test_csv_cells_keep_numbers_and_show_moments_in_beijing_time():
    assert cell(-5) == -5 and cell(2.5) == 2.5 and cell(None) == "" and cell(True) == "1"
    assert cell("normal text") == "normal text" and cell("a=b") == "a=b"
    assert cell(datetime(2026, 1, 1, 16, 30, tzinfo=timezone.utc)) == "2026-01-02 00:30:00"
    assert cell(date(2026, 3, 4)) == "2026-03-04"


def test_csv_response_is_an_uncached_utf8_download():
    response = csv_response("login-records-20260101.csv", ["用户"], [["张伟"]])
    assert response.media_type == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="login-records-20260101.csv"')
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith("\ufeff".encode("utf-8")) and "张伟".encode("utf-8") in response.content


# Days in Beijing time ------------------------------------------------------------------------


def test_a_day_runs_from_midnight_to_midnight_beijing_time():
    start, end = day_start(date(2026, 1, 2)), day_end(date(2026, 1, 2))
    assert start == datetime(2026, 1, 1, 16, tzinfo=timezone.utc)
    assert end - start == timedelta(days=1)
    assert start.tzinfo == ZONE


def test_the_period_defaults_to_the_last_thirty_days():
    errors: dict[str, str] = {}
    period = parse_period({}, errors)
    assert not errors and period.last == today() and len(period.days) == 30
    assert period.start == day_start(period.first) and period.end == day_end(period.last)


@pytest.mark.parametrize("since, until, field", [
    ("2026-13-01", "", "since"), ("yesterday", "", "since"), ("", "2026-02-30", "until"),
    ("1999-12-31", "", "since"), ("2026-03-02", "2026-03-01", "until"), ("2024-01-01", "2025-01-02", "until"),
])
def test_a_bad_period_gets_a_message_on_its_field(since, until, field):
    errors: dict[str, str] = {}
    assert parse_period({"since": since, "until": until}, errors) is None
    assert field in errors


def test_the_longest_period_is_a_leap_year():
    errors: dict[str, str] = {}
    period = parse_period({"since": "2024-01-01", "until": "2024-12-31"}, errors)
    assert not errors and len(period.days) == MAX_PERIOD_DAYS


def test_whole_numbers_within_bounds():
    errors: dict[str, str] = {}
    assert parse_whole("", "days", errors, default=90, low=1, high=3650) == 90
    assert parse_whole("30", "days", errors, default=90, low=1, high=3650) == 30
    assert not errors
    for bad in ("0", "3651", "-1", "1e3", "abc", "9999999"):
        errors = {}
        assert parse_whole(bad, "days", errors, default=90, low=1, high=3650) == 90
        assert "days" in errors
