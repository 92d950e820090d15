"""The administrator reads the statistics (chart and CSV, MAIL-14) and locks an account from the
account health page (MAIL-11), in Chromium.

admin logs in with its recovery codes #5 and #6 (``ACCOUNT_OF["admin_reports"]``); hanbing is
the account under attack and locked. The attack is ten failed logins from other addresses two
hours ago, written into the server's database: made through the login form they would lock
127.0.0.1, the address every test on the shared server comes from.
"""

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.e2e

STATISTICS_CODE = 4  # recovery code #5
HEALTH_CODE = 5  # recovery code #6
NEW_PASSWORD = "hanbing-new-password-2026"


def log_in_with_recovery_code(page, account: dict, index: int, e2e) -> None:
    e2e.enter_password(page, account["username"], account["password"])
    assert page.url.endswith("/login/verify"), page.url
    with page.expect_navigation():
        page.locator("main a[href='/login/recovery']").click()
    page.fill("#code", account["recovery_codes"][index])
    e2e.submit(page)
    assert page.url.endswith("/"), page.url


def test_statistics_show_a_chart_and_download_as_csv(new_page, live_server, demo_accounts, e2e):
    admin = new_page(live_server)
    log_in_with_recovery_code(admin, demo_accounts[e2e.ACCOUNT_OF["admin_reports"]], STATISTICS_CODE, e2e)
    with admin.expect_navigation():
        admin.locator("header nav a[href='/admin']").click()
    with admin.expect_navigation():
        admin.locator("main nav a[href='/admin/statistics']").click()

    # The first statistic is the mail per day: a line chart drawn by the server, with its table.
    heading = admin.locator("#statistic h2").inner_text()
    assert heading == "Mail sent and received per day"
    chart = admin.locator("#statistic svg.chart")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 150
    assert admin.locator("#statistic svg.chart polyline").count() == 3  # sent, recipients, received
    assert admin.locator("#statistic table tbody tr").count() == 30  # the last 30 days

    # Logins per day: this very login is counted today.
    with admin.expect_navigation():
        admin.locator(".stat-list a", has_text="Logins per day").click()
    today_row = admin.locator("#statistic table tbody tr").last
    assert int(today_row.locator("td").nth(1).inner_text()) >= 1
    assert admin.locator("#statistic svg.chart").is_visible()

    with admin.expect_download() as download_info:
        admin.locator("#csv-download").click()
    download = download_info.value
    assert download.suggested_filename.startswith("core-logins-") and download.suggested_filename.endswith(".csv")
    content = open(download.path(), "rb").read()
    assert content.startswith("\ufeff".encode())
    lines = content.decode("utf-8").lstrip("\ufeff").splitlines()
    assert lines[0] == "Day,Logins,Failed attempts,\"Refused (locked, disabled)\""
    assert len(lines) == 31


def _attack(server, username: str, count: int = 10) -> None:
    when = datetime.now(timezone.utc) - timedelta(hours=2)
    database = sqlite3.connect(server.data_dir / "portal.sqlite3", timeout=30)
    try:
        (user_id,) = database.execute("SELECT id FROM core_user WHERE username = ?", (username,)).fetchone()
        database.executemany(
            "INSERT INTO core_login_attempt (username, user, ip, user_agent, result, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(username, user_id, f"198.51.100.{n}", "curl/8", "bad_password", str(when + timedelta(seconds=n)))
             for n in range(count)])
        database.commit()
    finally:
        database.close()


def test_the_administrator_requires_a_new_password_then_locks_an_account_under_attack(new_page, live_server, demo_accounts, e2e):
    victim = demo_accounts[e2e.ACCOUNT_OF["admin_reports_locked"]]
    _attack(live_server, victim["username"])
    admin = new_page(live_server)
    log_in_with_recovery_code(admin, demo_accounts[e2e.ACCOUNT_OF["admin_reports"]], HEALTH_CODE, e2e)
    admin.goto("/admin")
    with admin.expect_navigation():
        admin.locator("main nav a[href='/admin/account-health']").click()
    row = admin.locator(f"#health-attack tr[data-username='{victim['username']}']")
    assert "10 failed logins from 10 addresses" in row.inner_text()

    # First a new password: at the next login the user sets one before anything else.
    with admin.expect_navigation():
        row.locator("button", has_text="Require a new password").click()
    assert "must choose a new password" in admin.locator("[role=status]").inner_text()
    assert "New password required" in admin.locator(f"#health-attack tr[data-username='{victim['username']}']").inner_text()

    person = new_page(live_server)
    e2e.log_in(person, victim)
    assert person.url.endswith("/login/new-password"), person.url
    person.goto("/webmail")
    assert person.url.endswith("/login/new-password")
    person.fill("#new", NEW_PASSWORD)
    person.fill("#confirm", NEW_PASSWORD)
    e2e.submit(person)
    assert person.url.endswith("/")
    assert "password was changed" in person.locator("[role=status]").inner_text()
    assert victim["display_name"] in person.locator("header .who").inner_text()

    # Then the lock: the open session is over and the new password no longer lets anyone in.
    admin.reload()
    row = admin.locator(f"#health-attack tr[data-username='{victim['username']}']")
    with admin.expect_navigation():
        row.locator("button", has_text="Lock").click()
    assert "is locked" in admin.locator("[role=status]").inner_text()
    row = admin.locator(f"#health-attack tr[data-username='{victim['username']}']")
    assert "Locked" in row.inner_text() and row.locator("button", has_text="Lock").count() == 0

    person.reload()
    assert "/login" in person.url
    e2e.enter_password(person, victim["username"], NEW_PASSWORD)
    assert person.url.endswith("/login")
    assert "disabled" in person.locator("[role=alert]").inner_text()

    admin.goto("/admin/audit?action=core.user.")
    audit = admin.locator("#audit tbody").inner_text()
    assert "core.user.lock" in audit and "core.user.require_password_change" in audit
