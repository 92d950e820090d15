"""The /edoc pages over HTTP: drafting, to-do and done lists, a step acted on through its form,
403 for a step that is not yours, the flow administration (DOC-1 … DOC-9)."""

from __future__ import annotations

import re

import pytest

from plugins.edoc import services
from plugins.edoc.tables import Flow, Task
from portal.accounts.tables import User
from portal.demo import ACCOUNTS, DEMO_PASSWORD, seed_demo
from portal.testing import TestUser, login_as, post_form


@pytest.fixture(autouse=True)
def english(client):
    client.headers["accept-language"] = "en"


@pytest.fixture
async def demo(client):
    await seed_demo()
    secrets = {a.username: a.totp_secret for a in ACCOUNTS}
    return {row["username"]: TestUser(row["id"], row["username"], DEMO_PASSWORD, secrets[row["username"]])
            for row in await User.select(User.id, User.username)}


async def as_user(client, demo, username):
    client.cookies.clear()
    await login_as(client, demo[username])


async def open_task_id(document_id: int) -> int:
    return (await services.open_task(document_id))["id"]


async def test_draft_submit_review_and_refusals(client, demo):
    await as_user(client, demo, "zhangwei")
    form = (await client.get("/edoc/new")).text
    assert "请示" in form and "纪要" in form and "_csrf_token" in form
    bad = await post_form(client, "/edoc/new", {"doc_type": "请示", "direction": "upward", "title": ""})
    assert bad.status_code == 400 and "A title has 1 to 200 characters." in bad.text
    created = await post_form(client, "/edoc/new", {"doc_type": "请示", "direction": "upward", "title": "关于<b>春耕</b>的请示",
                                                   "body": "<script>alert(1)</script>", "urgency": "urgent",
                                                   "classification": "internal", "main_recipients": "济南市人民政府"})
    assert created.status_code == 303
    document_id = int(created.headers["location"].rsplit("/", 1)[1])
    page = (await client.get(f"/edoc/{document_id}")).text
    assert "&lt;script&gt;" in page and "<script>alert" not in page  # text without allowed tags is shown as text
    assert "The department head review goes to 李娜, head of 农业农村局." in page
    without_csrf = await client.post(f"/edoc/{document_id}/act", data={"task": await open_task_id(document_id), "action": "approve"})
    assert without_csrf.status_code == 403
    submitted = await post_form(client, f"/edoc/{document_id}/act", {"task": await open_task_id(document_id), "action": "approve"})
    assert submitted.status_code == 303

    # Not zhangwei's step any more: opinion, action and a skipped step are refused.
    task_id = await open_task_id(document_id)
    assert (await post_form(client, f"/edoc/{document_id}/opinion", {"task": task_id, "opinion": "越权"})).status_code == 403
    assert (await post_form(client, f"/edoc/{document_id}/act", {"task": task_id, "action": "approve"})).status_code == 403
    assert (await post_form(client, f"/edoc/{document_id}/act", {"task": task_id - 1, "action": "approve"})).status_code == 409

    await as_user(client, demo, "lina")
    todo = (await client.get("/edoc")).text
    assert "关于&lt;b&gt;春耕&lt;/b&gt;的请示" in todo and "部门负责人核稿" in todo
    refused = await post_form(client, f"/edoc/{document_id}/act", {"task": task_id, "action": "approve"})
    assert refused.status_code == 400 and "Save your opinion first" in refused.text
    assert (await post_form(client, f"/edoc/{document_id}/opinion", {"task": task_id, "opinion": "核稿同意。"})).status_code == 303
    assert (await post_form(client, f"/edoc/{document_id}/act", {"task": task_id, "action": "number"})).status_code == 403
    assert (await post_form(client, f"/edoc/{document_id}/act", {"task": task_id, "action": "approve"})).status_code == 303
    done = (await client.get("/edoc/done")).text
    assert "部门负责人核稿" in done
    printed = (await client.get(f"/edoc/{document_id}/print")).text
    assert "核稿同意。" in printed and "edoc-print" in printed

    await as_user(client, demo, "heqiang")  # another unit
    assert (await client.get(f"/edoc/{document_id}")).status_code == 403
    assert (await client.get("/edoc/99999")).status_code == 404


async def test_the_body_is_rich_text_kept_safe(client, demo):
    """DOC-1: headings, emphasis, lists and tables as written; nothing that runs (also on the print page)."""
    await as_user(client, demo, "zhangwei")
    created = await post_form(client, "/edoc/new", {"doc_type": "通知", "direction": "downward", "title": "格式",
                                                   "body": "<p>请<strong>按时</strong>报送</p><script>alert(2)</script>",
                                                   "urgency": "normal", "classification": "public", "main_recipients": "各科室"})
    assert created.status_code == 303
    for path in (created.headers["location"], created.headers["location"] + "/print"):
        page = (await client.get(path)).text
        assert "<p>请<strong>按时</strong>报送</p>" in page and "alert(2)" not in page


async def test_the_flow_pages_are_for_administrators(client, demo):
    await as_user(client, demo, "zhangwei")
    assert (await client.get("/edoc/flows")).status_code == 403
    await as_user(client, demo, "admin")
    page = (await client.get("/edoc/flows")).text
    for name in ("拟稿", "局长签发", "文印室登记编号排版", "领导传阅", "结束"):
        assert name in page
    unit = re.search(r'<option value="(\d+)">黄河县人民政府', page).group(1)
    adopted = await post_form(client, "/edoc/flows/adopt", {"unit": unit, "kind": "upward"})
    assert adopted.status_code == 303
    flow_url = adopted.headers["location"]
    bad = await post_form(client, flow_url, {"name_0": "", "role_0": "staff", "actions_0": "approve"})
    assert bad.status_code == 400 and "A step name has 1 to 40 characters." in bad.text
    form = {f"name_{n}": name for n, name in enumerate(["拟稿", "部门核稿", "办公室把关", "领导审阅", "局长签发", "文印室", "秘书发送"])}
    roles = ["staff", "department_head", "office_head", "leader", "director", "print_room", "secretary"]
    forward = ["approve"] * 5 + ["number", "send"]
    form |= {f"role_{n}": role for n, role in enumerate(roles)} | {f"actions_{n}": a for n, a in enumerate(forward)}
    assert (await post_form(client, flow_url, form)).status_code == 303
    assert "部门核稿" in (await client.get(flow_url)).text
    assert await Task.count() == 0

    # A refused change shows what was sent, so nothing typed is lost; nothing of it is saved.
    refused = await post_form(client, flow_url, {**form, "name_1": "科室核稿", "role_2": "secretary", "actions_0": "recall"})
    assert refused.status_code == 400 and "A step must allow the action that moves it on." in refused.text
    assert 'name="name_1" value="科室核稿"' in refused.text
    assert re.search(r'<select name="role_2">.*?<option value="secretary" selected>', refused.text, re.S)
    assert not re.search(r'name="actions_0" value="approve" checked', refused.text)
    assert 'name="name_1" value="部门核稿"' in (await client.get(flow_url)).text


async def test_another_units_administrator_is_refused_the_flow_pages(client, demo):
    """DOC-1 per unit: 马军, administrator of 东镇, neither sees nor changes the county's flow."""
    from portal.accounts.tables import RoleAssignment, Unit

    await as_user(client, demo, "admin")
    page = (await client.get("/edoc/flows")).text
    county = re.search(r'<option value="(\d+)">黄河县人民政府', page).group(1)
    assert "东镇人民政府</option>" not in page.split('id="unit"')[1]  # he adjusts his own unit's only
    flow_url = (await post_form(client, "/edoc/flows/adopt", {"unit": county, "kind": "upward"})).headers["location"]
    township = (await Unit.select(Unit.id).where(Unit.code == "dongzhen").first())["id"]
    assert (await post_form(client, "/edoc/flows/adopt", {"unit": township, "kind": "upward"})).status_code == 403

    await RoleAssignment.insert(RoleAssignment(user=demo["majun"].id, role="admin", unit=township))
    await as_user(client, demo, "majun")
    page = (await client.get("/edoc/flows")).text
    assert flow_url not in page and "黄河县人民政府</option>" not in page.split('id="unit"')[1]
    refused = await client.get(flow_url)
    assert refused.status_code == 403 and "belongs to another unit" in refused.text
    assert (await post_form(client, flow_url, {"name_0": "改"})).status_code == 403
    assert (await post_form(client, "/edoc/flows/adopt", {"unit": county, "kind": "downward"})).status_code == 403
    default = await Flow.select(Flow.id).where(Flow.unit.is_null()).first()
    assert (await client.get(f"/edoc/flows/{default['id']}")).status_code == 403  # the defaults: an administrator of every unit
