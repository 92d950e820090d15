"""Logging in as a person does, in Chromium: enrolment, TOTP, recovery code, logout, no JavaScript.

Each test logs in with its own demo account (``ACCOUNT_OF`` in conftest.py): a TOTP code
works once per time step, and the tests share one server.
"""

import re

import pyotp
import pytest

pytestmark = pytest.mark.e2e


def test_enrolment_shows_a_key_then_ten_recovery_codes_then_home(page, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["enrolment"]]
    assert account["totp_secret"] is None
    e2e.enter_password(page, account["username"], account["password"])
    assert page.url.endswith("/login/enrol")
    assert page.locator("figure.qr svg").is_visible()
    key = page.locator("#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", key)

    page.fill("#code", "000000" if pyotp.TOTP(key).now() != "000000" else "111111")
    e2e.submit(page)
    assert page.url.endswith("/login/enrol")
    assert page.locator("[role=alert]").is_visible()
    assert page.locator("#totp-secret").inner_text().strip() == key  # the same key, not a new one

    page.fill("#code", pyotp.TOTP(key).now())
    e2e.submit(page)
    assert page.url.endswith("/account/recovery-codes")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z0-9]{4}(-[a-z0-9]{4}){3}", code.strip()) for code in codes), codes

    with page.expect_navigation():
        page.locator("main a[href='/']").click()
    assert page.url.endswith("/")
    assert account["display_name"] in page.locator("h1").inner_text()
    assert account["display_name"] in page.locator("header .who").inner_text()

    page.goto("/account/recovery-codes")  # shown once only
    assert page.locator("#recovery-codes").count() == 0


def test_login_with_password_and_totp_code_and_no_replay(page, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["totp"]]
    page.goto("/")
    assert "/login" in page.url  # not logged in: sent to the login page
    assert page.locator("header .who").count() == 0

    e2e.enter_password(page, account["username"], account["password"])
    assert page.url.endswith("/login/verify")
    code = e2e.totp_code(account["totp_secret"])
    page.fill("#code", code)
    e2e.submit(page)
    assert page.url.endswith("/")
    assert account["display_name"] in page.locator("h1").inner_text()

    # The same code again, after logging out: refused, the page says so.
    e2e.submit(page, "header form[action='/logout']")
    e2e.enter_password(page, account["username"], account["password"])
    page.fill("#code", code)
    e2e.submit(page)
    assert page.url.endswith("/login/verify")
    assert page.locator("[role=alert]").is_visible()
    assert page.locator("header .who").count() == 0


def test_login_with_a_recovery_code(page, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["recovery"]]
    e2e.enter_password(page, account["username"], account["password"])
    assert page.url.endswith("/login/verify")
    with page.expect_navigation():
        page.locator("main a[href='/login/recovery']").click()
    assert page.url.endswith("/login/recovery")

    page.fill("#code", account["recovery_codes"][0])
    e2e.submit(page)
    assert page.url.endswith("/")
    assert account["display_name"] in page.locator("h1").inner_text()
    notice = page.locator("[role=status]").inner_text()
    assert re.search(r"\b9\b", notice), notice  # nine codes left


def test_logout_ends_the_session(page, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["logout"]]
    e2e.log_in(page, account)
    assert account["display_name"] in page.locator("header .who").inner_text()

    e2e.submit(page, "header form[action='/logout']")
    assert page.url.endswith("/login")
    assert page.locator("header .who").count() == 0
    assert page.locator("#username").is_visible()

    page.goto("/")  # the old session cookie opens nothing any more
    assert "/login" in page.url
    assert page.locator("header .who").count() == 0
    page.goto("/account")
    assert "/login" in page.url


def test_login_works_with_javascript_disabled(new_page, live_server, demo_accounts, e2e):
    page = new_page(live_server, java_script_enabled=False)
    account = demo_accounts[e2e.ACCOUNT_OF["no_javascript"]]
    e2e.log_in(page, account)
    assert page.url.endswith("/")
    assert account["display_name"] in page.locator("h1").inner_text()

    page.goto("/account")
    assert page.url.endswith("/account")
    assert account["display_name"] in page.locator("header .who").inner_text()

    e2e.submit(page, "header form[action='/logout']")
    assert page.url.endswith("/login")
    assert page.locator("header .who").count() == 0
