"""A request for disclosure (PUB-3) as a citizen and the county's publisher meet it in Chromium.

A citizen, not logged in, files a request to 黄河县人民政府: he first answers the check question
wrongly and finds everything he typed still there, then rightly, and writes down the number and
code. 吴红, the county's publisher, finds it in her queue with its due date (and the unit in the
deadline report) and answers it with a file. The citizen, in a fresh browser, tracks it with number and code and reads the answer.

Runs on its own server so the demo accounts' TOTP codes are free there.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

NUMERALS = "零一二三四五六七八九十"


@pytest.fixture(scope="module")
def server(start_live_server):
    return start_live_server("disclosure-requests")


def solve(question: str) -> int:
    """What a person works out from 七加五等于几？"""
    left, sign, right = re.match(r"(.)([加减])(.)等于几", question).groups()
    left, right = NUMERALS.index(left), NUMERALS.index(right)
    return left + right if sign == "加" else left - right


def fill_request(page) -> None:
    page.select_option("#unit", label="黄河县人民政府")
    page.fill("#name", "张三")
    page.select_option("#id_kind", "id_card")
    page.fill("#id_number", "11010519491231002X")
    page.fill("#phone", "138 0013 8000")
    page.fill("#title", "2025年农村公路建设项目资金分配方案")
    page.fill("#description", "黄河县2025年农村公路建设项目的资金分配明细，含各乡镇金额。")
    page.get_by_label("在本门户查询页查看").check()


def test_a_citizen_files_a_request_staff_answer_and_he_reads_the_answer(server, new_page, demo_accounts, e2e, tmp_path):
    citizen = new_page(server, locale="zh-CN")
    citizen.goto("/disclosure/requests")
    citizen.get_by_role("link", name="提交申请").click()
    assert citizen.get_by_role("heading", name="提交政府信息公开申请").is_visible()
    fill_request(citizen)
    question = citizen.locator("#check-question").inner_text()
    citizen.fill("#check_answer", str(solve(question) + 1))
    e2e.submit(citizen, "#request-form")
    assert "验证问题的答案不正确" in citizen.get_by_role("alert").inner_text()
    # Nothing he typed is lost; a new question is asked.
    assert citizen.input_value("#description") == "黄河县2025年农村公路建设项目的资金分配明细，含各乡镇金额。"
    assert citizen.input_value("#name") == "张三"
    citizen.fill("#check_answer", str(solve(citizen.locator("#check-question").inner_text())))
    e2e.submit(citizen, "#request-form")
    assert citizen.get_by_role("heading", name="申请已收到").is_visible()
    number = citizen.locator("#tracking-number").inner_text()
    code = citizen.locator("#tracking-code").inner_text()
    due = citizen.locator("#due-on").inner_text()
    assert re.fullmatch(r"\d{8}-[0-9A-Z]{6}", number) and re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code)

    staff = new_page(server, locale="zh-CN")
    e2e.log_in(staff, demo_accounts[e2e.ACCOUNT_OF["disclosure_requests_staff"]])
    staff.get_by_role("link", name="依申请公开").first.click()
    staff.get_by_role("link", name="期限情况").click()
    assert "黄河县人民政府" in staff.locator("#report").inner_text()
    staff.go_back()
    row = staff.locator("#queue tr", has=staff.get_by_text(number))
    assert due in row.inner_text() and "还剩" in row.inner_text()
    row.get_by_role("link", name=number).click()
    assert staff.locator("#applicant-name").inner_text() == "张三"
    staff.select_option("#decision", label="予以公开")
    staff.fill("#reply-text", "您申请的资金分配方案见附件。")
    answer_file = tmp_path / "资金分配方案.pdf"
    answer_file.write_bytes(b"%PDF-1.4 allocation")
    staff.set_input_files("#file", str(answer_file))
    e2e.submit(staff, "#reply-form")
    assert "答复已发出" in staff.get_by_role("status").inner_text()
    assert staff.locator("#request-status").inner_text() == "已答复"

    later = new_page(server, locale="zh-CN")  # another day, another browser: only number and code
    later.goto(f"/disclosure/requests/track/{number}")
    assert later.get_by_role("heading", name="查询申请").is_visible()
    later.fill("#code", code.lower())
    e2e.submit(later, "#track-form")
    assert later.locator("#request-status").inner_text() == "已答复"
    reply = later.locator("#reply")
    assert "予以公开" in reply.inner_text() and "您申请的资金分配方案见附件。" in reply.inner_text()
    with later.expect_download() as download:
        reply.get_by_role("link", name="资金分配方案.pdf").click()
    assert download.value.suggested_filename == "资金分配方案.pdf"
    assert "13800138000" not in later.content() and "11010519491231002X" not in later.content()
