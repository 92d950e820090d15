"""The lists of the home page's columns in Chromium (DOC-10, DOC-13): 通知公告 (/edoc/notices) with its
pager, 工作动态 (/edoc/news) of several departments, and 已发布公文 (/edoc/published); each item
opens, and another unit's staff see none of the county's notices and news.

Runs on its own server (edoc-lists); every actor logs in once for the module and keeps his page.
The twenty older notices (for the second page) are written into the server's database.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pyotp
import pytest

pytestmark = pytest.mark.e2e

# Who does what here: the office head posts notices and proposes the
# handling, two departments post news, the incoming document goes through the secretary, both
# leaders and the department head, a staff member reads, and a township's staff sees nothing.
ACTORS = ("wangfang", "linfeng", "zhoujie", "chenjing", "liuyang", "zhaolei", "lina", "heqiang")
BEIJING = ZoneInfo("Asia/Shanghai")
OLDER_NOTICES = 20  # with the two posted in the test: one full page of 20 and two more
MINUTE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


@pytest.fixture(scope="module")
def server(start_live_server):
    return start_live_server("edoc-lists")


@pytest.fixture(scope="module")
def pages(browser, server, demo_accounts):
    """A logged-in page per actor, kept for the whole module."""
    contexts, pages = [], {}
    for username in ACTORS:
        account = demo_accounts[username]
        context = browser.new_context(base_url=server.url, locale="en-US")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", account["password"])
        _click(page, page.locator("main form button[type=submit]"))
        page.fill("#code", pyotp.TOTP(account["totp_secret"]).now())
        _click(page, page.locator("main form button[type=submit]"))
        assert "/login" not in page.url, page.url
        pages[username] = page
    yield pages
    for context in contexts:
        context.close()


def _click(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def _items(page) -> list[str]:
    return page.locator("ul.bulletins li").all_inner_texts()


def _today() -> str:
    return datetime.now(BEIJING).date().isoformat()


def _write_older_notices(server, author: str) -> None:
    """Notices of the office from one to twenty days ago, as if posted then."""
    now = datetime.now(timezone.utc)
    database = sqlite3.connect(server.data_dir / "portal.sqlite3", timeout=30)
    try:
        (user_id, unit_id) = database.execute("SELECT id, unit FROM core_user WHERE username = ?", (author,)).fetchone()
        database.executemany(
            "INSERT INTO edoc_bulletin (kind, unit, department, title, body, author, created_at, updated_at, updated_by)"
            " VALUES ('notice', ?, NULL, ?, ?, ?, ?, ?, ?)",
            [(unit_id, f"往期通知第{n}号", f"第{n}号通知的正文。", user_id, str(now - timedelta(days=n)), str(now - timedelta(days=n)),
              user_id) for n in range(1, OLDER_NOTICES + 1)])
        database.commit()
    finally:
        database.close()


def _post(page, kind: str, title: str, body: str) -> str:
    """Post from the list's own button; returns the path of the new item."""
    page.goto(f"/edoc/{'notices' if kind == 'notice' else 'news'}")
    _click(page, page.get_by_role("link", name="Post a notice" if kind == "notice" else "Post work news"))
    page.fill("#title", title)
    page.fill("#body", body)
    _click(page, page.locator("form.bulletin-form button[type=submit]"))
    assert page.get_by_role("heading", name=title).is_visible()
    return re.search(r"/edoc/bulletins/\d+$", page.url).group(0)


def test_notices_are_listed_newest_first_page_by_page_and_open(server, pages):
    _write_older_notices(server, "wangfang")
    office = pages["wangfang"]
    first = _post(office, "notice", "关于元旦放假的通知", "1月1日放假一天。\n请各科室安排值班。")
    _post(office, "notice", "关于召开全县安全生产会议的通知", "定于下周一上午九时召开。")

    staff = pages["linfeng"]  # a staff member reads; he may not post notices
    staff.goto("/")
    with staff.expect_navigation():
        staff.locator("section.widget", has=staff.get_by_role("heading", name="Notices and announcements")) \
            .get_by_role("link", name="More").click()
    assert staff.url.endswith("/edoc/notices")
    assert staff.get_by_role("link", name="Post a notice").count() == 0
    items = _items(staff)
    assert len(items) == 20
    assert items[0].startswith("关于召开全县安全生产会议的通知") and items[1].startswith("关于元旦放假的通知")
    for item in items[:2]:
        assert MINUTE.search(item).group(0).startswith(_today())
    assert items[2].startswith("往期通知第1号") and items[19].startswith("往期通知第18号")
    assert staff.get_by_role("link", name="Newer").count() == 0

    _click(staff, staff.get_by_role("link", name="Older"))
    assert [item.split(" ")[0].strip() for item in _items(staff)] == ["往期通知第19号", "往期通知第20号"]
    assert staff.get_by_role("link", name="Older").count() == 0
    _click(staff, staff.get_by_role("link", name="Newer"))
    assert len(_items(staff)) == 20

    _click(staff, staff.get_by_role("link", name="关于元旦放假的通知"))
    assert staff.url.endswith(first)
    assert staff.get_by_role("heading", name="关于元旦放假的通知").is_visible()
    article = staff.locator("article.bulletin")
    assert article.locator("p").all_inner_texts()[1:] == ["1月1日放假一天。", "请各科室安排值班。"]
    assert "王芳" in article.locator(".meta").inner_text() and _today() in article.locator(".meta").inner_text()
    assert staff.get_by_role("link", name="Edit").count() == 0
    _click(staff, staff.locator("main").get_by_role("link", name="Notices and announcements"))
    assert staff.url.endswith("/edoc/notices")

    township = pages["heqiang"]  # 东镇: not the county's notices
    township.goto("/edoc/notices")
    assert _items(township) == ["Nothing posted yet."]
    assert township.goto(first).status == 404


def test_work_news_of_every_department_is_listed_and_opens(pages):
    farming = _post(pages["linfeng"], "news", "全县小麦播种已完成九成", "截至昨日，全县小麦播种进度达90%。")
    _post(pages["zhoujie"], "news", "政务数据共享平台上线试运行", "平台今日起试运行。")

    office = pages["wangfang"]
    office.goto("/edoc/news")
    assert office.get_by_role("heading", name="Work news").is_visible()
    assert office.get_by_role("link", name="Post work news").is_visible()  # staff of the office post its news too
    items = _items(office)
    assert items[0].startswith("政务数据共享平台上线试运行") and "大数据局" in items[0]
    assert items[1].startswith("全县小麦播种已完成九成") and "农业农村局" in items[1]
    assert all(MINUTE.search(item).group(0).startswith(_today()) for item in items[:2])

    _click(office, office.get_by_role("link", name="全县小麦播种已完成九成"))
    assert office.url.endswith(farming)
    meta = office.locator("article.bulletin .meta").inner_text()
    assert "农业农村局" in meta and "林峰" in meta
    assert office.get_by_text("截至昨日，全县小麦播种进度达90%。").is_visible()
    assert office.get_by_role("link", name="Edit").count() == 0  # another department's news

    township = pages["heqiang"]
    township.goto("/edoc/news")
    assert _items(township) == ["Nothing posted yet."]


def _act(page, path: str, opinion: str, button: str = "Approve and pass on") -> None:
    page.goto(path)
    page.fill("#opinion", opinion)
    _click(page, page.get_by_role("button", name="Save opinion"))
    _click(page, page.get_by_role("button", name=button))


def test_a_published_document_is_listed_and_opens_for_every_reader(pages):
    title = "关于做好冬季森林防火工作的通知"
    secretary = pages["chenjing"]
    secretary.goto("/edoc/new?incoming=1")
    secretary.select_option("#doc_type", "通知")
    secretary.fill("#source", "济南市人民政府")
    secretary.fill("#title", title)
    secretary.fill("#body", "各县区人民政府：\n\n请切实做好冬季森林防火工作。")
    _click(secretary, secretary.locator("form.edoc-draft button[type=submit]"))
    path = re.search(r"/edoc/\d+$", secretary.url).group(0)
    _click(secretary, secretary.get_by_role("button", name="Submit"))
    _act(pages["wangfang"], path, "拟请领导阅示，农业农村局办理。")
    _act(secretary, path, "呈领导阅。")
    _act(pages["liuyang"], path, "已阅。")
    _act(pages["zhaolei"], path, "已阅。")
    secretary.goto(path)
    secretary.fill("#opinion", "请农业农村局办理。")
    _click(secretary, secretary.get_by_role("button", name="Save opinion"))
    secretary.select_option("#department", label="农业农村局")
    _click(secretary, secretary.get_by_role("button", name="Approve and pass on"))
    _act(pages["lina"], path, "已落实。")
    _act(secretary, path, "办结。")
    _click(secretary, secretary.get_by_role("button", name="Publish on the home page"))
    assert "Published on the home page on" in secretary.locator(".edoc-published").inner_text()

    reader = pages["linfeng"]  # took no part in it: the document's own page is not his
    assert reader.goto(path).status == 403
    reader.goto("/")
    widget = reader.locator("section.widget", has=reader.get_by_role("heading", name="Published documents"))
    _click(reader, widget.get_by_role("link", name=title))
    assert reader.get_by_role("heading", name=title, level=1).is_visible()
    meta = reader.locator("article.edoc-publication .meta").inner_text()
    assert "通知" in meta and "济南市人民政府" in meta and f"Published on the home page on {_today()}" in meta
    assert reader.locator(".edoc-body p").all_inner_texts() == ["各县区人民政府：", "请切实做好冬季森林防火工作。"]
    assert "已阅。" not in reader.locator("main").inner_text()  # the opinions stay with the document

    _click(reader, reader.locator("main").get_by_role("link", name="Published documents"))
    assert reader.url.endswith("/edoc/published")
    item = reader.locator("ul.bulletins li", has_text=title)
    assert MINUTE.search(item.inner_text()).group(0).startswith(_today())
    _click(reader, item.get_by_role("link", name=title))
    assert reader.get_by_role("heading", name=title, level=1).is_visible()
    assert reader.goto("/edoc/published/999999").status == 404
