"""The home page's notices and work news (DOC-13) and a document's attachment versions (DOC-5),
as the demo users meet them in Chromium.

王芳 of the office posts a notice; 林峰 of 农业农村局 posts his department's work news and sees
both on his home page; 徐燕 attaches a file to her draft, is refused when she uploads the body,
replaces the attachment and downloads both versions.

Runs on its own server so the demo accounts' TOTP codes are free there.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(start_live_server):
    return start_live_server("edoc-parts")


def test_a_notice_and_work_news_appear_on_the_home_page(server, new_page, demo_accounts, e2e):
    office = new_page(server, locale="zh-CN")
    e2e.log_in(office, demo_accounts[e2e.ACCOUNT_OF["edoc_parts_office"]])
    office.get_by_role("link", name="发布通知公告").first.click()
    office.fill("#title", "关于国庆节放假安排的通知")
    office.fill("#body", "10月1日至8日放假调休，共8天。\n<b>请各部门做好值班安排。</b>")
    e2e.submit(office, "form.bulletin-form")
    assert office.get_by_role("heading", name="关于国庆节放假安排的通知").is_visible()
    assert office.get_by_text("<b>请各部门做好值班安排。</b>").is_visible()

    staff = new_page(server, locale="zh-CN")
    e2e.log_in(staff, demo_accounts[e2e.ACCOUNT_OF["edoc_parts_staff"]])
    assert staff.get_by_role("link", name="关于国庆节放假安排的通知").is_visible()
    staff.get_by_role("link", name="发布工作动态").first.click()
    assert staff.get_by_role("heading", name="工作动态 · 农业农村局").is_visible()
    staff.fill("#title", "全县秋粮收获进度过半")
    staff.fill("#body", "截至目前，全县秋粮收获进度达55%。")
    e2e.submit(staff, "form.bulletin-form")
    staff.get_by_role("link", name="编辑").click()
    staff.fill("#title", "全县秋粮收获进度过六成")
    e2e.submit(staff, "form.bulletin-form")
    staff.goto("/")
    news = staff.locator("section.widget", has=staff.get_by_role("heading", name="工作动态"))
    assert news.get_by_role("link", name="全县秋粮收获进度过六成").is_visible()
    assert news.get_by_text("农业农村局").is_visible()
    staff.get_by_role("link", name="全县秋粮收获进度过六成").click()
    assert staff.get_by_text("截至目前，全县秋粮收获进度达55%。").is_visible()


def test_attachments_are_versioned_and_the_body_is_refused(server, new_page, demo_accounts, e2e, tmp_path):
    page = new_page(server, locale="zh-CN")
    e2e.log_in(page, demo_accounts[e2e.ACCOUNT_OF["edoc_parts_drafter"]])
    page.goto("/edoc/new")  # her draft: she changes its attachments while it is with her
    page.fill("#title", "关于申请秋粮烘干设备补助资金的请示")
    e2e.submit(page, "form.edoc-draft")
    page.get_by_role("link", name="附件的所有版本").click()

    body = tmp_path / "关于申请秋粮烘干设备补助资金的请示.docx"
    body.write_bytes(b"the body")
    page.set_input_files("form.upload input[type=file]", str(body))
    e2e.submit(page, "form.upload")
    assert "正文不能作为附件" in page.get_by_role("alert").inner_text()
    assert page.get_by_text("无附件。").is_visible()

    first = tmp_path / "设备清单.xlsx"
    first.write_bytes(b"version one")
    page.set_input_files("form.upload input[type=file]", str(first))
    e2e.submit(page, "form.upload")
    second = tmp_path / "设备清单（修改）.xlsx"
    second.write_bytes(b"version two")
    page.set_input_files("form.replace input[type=file]", str(second))
    e2e.submit(page, "form.replace")

    rows = page.locator("section.attachment tbody tr")
    assert rows.count() == 2
    assert "2" in rows.nth(0).inner_text() and "当前" in rows.nth(0).inner_text()
    for row, name, content in ((rows.nth(0), "设备清单（修改）.xlsx", b"version two"), (rows.nth(1), "设备清单.xlsx", b"version one")):
        with page.expect_download() as info:
            row.get_by_role("link", name=name).click()
        download = info.value
        assert download.suggested_filename == name
        assert open(download.path(), "rb").read() == content
