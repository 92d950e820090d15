"""The document flows walked by the demo accounts, service by service (DOC-1 … DOC-9), with the
abuse cases: a step that is not yours, a step skipped, a late recall, two people at once."""

from __future__ import annotations

import asyncio

import pytest

from plugins.edoc import flows, services
from plugins.edoc.services import DraftForm
from plugins.edoc.tables import Document, FlowStep, Task
from portal.accounts.services import load_current_user
from portal.accounts.tables import Department, User
from portal.audit.tables import AuditEntry
from portal.demo import seed_demo
from portal.i18n import set_locale


@pytest.fixture(autouse=True)
def english(client):
    set_locale("en")


@pytest.fixture
def portal(app):
    return app.state.portal


@pytest.fixture
async def demo(client, portal):
    """The demo organisation; ``demo["zhangwei"]`` is his ``CurrentUser``."""
    await seed_demo()
    users = {}
    for row in await User.select(User.id, User.username):
        users[row["username"]] = await load_current_user(row["id"], portal.permissions)
    return users


async def draft(demo, portal, who="zhangwei", direction="upward", doc_type="请示", **changes) -> int:
    form = DraftForm(doc_type=doc_type, direction=direction, title=changes.pop("title", "关于春耕补贴的请示"),
                     main_recipients="济南市人民政府", body="正文第一段。\n\n正文第二段。", **changes)
    return await services.create_draft(demo[who], form, portal)


async def current(document_id: int) -> dict:
    return await services.open_task(document_id)


async def step(demo, portal, document_id: int, who: str, action: str = "approve", opinion: str = "同意。", **kwargs) -> dict:
    """``who`` opens the document, takes it from a role inbox if need be, saves an opinion and acts."""
    user = demo[who]
    view = await services.document_view(user, document_id)
    task = view["task"]
    assert view["mine"], (who, task)
    if action != "return" and view["step"].kind != "draft":
        await services.save_opinion(user, document_id, task["id"], opinion)
    await services.act(user, document_id, task["id"], action, portal, **kwargs)
    return task


async def names_along(document_id: int) -> list[tuple[str, str, str]]:
    return [(row["step_name"], row["actor_name"] or "", row["action"]) for row in await services.history(document_id)]


async def test_the_three_default_flows_are_stored_as_the_source_describes(demo):
    """DOC-1, DOC-2, DOC-8: the defaults, step by step."""
    await flows.ensure_default_flows()
    by_kind = {f["kind"]: [s.name for s in f["steps"]] for f in await flows.flows_for_admin()}
    assert by_kind["upward"] == ["拟稿", "部门负责人核稿", "办公室负责人把关", "主管局领导审阅", "局长签发", "文印室登记编号排版", "办公室秘书审核发送"]
    assert by_kind["downward"] == ["拟稿", "部门负责人核稿", "办公室负责人把关", "主管局领导签发", "文印室登记编号排版", "办公室秘书审核发送"]
    assert by_kind["incoming"] == ["秘书登记", "办公室主任拟办", "秘书", "领导传阅", "秘书", "办理部门批办", "秘书", "结束"]


async def test_an_upward_request_walks_every_step_to_sending(demo, portal):
    """DOC-1, DOC-3, DOC-4, DOC-9: zhangwei drafts a 请示; each demo account acts in turn."""
    document_id = await draft(demo, portal)
    await step(demo, portal, document_id, "zhangwei")
    assert (await current(document_id))["assignee"] == demo["lina"].id  # the head of 农业农村局 (DOC-3)
    await step(demo, portal, document_id, "lina", opinion="核稿无误。")
    office = await current(document_id)
    assert office["role"] == "office_head" and office["assignee"] is None  # a role inbox
    await step(demo, portal, document_id, "wangfang", opinion="把关通过。")
    await step(demo, portal, document_id, "liuyang", opinion="审阅同意。")
    await step(demo, portal, document_id, "zhaolei", opinion="签发。")
    await step(demo, portal, document_id, "sunli", action="number", opinion="已登记编号排版。")
    document = await services.load(document_id)
    assert document["number"].startswith("黄河办〔") and document["number"].endswith("号")
    await step(demo, portal, document_id, "chenjing", action="send", opinion="审核发送。")
    document = await services.load(document_id)
    assert document["status"] == "sent"
    assert await current(document_id) is None
    assert await names_along(document_id) == [
        ("拟稿", "张伟", "approve"), ("部门负责人核稿", "李娜", "approve"), ("办公室负责人把关", "王芳", "approve"),
        ("主管局领导审阅", "刘洋", "approve"), ("局长签发", "赵磊", "approve"), ("文印室登记编号排版", "孙丽", "number"),
        ("办公室秘书审核发送", "陈静", "send")]
    opinions = [row["opinion"] for row in await services.history(document_id)]
    assert opinions[1:] == ["核稿无误。", "把关通过。", "审阅同意。", "签发。", "已登记编号排版。", "审核发送。"]
    assert await AuditEntry.count().where(AuditEntry.action.like("edoc.document.%") & (AuditEntry.target_id == str(document_id))) == 8


@pytest.mark.parametrize("direction", ["downward", "parallel"])
async def test_downward_and_parallel_documents_skip_the_director(demo, portal, direction):
    """DOC-2: the supervising leader signs; no 局长签发 step."""
    document_id = await draft(demo, portal, direction=direction, doc_type="通知", title="关于做好防汛工作的通知")
    for who in ("zhangwei", "lina", "wangfang", "liuyang"):
        await step(demo, portal, document_id, who)
    await step(demo, portal, document_id, "sunli", action="number")
    await step(demo, portal, document_id, "chenjing", action="send")
    assert [name for name, _, _ in await names_along(document_id)] == [
        "拟稿", "部门负责人核稿", "办公室负责人把关", "主管局领导签发", "文印室登记编号排版", "办公室秘书审核发送"]
    assert (await services.load(document_id))["status"] == "sent"


async def test_an_incoming_notice_goes_through_all_leaders_to_a_department_and_back(demo, portal):
    """DOC-8, DOC-9: 秘书登记 → 拟办 → 秘书 → every leader → 秘书 → handling department → 秘书 → 结束."""
    form = DraftForm(doc_type="通知", direction="incoming", title="关于开展安全生产检查的通知", source="济南市人民政府",
                     body="各县区人民政府：……")
    document_id = await services.create_draft(demo["chenjing"], form, portal, incoming=True)
    await step(demo, portal, document_id, "chenjing")
    await step(demo, portal, document_id, "wangfang", opinion="拟请各位领导阅示，农业农村局办理。")
    await step(demo, portal, document_id, "chenjing", opinion="呈领导阅。")
    assert (await current(document_id))["assignee"] == demo["liuyang"].id
    await step(demo, portal, document_id, "liuyang", opinion="已阅。")
    assert (await current(document_id))["assignee"] == demo["zhaolei"].id
    await step(demo, portal, document_id, "zhaolei", opinion="已阅，请农业农村局办理。")
    assert (await current(document_id))["role"] == "secretary"  # leaders send to the secretary role (DOC-9)
    agriculture = (await Department.select(Department.id).where(Department.name == "农业农村局").first())["id"]
    with pytest.raises(services.Invalid):
        await step(demo, portal, document_id, "chenjing", opinion="转办理部门。")  # no department chosen
    await services.act(demo["chenjing"], document_id, (await current(document_id))["id"], "approve", portal, department=agriculture)
    handling = await current(document_id)
    assert (handling["role"], handling["scope_department"]) == ("department_head", agriculture)
    await step(demo, portal, document_id, "lina", opinion="批办：请张伟落实。")
    await step(demo, portal, document_id, "chenjing", opinion="办结。")
    document = await services.load(document_id)
    assert document["status"] == "finished" and await current(document_id) is None
    assert [(name, actor) for name, actor, _ in await names_along(document_id)] == [
        ("秘书登记", "陈静"), ("办公室主任拟办", "王芳"), ("秘书", "陈静"), ("领导传阅", "刘洋"), ("领导传阅", "赵磊"),
        ("秘书", "陈静"), ("办理部门批办", "李娜"), ("秘书", "陈静")]


async def test_only_a_secretary_registers_incoming_documents(demo, portal):
    form = DraftForm(doc_type="通知", direction="incoming", title="来文", source="济南市")
    with pytest.raises(services.NotYours):
        await services.create_draft(demo["zhangwei"], form, portal, incoming=True)


async def test_department_head_rule_head_another_head_or_himself(demo, portal, make_user):
    """DOC-3: a head's document goes to another head; the only head reviews his own; never skipped."""
    document_id = await draft(demo, portal, who="lina")
    view = await services.document_view(demo["lina"], document_id)
    assert "only head" in view["explanation"]
    await step(demo, portal, document_id, "lina")
    assert (await current(document_id))["assignee"] == demo["lina"].id
    assert (await current(document_id))["step_name"] == "部门负责人核稿"

    agriculture = (await Department.select(Department.id).where(Department.name == "农业农村局").first())["id"]
    huanghe = demo["lina"].unit_id
    second = await make_user("second_head", roles=["department_head", "staff"], unit_id=huanghe, department_id=agriculture)
    document_id = await draft(demo, portal, who="lina", title="第二份")
    assert "another head" in (await services.document_view(demo["lina"], document_id))["explanation"]
    await step(demo, portal, document_id, "lina")
    assert (await current(document_id))["assignee"] == second.id


async def test_a_department_without_a_head_cannot_submit(demo, portal):
    document_id = await draft(demo, portal, who="gaoming")  # 大数据局 has no head
    assert "no head" in (await services.document_view(demo["gaoming"], document_id))["explanation"]
    with pytest.raises(services.Invalid):
        await step(demo, portal, document_id, "gaoming")
    assert (await current(document_id))["position"] == 0  # nothing moved, nothing lost


async def test_a_step_needs_a_saved_opinion(demo, portal):
    """DOC-4."""
    document_id = await draft(demo, portal)
    await step(demo, portal, document_id, "zhangwei")
    task = await current(document_id)
    with pytest.raises(services.Invalid):
        await services.act(demo["lina"], document_id, task["id"], "approve", portal)
    with pytest.raises(services.Invalid):
        await services.save_opinion(demo["lina"], document_id, task["id"], "   ")
    assert (await current(document_id))["id"] == task["id"]


async def test_acting_on_a_step_that_is_not_yours_is_refused(demo, portal):
    document_id = await draft(demo, portal)
    await step(demo, portal, document_id, "zhangwei")
    task = await current(document_id)
    for who in ("zhangwei", "wangfang", "zhaolei"):
        with pytest.raises(services.NotYours):
            await services.save_opinion(demo[who], document_id, task["id"], "越权")
        with pytest.raises(services.NotYours):
            await services.act(demo[who], document_id, task["id"], "approve", portal)
    with pytest.raises(services.NotYours):
        await services.document_view(demo["heqiang"], document_id)  # another unit's staff


async def test_skipping_a_step_or_doing_an_action_the_step_lacks_is_refused(demo, portal):
    document_id = await draft(demo, portal)
    first = await step(demo, portal, document_id, "zhangwei")
    with pytest.raises(services.StateChanged):  # the done step cannot be done again
        await services.act(demo["zhangwei"], document_id, first["id"], "approve", portal)
    task = await current(document_id)
    await services.save_opinion(demo["lina"], document_id, task["id"], "同意")
    for action in ("number", "send", "countersign", "to_secretary", "whatever"):
        with pytest.raises(services.NotYours):
            await services.act(demo["lina"], document_id, task["id"], action, portal)
    with pytest.raises(services.Missing):
        await services.act(demo["lina"], document_id, task["id"] + 100, "approve", portal)
    assert (await current(document_id))["id"] == task["id"]


async def test_return_to_the_drafter_with_a_reason_and_resubmit(demo, portal):
    document_id = await draft(demo, portal)
    await step(demo, portal, document_id, "zhangwei")
    await step(demo, portal, document_id, "lina")
    task = await current(document_id)
    with pytest.raises(services.Invalid):
        await services.act(demo["wangfang"], document_id, task["id"], "return", portal, return_to=0, reason="")
    await services.act(demo["wangfang"], document_id, task["id"], "return", portal, return_to=0, reason="请补充依据。")
    back = await current(document_id)
    assert back["assignee"] == demo["zhangwei"].id and back["position"] == 0
    assert (await services.load(document_id))["status"] == "draft"
    await services.update_draft(demo["zhangwei"], document_id, DraftForm("请示", "upward", "关于春耕补贴的请示（修改）"), portal)
    await step(demo, portal, document_id, "zhangwei")
    assert (await current(document_id))["assignee"] == demo["lina"].id
    history = await services.history(document_id)
    assert ("return", "请补充依据。") in [(row["action"], row["opinion"]) for row in history]


async def test_return_to_an_earlier_step(demo, portal):
    document_id = await draft(demo, portal)
    for who in ("zhangwei", "lina", "wangfang"):
        await step(demo, portal, document_id, who)
    task = await current(document_id)
    with pytest.raises(services.Invalid):
        await services.act(demo["liuyang"], document_id, task["id"], "return", portal, return_to=3, reason="不能退回本步")
    await services.act(demo["liuyang"], document_id, task["id"], "return", portal, return_to=1, reason="请部门再核。")
    assert (await current(document_id))["assignee"] == demo["lina"].id


async def test_countersign_passes_to_another_leader_then_secretary_then_office_head(demo, portal):
    """DOC-6: 转交相关领导 → the last leader 送秘书 → the secretary → the office head → next step."""
    document_id = await draft(demo, portal)
    for who in ("zhangwei", "lina", "wangfang"):
        await step(demo, portal, document_id, who)
    with pytest.raises(services.Invalid):  # himself
        await step(demo, portal, document_id, "liuyang", action="countersign", countersigner=demo["liuyang"].id)
    await step(demo, portal, document_id, "liuyang", action="countersign", opinion="同意，请赵局长会签。",
               countersigner=demo["zhaolei"].id)
    countersign = await current(document_id)
    assert (countersign["phase"], countersign["assignee"]) == ("countersign", demo["zhaolei"].id)
    with pytest.raises(services.NotYours):  # the last one sends to the secretary; he does not pass on himself
        await step(demo, portal, document_id, "zhaolei", action="approve")
    await step(demo, portal, document_id, "zhaolei", action="to_secretary", opinion="会签同意。")
    secretary = await current(document_id)
    assert (secretary["phase"], secretary["role"]) == ("secretary", "secretary")
    await step(demo, portal, document_id, "chenjing", opinion="转办公室负责人。")
    office = await current(document_id)
    assert (office["phase"], office["role"]) == ("office", "office_head")
    await step(demo, portal, document_id, "wangfang", opinion="送局长签发。")
    assert (await current(document_id))["step_name"] == "局长签发"


async def test_recall_while_unopened_then_refused_once_opened(demo, portal):
    """DOC-7."""
    document_id = await draft(demo, portal)
    await step(demo, portal, document_id, "zhangwei")
    view = await services.document_view(demo["zhangwei"], document_id)
    assert view["can_recall"]
    with pytest.raises(services.NotYours):
        await services.recall(demo["wangfang"], document_id, portal)
    await services.recall(demo["zhangwei"], document_id, portal)
    back = await current(document_id)
    assert back["assignee"] == demo["zhangwei"].id and back["position"] == 0
    await step(demo, portal, document_id, "zhangwei")
    await services.document_view(demo["lina"], document_id)  # lina opens it
    assert not (await services.document_view(demo["zhangwei"], document_id))["can_recall"]
    with pytest.raises(services.StateChanged):
        await services.recall(demo["zhangwei"], document_id, portal)
    assert (await current(document_id))["assignee"] == demo["lina"].id


async def test_a_role_inbox_is_shared_and_shows_who_took_it(demo, portal, make_user):
    """DOC-9: every secretary of the office sees it; once one takes it, the others see who."""
    office = await Department.select(Department.id).where(Department.is_office == True).first()  # noqa: E712
    second = await make_user("secretary2", roles=["secretary", "staff"], unit_id=demo["chenjing"].unit_id, department_id=office["id"])
    other = await load_current_user(second.id, portal.permissions)
    form = DraftForm(doc_type="通知", direction="incoming", title="共享收件箱", source="济南市")
    document_id = await services.create_draft(demo["chenjing"], form, portal, incoming=True)
    await step(demo, portal, document_id, "chenjing")
    await step(demo, portal, document_id, "wangfang")
    task = await current(document_id)
    assert [row["id"] for row in await services.todo(demo["chenjing"])] == [task["id"]]
    assert [row["id"] for row in await services.todo(other)] == [task["id"]]
    await services.take(other, document_id, task["id"], portal)
    row = (await services.todo(demo["chenjing"]))[0]
    assert row["taken_by_name"] == "Secretary2"
    with pytest.raises(services.NotYours):
        await services.save_opinion(demo["chenjing"], document_id, task["id"], "我来")
    with pytest.raises(services.NotYours):
        await services.take(demo["chenjing"], document_id, task["id"], portal)
    assert not (await services.document_view(demo["chenjing"], document_id))["mine"]


async def test_two_people_acting_at_once_only_one_wins(demo, portal, make_user):
    office = await Department.select(Department.id).where(Department.is_office == True).first()  # noqa: E712
    second = await make_user("secretary3", roles=["secretary", "staff"], unit_id=demo["chenjing"].unit_id, department_id=office["id"])
    other = await load_current_user(second.id, portal.permissions)
    form = DraftForm(doc_type="通知", direction="incoming", title="并发", source="济南市")
    document_id = await services.create_draft(demo["chenjing"], form, portal, incoming=True)
    await step(demo, portal, document_id, "chenjing")
    await step(demo, portal, document_id, "wangfang")
    task = await current(document_id)
    for user in (demo["chenjing"], other):
        await Task.update({Task.opinion: "呈领导阅。"}).where(Task.id == task["id"])

    results = await asyncio.gather(*[services.act(user, document_id, task["id"], "approve", portal)
                                     for user in (demo["chenjing"], other)], return_exceptions=True)
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1 and isinstance(failures[0], (services.StateChanged, services.NotYours)), results
    assert await Task.count().where((Task.document == document_id) & (Task.position == 3)) == 1


async def test_an_administrator_adjusts_a_flow_for_one_unit(demo, portal):
    """Flows are data: a unit's own copy, validated and audited; documents of that unit follow it."""
    admin = demo["admin"]
    unit = admin.unit_id
    flow_id = await flows.adopt_flow(admin, portal, unit, "downward")
    assert await flows.adopt_flow(admin, portal, unit, "downward") == flow_id
    steps = await flows.steps_of(flow_id)
    form = {f"name_{s.position}": s.name for s in steps} | {f"role_{s.position}": s.role for s in steps} \
        | {f"actions_{s.position}": sorted(s.actions) for s in steps}
    form["name_3"] = "分管领导签发"
    form["actions_3"] = ["approve", "return"]
    await flows.update_flow(admin, portal, flow_id, form)
    assert (await flows.steps_of(flow_id))[3].name == "分管领导签发"
    bad = dict(form, name_1="", role_2="nobody", actions_4=["send"])
    with pytest.raises(flows.FlowError) as error:
        await flows.update_flow(admin, portal, flow_id, bad)
    assert set(error.value.errors) == {"name_1", "role_2", "actions_4"}
    assert await AuditEntry.count().where(AuditEntry.action == "edoc.flow.update") == 1
    document_id = await draft(demo, portal, direction="downward", doc_type="通知")
    assert (await services.load(document_id))["flow"] == flow_id
    for who in ("zhangwei", "lina", "wangfang"):
        await step(demo, portal, document_id, who)
    assert (await current(document_id))["step_name"] == "分管领导签发"
    default_names = [s["name"] for s in await FlowStep.select(FlowStep.name).where(FlowStep.flow != flow_id)]
    assert "分管领导签发" not in default_names
    assert await Document.count() == 1


async def test_a_unit_administrator_adjusts_only_his_own_units_flows(demo, portal):
    """Per unit (DOC-1): the administrator of 东镇 adjusts 东镇's flows; the county's and the
    defaults are refused. An administrator of every unit ("All units") adjusts any of them."""
    from portal.accounts.tables import RoleAssignment, Unit

    county, township = demo["admin"].unit_id, demo["majun"].unit_id
    await RoleAssignment.insert(RoleAssignment(user=demo["majun"].id, role="admin", unit=township))
    majun = await load_current_user(demo["majun"].id, portal.permissions)
    county_flow = await flows.adopt_flow(demo["admin"], portal, county, "upward")
    with pytest.raises(flows.NotYourUnit):
        await flows.adopt_flow(demo["admin"], portal, township, "upward")
    with pytest.raises(flows.NotYourUnit):
        await flows.adopt_flow(majun, portal, county, "downward")
    own = await flows.adopt_flow(majun, portal, township, "upward")
    steps = await flows.steps_of(county_flow)
    form = {f"name_{s.position}": "改" for s in steps} | {f"role_{s.position}": s.role for s in steps} \
        | {f"actions_{s.position}": sorted(s.actions) for s in steps}
    default = (await flows.Flow.select(flows.Flow.id).where(flows.Flow.unit.is_null()).first())["id"]
    for flow_id in (county_flow, default):
        with pytest.raises(flows.NotYourUnit):
            await flows.update_flow(majun, portal, flow_id, form)
    assert {s.name for s in await flows.steps_of(county_flow)} != {"改"}
    await flows.update_flow(majun, portal, own, form)
    assert [f["unit"] for f in await flows.flows_for_admin(frozenset({township}))] == [None, None, None, township]

    top = await load_current_user(demo["zhoujie"].id, portal.permissions)
    await RoleAssignment.insert(RoleAssignment(user=top.id, role="admin", unit=None))
    top = await load_current_user(top.id, portal.permissions)
    await flows.update_flow(top, portal, county_flow, form)
    await flows.update_flow(top, portal, default, {**form, **{f"name_{n}": "默认" for n in range(8)}})
    assert await flows.adopt_flow(top, portal, (await Unit.select(Unit.id).where(Unit.code == "sd").first())["id"], "incoming")
