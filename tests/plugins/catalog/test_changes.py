"""Catalog updates after a change of law or of duties (CAT-4): the bureau records the change and
the departments concerned, each must file an updated catalog within 15 working days by the
Chinese holiday calendar; the portal counts down, reminds and lists the overdue."""

from datetime import date, datetime, timedelta

import pytest

from plugins.catalog import changes, filing, resources
from plugins.catalog.changes import EventForm
from plugins.catalog.duty_tables import ChangeDuty, ChangeEvent
from plugins.catalog.errors import Forbidden, Invalid, NotFound
from plugins.catalog.tables import Filing
from plugins.webmail.services import ensure_mailbox, folder_id
from plugins.webmail.tables import Message
from portal.accounts.services import create_department
from portal.audit.tables import AuditEntry
from portal.localtime import ZONE
from portal.testing import login_as, post_form
from portal.localtime import today as local_today
from portal.workdays import is_working_day, working_days_between

NATIONAL_DAY_EVE = date(2026, 9, 30)


@pytest.fixture
async def org(org):
    """Every account of the organisation made at once: reminders and lists go to all who hold a role."""
    for name in org.specs:
        await org.test_user(name)
    return org


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


def event_form(*departments: int, day: date = NATIONAL_DAY_EVE, **fields) -> EventForm:
    values = dict(kind="law", title="《山东省公共数据开放办法》修订", description="开放数据的范围和条件调整。",
                  legal_basis="山东省人民政府令第344号", occurred_on=day.isoformat(), unit="",
                  departments=[str(d) for d in departments])
    values.update(fields)
    return EventForm(**values)


async def record(org, *departments, day=NATIONAL_DAY_EVE, reviewer="county_reviewer", **fields) -> int:
    return await changes.record(await org.user(reviewer), event_form(*departments, day=day, **fields), org.portal, today=day)


async def file_version(org, make_form, name: str, *, on: date | None = None, decision: str | None = "approve") -> int:
    """The agriculture bureau changes its catalog and files it (on the given day); the county bureau decides."""
    editor = await org.user("agri_editor")
    await resources.create(editor, org.agri, await make_form(name), org.portal)
    filing_id = await filing.submit(editor, org.agri, "", org.portal)
    if on:
        await Filing.update({Filing.submitted_at: at(on)}).where(Filing.id == filing_id)
    if decision == "approve":
        await filing.decide(await org.user("county_reviewer"), filing_id, "approve", "", org.portal)
    elif decision == "return":
        await filing.decide(await org.user("county_reviewer"), filing_id, "return", "请补充信息项", org.portal)
    return filing_id


async def state_on(org, day: date, department=None):
    [state] = [s for s in await changes.duties_for_editor(await org.user("agri_editor"), today=day)
               if department is None or s.department_id == department]
    return state


async def inbox_subjects(user_id: int) -> list[str]:
    mailbox = await ensure_mailbox(user_id)
    rows = await Message.select(Message.subject).where(
        (Message.mailbox == mailbox["id"]) & (Message.folder == await folder_id(mailbox["id"], "inbox"))).order_by(Message.id)
    return [r["subject"] for r in rows]


# Deadlines ---------------------------------------------------------------------------------------


def test_fifteen_working_days_from_the_eve_of_national_day_skip_the_holiday_and_count_the_worked_saturday():
    # chinese_calendar, 2026: 1–7 October off; Saturday 10 October worked (调休); 8 October a working day.
    assert not any(is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert is_working_day(date(2026, 10, 8)) and is_working_day(date(2026, 10, 10))
    assert not is_working_day(date(2026, 10, 11))
    # 8, 9, 10(Sat), 12–16, 19–23, 26, 27: the 15th working day after 30 September.
    assert changes.due_date(NATIONAL_DAY_EVE) == date(2026, 10, 27)
    # Without the holiday calendar it would have been 21 October.
    assert changes.due_date(NATIONAL_DAY_EVE) - timedelta(days=6) == date(2026, 10, 21)


async def test_the_countdown_runs_in_working_days_across_the_holiday(org):
    await record(org, org.agri)
    expected = {
        NATIONAL_DAY_EVE: 15,
        date(2026, 10, 1): 15, date(2026, 10, 7): 15,      # the holiday takes none
        date(2026, 10, 8): 14, date(2026, 10, 9): 13,
        date(2026, 10, 10): 12, date(2026, 10, 11): 12,    # the worked Saturday takes one, the Sunday none
        date(2026, 10, 26): 1, date(2026, 10, 27): 0,      # the due day itself is still in time
    }
    for day, left in expected.items():
        state = await state_on(org, day)
        assert (state.status, state.days_left, state.due_on) == ("open", left, date(2026, 10, 27)), day
    late = await state_on(org, date(2026, 10, 28))
    assert (late.status, late.days_late, late.late) == ("overdue", 1, True)
    assert (await state_on(org, date(2026, 11, 2))).days_late == 4  # 28, 29, 30 October and 2 November


async def test_a_version_filed_by_the_due_day_and_approved_is_an_update_in_time(org, make_form):
    await record(org, org.agri)
    filing_id = await file_version(org, make_form, "新增资源", on=date(2026, 10, 27), decision=None)
    waiting = await state_on(org, date(2026, 11, 5))
    # Under review past the due day: the bureau's review time does not make the department late.
    assert (waiting.status, waiting.done_on, waiting.late) == ("under_review", date(2026, 10, 27), False)
    await filing.decide(await org.user("county_reviewer"), filing_id, "approve", "", org.portal)
    done = await state_on(org, date(2026, 11, 5))
    assert (done.status, done.filing_id, done.filing_version, done.late) == ("updated", filing_id, 1, False)


async def test_a_version_filed_after_the_due_day_is_an_update_made_late(org, make_form):
    await record(org, org.agri)
    await file_version(org, make_form, "新增资源", on=date(2026, 10, 29))
    state = await state_on(org, date(2026, 11, 5))
    assert (state.status, state.done_on, state.days_late) == ("updated", date(2026, 10, 29), 2)


async def test_a_returned_version_or_one_filed_before_the_change_does_not_count(org, make_form):
    await file_version(org, make_form, "旧资源", on=date(2026, 9, 29))
    await record(org, org.agri)
    assert (await state_on(org, date(2026, 10, 9))).status == "open"
    await file_version(org, make_form, "新资源", on=date(2026, 10, 12), decision="return")
    state = await state_on(org, date(2026, 10, 28))
    assert (state.status, state.days_late) == ("overdue", 1)


async def test_a_department_that_updated_before_the_change_was_recorded_is_not_asked_twice(org, make_form):
    await file_version(org, make_form, "新资源", on=date(2026, 10, 9))
    await changes.record(await org.user("county_reviewer"), event_form(org.agri), org.portal, today=date(2026, 10, 12))
    state = await state_on(org, date(2026, 10, 12))
    assert (state.status, state.done_on) == ("updated", date(2026, 10, 9))


async def test_the_editor_declares_that_no_change_is_needed_with_a_reason(org):
    await record(org, org.agri)
    [duty] = await ChangeDuty.select(ChangeDuty.id)
    with pytest.raises(Invalid) as refused:
        await changes.declare(await org.user("agri_editor"), duty["id"], "  ", org.portal, today=date(2026, 10, 9))
    assert "reason" in refused.value.errors
    with pytest.raises(Forbidden):
        await changes.declare(await org.user("market_editor"), duty["id"], "不涉及", org.portal)
    with pytest.raises(NotFound):
        await changes.declare(await org.user("agri_editor"), duty["id"] + 1000, "不涉及", org.portal)
    await changes.declare(await org.user("agri_editor"), duty["id"], "本局目录不涉及开放数据。", org.portal, today=date(2026, 10, 9))
    state = await state_on(org, date(2026, 12, 1))
    assert (state.status, state.declaration, state.waiting) == ("declared", "本局目录不涉及开放数据。", False)
    with pytest.raises(Invalid):
        await changes.declare(await org.user("agri_editor"), duty["id"], "再次声明", org.portal)
    assert await AuditEntry.exists().where(AuditEntry.action == "catalog.change.declare")


# Recording ---------------------------------------------------------------------------------------


async def test_the_county_bureau_records_a_change_for_its_departments(org):
    event_id = await record(org, org.agri, org.county_bureau)
    event = await ChangeEvent.select().where(ChangeEvent.id == event_id).first()
    assert (event["unit"], event["kind"], event["limit_days"], event["occurred_on"]) == (org.county, "law", 15, NATIONAL_DAY_EVE)
    duties = await ChangeDuty.select(ChangeDuty.department, ChangeDuty.unit, ChangeDuty.due_on).order_by(ChangeDuty.department)
    assert duties == [{"department": org.agri, "unit": org.county, "due_on": date(2026, 10, 27)},
                      {"department": org.county_bureau, "unit": org.county, "due_on": date(2026, 10, 27)}]
    audit = await AuditEntry.select().where(AuditEntry.action == "catalog.change.record").first()
    assert audit["target_id"] == str(event_id)


async def test_the_city_bureau_may_name_departments_of_the_county_below_it_but_not_the_reverse(org):
    await record(org, org.market, org.agri, reviewer="city_reviewer")
    assert await ChangeDuty.count() == 2
    with pytest.raises(Invalid) as refused:
        await record(org, org.market)
    assert "departments" in refused.value.errors
    assert await ChangeDuty.count() == 2


async def test_only_a_bureau_officer_records_and_only_for_his_level(org):
    with pytest.raises(Forbidden):
        await record(org, org.agri, reviewer="agri_editor")
    with pytest.raises(Forbidden):
        await record(org, org.agri, unit=str(org.city))
    assert await ChangeEvent.count() == 0


async def test_a_bad_form_names_every_fault_and_records_nothing(org):
    form = event_form(day=date(2020, 1, 1), kind="weather", title="", description="x" * 5000, legal_basis="")
    with pytest.raises(Invalid) as refused:
        await changes.record(await org.user("county_reviewer"), form, org.portal, today=date(2026, 10, 1))
    assert set(refused.value.errors) == {"kind", "title", "description", "legal_basis", "occurred_on", "departments"}
    assert await ChangeEvent.count() == 0 and await ChangeDuty.count() == 0


async def test_a_cancelled_change_asks_nothing_more_and_only_its_bureau_cancels(org):
    event_id = await record(org, org.agri)
    with pytest.raises(Forbidden):
        await changes.cancel(await org.user("city_reviewer"), event_id, "误录", org.portal)
    with pytest.raises(Invalid):
        await changes.cancel(await org.user("county_reviewer"), event_id, "", org.portal)
    await changes.cancel(await org.user("county_reviewer"), event_id, "误录", org.portal)
    state = await state_on(org, date(2026, 12, 1))
    assert state.status == "cancelled"
    assert await changes.overdue_departments(await org.user("county_reviewer"), today=date(2026, 12, 1)) == []


# Who sees what -----------------------------------------------------------------------------------


async def test_editors_see_their_departments_and_bureaus_their_levels(org):
    event_id = await record(org, org.agri, org.county_bureau)
    view = await changes.event_for(await org.user("agri_editor"), event_id, today=date(2026, 10, 9))
    assert [s.department_id for s in view.states] == [org.agri] and not view.may_cancel
    county = await changes.event_for(await org.user("county_reviewer"), event_id, today=date(2026, 10, 9))
    assert {s.department_id for s in county.states} == {org.agri, org.county_bureau} and county.may_cancel
    city = await changes.event_for(await org.user("city_reviewer"), event_id, today=date(2026, 10, 9))
    assert len(city.states) == 2 and not city.may_cancel
    for outsider in ("market_editor", "agri_staff", "city_staff"):
        with pytest.raises(NotFound):
            await changes.event_for(await org.user(outsider), event_id)
    assert [e.event["id"] for e in await changes.events_for_bureau(await org.user("city_reviewer"))] == [event_id]
    assert await changes.events_for_bureau(await org.user("agri_editor")) == []


async def test_the_overdue_list_names_the_late_departments_for_the_bureaus_above_them(org):
    other = await create_department(None, org.county, "水利局")
    await record(org, org.agri, other)
    await record(org, org.agri, day=date(2026, 10, 20), title="农业职能调整", kind="duties")
    day = date(2026, 11, 20)
    county = await changes.overdue_departments(await org.user("county_reviewer"), today=day)
    assert [(d.department_name, len(d.duties)) for d in county] == [("农业农村局", 2), ("水利局", 1)]
    assert county[0].most_late == working_days_between(date(2026, 10, 27), day)
    city = await changes.overdue_departments(await org.user("city_reviewer"), today=day)
    assert [d.department_id for d in city] == [org.agri, other]
    assert await changes.overdue_departments(await org.user("agri_editor"), today=day) == []
    # On the due day nobody is overdue yet.
    assert await changes.overdue_departments(await org.user("county_reviewer"), today=date(2026, 10, 27)) == []


# Reminders ---------------------------------------------------------------------------------------


async def test_editors_get_a_notice_a_reminder_before_the_due_day_and_an_overdue_warning_once_each(org):
    editor = org.users["agri_editor"].id
    event_id = await record(org, org.agri)
    assert await changes.send_notices(org.portal, event_id, today=NATIONAL_DAY_EVE) == 2  # both editors
    assert await changes.send_notices(org.portal, event_id, today=NATIONAL_DAY_EVE) == 0
    [notice] = await inbox_subjects(editor)
    assert "2026-10-27" in notice and "《山东省公共数据开放办法》修订" in notice
    assert await inbox_subjects(org.users["agri_staff"].id) == []
    # Days with nothing new earned send nothing.
    assert await changes.send_reminders(org.portal, today=date(2026, 10, 9)) == 0
    # Three working days before the due day: 22 October (23, 26, 27 left).
    assert await changes.send_reminders(org.portal, today=date(2026, 10, 21)) == 0
    assert await changes.send_reminders(org.portal, today=date(2026, 10, 22)) == 2  # both editors
    assert await changes.send_reminders(org.portal, today=date(2026, 10, 23)) == 0
    assert len(await inbox_subjects(editor)) == 2
    # Overdue: the editors and the county bureau's officers.
    assert await changes.send_reminders(org.portal, today=date(2026, 10, 28)) == 4
    assert await changes.send_reminders(org.portal, today=date(2026, 10, 29)) == 0
    assert len(await inbox_subjects(editor)) == 3
    [warning] = await inbox_subjects(org.users["county_reviewer"].id)
    assert "农业农村局" in warning


async def test_no_reminder_for_a_department_that_filed_declared_or_whose_change_was_cancelled(org, make_form):
    await record(org, org.agri)
    await file_version(org, make_form, "新资源", on=date(2026, 10, 12), decision=None)
    assert await changes.send_reminders(org.portal, today=date(2026, 10, 28)) == 0
    assert await ChangeDuty.select(ChangeDuty.reminded_stage) == [{"reminded_stage": 0}]


async def test_a_change_recorded_late_sends_the_reminder_it_earned_not_all_of_them(org):
    await changes.record(await org.user("county_reviewer"), event_form(org.agri), org.portal, today=date(2026, 11, 2))
    [event] = await ChangeEvent.select(ChangeEvent.id)
    assert await changes.send_notices(org.portal, event["id"], today=date(2026, 11, 2)) == 4  # overdue already
    assert await changes.send_reminders(org.portal, today=date(2026, 11, 3)) == 0
    assert await ChangeDuty.select(ChangeDuty.reminded_stage) == [{"reminded_stage": changes.STAGE_OVERDUE}]


async def test_the_reminders_run_daily_from_a_durable_schedule(client):
    from portal.jobs.schedule import get_schedule

    schedule = await get_schedule(changes.REMINDER_SCHEDULE)
    assert (schedule["kind"], schedule["cycle"], schedule["hour"]) == (changes.REMINDER_KIND, "daily", 9)


async def test_the_notice_is_queued_with_the_record_and_sent_by_the_worker(org):
    today = local_today()
    await changes.record(await org.user("county_reviewer"), event_form(org.agri, day=today), org.portal, today=today)
    assert await inbox_subjects(org.users["agri_editor"].id) == []
    await org.portal.worker.run_until_idle()
    [notice] = await inbox_subjects(org.users["agri_editor"].id)
    assert changes.due_date(today).isoformat() in notice


async def test_the_statistic_counts_the_updates_due_in_the_period_by_how_they_were_met(org, make_form):
    from plugins.catalog.duty_statistics import change_deadlines
    from portal.reports.forms import period_of

    other = await create_department(None, org.county, "水利局")
    await record(org, org.agri, other)
    await file_version(org, make_form, "新资源", on=date(2026, 10, 29))
    table = await change_deadlines(org.portal, period_of(date(2026, 10, 1), date(2026, 10, 31)))
    # Department, due, in time, late, no change needed, under review, overdue, not yet due.
    assert table.rows == [("黄河县人民政府 农业农村局", 1, 0, 1, 0, 0, 0, 0), ("黄河县人民政府 水利局", 1, 0, 0, 0, 0, 1, 0)]
    assert (await change_deadlines(org.portal, period_of(date(2026, 11, 1), date(2026, 11, 30)))).rows == []


# Over HTTP ---------------------------------------------------------------------------------------


async def as_user(client, org, name: str):
    client.cookies.clear()
    client.headers["accept-language"] = "en"
    await login_as(client, org.users[name])


async def test_over_http_the_bureau_records_a_change_and_the_editor_sees_the_countdown(client, org):
    await as_user(client, org, "county_reviewer")
    form = await client.get("/catalog/changes/new")
    assert form.status_code == 200 and f'name="department" value="{org.agri}"' in form.text \
        and f'name="department" value="{org.market}"' not in form.text
    day = local_today()
    values = {"kind": "duties", "title": "农业农村局职能调整", "description": "新增农村宅基地管理职责。",
              "legal_basis": "黄河县机构编制委员会〔2026〕3号", "occurred_on": day.isoformat(), "department": str(org.agri)}
    missing = await post_form(client, "/catalog/changes", {**values, "title": ""})
    assert missing.status_code == 400 and "Name the change in a title." in missing.text and "新增农村宅基地管理职责。" in missing.text
    assert await ChangeEvent.count() == 0
    recorded = await post_form(client, "/catalog/changes", values)
    assert recorded.status_code == 303
    page = await client.get(recorded.headers["location"])
    assert "农业农村局职能调整" in page.text and changes.due_date(day).isoformat() in page.text and "Cancel the change" in page.text

    await as_user(client, org, "agri_editor")
    mine = await client.get("/catalog/changes")
    assert "农业农村局职能调整" in mine.text and "working days left" in mine.text and "No change needed?" in mine.text
    # The declaration is a plain form: it carries its own CSRF token.
    assert 'name="_csrf_token"' in mine.text.split('action="/catalog/changes/duties/')[1].split("</form>")[0]
    catalog_page = await client.get(f"/catalog/departments/{org.agri}")
    assert "Catalog updates due after a change" in catalog_page.text and "农业农村局职能调整" in catalog_page.text
    home = await client.get("/")
    assert "Catalog updates due" in home.text and "农业农村局职能调整" in home.text
    [duty] = await ChangeDuty.select(ChangeDuty.id)
    declared = await post_form(client, f"/catalog/changes/duties/{duty['id']}/declare", {"reason": "已有目录覆盖新增职责。"})
    assert declared.status_code == 303
    assert "No change needed (declared on" in (await client.get(declared.headers["location"])).text


async def test_over_http_only_the_bureau_records_and_changed_ids_are_refused(client, org):
    event_id = await record(org, org.agri, day=local_today())
    [duty] = await ChangeDuty.select(ChangeDuty.id)
    await as_user(client, org, "agri_editor")
    assert (await client.get("/catalog/changes/new")).status_code == 403
    values = {"kind": "law", "title": "t", "description": "d", "legal_basis": "b", "occurred_on": local_today().isoformat(),
              "department": str(org.agri)}
    assert (await post_form(client, "/catalog/changes", values)).status_code == 403
    assert (await post_form(client, f"/catalog/changes/{event_id}/cancel", {"reason": "x"})).status_code == 403
    assert (await client.get("/catalog/changes/overdue")).status_code == 403

    await as_user(client, org, "market_editor")
    assert (await client.get(f"/catalog/changes/{event_id}")).status_code == 404
    assert (await client.get(f"/catalog/changes/{event_id + 1}")).status_code == 404
    assert (await post_form(client, f"/catalog/changes/duties/{duty['id']}/declare", {"reason": "x"})).status_code == 403
    assert (await post_form(client, f"/catalog/changes/duties/{duty['id'] + 1}/declare", {"reason": "x"})).status_code == 404

    await as_user(client, org, "county_reviewer")
    # A department of the city above, slipped into the form, is refused and nothing is recorded.
    tampered = await post_form(client, "/catalog/changes", {**values, "department": str(org.market)})
    assert tampered.status_code == 400 and "Choose departments of this level or below it." in tampered.text
    assert await ChangeEvent.count() == 1
    await as_user(client, org, "city_reviewer")
    assert (await post_form(client, f"/catalog/changes/{event_id}/cancel", {"reason": "x"})).status_code == 403
    assert (await client.get(f"/catalog/changes/{event_id}")).status_code == 200
    assert (await ChangeEvent.select(ChangeEvent.cancelled_at).first())["cancelled_at"] is None
    assert (await ChangeDuty.select(ChangeDuty.declared_at).first())["declared_at"] is None
