"""Brute-force protection as a person meets it: five wrong passwords lock the account and the address;
an administrator changes the rule, sees the locks and ends them (MAIL-16).

The tests run on servers of their own (``lockout_server``, ``unlock_server``): the address lock
would otherwise shut every other test out of 127.0.0.1 for 15 minutes.
"""

import re

import pytest

pytestmark = pytest.mark.e2e

LOCKED = re.compile(r"locked", re.IGNORECASE)


def test_five_wrong_passwords_lock_the_account_and_the_address(new_page, lockout_server, demo_accounts, e2e):
    page = new_page(lockout_server)
    account = demo_accounts[e2e.ACCOUNT_OF["lockout"]]

    for attempt in range(1, 5):
        e2e.enter_password(page, account["username"], f"wrong-password-{attempt}")
        assert page.url.endswith("/login")
        alert = page.locator("[role=alert]").inner_text()
        assert not LOCKED.search(alert), f"locked after {attempt} failures: {alert}"

    e2e.enter_password(page, account["username"], "wrong-password-5")
    assert LOCKED.search(page.locator("[role=alert]").inner_text())
    assert re.search(r"\d{2}:\d{2}", page.locator("[role=alert]").inner_text())  # locked until HH:MM

    # The right password does not open it now: no second step, the page still says locked.
    e2e.enter_password(page, account["username"], account["password"])
    assert page.url.endswith("/login")
    assert LOCKED.search(page.locator("[role=alert]").inner_text())
    assert page.locator("#code").count() == 0

    # The address is locked too: another account, right password, from the same browser and IP.
    other = demo_accounts[e2e.ACCOUNT_OF["lockout_other"]]
    fresh = new_page(lockout_server)
    e2e.enter_password(fresh, other["username"], other["password"])
    assert fresh.url.endswith("/login")
    assert LOCKED.search(fresh.locator("[role=alert]").inner_text())


def test_the_administrator_sets_the_rule_sees_the_locks_and_unlocks_them(new_page, unlock_server, demo_accounts, e2e):
    admin = new_page(unlock_server)
    e2e.log_in(admin, demo_accounts["admin"])  # before the failures below lock the address
    admin.goto("/admin")
    with admin.expect_navigation():
        admin.locator("main a[href='/admin/lockout']").first.click()
    assert admin.locator("h1").inner_text() == "Login lockout"
    assert admin.locator("#threshold").input_value() == "5"  # the configuration's default
    admin.fill("#threshold", "3")
    admin.fill("#window_minutes", "10")
    admin.fill("#lock_minutes", "30")
    e2e.submit(admin, "#lockout-rule")
    assert admin.locator("[role=status]").inner_text() == "The lockout rule was saved. It applies to failed logins from now on."
    assert admin.locator("#threshold").input_value() == "3"
    assert admin.locator("#locks").inner_text().strip().endswith("Nothing is locked now.")

    account = demo_accounts[e2e.ACCOUNT_OF["unlocked"]]
    page = new_page(unlock_server)
    for attempt in range(1, 4):  # three failures lock now
        e2e.enter_password(page, account["username"], f"wrong-password-{attempt}")
    assert LOCKED.search(page.locator("[role=alert]").inner_text())
    e2e.enter_password(page, account["username"], account["password"])
    assert LOCKED.search(page.locator("[role=alert]").inner_text())

    admin.goto("/admin/lockout")
    user_row = admin.locator("#locks tbody tr", has_text=account["username"])
    address_row = admin.locator("#locks tbody tr", has_text="127.0.0.1")
    assert user_row.locator("td").all_inner_texts()[:3] == [f"Username {account['username']}", "3", "1"]
    assert address_row.locator("td").all_inner_texts()[:3] == ["IP address 127.0.0.1", "3", "1"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", user_row.locator("td").nth(4).inner_text())

    with admin.expect_navigation():
        user_row.get_by_role("button", name="Unlock").click()
    assert admin.locator("[role=status]").inner_text() == f"Username {account['username']} is unlocked."
    with admin.expect_navigation():
        address_row.get_by_role("button", name="Unlock").click()
    assert admin.locator("[role=status]").inner_text() == "IP address 127.0.0.1 is unlocked."
    assert admin.locator("#locks tbody tr").inner_text() == "Nothing is locked now."

    e2e.log_in(page, account)
    assert page.url.endswith("/")
    assert account["display_name"] in page.locator("header .who").inner_text()
