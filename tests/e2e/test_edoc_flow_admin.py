"""A unit's document flow adjusted by its administrator, in Chromium (DOC-1, DOC-3, DOC-7, DOC-9):
the administrator of 黄河县 renames steps, gives the office step to the secretaries and takes the
recall from the drafter; it is kept, a bad change loses nothing, and the next document of the
unit follows the new flow. The administrator of 东镇 adjusts his own unit's flows only.

Runs on its own server (edoc-flows): admin, zhangwei, lina, chenjing and majun log in once each.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

COUNTY = "黄河县人民政府"
TOWNSHIP = "东镇人民政府"


@pytest.fixture(scope="module")
def server(start_live_server):
    return start_live_server("edoc-flows")


def _click(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def _row(page, position: int):
    """The row of the step at ``position`` (0 = the first) in the flow form."""
    return page.locator("form.edoc-flow-form tbody tr").nth(position)


def _action(page, position: int, label: str):
    return _row(page, position).get_by_label(label, exact=True)


def _flow_path(page) -> str:
    match = re.search(r"/edoc/flows/\d+$", page.url)
    assert match, page.url
    return match.group(0)


def test_the_unit_administrator_adjusts_its_flow_and_the_next_document_follows_it(server, new_page, demo_accounts, e2e):
    admin = new_page(server)
    e2e.log_in(admin, demo_accounts[e2e.ACCOUNT_OF["edoc_flows_admin"]])
    admin.goto("/edoc")
    _click(admin, admin.locator("nav.edoc-nav").get_by_role("link", name="Flows"))
    assert admin.locator("h1").inner_text() == "Document flows"
    defaults = admin.locator("section.edoc-flow", has_text="default for every unit")
    assert defaults.count() == 3
    assert admin.locator("section.edoc-flow").get_by_role("link", name="Adjust").count() == 0  # no unit has its own yet

    # The unit's own copy of the upward flow.
    admin.select_option("#unit", label=COUNTY)
    admin.select_option("#kind", label="上行文")
    _click(admin, admin.locator("form.edoc-adopt button[type=submit]"))
    flow_path = _flow_path(admin)
    assert admin.locator("h1").inner_text() == "上行文"
    assert admin.locator("form.edoc-flow-form tbody tr").count() == 7

    # A bad change is explained, and nothing typed is lost: the good changes of the same form stay in it.
    _row(admin, 1).locator("input[name=name_1]").fill("科室负责人核稿")
    _action(admin, 0, "Approve and pass on").uncheck()
    _click(admin, admin.locator("form.edoc-flow-form button[type=submit]"))
    assert "A step must allow the action that moves it on." in admin.get_by_role("alert").inner_text()
    assert _row(admin, 1).locator("input[name=name_1]").input_value() == "科室负责人核稿"
    assert not _action(admin, 0, "Approve and pass on").is_checked()
    admin.goto(flow_path)
    assert _row(admin, 1).locator("input[name=name_1]").input_value() == "部门负责人核稿"  # nothing saved

    # The change: a step renamed, the office step in the secretaries' inbox, no recall after submitting.
    _row(admin, 1).locator("input[name=name_1]").fill("科室负责人核稿")
    _row(admin, 2).locator("input[name=name_2]").fill("办公室秘书把关")
    _row(admin, 2).locator("select[name=role_2]").select_option(label="Secretary")
    _action(admin, 0, "Recall").uncheck()
    _click(admin, admin.locator("form.edoc-flow-form button[type=submit]"))
    assert admin.url.endswith(flow_path)
    admin.reload()
    assert _row(admin, 1).locator("input[name=name_1]").input_value() == "科室负责人核稿"
    assert _row(admin, 2).locator("input[name=name_2]").input_value() == "办公室秘书把关"
    assert _row(admin, 2).locator("select[name=role_2] option:checked").inner_text() == "Secretary"
    assert not _action(admin, 0, "Recall").is_checked() and _action(admin, 0, "Approve and pass on").is_checked()
    admin.goto("/edoc/flows")
    own = admin.locator("section.edoc-flow", has_text=f"上行文 — {COUNTY}")
    assert "办公室秘书把关 · Secretary" in own.inner_text()
    assert own.get_by_role("link", name="Adjust").get_attribute("href") == flow_path
    assert "部门负责人核稿" in defaults.first.inner_text()  # the default for the other units is unchanged

    # The next upward document of the county follows it.
    drafter = new_page(server)
    e2e.log_in(drafter, demo_accounts[e2e.ACCOUNT_OF["edoc_flows_drafter"]])
    drafter.goto("/edoc/new")
    drafter.select_option("#doc_type", "请示")
    drafter.select_option("#direction", "upward")
    drafter.fill("#title", "关于调整流程后的第一份请示")
    drafter.fill("#main_recipients", "济南市人民政府")
    drafter.fill("#body", "请审核。")
    _click(drafter, drafter.locator("form.edoc-draft button[type=submit]"))
    document_path = re.search(r"/edoc/\d+$", drafter.url).group(0)
    _click(drafter, drafter.get_by_role("button", name="Submit"))
    assert drafter.locator(".edoc-status").inner_text() == "On its way: 科室负责人核稿"
    assert drafter.locator(".edoc-holder").inner_text() == "With 李娜 at 科室负责人核稿."
    assert drafter.get_by_role("button", name="Recall").count() == 0  # the drafter's step no longer allows it

    head = new_page(server)
    e2e.log_in(head, demo_accounts[e2e.ACCOUNT_OF["edoc_flows_head"]])
    head.goto(document_path)
    assert head.get_by_role("heading", name="Your step: 科室负责人核稿").is_visible()
    head.fill("#opinion", "同意。")
    _click(head, head.get_by_role("button", name="Save opinion"))
    _click(head, head.get_by_role("button", name="Approve and pass on"))
    assert head.locator(".edoc-holder").inner_text() == "In the inbox of the role Secretary at 办公室秘书把关."

    secretary = new_page(server)
    e2e.log_in(secretary, demo_accounts[e2e.ACCOUNT_OF["edoc_flows_secretary"]])
    secretary.goto("/edoc")
    assert "关于调整流程后的第一份请示" in secretary.locator("main").inner_text()
    secretary.goto(document_path)
    assert secretary.get_by_role("heading", name="Your step: 办公室秘书把关").is_visible()


def test_another_units_administrator_cannot_adjust_this_units_flow(server, new_page, demo_accounts, e2e):
    """The administrator of 东镇 sees and adjusts his own unit's flows only; the county's are refused."""
    admin = new_page(server)
    e2e.log_in_with_recovery_code(admin, demo_accounts[e2e.ACCOUNT_OF["edoc_flows_admin"]], 0)
    admin.goto("/edoc/flows")
    county_flow = admin.locator("section.edoc-flow", has_text=f"— {COUNTY}")
    if county_flow.count() == 0:  # this test alone: the county adopts its flow first
        admin.select_option("#unit", label=COUNTY)
        _click(admin, admin.locator("form.edoc-adopt button[type=submit]"))
        admin.goto("/edoc/flows")
    county_path = county_flow.first.get_by_role("link", name="Adjust").get_attribute("href")
    county_unit = admin.locator("#unit option", has_text=COUNTY).get_attribute("value")
    admin.goto(county_path)
    county_names = [admin.locator(f"input[name=name_{n}]").input_value() for n in range(3)]

    # The county's administrator makes 马军 the administrator of 东镇 (his unit) on the admin pages.
    township = demo_accounts[e2e.ACCOUNT_OF["edoc_flows_other_admin"]]
    admin.goto("/admin/users?q=" + township["username"])
    _click(admin, admin.locator("#user-rows a", has_text=township["username"]).first)
    _click(admin, admin.locator("main a[href$='/roles']").first)
    admin.select_option("#role", label="Administrator")
    admin.select_option("#scope", label=f"The whole unit {TOWNSHIP}")
    _click(admin, admin.get_by_role("button", name="Assign"))
    assert "Administrator" in admin.locator("#assignments").inner_text()

    other = new_page(server)
    e2e.log_in(other, township)
    other.goto("/edoc/flows")
    assert other.locator("section.edoc-flow", has_text=COUNTY).count() == 0
    assert other.locator("#unit option").all_inner_texts() == [TOWNSHIP]
    other.select_option("#kind", label="上行文")
    _click(other, other.locator("form.edoc-adopt button[type=submit]"))
    assert other.locator("h1").inner_text() == "上行文"  # his own unit's copy
    own_path = _flow_path(other)
    assert own_path != county_path

    # The county's flow by its address, by a changed form, by a copy for the county: refused.
    response = other.goto(county_path)
    assert response.status == 403
    assert "another unit" in other.get_by_role("alert").inner_text()
    other.goto(own_path)
    other.locator("form.edoc-flow-form").evaluate("(form, path) => form.setAttribute('action', path)", county_path)
    other.locator("input[name=name_0]").fill("被改的拟稿")
    with other.expect_navigation() as navigation:
        other.locator("form.edoc-flow-form button[type=submit]").click()
    assert navigation.value.status == 403
    other.goto("/edoc/flows")
    other.locator("#unit option").first.evaluate("(option, unit) => { option.value = unit; }", county_unit)
    other.select_option("#kind", label="下行文/平行文")
    with other.expect_navigation() as navigation:
        other.locator("form.edoc-adopt button[type=submit]").click()
    assert navigation.value.status == 403

    admin.goto("/edoc/flows")
    assert admin.locator("section.edoc-flow", has_text=f"下行文/平行文 — {COUNTY}").count() == 0
    admin.goto(county_path)
    assert [admin.locator(f"input[name=name_{n}]").input_value() for n in range(3)] == county_names
