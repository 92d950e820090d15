"""An administrator creates a user through the administration pages; the user then logs in.

Form field names are those of portal/templates/admin/user_new.html and _user_fields.html.
"""

import pyotp
import pytest

pytestmark = pytest.mark.e2e

NEW_USER = {"username": "e2e.newcomer", "display_name": "端到端测试员", "email": "e2e.newcomer@huanghe.gov.example",
            "password": "first-password-2026"}
UNIT = "黄河县人民政府"
DEPARTMENT = "农业农村局"


def test_admin_creates_a_user_who_then_logs_in_and_enrols(new_page, live_server, demo_accounts, e2e):
    admin = new_page(live_server)
    e2e.log_in(admin, demo_accounts[e2e.ACCOUNT_OF["admin"]])

    # From the menu to the "new user" form, as an administrator finds it.
    with admin.expect_navigation():
        admin.locator("header nav a[href='/admin']").click()
    with admin.expect_navigation():
        admin.locator("main nav a[href='/admin/users']").click()
    assert admin.locator("#user-rows").is_visible()
    assert NEW_USER["username"] not in admin.locator("#user-rows").inner_text()
    with admin.expect_navigation():
        admin.locator("main a[href^='/admin/users/new']").first.click()

    form = admin.locator("main form[action='/admin/users']")
    form.locator("#username").fill(NEW_USER["username"])
    form.locator("#display_name").fill(NEW_USER["display_name"])
    form.locator("#email").fill(NEW_USER["email"])
    unit_id = form.locator("#unit_id option", has_text=UNIT).get_attribute("value")
    form.locator("#unit_id").select_option(unit_id)
    department_id = form.locator(f"#department_id optgroup[label='{UNIT}'] option", has_text=DEPARTMENT).get_attribute("value")
    form.locator("#department_id").select_option(department_id)
    form.locator("#password").fill(NEW_USER["password"])
    assert form.locator("input[name=roles][value=staff]").is_checked()  # the default role
    e2e.submit(admin, "main form[action='/admin/users']")

    # The new user's page: created, not enrolled yet, and listed among the users.
    assert "/admin/users/" in admin.url and not admin.url.endswith("/new")
    assert admin.locator("[role=status]").is_visible()
    assert NEW_USER["username"] in admin.locator("h1").inner_text()
    assert admin.locator("#display_name").input_value() == NEW_USER["display_name"]
    assert admin.locator("#unit_id").input_value() == unit_id
    assert admin.locator("#department_id").input_value() == department_id
    facts_before = admin.locator("dl.facts").inner_text()
    user_page = admin.url
    admin.goto(f"/admin/users?q={NEW_USER['username']}")
    rows = admin.locator("#user-rows tbody").inner_text()
    assert NEW_USER["username"] in rows and NEW_USER["display_name"] in rows and UNIT in rows

    # The user logs in with the initial password and is walked through the second factor.
    person = new_page(live_server)
    e2e.enter_password(person, NEW_USER["username"], NEW_USER["password"])
    assert person.url.endswith("/login/enrol")
    key = person.locator("#totp-secret").inner_text().strip()
    person.fill("#code", pyotp.TOTP(key).now())
    e2e.submit(person)
    assert person.url.endswith("/account/recovery-codes")
    assert person.locator("#recovery-codes li").count() == 10
    with person.expect_navigation():
        person.locator("main a[href='/']").click()
    assert NEW_USER["display_name"] in person.locator("h1").inner_text()

    # The administrator now sees the second factor set up and a last login.
    admin.goto(user_page)
    assert admin.locator("dl.facts").inner_text() != facts_before
