"""Requests for disclosure (PUB-3): deadlines in working days across the National Day holiday,
the single extension, the unit's answer, the human check, tracking codes and who sees what."""

from datetime import date, datetime, timedelta

import pytest

from plugins.disclosure import human_check, requests
from plugins.disclosure.request_deadlines import deadline, extended_due, first_due
from plugins.disclosure.request_fields import RequestForm, credit_code_valid, field_errors, id_card_valid
from plugins.disclosure.request_reports import overdue_report, requests_per_unit
from plugins.disclosure.request_tables import InfoRequest
from portal.accounts.services import UnitForm, create_unit
from portal.api import CurrentUser, Period
from portal.audit.tables import AuditEntry
from portal.i18n import locale_context
from portal.localtime import ZONE, day_end, day_start, today

SECRET = "test-secret-key"


@pytest.fixture(autouse=True)
def english():
    """Messages in English (the default locale is zh_CN), as the assertions read them."""
    with locale_context("en"):
        yield


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


# Deadlines -------------------------------------------------------------------------------------


def test_received_just_before_national_day_the_answer_is_due_twenty_working_days_later():
    # 2026: 1–7 October are holidays, Saturday 10 October is worked. Received Wednesday 30
    # September: 8, 9, 10 October, then three full weeks and Monday 2 November make 19.
    assert first_due(date(2026, 9, 30)) == date(2026, 11, 3)
    # Monday to Friday alone would have made it 28 October.
    assert first_due(date(2026, 9, 30)) > date(2026, 10, 28)


def test_a_request_received_during_the_holiday_is_due_with_the_last_one_before_it():
    assert first_due(date(2026, 10, 3)) == first_due(date(2026, 9, 30)) == date(2026, 11, 3)
    assert first_due(date(2026, 9, 29)) == date(2026, 11, 2)


def test_the_extension_adds_twenty_working_days_to_the_first_deadline():
    assert extended_due(date(2026, 11, 3)) == date(2026, 12, 1)


def test_working_days_left_and_overdue():
    due = date(2026, 10, 9)  # a Friday
    assert deadline(due, date(2026, 9, 30)).days_left == 2  # the holiday does not count
    assert deadline(due, date(2026, 9, 30)).soon and not deadline(due, date(2026, 9, 30)).overdue
    assert deadline(due, due).days_left == 0 and not deadline(due, due).overdue
    # The Saturday after is worked (10 October), so the request is one working day late then.
    assert deadline(due, date(2026, 10, 10)).days_left == -1 and deadline(due, date(2026, 10, 10)).overdue
    # Sunday 11 October is not worked, and the request is still late.
    assert deadline(due, date(2026, 10, 11)).overdue
    assert deadline(due, date(2026, 10, 13)).days_left == -3


# Fields ----------------------------------------------------------------------------------------


def valid_form(unit_id: int, **changes) -> RequestForm:
    values = dict(unit=str(unit_id), applicant_kind="person", name="张三", id_kind="id_card", id_number="11010519491231002X",
                  phone="138 0013 8000", email="", address="", title="2025年农村公路建设项目资金分配方案",
                  description="黄河县2025年农村公路建设项目的资金分配明细。", purpose="", delivery="online")
    values.update(changes)
    return RequestForm(**values)


def test_identity_numbers_are_checked():
    assert id_card_valid("11010519491231002X") and not id_card_valid("110105194912310021")
    assert credit_code_valid("91350100M000100Y43") and not credit_code_valid("91350100M000100Y44")
    units = {1: "黄河县人民政府"}
    assert field_errors(valid_form(1), units) == {}
    assert set(field_errors(valid_form(1, id_number="110105194912310021"), units)) == {"id_number"}
    assert field_errors(valid_form(1, applicant_kind="organisation", id_kind="credit_code", id_number="91350100m000100y43",
                                   name="某某有限公司"), units) == {}
    # An organisation with a person's document: the kind of document is asked again.
    assert set(field_errors(valid_form(1, applicant_kind="organisation"), units)) == {"id_kind"}


def test_missing_and_overlong_fields_each_get_a_message():
    units = {1: "黄河县人民政府"}
    errors = field_errors(valid_form(2, name="", phone="12", title="长" * 201, description="", delivery="post"), units)
    assert set(errors) == {"unit", "name", "phone", "title", "description", "address"}
    assert "200" in errors["title"]
    assert set(field_errors(valid_form(1, delivery="email"), units)) == {"email"}
    assert set(field_errors(valid_form(1, email="not-an-address"), units)) == {"email"}
    assert set(field_errors(valid_form(1, delivery="fax"), units)) == {"delivery"}


# Human check -----------------------------------------------------------------------------------


async def test_the_human_check_takes_one_answer_per_question(client):
    challenge = human_check.issue(SECRET, "browser-a", "zh_CN")
    assert challenge.question.endswith("等于几？")
    answer = human_check.expected_answer(SECRET, challenge.token)
    await human_check.verify(SECRET, "browser-a", challenge.token, str(answer))
    with pytest.raises(human_check.CheckFailed, match="already answered"):
        await human_check.verify(SECRET, "browser-a", challenge.token, str(answer))
    # A wrong answer uses the question up too: the right one cannot follow it.
    other = human_check.issue(SECRET, "browser-a", "en")
    right = human_check.expected_answer(SECRET, other.token)
    with pytest.raises(human_check.CheckFailed, match="not right"):
        await human_check.verify(SECRET, "browser-a", other.token, str(right + 1))
    with pytest.raises(human_check.CheckFailed, match="already answered"):
        await human_check.verify(SECRET, "browser-a", other.token, str(right))


async def test_a_question_is_good_for_its_browser_and_two_hours(client):
    challenge = human_check.issue(SECRET, "browser-a", "en")
    answer = str(human_check.expected_answer(SECRET, challenge.token))
    with pytest.raises(human_check.CheckFailed, match="did not come from this page"):
        await human_check.verify(SECRET, "browser-b", challenge.token, answer)
    with pytest.raises(human_check.CheckFailed, match="did not come from this page"):
        await human_check.verify("another-key", "browser-a", challenge.token, answer)
    old = human_check.issue(SECRET, "browser-a", "en", issued=int(datetime.now().timestamp()) - human_check.TTL_SECONDS - 5)
    with pytest.raises(human_check.CheckFailed, match="expired"):
        await human_check.verify(SECRET, "browser-a", old.token, str(human_check.expected_answer(SECRET, old.token)))
    # Full-width digits and the number as a word count as the answer.
    fresh = human_check.issue(SECRET, "browser-a", "zh_CN")
    full_width = str(human_check.expected_answer(SECRET, fresh.token)).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    await human_check.verify(SECRET, "browser-a", fresh.token, full_width)


# Filing, tracking and the unit's answer --------------------------------------------------------


@pytest.fixture
async def units(client, make_user):
    county = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, "huanghe.gov.example", "黄河办"))
    town = await create_unit(None, UnitForm("东镇人民政府", "dongzhen", "township", county, "dongzhen.gov.example", "东镇"))
    for n in (1, 2):
        await make_user(f"clerk{n}", roles=["publisher"], unit_id=county)
    return county, town


def staff(unit_id: int | None, user_id: int = 1, permissions=("disclosure.requests",)) -> CurrentUser:
    """A user as the services see him; ids 1 and 2 are the county's clerks of ``units``."""
    return CurrentUser(user_id, f"clerk{user_id}", "Staff", "", unit_id, None, frozenset({"publisher"}), frozenset(permissions),
                       "zh_CN", "")


async def test_filing_gives_a_number_and_a_code_that_only_together_open_the_request(app, units):
    county, _town = units
    filed = await requests.file_request(app.state.portal, valid_form(county), ip="203.0.113.9", at=at(date(2026, 9, 30)))
    assert filed.number.startswith("20260930-") and len(filed.number) == 15
    assert (filed.received_on, filed.due_on) == (date(2026, 9, 30), date(2026, 11, 3))
    assert await requests.check_code(filed.number, filed.code)
    # As a person types them: lower case, spaces, the code with its hyphen, O for 0.
    typed_code = requests.display_code(filed.code).lower().replace("0", "o")
    assert await requests.check_code(requests.normalise_number(filed.number.replace("-", " ").lower()),
                                     requests.normalise_code(typed_code))
    assert not await requests.check_code(filed.number, requests.new_code())
    assert not await requests.check_code("20260930-ZZZZZZ", filed.code)
    row = await InfoRequest.select().where(InfoRequest.number == filed.number).first()
    assert row["code_hash"] != filed.code and filed.code not in row["code_hash"]
    seen = await requests.tracked(filed.number)
    assert seen["name"] == "张*" and "phone" not in seen and "id_number" not in seen


async def test_the_deadline_is_extended_once_with_a_reason_and_audited(app, units):
    county, _town = units
    portal, clerk = app.state.portal, staff(county)
    filed = await requests.file_request(portal, valid_form(county), at=at(date(2026, 9, 30)))
    with pytest.raises(requests.RequestRefused, match="reason"):
        await requests.extend(portal, clerk, filed.id, "  ", date(2026, 10, 20))
    new_due = await requests.extend(portal, clerk, filed.id, "需向第三方征求意见", date(2026, 10, 20))
    assert new_due == date(2026, 12, 1)
    row = await requests.request_for(clerk, filed.id)
    assert (row["original_due_on"], row["due_on"], row["extension_reason"]) == (date(2026, 11, 3), date(2026, 12, 1), "需向第三方征求意见")
    with pytest.raises(requests.RequestRefused, match="already extended once"):
        await requests.extend(portal, clerk, filed.id, "再次延期", date(2026, 10, 21))
    assert (await requests.request_for(clerk, filed.id))["due_on"] == date(2026, 12, 1)
    entry = await AuditEntry.select().where(AuditEntry.action == "disclosure.request_extend").first()
    assert entry["actor"] == clerk.id and entry["target_id"] == str(filed.id) and "2026-12-01" in entry["summary"]


async def test_no_extension_once_the_deadline_has_passed(app, units):
    county, _town = units
    portal, clerk = app.state.portal, staff(county)
    filed = await requests.file_request(portal, valid_form(county), at=at(date(2026, 9, 30)))
    assert (await requests.extend(portal, clerk, filed.id, "最后一天延期", date(2026, 11, 3))) == date(2026, 12, 1)
    late = await requests.file_request(portal, valid_form(county), at=at(date(2026, 9, 30)))
    with pytest.raises(requests.RequestRefused, match="deadline has passed"):
        await requests.extend(portal, clerk, late.id, "太晚了", date(2026, 11, 4))


async def test_the_unit_answers_once_and_closes(app, units):
    county, _town = units
    portal, clerk, colleague = app.state.portal, staff(county), staff(county, user_id=2)
    filed = await requests.file_request(portal, valid_form(county), at=at(date(2026, 9, 30)))
    with pytest.raises(requests.RequestRefused, match="reason"):
        await requests.reply(portal, clerk, filed.id, "refused", "经审查，不予公开。", "")
    with pytest.raises(requests.RequestRefused, match="decision"):
        await requests.reply(portal, clerk, filed.id, "maybe", "x", "y")
    upload = requests.Upload("../../资金分配方案.pdf", b"%PDF-1.4 budget")
    await requests.reply(portal, clerk, filed.id, "granted", "您申请的信息见附件。", "", upload, ip="10.0.0.5")
    with pytest.raises(requests.AlreadyDone):
        await requests.reply(portal, colleague, filed.id, "refused", "不予公开", "涉及国家秘密")
    with pytest.raises(requests.RequestRefused):
        await requests.extend(portal, colleague, filed.id, "来不及", date(2026, 10, 9))
    seen = await requests.tracked(filed.number)
    assert (seen["status"], seen["decision"], seen["reply"]) == ("answered", "granted", "您申请的信息见附件。")
    assert seen["attachment_name"] == "资金分配方案.pdf"
    await requests.close(portal, clerk, filed.id, "")
    with pytest.raises(requests.AlreadyDone):
        await requests.close(portal, clerk, filed.id, "")
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).where(
        AuditEntry.action.like("disclosure.%")).order_by(AuditEntry.id)]
    assert actions == ["disclosure.request_filed", "disclosure.request_reply", "disclosure.request_close"]


async def test_an_open_request_is_closed_only_with_a_reason(app, units):
    county, _town = units
    portal, clerk = app.state.portal, staff(county)
    filed = await requests.file_request(portal, valid_form(county))
    with pytest.raises(requests.RequestRefused, match="reason"):
        await requests.close(portal, clerk, filed.id, "")
    await requests.close(portal, clerk, filed.id, "申请人撤回申请")
    assert (await requests.tracked(filed.number))["close_reason"] == "申请人撤回申请"


async def test_another_units_staff_and_staff_without_the_permission_see_nothing(app, units):
    county, town = units
    portal = app.state.portal
    filed = await requests.file_request(portal, valid_form(county))
    for outsider in (staff(town), staff(county, permissions=()), staff(None)):
        with pytest.raises(requests.NotFound):
            await requests.request_for(outsider, filed.id)
        with pytest.raises(requests.NotFound):
            await requests.reply(portal, outsider, filed.id, "granted", "x", "")
        with pytest.raises(requests.NotFound):
            await requests.extend(portal, outsider, filed.id, "x", today())
        with pytest.raises(requests.NotFound):
            await requests.close(portal, outsider, filed.id, "x")
        assert (await requests.queue(outsider, "all", today()))[0] == []
    assert [r["id"] for r in (await requests.queue(staff(county), "all", today()))[0]] == [filed.id]
    assert (await requests.tracked(filed.number))["status"] == "open"


async def test_overdue_requests_are_flagged_counted_and_reported(app, units):
    county, town = units
    portal = app.state.portal
    late = await requests.file_request(portal, valid_form(county, title="逾期的申请"), at=at(date(2026, 9, 1)))
    waiting = await requests.file_request(portal, valid_form(county, title="未逾期的申请"), at=at(date(2026, 9, 30)))
    await requests.file_request(portal, valid_form(town), at=at(date(2026, 9, 30)))
    today = date(2026, 10, 20)
    rows, _more = await requests.queue(staff(county), "open", today)
    assert [r["id"] for r in rows] == [late.id, waiting.id]  # by due date
    assert rows[0]["deadline"].overdue and not rows[1]["deadline"].overdue
    assert [r["id"] for r in (await requests.queue(staff(county), "overdue", today))[0]] == [late.id]
    assert await requests.open_counts(county, today) == {"open": 2, "overdue": 1}
    report = await overdue_report(today)
    assert [(line.unit_id, line.open, len(line.overdue)) for line in report] == [(county, 2, 1), (town, 1, 0)]
    # Answered late: after its deadline (29 September + 20 working days).
    await requests.reply(portal, staff(county), late.id, "not_exist", "经检索，该信息不存在。", "本机关未制作该信息。")
    await InfoRequest.update({InfoRequest.replied_at: at(date(2026, 10, 20))}).where(InfoRequest.id == late.id)
    first, last = date(2026, 9, 1), date(2026, 10, 31)
    table = await requests_per_unit(portal, Period(first, last, day_start(first), day_end(last)))
    by_unit = {row[0]: row[1:] for row in table.rows}
    assert by_unit["黄河县人民政府"][:3] == (2, 1, 1) and by_unit["东镇人民政府"][0] == 1


def test_numbers_and_codes_are_unguessable_enough():
    numbers = {requests.new_number(date(2026, 10, 8)) for _ in range(200)}
    assert len(numbers) == 200 and all(n.startswith("20261008-") for n in numbers)
    codes = {requests.new_code() for _ in range(200)}
    assert len(codes) == 200 and all(len(c) == 10 and set(c) <= set(requests.ALPHABET) for c in codes)
    assert requests.mask_name("欧阳娜娜") == "欧***" and requests.mask_name("A") == "A*"
    assert timedelta(seconds=human_check.TTL_SECONDS) >= timedelta(hours=1)


# More details (补正) ---------------------------------------------------------------------------


async def test_more_details_are_asked_once_and_restart_the_twenty_days(app, units):
    county, _town = units
    portal, clerk = app.state.portal, staff(county)
    filed = await requests.file_request(portal, valid_form(county), at=at(date(2026, 9, 30)))
    with pytest.raises(requests.RequestRefused, match="between 1 and 60"):
        await requests.ask_supplement(portal, clerk, filed.id, "请说明所需信息的年份", "0", date(2026, 10, 12))
    # 12 October is the fourth working day after receipt; ten working days for the details.
    assert await requests.ask_supplement(portal, clerk, filed.id, "请说明所需信息的年份", "10", date(2026, 10, 12)) \
        == date(2026, 10, 26)
    with pytest.raises(requests.RequestRefused, match="already asked for once"):
        await requests.ask_supplement(portal, clerk, filed.id, "还有", "10", date(2026, 10, 13))
    with pytest.raises(requests.RequestRefused, match="cannot be extended"):
        await requests.extend(portal, clerk, filed.id, "等待补正", date(2026, 10, 13))
    # While the unit waits for him, the request is open but never overdue.
    waiting_day = date(2026, 11, 10)
    rows, _more = await requests.queue(clerk, "open", waiting_day)
    assert [(r["id"], r["status"], r["deadline"]) for r in rows] == [(filed.id, "supplement", None)]
    assert await requests.open_counts(county, waiting_day) == {"open": 1, "overdue": 0}
    seen = await requests.tracked(filed.number)
    assert (seen["status"], seen["supplement_request"], seen["supplement_due_on"]) == \
        ("supplement", "请说明所需信息的年份", date(2026, 10, 26))
    # His details arrive on 20 October: received anew, due 20 working days later.
    assert await requests.add_supplement(portal, filed.number, "2025年度", at=at(date(2026, 10, 20))) == date(2026, 11, 17)
    row = await requests.request_for(clerk, filed.id)
    assert (row["status"], row["received_on"], row["original_due_on"], row["due_on"], row["supplement"]) == \
        ("open", date(2026, 10, 20), date(2026, 11, 17), date(2026, 11, 17), "2025年度")
    with pytest.raises(requests.AlreadyDone):
        await requests.add_supplement(portal, filed.number, "再补充", at=at(date(2026, 10, 21)))
    # The extension now counts from the new deadline.
    assert await requests.extend(portal, clerk, filed.id, "需征求意见", date(2026, 11, 2)) == extended_due(date(2026, 11, 17))


async def test_details_are_asked_within_seven_working_days_and_sent_in_time(app, units):
    county, _town = units
    portal, clerk = app.state.portal, staff(county)
    first = await requests.file_request(portal, valid_form(county), at=at(date(2026, 9, 30)))
    assert await requests.ask_supplement(portal, clerk, first.id, "请补充", "1", date(2026, 10, 15)) == date(2026, 10, 16)
    second = await requests.file_request(portal, valid_form(county), at=at(date(2026, 9, 30)))
    with pytest.raises(requests.RequestRefused, match="within 7 working days"):
        await requests.ask_supplement(portal, clerk, second.id, "请补充", "10", date(2026, 10, 16))
    with pytest.raises(requests.RequestRefused, match="counts as abandoned"):
        await requests.add_supplement(portal, first.number, "晚了", at=at(date(2026, 10, 19)))
    assert (await requests.tracked(first.number))["status"] == "supplement"
    await requests.close(portal, clerk, first.id, "申请人逾期未补正，视为放弃申请")
    assert (await requests.tracked(first.number))["status"] == "closed"
