"""Service levels in the browser (MAIL-12): an administrator sets up a level that takes away
sending outside and mass send, assigns a user, and the user's compose page and server obey."""

import time

import pytest

pytestmark = pytest.mark.e2e

ADMIN_CODE = 3  # recovery code numbers: each works once on the shared live server
USER_CODE = 5


def test_a_service_level_takes_features_away(new_page, live_server, demo_accounts, e2e):
    name = f"仅限内部 {int(time.time())}"
    admin = new_page(live_server)
    e2e.log_in_with_recovery_code(admin, demo_accounts[e2e.ACCOUNT_OF["levels_admin"]], ADMIN_CODE)
    admin.goto("/admin")
    with admin.expect_navigation():
        admin.locator("nav.admin-nav a[href='/webmail/admin/levels']").click()
    form = admin.locator("main form[action='/webmail/admin/levels']")
    form.locator("#name").fill(name)
    form.locator("#quota_mb").fill("100")
    form.locator("#max_message_mb").fill("5")
    form.locator("#max_recipients").fill("10")
    for feature in ("external_sending", "mass_send"):
        form.locator(f"input[name=features][value={feature}]").uncheck()
    e2e.submit(admin, "main form[action='/webmail/admin/levels']")
    row = admin.locator("#levels tr", has_text=name)
    assert row.locator("td").nth(1).inner_text() == "100 MB"

    with admin.expect_navigation():
        row.locator("a").click()
    user = demo_accounts[e2e.ACCOUNT_OF["levels_user"]]
    admin.locator("#assign #usernames").fill(user["username"])
    e2e.submit(admin, "#assign")
    assert "1" in admin.locator("[role=status]").inner_text()
    assert user["email"] in admin.locator("#members").inner_text()

    person = new_page(live_server)
    e2e.log_in_with_recovery_code(person, user, USER_CODE)
    person.goto("/webmail/compose")
    assert person.locator("#internal-only").is_visible()
    assert person.locator("input[name=separate_display]").count() == 0
    compose = person.locator("main form.compose")
    compose.locator("#to").fill("citizen@example.org")
    compose.locator("#subject").fill("对外发信")
    with person.expect_navigation():
        compose.locator("button[value=send]").click()
    error = person.locator("#to-error").inner_text()
    assert "citizen@example.org" in error

    # Deleting the level gives the user the default limits again.
    level_url = admin.url
    admin.goto(level_url)
    e2e.submit(admin, f"main form[action='{level_url.split(live_server.url)[1]}/delete']")
    assert admin.locator("#levels tr", has_text=name).count() == 0
    person.goto("/webmail/compose")
    assert person.locator("input[name=separate_display]").count() == 1
