"""The public disclosure catalog in Chromium (PUB-1, PUB-4): 吴红, the county's publisher, writes a
notice and publishes it; a visitor who is not logged in finds it in the catalog, in the search
and in the category's Atom feed, on a phone too and without JavaScript; withdrawn, it is gone.

Runs on its own server so the publisher's TOTP code is free there.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.e2e

ATOM = "{http://www.w3.org/2005/Atom}"
TITLE = "关于秋季森林防火的通告"


@pytest.fixture(scope="module")
def server(start_live_server):
    return start_live_server("disclosure")


def test_a_publisher_publishes_and_the_public_finds_it(server, new_page, demo_accounts, e2e):
    visitor = new_page(server, locale="zh-CN")
    visitor.goto("/disclosure")
    assert visitor.get_by_role("heading", name="政府信息公开", level=1).is_visible()
    visitor.get_by_role("link", name="黄河县人民政府").click()
    assert visitor.get_by_role("heading", name="黄河县人民政府 · 政务公开目录").is_visible()
    visitor.get_by_role("link", name="通知公告").click()
    assert visitor.get_by_role("heading", name="通知公告", level=1).is_visible()
    demo_items = visitor.locator("ol.disclosure-items > li").count()
    assert demo_items >= 2  # the demo's notices

    staff = new_page(server, locale="zh-CN")
    e2e.log_in(staff, demo_accounts[e2e.ACCOUNT_OF["disclosure_publisher"]])
    staff.get_by_role("navigation", name="主菜单").get_by_role("link", name="政务公开").click()
    assert staff.get_by_role("heading", name="政务公开目录 · 黄河县人民政府").is_visible()
    staff.get_by_role("link", name="新建信息").first.click()
    staff.select_option("#category", label="通知公告")
    staff.fill("#title", TITLE)
    staff.fill("#document_number", "黄河政告〔2026〕7号")
    staff.fill("#body", "进入秋季森林防火期，严禁野外用火。\n\n<strong>发现火情请立即拨打12119。</strong>")
    e2e.submit(staff, "form.disclosure-form")
    assert staff.get_by_role("status").inner_text() == "草稿已保存。"
    assert staff.get_by_text("草稿", exact=True).is_visible()
    e2e.submit(staff, "section[aria-labelledby=publish-heading] form")
    assert staff.get_by_role("status").inner_text() == "信息已发布。"
    public_url = staff.get_by_role("link", name="/disclosure/items/").inner_text()

    visitor.reload()
    assert visitor.locator("ol.disclosure-items > li").count() == demo_items + 1
    visitor.get_by_role("link", name=TITLE).click()
    assert visitor.get_by_role("heading", name=TITLE, level=1).is_visible()
    assert visitor.get_by_text("黄河政告〔2026〕7号").is_visible()
    assert visitor.locator(".disclosure-body strong").inner_text() == "发现火情请立即拨打12119。"

    visitor.goto("/disclosure")
    visitor.fill("#disclosure-q", "森林防火")
    e2e.submit(visitor, "form.disclosure-search")
    assert visitor.get_by_role("heading", name="找到 1 条信息").is_visible()
    assert visitor.get_by_role("link", name=TITLE).is_visible()

    visitor.goto(public_url)
    visitor.get_by_role("link", name="通知公告").last.click()
    feed_url = visitor.locator("link[rel=alternate][type='application/atom+xml']").get_attribute("href")
    feed = visitor.request.get(feed_url)
    assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml")
    entries = ET.fromstring(feed.body()).findall(f"{ATOM}entry")
    assert entries[0].findtext(f"{ATOM}title") == TITLE
    assert entries[0].find(f"{ATOM}link").get("href").endswith(public_url)

    # Withdrawn: gone from the page, the search and the feed.
    staff.fill("#reason", "通告内容调整，另行发布")
    e2e.submit(staff, "section[aria-labelledby=withdraw-heading] form")
    assert staff.get_by_role("status").inner_text() == "信息已撤回。"
    assert visitor.goto(public_url).status == 404
    visitor.goto("/disclosure/search?q=森林防火")
    assert visitor.get_by_role("heading", name="找到 0 条信息").is_visible()
    assert TITLE not in visitor.request.get(feed_url).text()


def test_the_public_pages_fit_a_phone_and_work_without_javascript(server, new_page):
    phone = new_page(server, locale="zh-CN", viewport={"width": 360, "height": 740}, java_script_enabled=False)
    phone.goto("/disclosure")
    phone.get_by_role("link", name="东镇人民政府").click()
    phone.get_by_role("link", name="政策文件").click()
    phone.locator("ol.disclosure-items a").first.click()
    for path in ("/disclosure", "/disclosure/units/dongzhen", phone.url):
        phone.goto(path)
        assert phone.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), path
    phone.goto("/disclosure/units/dongzhen")
    phone.get_by_label("搜索标题和正文").fill("政务公开")
    with phone.expect_navigation():
        phone.get_by_role("button", name="查询").click()
    assert "unit=dongzhen" in phone.url
    results = phone.locator("ol.disclosure-items > li")
    assert results.count() >= 1 and phone.get_by_role("heading", name="搜索东镇人民政府的公开目录").is_visible()
