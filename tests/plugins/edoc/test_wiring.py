"""The flow engine wired to its parts: the print room's number (DOC-11), attachment access and the
office check (DOC-5), handling deadlines (DOC-10) and publishing (DOC-12, DOC-13), walked by the
demo accounts through the services and the pages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from plugins.edoc import attachments, services
from plugins.edoc.services import DraftForm
from plugins.edoc.parts_tables import Handling, Publication
from portal.accounts.services import load_current_user
from portal.accounts.tables import Department, User
from portal.demo import ACCOUNTS, DEMO_PASSWORD, seed_demo
from portal.i18n import set_locale
from portal.localtime import today
from portal.testing import TestUser, login_as, post_form

DOWNWARD = ("zhangwei", "lina", "wangfang", "liuyang")


@pytest.fixture(autouse=True)
def english(client):
    set_locale("en")
    client.headers["accept-language"] = "en"


@pytest.fixture
def portal(app):
    return app.state.portal


@pytest.fixture
async def demo(client, portal):
    """The demo organisation; ``demo["zhangwei"]`` is his ``CurrentUser``."""
    await seed_demo()
    return {row["username"]: await load_current_user(row["id"], portal.permissions)
            for row in await User.select(User.id, User.username)}


@pytest.fixture
def logins(demo):
    """``TestUser`` of each demo account, to log in through the pages."""
    secrets = {a.username: a.totp_secret for a in ACCOUNTS}
    return {name: TestUser(user.id, name, DEMO_PASSWORD, secrets[name]) for name, user in demo.items()}


async def as_user(client, logins, username):
    client.cookies.clear()
    await login_as(client, logins[username])


async def draft(demo, portal, title="关于做好防汛工作的通知", **changes) -> int:
    form = DraftForm(doc_type="通知", direction="downward", title=title, main_recipients="各乡镇人民政府",
                     body="正文。", **changes)
    return await services.create_draft(demo["zhangwei"], form, portal)


async def step(demo, portal, document_id: int, who: str, action: str = "approve", opinion: str = "同意。", **kwargs) -> None:
    """``who`` opens the document, saves an opinion (DOC-4) and acts."""
    user = demo[who]
    view = await services.document_view(user, document_id)
    assert view["mine"], (who, view["task"])
    if view["step"].kind != "draft":
        await services.save_opinion(user, document_id, view["task"]["id"], opinion)
    await services.act(user, document_id, view["task"]["id"], action, portal, **kwargs)


async def test_the_print_room_gives_the_next_number_of_the_units_sequence(demo, portal):
    """DOC-11: 文印室登记编号 takes numbering.next_number in its transaction: 1号, then 2号."""
    year = today().year
    numbers = []
    for title in ("第一份通知", "第二份通知"):
        document_id = await draft(demo, portal, title=title)
        for who in DOWNWARD:
            await step(demo, portal, document_id, who)
        await step(demo, portal, document_id, "sunli", action="number")
        numbers.append((await services.load(document_id))["number"])
    assert numbers == [f"黄河办〔{year}〕1号", f"黄河办〔{year}〕2号"]


async def upload(client, document_id: int, name: str, data: bytes):
    return await post_form(client, f"/edoc/documents/{document_id}/attachments", {},
                           files={"file": (name, data, "application/octet-stream")})


async def test_attachments_follow_the_documents_access_rules(client, demo, logins, portal):
    """DOC-5: the drafter attaches from the document page while it is his; whoever sees the
    document downloads them; another unit's user gets 404; a reader cannot upload."""
    document_id = await draft(demo, portal, has_attachments=True)
    await as_user(client, logins, "zhangwei")
    page = (await client.get(f"/edoc/{document_id}")).text
    assert "The document is marked as having attachments, but none is attached." in page and 'class="edoc-upload"' in page
    assert (await upload(client, document_id, "防汛物资清单.xlsx", b"v1")).status_code == 303
    page = (await client.get(f"/edoc/{document_id}")).text
    assert "防汛物资清单.xlsx" in page and "none is attached" not in page
    version = int(page.split('href="/edoc/attachments/versions/')[1].split('"')[0])
    await step(demo, portal, document_id, "zhangwei")
    assert (await upload(client, document_id, "补充.xlsx", b"late")).status_code == 403  # no longer his to change

    await as_user(client, logins, "heqiang")  # another unit
    assert (await client.get(f"/edoc/documents/{document_id}/attachments")).status_code == 404
    assert (await client.get(f"/edoc/attachments/versions/{version}")).status_code == 404
    assert (await upload(client, document_id, "x.xlsx", b"x")).status_code == 404

    await as_user(client, logins, "lina")  # the reviewer sees the document
    page = (await client.get(f"/edoc/{document_id}")).text
    assert "防汛物资清单.xlsx" in page and 'class="edoc-upload"' not in page
    download = await client.get(f"/edoc/attachments/versions/{version}")
    assert download.status_code == 200 and download.content == b"v1"
    assert (await upload(client, document_id, "lina.xlsx", b"x")).status_code == 403
    assert [a["versions"][0]["filename"] for a in await attachments.attachments_of(document_id)] == ["防汛物资清单.xlsx"]


async def test_the_office_check_refuses_missing_attachments_and_returns_it_to_the_drafter(client, demo, logins, portal):
    """DOC-5: 办公室负责人把关 cannot pass a document marked as having attachments without them;
    the office head returns it (退回), the drafter attaches them, and it passes."""
    document_id = await draft(demo, portal, has_attachments=True)
    await step(demo, portal, document_id, "zhangwei")
    await step(demo, portal, document_id, "lina")
    task = await services.open_task(document_id)
    await services.save_opinion(demo["wangfang"], document_id, task["id"], "附件未上传。")
    await as_user(client, logins, "wangfang")
    refused = await post_form(client, f"/edoc/{document_id}/act", {"task": task["id"], "action": "approve"})
    assert refused.status_code == 400
    assert "marked as having attachments, but none is attached: return it to the drafter" in refused.text
    assert f'href="/edoc/{document_id}"' in refused.text
    assert (await services.open_task(document_id))["id"] == task["id"]  # nothing moved
    returned = await post_form(client, f"/edoc/{document_id}/act", {"task": task["id"], "action": "return", "return_to": "0",
                                                                    "reason": "请上传附件。"})
    assert returned.status_code == 303
    back = await services.open_task(document_id)
    assert (back["position"], back["assignee"]) == (0, demo["zhangwei"].id)

    await as_user(client, logins, "zhangwei")
    assert (await upload(client, document_id, "防汛物资清单.xlsx", b"list")).status_code == 303
    await step(demo, portal, document_id, "zhangwei")
    await step(demo, portal, document_id, "lina")
    await step(demo, portal, document_id, "wangfang", opinion="附件齐全，把关通过。")
    assert (await services.open_task(document_id))["step_name"] == "主管局领导签发"


async def receive(demo, portal, title: str, classification: str = "public") -> int:
    """chenjing registers an incoming 通知; the office head, the secretary and every leader read it;
    the secretary sends it to 农业农村局, where it waits for its head (DOC-8)."""
    form = DraftForm(doc_type="通知", direction="incoming", title=title, source="济南市人民政府", body="……",
                     classification=classification)
    document_id = await services.create_draft(demo["chenjing"], form, portal, incoming=True)
    for who in ("chenjing", "wangfang", "chenjing", "liuyang", "zhaolei"):
        await step(demo, portal, document_id, who)
    await step(demo, portal, document_id, "chenjing", opinion="请农业农村局办理。", department=await agriculture())
    return document_id


async def agriculture() -> int:
    return (await Department.select(Department.id).where(Department.name == "农业农村局").first())["id"]


async def handlings(document_id: int) -> list[dict]:
    return await Handling.select().where(Handling.document == document_id).order_by(Handling.id)


async def test_the_handling_department_is_timed_and_a_late_one_flagged(client, demo, logins, portal):
    """DOC-10: reaching the department starts its handling; sending it back to the secretary ends it;
    the timeliness report counts it and flags the late one."""
    document_id = await receive(demo, portal, "关于开展安全生产检查的通知")
    [waiting] = await handlings(document_id)
    assert (waiting["department"], waiting["handled_at"]) == (await agriculture(), None)
    await step(demo, portal, document_id, "lina", opinion="批办：请张伟落实。")
    [handled] = await handlings(document_id)
    assert handled["handled_at"] is not None

    late_id = await receive(demo, portal, "关于报送防汛责任人名单的通知")
    await Handling.update({Handling.received_at: datetime.now(timezone.utc) - timedelta(days=40)}).where(Handling.document == late_id)
    await as_user(client, logins, "chenjing")
    page = (await client.get("/edoc/timeliness")).text
    row = page.split("<td>农业农村局</td>")[1].split("</tr>")[0]
    assert row.startswith("<td>2</td><td>1</td><td>1</td><td>1</td>")  # documents, handled, waiting, late
    late = page.split('class="late"')[1]
    assert "关于报送防汛责任人名单的通知" in late and "not yet — overdue" in late
    assert "关于开展安全生产检查的通知" not in late


async def test_a_recall_before_the_department_opens_it_withdraws_the_handling(demo, portal):
    """DOC-7 with DOC-10: recalled unopened, the document never waited at the department; the
    head recalling what he sent back has it open again."""
    document_id = await receive(demo, portal, "发错部门的通知")
    await services.recall(demo["chenjing"], document_id, portal)
    assert await handlings(document_id) == []
    await step(demo, portal, document_id, "chenjing", department=await agriculture())
    await step(demo, portal, document_id, "lina", opinion="批办。")
    await services.recall(demo["lina"], document_id, portal)
    [reopened] = await handlings(document_id)
    assert reopened["handled_at"] is None


async def finish(demo, portal, title: str, classification: str = "public") -> int:
    """An incoming 通知 received, handled by 农业农村局 and finished by the secretary (结束)."""
    document_id = await receive(demo, portal, title, classification)
    await step(demo, portal, document_id, "lina", opinion="批办：已落实。")
    await step(demo, portal, document_id, "chenjing", opinion="办结。")
    assert (await services.load(document_id))["status"] == "finished"
    return document_id


async def test_the_office_publishes_a_finished_incoming_document_on_the_home_page(client, demo, logins, portal):
    """DOC-10, DOC-13: the secretary publishes the finished 通知 from its page; it is on the home page."""
    unfinished = await receive(demo, portal, "尚未办结的通知")
    document_id = await finish(demo, portal, "关于开展安全生产大检查的通知")
    await as_user(client, logins, "chenjing")
    assert 'class="edoc-publish"' not in (await client.get(f"/edoc/{unfinished}")).text
    assert (await post_form(client, f"/edoc/{unfinished}/publish", {})).status_code == 409
    page = (await client.get(f"/edoc/{document_id}")).text
    assert 'class="edoc-publish"' in page
    without_csrf = await client.post(f"/edoc/{document_id}/publish")
    assert without_csrf.status_code == 403
    assert (await post_form(client, f"/edoc/{document_id}/publish", {})).status_code == 303
    page = (await client.get(f"/edoc/{document_id}")).text
    assert "Published on the home page on" in page and 'class="edoc-publish"' not in page
    assert "关于开展安全生产大检查的通知" in (await client.get("/")).text
    assert await Publication.count() == 1

    await as_user(client, logins, "zhangwei")  # no edoc.publish, and never saw it
    assert (await post_form(client, f"/edoc/{document_id}/publish", {})).status_code == 403
    await as_user(client, logins, "lina")  # saw it (批办) but may not publish
    refused = await post_form(client, f"/edoc/{document_id}/publish", {})
    assert refused.status_code == 403 and "You may not publish documents." in refused.text


async def test_a_classified_incoming_document_is_refused_with_the_reason(client, demo, logins, portal):
    """DOC-12."""
    document_id = await finish(demo, portal, "关于防汛物资储备的通知（秘密）", classification="secret")
    await as_user(client, logins, "chenjing")
    page = (await client.get(f"/edoc/{document_id}")).text
    assert "is classified (涉密) and is never published" in page and 'class="edoc-publish"' not in page
    refused = await post_form(client, f"/edoc/{document_id}/publish", {})
    assert refused.status_code == 400 and "This document is classified (涉密) and is never published on the portal." in refused.text
    assert await Publication.count() == 0
    assert "关于防汛物资储备的通知" not in (await client.get("/")).text
