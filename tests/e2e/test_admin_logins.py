"""The administrator's login records (MAIL-13, MAIL-20) in Chromium: real logins through the login
page, then the search by user, outcome, address and day, the pager and the CSV download; a
person who is not an administrator is refused.

Runs on its own server. zhangwei mistypes his password, then logs in; someone tries a username
that does not exist; lina (no administrator) is refused; admin searches. hanbing never logs in:
60 records of his from other addresses three days ago are written into the server's database
before any login (made through the form they would lock 127.0.0.1), enough for two pages.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.e2e

BEIJING = ZoneInfo("Asia/Shanghai")
HISTORY = 60  # hanbing's earlier records: one page of 50 and 10 more
HISTORY_AGE = timedelta(days=3)
HISTORY_USER = "hanbing"  # ACCOUNT_OF["admin_logins_history"] (a module fixture cannot ask the e2e fixture)
HEADER = ["Time", "Username", "Address", "Outcome", "Result code", "Browser", "Place", "New place"]


@pytest.fixture(scope="module")
def server(start_live_server):
    server = start_live_server("admin-logins")
    _write_history(server, HISTORY_USER)
    return server


def _write_history(server, username: str) -> None:
    """hanbing's successful logins from 203.0.113.1 … .60, three days ago, oldest first."""
    start = datetime.now(timezone.utc) - HISTORY_AGE
    database = sqlite3.connect(server.data_dir / "portal.sqlite3", timeout=30)
    try:
        (user_id,) = database.execute("SELECT id FROM core_user WHERE username = ?", (username,)).fetchone()
        database.executemany(
            "INSERT INTO core_login_attempt (username, user, ip, user_agent, result, created_at, reason, place, new_place)"
            " VALUES (?, ?, ?, ?, 'ok', ?, '', '', 0)",
            [(username, user_id, f"203.0.113.{n}", "Mozilla/5.0 (Windows NT 10.0) Firefox/128.0", str(start + timedelta(seconds=n)))
             for n in range(1, HISTORY + 1)])
        database.commit()
    finally:
        database.close()


def _beijing_day(moment: datetime) -> str:
    return moment.astimezone(BEIJING).date().isoformat()


def _rows(page) -> list[list[str]]:
    """The table as a person reads it: the cells of each row (Time, Username, Outcome, Address, Place, Browser)."""
    return [row.locator("td").all_inner_texts() for row in page.locator("#login-records tbody tr").all()]


def _search(page, e2e, **fields: str) -> None:
    """Fill the filter form as given (empty the other text fields) and press Search."""
    for name in ("username", "ip", "since", "until"):
        page.fill(f"#{name}", fields.get(name, ""))
    page.select_option("#outcome", label=fields.get("outcome", "All"))
    e2e.submit(page, "form.filters")


def _summary(page) -> str:
    return page.locator("main p.muted").first.inner_text()


def test_a_person_who_is_not_an_administrator_is_refused(server, new_page, demo_accounts, e2e):
    page = new_page(server)
    e2e.log_in(page, demo_accounts[e2e.ACCOUNT_OF["admin_logins_refused"]])
    assert page.locator("header nav a[href='/admin']").count() == 0
    for path in ("/admin/logins", "/admin/logins.csv?username=zhangwei"):
        response = page.goto(path)
        assert response.status == 403, path
        assert page.locator("h1").inner_text() == "Not allowed"
        assert page.locator("#login-records").count() == 0


def test_the_administrator_finds_pages_through_and_downloads_login_records(server, new_page, demo_accounts, e2e):
    person = demo_accounts[e2e.ACCOUNT_OF["admin_logins_person"]]
    page = new_page(server)
    e2e.enter_password(page, person["username"], "not-his-password")
    assert page.url.endswith("/login") and page.locator("[role=alert]").is_visible()
    e2e.log_in(page, person)
    assert person["display_name"] in page.locator("header .who").inner_text()
    user_agent = page.evaluate("navigator.userAgent")
    stranger = new_page(server)
    e2e.enter_password(stranger, "no-such-user", "whatever-password")
    assert stranger.url.endswith("/login")

    admin = new_page(server)
    e2e.log_in(admin, demo_accounts[e2e.ACCOUNT_OF["admin_logins"]])
    with admin.expect_navigation():
        admin.locator("header nav a[href='/admin']").click()
    with admin.expect_navigation():
        admin.locator("main nav a[href='/admin/logins']").click()
    assert admin.locator("h1").inner_text() == "Login records"

    # Newest first: the administrator's own login, the stranger's, zhangwei's login and his mistake.
    newest = _rows(admin)[:4]
    assert [(r[1], r[2], r[3]) for r in newest] == [
        ("admin", "Login succeeded", "127.0.0.1"), ("no-such-user", "Unknown username", "127.0.0.1"),
        (person["username"], "Login succeeded", "127.0.0.1"), (person["username"], "Wrong password", "127.0.0.1")]
    now = datetime.now(BEIJING)
    for row in newest:
        assert abs(datetime.strptime(row[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING) - now) < timedelta(minutes=10)
        assert row[4] == "Local network"  # 127.0.0.1, never the stored code "@local"
    assert newest[2][5] == user_agent

    # By user: his two attempts; the username leads to his account.
    _search(admin, e2e, username=person["username"].upper())
    assert admin.locator("#username").input_value() == person["username"].upper()
    assert _summary(admin).startswith("2 records")
    assert [(r[1], r[2]) for r in _rows(admin)] == [(person["username"], "Login succeeded"), (person["username"], "Wrong password")]
    assert re.fullmatch(r"/admin/users/\d+", admin.locator("#login-records tbody tr").first.locator("a").first.get_attribute("href"))

    # The CSV holds what the page shows, with the same filter.
    with admin.expect_download() as info:
        admin.get_by_role("link", name="Download as CSV").click()
    download = info.value
    assert re.fullmatch(r"login-records-\d{8}\.csv", download.suggested_filename)
    content = open(download.path(), "rb").read()
    assert content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(content.decode("utf-8").lstrip("\ufeff"))))
    assert table[0] == HEADER
    assert [row[1:7] for row in table[1:]] == [
        [person["username"], "127.0.0.1", "Login succeeded", "ok", user_agent, "Local network"],
        [person["username"], "127.0.0.1", "Wrong password", "bad_password", user_agent, "Local network"]]
    assert all(row[7] == "" for row in table[1:])  # neither was from a new place
    assert table[1][0] == _rows(admin)[0][0]

    # By outcome: the two failures of today (hanbing's 60 records are successes).
    _search(admin, e2e, outcome="Not successful")
    assert [(r[1], r[2]) for r in _rows(admin)] == [("no-such-user", "Unknown username"), (person["username"], "Wrong password")]

    # By the beginning of an address: hanbing's 60 records, 50 a page.
    _search(admin, e2e, ip="203.0.113.")
    assert _summary(admin).startswith(f"{HISTORY} records")
    assert admin.locator("nav.pager").inner_text().startswith("Page 1 of 2")
    assert len(_rows(admin)) == 50
    assert _rows(admin)[0][3] == "203.0.113.60"
    with admin.expect_navigation():
        admin.get_by_role("link", name="Next page").click()
    assert "Page 2 of 2" in admin.locator("nav.pager").inner_text()
    assert admin.locator("#ip").input_value() == "203.0.113."  # the filter is kept
    second = _rows(admin)
    assert [r[3] for r in second] == [f"203.0.113.{n}" for n in range(10, 0, -1)]
    assert admin.get_by_role("link", name="Next page").count() == 0

    # An address in a row shows the records of that address, not of every address it begins.
    with admin.expect_navigation():
        admin.get_by_role("link", name="203.0.113.1", exact=True).click()
    assert admin.locator("#ip").input_value() == "203.0.113.1"
    assert [(r[1], r[3]) for r in _rows(admin)] == [(HISTORY_USER, "203.0.113.1")]
    admin.go_back()
    with admin.expect_navigation():
        admin.get_by_role("link", name="Previous page").click()
    assert len(_rows(admin)) == 50 and "Page 1 of 2" in admin.locator("nav.pager").inner_text()

    # By day (Beijing time): three days ago only hanbing's records; today none of his.
    then = _beijing_day(datetime.now(timezone.utc) - HISTORY_AGE + timedelta(seconds=30))
    _search(admin, e2e, since=then, until=then)
    assert _summary(admin).startswith(f"{HISTORY} records")
    assert {r[1] for r in _rows(admin)} == {HISTORY_USER}
    today = _beijing_day(datetime.now(timezone.utc))
    _search(admin, e2e, username=HISTORY_USER, since=today, until=today)
    assert _rows(admin) == [["No login records match."]]

    # A bad filter is explained, and nothing is exported for it.
    _search(admin, e2e, ip="203.0.113.%")
    assert "Enter an address or its beginning" in admin.locator("#ip-error").inner_text()
    assert admin.get_by_role("link", name="Download as CSV").count() == 0
