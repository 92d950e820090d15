"""The catalog's rules as services (PUB-1, PUB-4): drafts, publishing now or later, withdrawing,
the classified refusal, search of Chinese text, documents from the edoc plugin."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plugins.disclosure import categories as cats
from plugins.disclosure import items, public
from plugins.disclosure.documents import receive_document
from plugins.disclosure.items import ItemForm, ItemRefused, NotAllowed, PublishRefused
from plugins.disclosure.tables import Item
from portal.audit.tables import AuditEntry
from portal.jobs import now

from .conftest import as_current


def form(category: int, title: str = "关于做好防汛工作的通知", **fields) -> ItemForm:
    return ItemForm(category=str(category), title=title, **fields)


async def actions() -> list[str]:
    return [r["action"] for r in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]


async def test_a_draft_is_not_public_until_published(app, units, categories, publisher):
    portal, user = app.state.portal, as_current(publisher, units["county"])
    item_id = await items.create_item(portal, user, units["county"], form(categories["county"]["notices"], body="<p>请各部门做好准备。</p>"))
    assert await public.get_public_item(item_id) is None
    assert (await public.published_items(units["county"])).total == 0
    await items.publish_item(portal, user, item_id)
    shown = await public.get_public_item(item_id)
    assert shown["title"] == "关于做好防汛工作的通知" and shown["category_name"] == "通知公告"
    page = await public.published_items(units["county"], categories["county"]["notices"])
    assert [i["id"] for i in page.items] == [item_id]
    assert {c["key"]: c["count"] for c in await public.catalog(units["county"])}["notices"] == 1
    assert (await actions())[-2:] == ["disclosure.item_create", "disclosure.item_publish"]


async def _published(app, user, category: int, title: str = "关于做好防汛工作的通知", **fields) -> int:
    item_id = await items.create_item(app.state.portal, user, user.unit_id, form(category, title, **fields))
    await items.publish_item(app.state.portal, user, item_id)
    return item_id


async def test_a_scheduled_item_appears_at_its_moment_and_not_before(app, units, categories, publisher):
    portal, user = app.state.portal, as_current(publisher, units["county"])
    category = categories["county"]["policies"]
    item_id = await items.create_item(portal, user, units["county"], form(category, "黄河县乡村振兴规划", body="规划全文"))
    moment = now() + timedelta(hours=2)
    assert await items.publish_item(portal, user, item_id, moment) == moment
    assert (await items.item(item_id))["state"] == "scheduled"
    for when, seen in ((None, False), (moment - timedelta(seconds=1), False), (moment, True), (moment + timedelta(days=1), True)):
        assert (await public.get_public_item(item_id, when) is not None) is seen
        assert (await public.published_items(units["county"], category, moment=when)).total == int(seen)
        assert (await public.search("乡村振兴", moment=when)).total == int(seen)
        assert len(await public.feed_items(category, moment=when)) == int(seen)
    assert (await actions())[-1] == "disclosure.item_schedule"
    # Published now after all: the moment moves to now.
    await items.publish_item(portal, user, item_id)
    assert await public.get_public_item(item_id) is not None


async def test_a_withdrawn_item_is_gone_from_every_public_view(app, units, categories, publisher):
    portal, user = app.state.portal, as_current(publisher, units["county"])
    category = categories["county"]["notices"]
    item_id = await _published(app, user, category, "关于停水的通知", body="明日停水。")
    attachment = await items.add_attachment(portal, user, item_id, "停水范围.pdf", "application/pdf", b"%PDF-1.4 range")
    assert await public.public_attachment(attachment) is not None
    with pytest.raises(ItemRefused) as refused:
        await items.withdraw_item(portal, user, item_id, "   ")
    assert set(refused.value.errors) == {"reason"}
    await items.withdraw_item(portal, user, item_id, "通知内容有误，已重新发布")
    row = await items.item(item_id)
    assert row["state"] == "withdrawn" and row["withdrawn_reason"] == "通知内容有误，已重新发布"
    assert await public.get_public_item(item_id) is None
    assert await public.public_attachment(attachment) is None
    assert (await public.published_items(units["county"], category)).total == 0
    assert (await public.search("停水")).total == 0
    assert await public.feed_items(category) == []
    assert {c["key"]: c["count"] for c in await public.catalog(units["county"])}["notices"] == 0
    with pytest.raises(PublishRefused):
        await items.publish_item(portal, user, item_id)
    with pytest.raises(ItemRefused):
        await items.update_item(portal, user, item_id, form(category, "改过的标题"))
    assert (await actions())[-1] == "disclosure.item_withdraw"


@pytest.mark.parametrize("classification", ["secret", "confidential", "top_secret", "internal"])
async def test_an_item_not_marked_public_is_never_published(app, units, categories, publisher, classification):
    portal, user = app.state.portal, as_current(publisher, units["county"])
    item_id = await items.create_item(portal, user, units["county"],
                                      form(categories["county"]["policies"], "内部文件", classification=classification))
    with pytest.raises(PublishRefused) as refused:
        await items.publish_item(portal, user, item_id)
    assert ("涉密" in str(refused.value)) is (classification != "internal")
    with pytest.raises(PublishRefused):
        await items.publish_item(portal, user, item_id, now() + timedelta(days=1))
    row = await items.item(item_id)
    assert row["status"] == "draft" and row["publish_at"] is None
    assert await public.get_public_item(item_id, now() + timedelta(days=2)) is None
    assert "disclosure.item_publish" not in await actions()


async def test_a_published_item_cannot_be_marked_classified(app, units, categories, publisher):
    portal, user = app.state.portal, as_current(publisher, units["county"])
    category = categories["county"]["policies"]
    item_id = await _published(app, user, category)
    with pytest.raises(ItemRefused) as refused:
        await items.update_item(portal, user, item_id, form(category, classification="secret"))
    assert set(refused.value.errors) == {"classification"}
    assert (await items.item(item_id))["classification"] == "public"
    assert await public.get_public_item(item_id) is not None


async def test_a_publisher_works_on_his_own_unit_only(app, units, categories, publisher, town_publisher, make_user):
    portal = app.state.portal
    county, town = as_current(publisher, units["county"]), as_current(town_publisher, units["town"])
    item_id = await items.create_item(portal, county, units["county"], form(categories["county"]["notices"]))
    with pytest.raises(NotAllowed):
        await items.create_item(portal, town, units["county"], form(categories["county"]["notices"]))
    for attempt in (items.publish_item(portal, town, item_id), items.withdraw_item(portal, town, item_id, "无"),
                    items.update_item(portal, town, item_id, form(categories["county"]["notices"])),
                    items.add_attachment(portal, town, item_id, "a.txt", "text/plain", b"x")):
        with pytest.raises(NotAllowed):
            await attempt
    staff = await make_user("clerk", roles=["staff"], unit_id=units["county"])
    assert not items.may_manage(as_current(staff, units["county"], permissions=()), units["county"])
    admin = as_current(staff, None, permissions=("core.admin",))
    assert items.may_manage(admin, units["town"]) and items.may_manage(admin, units["county"])
    assert (await items.item(item_id))["status"] == "draft"


@pytest.mark.parametrize(("fields", "wrong"), [
    ({"title": "  "}, "title"),
    ({"title": "长" * 201}, "title"),
    ({"document_date": "2026-13-01"}, "document_date"),
    ({"document_number": "号" * 61}, "document_number"),
    ({"issuer": "单" * 101}, "issuer"),
    ({"body": "字" * (items.MAX_BODY + 1)}, "body"),
    ({"classification": "unknown"}, "classification"),
    ({"category": "999999"}, "category"),
    ({"category": "x"}, "category"),
])
async def test_bad_input_is_refused_field_by_field_and_nothing_is_written(app, units, categories, publisher, fields, wrong):
    portal, user = app.state.portal, as_current(publisher, units["county"])
    values = {"category": str(categories["county"]["notices"]), "title": "标题", **fields}
    with pytest.raises(ItemRefused) as refused:
        await items.create_item(portal, user, units["county"], ItemForm(**values))
    assert set(refused.value.errors) == {wrong}
    assert (await items.staff_items(units["county"]))[1] == 0


async def test_a_category_of_another_unit_is_refused(app, units, categories, publisher):
    portal, user = app.state.portal, as_current(publisher, units["county"])
    with pytest.raises(ItemRefused) as refused:
        await items.create_item(portal, user, units["county"], form(categories["town"]["notices"]))
    assert set(refused.value.errors) == {"category"}


@pytest.mark.parametrize(("query", "found"), [
    ("政", {"政务公开"}), ("政务", {"政务公开"}), ("政务公开", {"政务公开"}), ("防汛", {"防汛"}),
    ("巡查", {"防汛"}), ("100%", {"百分"}), ("a_b", {"下划线"}), ('"引号"', {"引号"}), ("AbC", {"大小写"}),
    ("不存在的词", set()), ("%", {"百分"}), ("_", {"下划线"}),
])
async def test_search_finds_chinese_substrings_of_titles_and_texts(app, units, categories, publisher, query, found):
    user = as_current(publisher, units["county"])
    category = categories["county"]["news"]
    for title, body in (("政务公开", "年度报告"), ("防汛", "<p>开展汛前<strong>巡查</strong></p>"), ("百分", "完成100%任务"),
                        ("下划线", "字段a_b"), ("引号", '他说"引号"'), ("大小写", "abc字母")):
        await _published(app, user, category, title, body=body)
    results = await public.search(query)
    assert {i["title"] for i in results.items} == found


async def test_search_is_limited_to_a_unit_and_paged(app, units, categories, publisher, town_publisher):
    county, town = as_current(publisher, units["county"]), as_current(town_publisher, units["town"])
    for n in range(3):
        await _published(app, county, categories["county"]["news"], f"秋收进度第{n}期")
    await _published(app, town, categories["town"]["news"], "东镇秋收进度")
    assert (await public.search("秋收")).total == 4
    assert (await public.search("秋收", units["town"])).total == 1
    first = await public.search("秋收", units["county"], page=1, page_size=2)
    second = await public.search("秋收", units["county"], page=2, page_size=2)
    assert first.total == 3 and first.pages == 2 and len(first.items) == 2 and len(second.items) == 1
    assert (await public.search("")).total == 0


async def test_categories_are_added_renamed_moved_and_removed(app, units, categories, publisher):
    portal, user = app.state.portal, as_current(publisher, units["county"])
    unit = units["county"]
    names = [c["name"] for c in await cats.categories_of(unit)]
    assert names == [name for _key, name in cats.STANDARD_CATEGORIES]
    added = await cats.add_category(portal, user, unit, "  重点领域信息  ")
    with pytest.raises(cats.CategoryRefused):
        await cats.add_category(portal, user, unit, "重点领域信息")
    with pytest.raises(cats.CategoryRefused):
        await cats.add_category(portal, user, unit, "名" * 101)
    await cats.rename_category(portal, user, added, "重点领域")
    await cats.move_category(portal, user, added, -1)
    names = [c["name"] for c in await cats.categories_of(unit)]
    assert names[-2:] == ["重点领域", "通知公告"]
    await cats.move_category(portal, user, categories["county"]["functions"], -1)  # already first: stays
    assert (await cats.categories_of(unit))[0]["name"] == "机构职能"
    await _published(app, user, categories["county"]["notices"])
    with pytest.raises(cats.CategoryRefused):
        await cats.delete_category(portal, user, categories["county"]["notices"])
    await cats.delete_category(portal, user, added)
    assert "重点领域" not in [c["name"] for c in await cats.categories_of(unit)]
    assert await cats.ensure_standard_categories(unit) == 0
    logged = await actions()
    for action in ("disclosure.category_add", "disclosure.category_rename", "disclosure.category_move", "disclosure.category_delete"):
        assert action in logged


async def test_documents_from_the_edoc_plugin_are_listed_once_in_the_policies_category(app, units, categories):
    portal = app.state.portal
    await cats.rename_category(portal, None, categories["county"]["policies"], "规范性文件")
    document = {"id": 7, "title": "关于印发《黄河县政务公开工作要点》的通知", "number": "黄河办〔2026〕3号", "unit": units["county"],
                "doc_type": "通知", "classification": "public", "published_at": now()}
    first = await receive_document(portal, document)
    assert await receive_document(portal, document) == first
    shown = await public.get_public_item(first)
    assert shown["category_name"] == "规范性文件" and shown["document_number"] == "黄河办〔2026〕3号"
    assert shown["issuer"] == "黄河县人民政府"
    internal = await receive_document(portal, {**document, "id": 8, "classification": "internal"})
    assert (await items.item(internal))["status"] == "draft" and await public.get_public_item(internal) is None
    for classification in ("secret", "confidential", "top_secret", "", None):
        assert await receive_document(portal, {**document, "id": 9, "classification": classification}) is None
    assert await receive_document(portal, {**document, "id": 10, "unit": None}) is None
    assert (await public.published_items(units["county"])).total == 1
    assert (await actions()).count("disclosure.document_received") == 2


async def test_a_unit_without_a_catalog_gets_the_standard_categories_when_a_document_arrives(app):
    from portal.accounts.services import UnitForm, create_unit

    unit = await create_unit(None, UnitForm("西镇人民政府", "xizhen", "township", None, "xizhen.gov.example", "西镇"))
    item_id = await receive_document(app.state.portal, {"id": 1, "title": "西镇通知", "unit": unit, "classification": "public"})
    assert (await public.get_public_item(item_id))["category_name"] == "政策文件"
    assert [u["code"] for u in await public.public_units()] == ["xizhen"]


async def test_a_search_that_finds_more_than_the_cap_says_so_and_stops_there(app, units, categories, publisher, monkeypatch):
    user = as_current(publisher, units["county"])
    monkeypatch.setattr(public, "SEARCH_CAP", 5)
    ids = [await _published(app, user, categories["county"]["news"], f"防汛工作简报第{n}期") for n in range(7)]
    results = await public.search("防汛", page_size=2)
    assert results.capped and results.total == 5 and results.pages == 3
    assert [i["id"] for i in results.items] == ids[::-1][:2]
    last = await public.search("防汛", page=99, page_size=2)
    assert last.page == 3 and [i["id"] for i in last.items] == [ids[2]]
    assert not (await public.search("第6期")).capped


async def test_drafts_and_withdrawn_items_are_not_in_the_search_index(app, units, categories, publisher):
    """The SQLite index holds published items only: nothing a search could leak."""
    portal, user = app.state.portal, as_current(publisher, units["county"])
    draft = await items.create_item(portal, user, units["county"], form(categories["county"]["news"], "草稿里的秘密词"))
    withdrawn = await _published(app, user, categories["county"]["news"], "撤回的秘密词")
    await items.withdraw_item(portal, user, withdrawn, "有误")
    kept = await _published(app, user, categories["county"]["news"], "公开的秘密词")
    if Item._meta.db.engine_type == "sqlite":
        rows = await Item.raw("SELECT rowid AS id FROM disclosure_item_fts WHERE disclosure_item_fts MATCH {}", '"秘密词"')
        assert [r["id"] for r in rows] == [kept]
    assert [i["id"] for i in (await public.search("秘密词")).items] == [kept]
    assert draft not in [i["id"] for i in (await public.search("草稿")).items]


async def test_the_catalog_counts_follow_every_change_of_state_and_category(app, units, categories, publisher):
    """The counts come from triggers (SQLite and PostgreSQL) less the items scheduled ahead."""
    portal, user = app.state.portal, as_current(publisher, units["county"])
    notices, news = categories["county"]["notices"], categories["county"]["news"]

    async def counts(moment=None):
        return {c["key"]: c["count"] for c in await public.catalog(units["county"], moment) if c["count"]}

    first = await _published(app, user, notices)
    second = await _published(app, user, notices, "第二条")
    draft = await items.create_item(portal, user, units["county"], form(notices, "草稿"))
    assert await counts() == {"notices": 2}
    await items.update_item(portal, user, second, form(news, "第二条"))
    assert await counts() == {"notices": 1, "news": 1}
    ahead = now() + timedelta(hours=1)
    await items.publish_item(portal, user, draft, ahead)
    assert await counts() == {"notices": 1, "news": 1}
    assert await counts(ahead) == {"notices": 2, "news": 1}
    await items.withdraw_item(portal, user, first, "有误")
    await items.withdraw_item(portal, user, draft, "取消")
    assert await counts(ahead) == {"news": 1}
    await Item.delete().where(Item.id == second)
    assert await counts() == {}
