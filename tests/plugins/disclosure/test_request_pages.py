"""The pages of requests for disclosure (PUB-3): the public form with its human check, CSRF,
limits and rate limit; tracking by number and code; the unit's queue and actions, and who may
see them."""

import html
import re
from datetime import date

import pytest
from litestar.testing import AsyncTestClient

from plugins.disclosure import human_check
from plugins.disclosure.request_tables import InfoRequest
from portal.accounts.services import UnitForm, create_unit
from portal.localtime import today
from portal.testing import login_as, post_form

SECRET = "test-secret-key"
NEW = "/disclosure/requests/new"
TRACK = "/disclosure/requests/track"
DESCRIPTION = "黄河县2025年农村公路建设项目的资金分配明细，含各乡镇金额。"


@pytest.fixture
async def org(client, other_browser, make_user):
    for browser in (client, other_browser):
        browser.headers["accept-language"] = "en"  # the default locale is zh_CN
    county = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, "huanghe.gov.example", "黄河办"))
    town = await create_unit(None, UnitForm("东镇人民政府", "dongzhen", "township", county, "dongzhen.gov.example", "东镇"))
    return {
        "county": county, "town": town,
        "clerk": await make_user("clerk", roles=["publisher", "staff"], unit_id=county),
        "town_clerk": await make_user("townclerk", roles=["publisher", "staff"], unit_id=town),
        "staff": await make_user("plainstaff", roles=["staff"], unit_id=county),
    }


@pytest.fixture
async def other_browser(app):
    """A second browser on the same portal (its own cookies)."""
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as browser:
        browser.follow_redirects = False
        yield browser


def fields(unit_id: int, **changes) -> dict:
    values = {"unit": str(unit_id), "applicant_kind": "person", "name": "张三", "id_kind": "id_card",
              "id_number": "11010519491231002X", "phone": "13800138000", "email": "", "address": "",
              "title": "2025年农村公路建设项目资金分配方案", "description": DESCRIPTION, "purpose": "", "delivery": "online"}
    values.update(changes)
    return values


def check_of(page: str) -> tuple[str, str]:
    """The form's check token and the right answer (what a person reads and works out)."""
    token = html.unescape(re.search(r'name="check_token" value="([^"]+)"', page).group(1))
    return token, str(human_check.expected_answer(SECRET, token))


async def file(client, unit_id: int, answer: str | None = None, **changes):
    page = await client.get(NEW)
    assert page.status_code == 200
    token, right = check_of(page.text)
    return await post_form(client, NEW, {**fields(unit_id, **changes), "check_token": token,
                                         "check_answer": right if answer is None else answer})


def number_and_code(page: str) -> tuple[str, str]:
    number = re.search(r'id="tracking-number">([^<]+)<', page).group(1)
    code = re.search(r'id="tracking-code">([^<]+)<', page).group(1)
    return number, code


async def test_a_visitor_finds_the_request_form_from_the_disclosure_home(client):
    page = await client.get("/disclosure")
    assert page.status_code == 200
    assert 'href="/disclosure/requests/new"' in page.text and 'href="/disclosure/requests/track"' in page.text
    form = await client.get("/disclosure/requests/new")
    assert form.status_code == 200 and 'action="/disclosure/requests/new"' in form.text


async def test_a_citizen_files_a_request_and_sees_its_status_with_number_and_code(client, other_browser, org):
    response = await file(client, org["county"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    number, code = number_and_code(response.text)
    assert number.startswith(f"{today():%Y%m%d}-") and "黄河县人民政府" in response.text
    # Another browser: the number alone opens nothing.
    assert (await other_browser.get(f"{TRACK}/{number}")).status_code == 303
    assert (await other_browser.get(f"{TRACK}/{number}/attachment")).status_code == 404
    wrong = await post_form(other_browser, TRACK, {"number": number, "code": "AAAAA-AAAAA"})
    assert wrong.status_code == 400 and "No request matches" in wrong.text
    assert "张" not in wrong.text and "农村公路" not in wrong.text
    unknown = await post_form(other_browser, TRACK, {"number": "20200101-AAAAAA", "code": code})
    assert unknown.status_code == 400 and unknown.text.count("No request matches") == 1
    found = await post_form(other_browser, TRACK, {"number": number.lower(), "code": code.lower()})
    assert found.status_code == 303 and found.headers["location"] == f"{TRACK}/{number}"
    page = await other_browser.get(found.headers["location"])
    assert page.status_code == 200 and "Being handled" in page.text and "2025年农村公路建设项目资金分配方案" in page.text
    assert "13800138000" not in page.text and "11010519491231002X" not in page.text and "张*" in page.text
    # "Done" forgets it in that browser.
    assert (await post_form(other_browser, f"{TRACK}/{number}/forget")).status_code == 303
    assert (await other_browser.get(f"{TRACK}/{number}")).status_code == 303


async def test_without_the_csrf_token_nothing_is_filed(client, org):
    page = await client.get(NEW)
    token, right = check_of(page.text)
    response = await client.post(NEW, data={**fields(org["county"]), "check_token": token, "check_answer": right})
    assert response.status_code == 403
    assert await InfoRequest.count() == 0


async def test_a_wrong_answer_keeps_what_was_typed_and_asks_a_new_question(client, org):
    page = await client.get(NEW)
    token, right = check_of(page.text)
    response = await post_form(client, NEW, {**fields(org["county"], purpose="用于研究"), "check_token": token,
                                             "check_answer": str(int(right) + 1)})
    assert response.status_code == 400
    assert 'role="alert"' in response.text and "The answer to the check question was not right" in response.text
    assert DESCRIPTION in response.text and 'value="张三"' in response.text and "用于研究" in response.text
    assert 'aria-invalid="true" aria-describedby="check_answer-error"' in response.text
    new_token, new_right = check_of(response.text)
    assert new_token != token
    assert await InfoRequest.count() == 0
    # The old question cannot be answered again, even rightly; the new one can.
    again = await post_form(client, NEW, {**fields(org["county"]), "check_token": token, "check_answer": right})
    assert again.status_code == 400 and "already answered" in again.text
    done = await post_form(client, NEW, {**fields(org["county"]), "check_token": new_token, "check_answer": new_right})
    assert done.status_code == 200 and await InfoRequest.count() == 1


async def test_bad_fields_are_marked_and_kept_before_the_check_is_used(client, org):
    page = await client.get(NEW)
    token, right = check_of(page.text)
    response = await post_form(client, NEW, {**fields(org["county"], title="长" * 201, id_number="110105194912310021",
                                                      delivery="post"), "check_token": token, "check_answer": right})
    assert response.status_code == 400
    assert "At most 200 characters." in response.text and "resident identity card" in response.text
    assert "postal address" in response.text and "长" * 201 in response.text and DESCRIPTION in response.text
    # The question was not used up by a form that had other faults.
    done = await post_form(client, NEW, {**fields(org["county"]), "check_token": token, "check_answer": right})
    assert done.status_code == 200
    assert (await file(client, org["county"], unit="999")).status_code == 400
    assert await InfoRequest.count() == 1


async def test_an_oversized_form_and_a_filled_honeypot_file_nothing(client, org):
    response = await file(client, org["county"], description="x" * (3 * 1024 * 1024))
    assert response.status_code == 413
    robot = await file(client, org["county"], website="http://spam.example")
    assert robot.status_code == 400 and "could not be accepted" in robot.text
    assert await InfoRequest.count() == 0


async def test_filing_and_tracking_are_rate_limited_per_address(make_app):
    app = make_app(rate_limit_submit_ip="2/minute", rate_limit_lookup_ip="2/minute", secret_key=SECRET)
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as client:
        client.follow_redirects = False
        client.headers["accept-language"] = "en"
        # The unit's own id: on PostgreSQL ids are not 1 again after earlier tests' rows.
        county = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, "huanghe.gov.example", "黄河办"))
        assert (await file(client, county)).status_code == 200
        assert (await file(client, county, answer="0")).status_code == 400
        limited = await file(client, county)
        assert limited.status_code == 429 and "retry-after" in limited.headers
        assert await InfoRequest.count() == 1
        for _ in range(2):
            assert (await post_form(client, TRACK, {"number": "20260101-AAAAAA", "code": "x"})).status_code == 400
        assert (await post_form(client, TRACK, {"number": "20260101-AAAAAA", "code": "x"})).status_code == 429
        # Reading pages is not limited by these.
        assert (await client.get(NEW)).status_code == 200


async def test_the_units_staff_answer_and_the_citizen_sees_the_answer(client, other_browser, org):
    number, code = number_and_code((await file(other_browser, org["county"])).text)
    request_id = (await InfoRequest.select(InfoRequest.id).where(InfoRequest.number == number).first())["id"]
    await login_as(client, org["clerk"])
    queue = await client.get("/disclosure/requests/manage")
    assert queue.status_code == 200 and number in queue.text and "1 open request" in queue.text
    detail = await client.get(f"/disclosure/requests/manage/{request_id}")
    assert "13800138000" in detail.text and "11010519491231002X" in detail.text
    url = f"/disclosure/requests/manage/{request_id}"
    # A refusal without a reason is refused, and what was typed stays.
    refused = await post_form(client, f"{url}/reply", {"decision": "partial", "reply": "部分信息涉及个人隐私。", "reason": ""})
    assert refused.status_code == 400 and "Give the reason" in refused.text and "部分信息涉及个人隐私。" in refused.text
    extended = await post_form(client, f"{url}/extend", {"extension_reason": "需征求第三方意见"})
    assert extended.status_code == 303
    replied = await post_form(client, f"{url}/reply", {"decision": "partial", "reply": "现将可公开部分提供如下。",
                                                      "reason": "其余部分涉及个人隐私，依据第十五条不予公开。"},
                              files={"file": ("资金分配表.pdf", b"%PDF-1.4 table", "application/pdf")})
    assert replied.status_code == 303
    page = await client.get(url)
    assert "The reply was sent" in page.text and "Partly disclosed" in page.text
    assert (await client.get(f"{url}/attachment")).content == b"%PDF-1.4 table"
    again = await post_form(client, f"{url}/reply", {"decision": "granted", "reply": "x", "reason": ""})
    assert again.status_code == 409 and "answered or closed meanwhile" in again.text
    # The citizen, with his code, sees the extension, the answer and the file.
    await post_form(other_browser, f"{TRACK}/{number}/forget")
    assert (await post_form(other_browser, TRACK, {"number": number, "code": code})).status_code == 303
    tracked = await other_browser.get(f"{TRACK}/{number}")
    assert "Answered" in tracked.text and "现将可公开部分提供如下。" in tracked.text and "需征求第三方意见" in tracked.text
    assert "其余部分涉及个人隐私" in tracked.text
    download = await other_browser.get(f"{TRACK}/{number}/attachment")
    assert download.content == b"%PDF-1.4 table" and download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")


async def test_another_units_staff_cannot_see_or_act(client, other_browser, org):
    number, _code = number_and_code((await file(other_browser, org["county"])).text)
    request_id = (await InfoRequest.select(InfoRequest.id).where(InfoRequest.number == number).first())["id"]
    url = f"/disclosure/requests/manage/{request_id}"
    await login_as(client, org["town_clerk"])
    assert number not in (await client.get("/disclosure/requests/manage?view=all")).text
    assert (await client.get(url)).status_code == 404
    assert (await client.get(f"{url}/attachment")).status_code == 404
    assert (await post_form(client, f"{url}/reply", {"decision": "granted", "reply": "x", "reason": ""})).status_code == 404
    assert (await post_form(client, f"{url}/extend", {"extension_reason": "x"})).status_code == 404
    assert (await post_form(client, f"{url}/close", {"close_reason": "x"})).status_code == 404
    report = await client.get("/disclosure/requests/manage/report")
    assert report.status_code == 200 and number not in report.text
    # Staff without the permission get 403; a visitor is asked to log in.
    await login_as(client, org["staff"])
    assert (await client.get(url)).status_code == 403
    assert (await client.get("/disclosure/requests/manage")).status_code == 403
    assert (await other_browser.get(url)).status_code in (302, 303, 401)
    row = await InfoRequest.select(InfoRequest.status, InfoRequest.due_on, InfoRequest.original_due_on).where(
        InfoRequest.id == request_id).first()
    assert row["status"] == "open" and row["due_on"] == row["original_due_on"]


async def test_overdue_requests_are_flagged_in_the_queue_and_the_report(client, other_browser, org, make_user):
    number, _code = number_and_code((await file(other_browser, org["county"])).text)
    await InfoRequest.update({InfoRequest.due_on: date(2026, 1, 5), InfoRequest.received_on: date(2025, 12, 1)}).where(
        InfoRequest.number == number)
    await login_as(client, org["clerk"])
    queue = await client.get("/disclosure/requests/manage")
    assert 'class="overdue"' in queue.text and "1 overdue" in queue.text and "Overdue by" in queue.text
    overdue = await client.get("/disclosure/requests/manage?view=overdue")
    assert number in overdue.text
    report = await client.get("/disclosure/requests/manage/report")
    assert number in report.text and "黄河县人民政府" in report.text
    admin = await make_user("boss", roles=["admin"], unit_id=org["town"])
    await login_as(client, admin)
    everywhere = await client.get("/disclosure/requests/manage/report")
    # Administrators see every unit's overdue requests by number, not their content.
    assert number in everywhere.text and "农村公路" not in everywhere.text
    stats = await client.get("/admin/statistics?stat=disclosure.requests")
    assert stats.status_code == 200 and "Requests for disclosure per unit" in stats.text and "黄河县人民政府" in stats.text


async def test_the_unit_asks_for_details_and_the_citizen_sends_them_on_the_tracking_page(client, other_browser, org):
    number, code = number_and_code((await file(other_browser, org["county"])).text)
    request_id = (await InfoRequest.select(InfoRequest.id).where(InfoRequest.number == number).first())["id"]
    url = f"/disclosure/requests/manage/{request_id}"
    await login_as(client, org["clerk"])
    bad = await post_form(client, f"{url}/supplement", {"supplement_request": "请说明年份", "supplement_days": "99"})
    assert bad.status_code == 400 and "between 1 and 60" in bad.text and "请说明年份" in bad.text
    asked = await post_form(client, f"{url}/supplement", {"supplement_request": "请说明所需信息的年份", "supplement_days": "10"})
    assert asked.status_code == 303
    assert "Waits for the applicant" in (await client.get(url)).text
    # A visitor without the code cannot send details.
    assert (await post_form(client, f"{TRACK}/{number}/supplement", {"supplement": "冒充"})).status_code == 404
    page = await other_browser.get(f"{TRACK}/{number}")  # he filed it in this browser a moment ago
    assert "请说明所需信息的年份" in page.text and "Waiting for more details" in page.text
    empty = await post_form(other_browser, f"{TRACK}/{number}/supplement", {"supplement": "  "})
    assert empty.status_code == 400 and "Write the details" in empty.text
    sent = await post_form(other_browser, f"{TRACK}/{number}/supplement", {"supplement": "2025年度的方案"})
    assert sent.status_code == 303
    page = await other_browser.get(f"{TRACK}/{number}")
    assert "Your details were sent" in page.text and "2025年度的方案" in page.text and "Being handled" in page.text
    assert "2025年度的方案" in (await client.get(url)).text
    again = await post_form(other_browser, f"{TRACK}/{number}/supplement", {"supplement": "再补充"})
    assert again.status_code == 400 and "not waiting for details" in again.text
    assert code  # the code was not needed: this browser had shown it
