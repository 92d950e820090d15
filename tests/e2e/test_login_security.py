"""Login restrictions and login geolocation as an administrator and the users meet them, in Chromium
(MAIL-13, MAIL-20).

An administrator restricts heqiang by network, guoli by terminal and majun by time through the
rule pages; each is refused after the password with the reason in plain words. He uploads an
IP library placing 127.0.0.0/8 in 山东省 济南市; luohui logs in, the library changes to place the
same address in 北京市, luohui logs in again and finds the alert in his inbox and his records.

Runs on its own server: the rules and the library would change what the other tests see, and the
administrator logs in once here without racing the other tests for his TOTP code.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pyotp
import pytest

pytestmark = pytest.mark.e2e

CHROME_DESKTOP = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/126.0.0.0 Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")


@pytest.fixture(scope="module")
def server(start_live_server):
    return start_live_server("login-security")


def _submit(page, form: str = "main form") -> None:
    with page.expect_navigation():
        page.locator(form).locator("button[type=submit]").click()


def _password(page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    _submit(page)


@pytest.fixture(scope="module")
def admin(browser, server, demo_accounts):
    """One administrator session for the module: his TOTP code is used once."""
    context = browser.new_context(base_url=server.url, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    account = demo_accounts["admin"]
    _password(page, account["username"], account["password"])
    page.fill("#code", pyotp.TOTP(account["totp_secret"]).now())
    _submit(page)
    yield page
    context.close()


def create_rule(admin, name: str, username: str, *, networks: str = "", terminals: tuple[str, ...] = (),
                weekdays: tuple[int, ...] = (), start: str = "", end: str = "") -> None:
    """Through the menu to the form, as an administrator finds it, then fill it in."""
    admin.goto("/admin")
    with admin.expect_navigation():
        admin.locator("main nav a[href='/admin/login-rules']").click()
    with admin.expect_navigation():
        admin.locator("main a[href='/admin/login-rules/new']").click()
    form = admin.locator("main form[action='/admin/login-rules']")
    form.locator("#name").fill(name)
    form.locator("input[name=scope][value=user]").check()
    form.locator("#username").fill(username)
    form.locator("#networks").fill(networks)
    for terminal in terminals:
        form.locator(f"input[name=terminals][value={terminal}]").check()
    for day in weekdays:
        form.locator(f"input[name=weekdays][value='{day}']").check()
    form.locator("#start").fill(start)
    form.locator("#end").fill(end)
    _submit(admin, "main form[action='/admin/login-rules']")


def refusal(page) -> str:
    assert page.url.endswith("/login"), page.url
    assert page.locator("#code").count() == 0  # no second step
    return page.locator("[role=alert]").inner_text()


def test_a_user_refused_by_network_address(admin, new_page, server, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["rule_network"]]

    # A mistake first: the form says what is wrong and keeps what was typed.
    create_rule(admin, "东镇 office network", account["username"], networks="10.20.1.1/16")
    assert admin.url.endswith("/admin/login-rules")
    assert "did you mean 10.20.0.0/16?" in admin.locator("#networks-error").inner_text()
    assert admin.locator("#name").input_value() == "东镇 office network"
    admin.locator("#networks").fill("10.20.0.0/16\n2001:db8:20::/48")
    _submit(admin, "main form[action='/admin/login-rules']")
    assert "was created" in admin.locator("[role=status]").inner_text()
    row = admin.locator("#login-rules tbody tr", has_text="东镇 office network")
    assert account["username"] in row.inner_text() and "10.20.0.0/16" in row.inner_text()

    page = new_page(server)
    _password(page, account["username"], account["password"])  # from 127.0.0.1: outside the network
    assert refusal(page) == "Login is not allowed from your network address."

    # The administrator sees the refusal and its reason in the user's login records.
    admin.goto(f"/admin/users?q={account['username']}")
    with admin.expect_navigation():
        admin.locator("#user-rows a", has_text=account["username"]).first.click()
    with admin.expect_navigation():
        admin.locator("main a[href^='/admin/users/'][href$='/logins']").click()
    assert "Refused by a login rule: network address not allowed" in admin.locator("#login-records").inner_text()


def test_a_user_refused_on_a_mobile_browser_but_not_on_a_desktop(admin, new_page, server, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["rule_terminal"]]
    create_rule(admin, "Desktop only", account["username"], terminals=("desktop",))
    assert "Desktop browsers" in admin.locator("#login-rules tbody tr", has_text="Desktop only").inner_text()

    phone = new_page(server, user_agent=IPHONE, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    _password(phone, account["username"], account["password"])
    assert refusal(phone) == "Login is not allowed from mobile browsers."

    desktop = new_page(server, user_agent=CHROME_DESKTOP)
    _password(desktop, account["username"], account["password"])
    assert desktop.url.endswith("/login/verify")  # allowed on to the second step


def test_a_user_refused_outside_his_hours(admin, new_page, server, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["rule_time"]]
    today = datetime.now(ZoneInfo("Asia/Shanghai")).isoweekday()
    days = tuple(d for d in range(1, 8) if d not in {today, today % 7 + 1})  # never today (nor tomorrow, at midnight)
    create_rule(admin, "Office hours", account["username"], weekdays=days, start="08:00", end="18:00")

    page = new_page(server)
    _password(page, account["username"], account["password"])
    message = refusal(page)
    assert message.startswith("Login is not allowed at this time: allowed ")
    assert message.endswith(" 08:00–18:00 (Beijing time).")

    # The same refusal in Chinese, the portal's first language.
    chinese = new_page(server, locale="zh-CN")
    _password(chinese, account["username"], account["password"])
    assert re.fullmatch(r"当前时间不允许登录：允许的时间为 .+ 08:00–18:00（北京时间）。", refusal(chinese))


def upload_library(admin, content: str, name: str = "library.csv") -> None:
    admin.goto("/admin/ip-library")
    admin.locator("#csv-file").set_input_files({"name": name, "mimeType": "text/csv", "buffer": content.encode()})
    _submit(admin, "#csv-library form[action='/admin/ip-library/csv']")


def test_a_login_from_a_new_place_alerts_the_user(admin, new_page, server, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["new_place"]]
    upload_library(admin, "cidr,province,city\n127.0.0.0/8,山东省,济南市\n")
    assert "1 ranges from library.csv" in admin.locator("[role=status]").inner_text()

    # A bad file is refused line by line, and the library in use stays.
    upload_library(admin, "cidr,province,city\n127.0.0.0/8,山东省,济南市\n127.0.0.0/33,北京市,\n", name="broken.csv")
    errors = admin.locator("#csv-errors").inner_text()
    assert "Line 3: 127.0.0.0/33 is not a network" in errors
    assert "library.csv, 1 ranges" in admin.locator("#csv-current").inner_text()

    # luohui's first login (with a recovery code) is placed in 济南; nothing to compare it with.
    page = new_page(server)
    _password(page, account["username"], account["password"])
    with page.expect_navigation():
        page.locator("main a[href='/login/recovery']").click()
    page.fill("#code", account["recovery_codes"][0])
    _submit(page)
    page.goto("/account/logins")
    assert "山东省 济南市" in page.locator("#login-records tbody tr").first.inner_text()
    assert page.locator("#login-records .new-place").count() == 0
    _submit(page, "header form[action='/logout']")

    # The administrator changes the library: the same address is now in 北京市.
    upload_library(admin, "cidr,province,city\n127.0.0.0/8,北京市,海淀区\n", name="beijing.csv")
    admin.goto("/admin/ip-library?ip=127.0.0.1")
    assert admin.locator("#lookup-result").inner_text() == "127.0.0.1 is in 北京市 海淀区."

    _password(page, account["username"], account["password"])
    page.fill("#code", pyotp.TOTP(account["totp_secret"]).now())
    _submit(page)
    assert "not logged in from before" in page.locator("[role=status]").inner_text()

    page.goto("/account/logins")
    newest = page.locator("#login-records tbody tr").first
    assert "北京市 海淀区" in newest.inner_text() and "New place" in newest.inner_text()

    page.goto("/webmail")
    assert "Login from a new place: 北京市 海淀区" in page.locator("main").inner_text()
    with page.expect_navigation():
        page.locator("main a", has_text="Login from a new place").first.click()
    assert "<system@huanghe.gov.example>" in page.locator("main").inner_text()  # his unit's domain
    text = page.locator(".webmail-text").inner_text()  # plain text, shown as such
    assert "北京市 海淀区" in text and "127.0.0.1" in text
    assert "山东省 济南市" in text  # where he logged in before
