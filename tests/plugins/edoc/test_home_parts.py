"""Notices and work news on the home page (DOC-13), publishing with the classified refusal
(DOC-12, DOC-13), handling deadlines, reminders and the timeliness report (DOC-10)."""

from datetime import date, datetime, timedelta, timezone

import pytest

from plugins.edoc import bulletins, handling
from plugins.edoc.parts_tables import Handling, Publication
from plugins.edoc.publishing import PublishRefused, publish
from plugins.edoc.tables import Document
from portal.accounts.services import UnitForm, create_department, create_unit
from portal.api import CurrentUser
from portal.hookspecs import hookimpl
from portal.jobs.schedule import get_schedule
from portal.localtime import today
from portal.testing import login_as, post_form


@pytest.fixture
async def org(app):
    unit = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, "huanghe.gov.example", "黄河办"))
    other_unit = await create_unit(None, UnitForm("东镇人民政府", "dongzhen", "township", unit, "dongzhen.gov.example", "东镇"))
    office = await create_department(None, unit, "办公室", True)
    agriculture = await create_department(None, unit, "农业农村局")
    data = await create_department(None, unit, "大数据局")
    return {"unit": unit, "other_unit": other_unit, "office": office, "agriculture": agriculture, "data": data}


def current(user, unit, department, permissions) -> CurrentUser:
    return CurrentUser(user.id, user.username, user.username, "", unit, department, frozenset(user.roles),
                       frozenset(permissions), "zh_CN", "")


async def test_the_office_posts_a_notice_and_staff_see_it_on_the_home_page(client, org, make_user):
    secretary = await make_user("secretary", roles=["secretary", "staff"], unit_id=org["unit"], department_id=org["office"])
    staff = await make_user("farmer", roles=["staff"], unit_id=org["unit"], department_id=org["agriculture"])
    await login_as(client, secretary)
    response = await post_form(client, "/edoc/bulletins", {"kind": "notice", "title": "关于国庆节放假的通知",
                                                           "body": "10月1日至8日放假。\n<script>alert(1)</script>"})
    assert response.status_code == 303
    await login_as(client, staff)
    home = (await client.get("/")).text
    assert "关于国庆节放假的通知" in home
    page = await client.get(response.headers["location"])
    assert "10月1日至8日放假。" in page.text and "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    # Staff may not post notices.
    assert (await post_form(client, "/edoc/bulletins", {"kind": "notice", "title": "x", "body": "y"})).status_code == 403
    assert (await client.get("/edoc/bulletins/new?kind=notice")).status_code == 403


async def test_department_staff_post_and_edit_their_news_only(client, org, make_user):
    farmer = await make_user("farmer", roles=["staff"], unit_id=org["unit"], department_id=org["agriculture"])
    analyst = await make_user("analyst", roles=["staff"], unit_id=org["unit"], department_id=org["data"])
    colleague = await make_user("colleague", roles=["staff"], unit_id=org["unit"], department_id=org["agriculture"])
    await login_as(client, farmer)
    response = await post_form(client, "/edoc/bulletins", {"kind": "news", "title": "春耕备耕工作有序推进", "body": "全县春耕。"})
    assert response.status_code == 303
    url = response.headers["location"]
    await login_as(client, colleague)
    assert (await post_form(client, f"{url}/edit", {"title": "春耕备耕工作全面推进", "body": "全县春耕。"})).status_code == 303
    await login_as(client, analyst)
    assert "春耕备耕工作全面推进" in (await client.get("/")).text
    assert (await client.get(f"{url}/edit")).status_code == 403
    assert (await post_form(client, f"{url}/edit", {"title": "篡改", "body": "x"})).status_code == 403
    news_id = int(url.rsplit("/", 1)[1])
    assert (await bulletins.get(news_id))["title"] == "春耕备耕工作全面推进"


async def test_bad_input_is_refused_with_the_reason_and_kept(client, org, make_user):
    farmer = await make_user("farmer", roles=["staff"], unit_id=org["unit"], department_id=org["agriculture"])
    await login_as(client, farmer)
    response = await post_form(client, "/edoc/bulletins", {"kind": "news", "title": "", "body": "正文保留"})
    assert response.status_code == 400 and 'role="alert"' in response.text and "正文保留" in response.text
    response = await post_form(client, "/edoc/bulletins", {"kind": "news", "title": "长" * 201, "body": "x"})
    assert response.status_code == 400
    assert (await post_form(client, "/edoc/bulletins", {"kind": "other", "title": "x", "body": "y"})).status_code == 404
    assert await bulletins.latest(org["unit"], "news") == []


async def test_another_units_items_are_not_shown(client, org, make_user):
    secretary = await make_user("secretary", roles=["secretary", "staff"], unit_id=org["unit"], department_id=org["office"])
    townsman = await make_user("townsman", roles=["staff"], unit_id=org["other_unit"])
    await login_as(client, secretary)
    url = (await post_form(client, "/edoc/bulletins", {"kind": "notice", "title": "县里的通知", "body": "x"})).headers["location"]
    await login_as(client, townsman)
    assert "县里的通知" not in (await client.get("/")).text
    assert (await client.get(url)).status_code == 404


async def test_posting_and_editing_are_audited(app, org, make_user):
    from portal.audit.tables import AuditEntry

    farmer = await make_user("farmer", roles=["staff"], unit_id=org["unit"], department_id=org["agriculture"])
    portal = app.state.portal
    user = current(farmer, org["unit"], org["agriculture"], {"edoc.news"})
    news_id = await bulletins.post(portal, user, "news", bulletins.BulletinForm("标题", "内容"))
    await bulletins.edit(portal, user, news_id, bulletins.BulletinForm("新标题", "内容"))
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]
    assert actions[-2:] == ["edoc.news_post", "edoc.news_edit"]


class Disclosure:
    def __init__(self):
        self.received = []

    @hookimpl
    def on_document_published(self, portal, document):
        self.received.append(document)


async def _document(user, title="关于做好秋季防汛工作的通知") -> int:
    rows = await Document.insert(Document(title=title, direction="downward", drafter=user.id)).returning(Document.id)
    return rows[0]["id"]


async def test_a_published_document_is_on_the_home_page_and_offered_to_the_disclosure_plugin(client, app, org, make_user):
    secretary = await make_user("secretary", roles=["secretary", "staff"], unit_id=org["unit"], department_id=org["office"])
    listener = Disclosure()
    app.state.portal.pm.register(listener)
    document_id = await _document(secretary)
    actor = current(secretary, org["unit"], org["office"], {"edoc.publish"})
    document = {"id": document_id, "title": "关于做好秋季防汛工作的通知", "number": "黄河办〔2026〕3号", "unit": org["unit"],
                "classification": "public", "body": "not public here"}
    first = await publish(app.state.portal, actor, document)
    assert await publish(app.state.portal, actor, document) == first
    assert [d["title"] for d in listener.received] == ["关于做好秋季防汛工作的通知"]
    assert listener.received[0]["number"] == "黄河办〔2026〕3号" and "body" not in listener.received[0]
    await login_as(client, secretary)
    home = (await client.get("/")).text
    assert "关于做好秋季防汛工作的通知" in home and "黄河办〔2026〕3号" in home
    assert "关于做好秋季防汛工作的通知" in (await client.get("/edoc/published")).text


async def test_a_published_document_opens_for_every_reader_without_its_steps(client, app, org, make_user):
    """DOC-13: the list and the home page link to the published document: its title, number and
    body (kept safe), not the opinions of its steps; a document classified since then never shows."""
    secretary = await make_user("secretary", roles=["secretary", "staff"], unit_id=org["unit"], department_id=org["office"])
    reader = await make_user("reader", roles=["staff"], unit_id=org["other_unit"])
    rows = await Document.insert(Document(title="关于做好秋季防汛工作的通知", direction="incoming", drafter=secretary.id, doc_type="通知",
                                          source="济南市人民政府", body="<p>请<strong>立即</strong>部署。</p><script>alert(1)</script>",
                                          status="finished")).returning(Document.id)
    document_id = rows[0]["id"]
    actor = current(secretary, org["unit"], org["office"], {"edoc.publish"})
    publication_id = await publish(app.state.portal, actor, {"id": document_id, "title": "关于做好秋季防汛工作的通知",
                                                              "number": "济政〔2026〕9号", "unit": org["unit"], "classification": "public"})
    await login_as(client, reader)
    assert f'href="/edoc/published/{publication_id}"' in (await client.get("/edoc/published")).text
    assert f'href="/edoc/published/{publication_id}"' in (await client.get("/")).text
    page = await client.get(f"/edoc/published/{publication_id}")
    assert page.status_code == 200
    for shown in ("关于做好秋季防汛工作的通知", "济政〔2026〕9号", "济南市人民政府", "<p>请<strong>立即</strong>部署。</p>"):
        assert shown in page.text
    assert "alert(1)" not in page.text
    assert (await client.get(f"/edoc/{document_id}")).status_code == 403  # the document's own page is not his
    assert (await client.get(f"/edoc/published/{publication_id + 1}")).status_code == 404
    await Document.update({Document.classification: "secret"}).where(Document.id == document_id)
    assert (await client.get(f"/edoc/published/{publication_id}")).status_code == 404


@pytest.mark.parametrize("classification", ["secret", "confidential", "top_secret", "秘密", "", None])
async def test_a_classified_document_is_never_published(app, org, make_user, classification):
    secretary = await make_user("secretary", roles=["secretary", "staff"], unit_id=org["unit"], department_id=org["office"])
    listener = Disclosure()
    app.state.portal.pm.register(listener)
    actor = current(secretary, org["unit"], org["office"], {"edoc.publish"})
    document = {"id": await _document(secretary), "title": "涉密文件", "classification": classification}
    with pytest.raises(PublishRefused, match="涉密"):
        await publish(app.state.portal, actor, document)
    assert await Publication.count() == 0 and listener.received == []


async def test_publishing_needs_the_permission(app, org, make_user):
    staff = await make_user("farmer", roles=["staff"], unit_id=org["unit"], department_id=org["agriculture"])
    document = {"id": await _document(staff), "title": "x", "classification": "public"}
    with pytest.raises(PublishRefused):
        await publish(app.state.portal, current(staff, org["unit"], org["agriculture"], {"edoc.news"}), document)
    assert await Publication.count() == 0


async def test_heads_are_reminded_of_waiting_documents_and_overdue_ones_flagged(app, client, org, make_user):
    from portal.accounts.tables import RoleAssignment

    head = await make_user("head", roles=["department_head", "staff"], unit_id=org["unit"], department_id=org["agriculture"])
    other_head = await make_user("datahead", roles=["staff"], unit_id=org["unit"], department_id=org["data"])
    # Head of the data bureau by a role scoped to it (not by membership).
    await RoleAssignment.insert(RoleAssignment(user=other_head.id, role="department_head", unit=org["unit"], department=org["data"]))
    document_id = await _document(head)
    await handling.start_handling(document_id, org["agriculture"], limit_days=3)
    late_id = await handling.start_handling(await _document(head, "逾期文件"), org["data"], limit_days=1)
    await Handling.update({Handling.received_at: datetime.now(timezone.utc) - timedelta(days=30)}).where(Handling.id == late_id)
    assert await handling.department_heads(org["agriculture"]) == [head.id]
    assert await handling.department_heads(org["data"]) == [other_head.id]

    portal = app.state.portal
    published = []
    portal.notify = lambda user_id, kind, **payload: published.append((user_id, kind, payload))
    assert await handling.send_reminders(portal) == 2
    flags = {user_id: payload["overdue"] for user_id, kind, payload in published if kind == "edoc_handling"}
    assert flags == {head.id: False, other_head.id: True}
    assert await Handling.count().where(Handling.reminded_at.is_null()) == 0

    await handling.finish_handling(document_id, org["agriculture"])
    published.clear()
    assert await handling.send_reminders(portal) == 1
    await login_as(client, other_head)
    assert (await client.get("/")).status_code == 200


async def test_the_reminder_job_is_a_durable_daily_schedule(app, org):
    from plugins.edoc.handling import ensure_reminder_schedule

    await ensure_reminder_schedule()
    schedule = await get_schedule(handling.REMINDER_SCHEDULE)
    assert schedule["kind"] == handling.REMINDER_KIND and schedule["cycle"] == "daily"


async def test_the_timeliness_page_lists_the_late_documents(client, org, make_user):
    secretary = await make_user("secretary", roles=["secretary", "staff"], unit_id=org["unit"], department_id=org["office"])
    staff = await make_user("farmer", roles=["staff"], unit_id=org["unit"], department_id=org["agriculture"])
    late_id = await handling.start_handling(await _document(secretary, "逾期未办的通知"), org["data"], limit_days=2)
    await Handling.update({Handling.received_at: datetime.now(timezone.utc) - timedelta(days=40)}).where(Handling.id == late_id)
    await handling.start_handling(await _document(secretary, "刚收到的通知"), org["agriculture"])
    await login_as(client, staff)
    assert (await client.get("/edoc/timeliness")).status_code == 403
    await login_as(client, secretary)
    page = (await client.get("/edoc/timeliness")).text
    assert "逾期未办的通知" in page and "刚收到的通知" not in page
    assert page.index("大数据局") < page.index("农业农村局")
    assert today().isoformat()[:4] in page
