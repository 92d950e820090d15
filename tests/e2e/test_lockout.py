"""Brute-force protection as a person meets it: five wrong passwords lock the account and the address.

Runs on its own server (``lockout_server``): the address lock would otherwise shut every other
test out of 127.0.0.1 for 15 minutes.
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
