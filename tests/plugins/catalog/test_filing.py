"""Filing (备案) with the big-data bureau of the department's level and its review (CAT-2):
versions, per-resource verdicts and opinions, approval into the approved catalog, returns,
and the comparison of any two versions."""

import asyncio

import pytest

pytestmark = pytest.mark.usefixtures("in_english")

from plugins.catalog import filing, resources
from plugins.catalog.errors import Conflict, Forbidden, Invalid
from plugins.catalog.resources import ItemForm
from plugins.catalog.tables import CatalogEntry, Filing, Resource


async def _compile(org, make_form, *names, **changes):
    editor = await org.user("agri_editor")
    return [await resources.create(editor, org.agri, await make_form(name, **changes), org.portal) for name in names]


async def test_submitting_files_the_whole_catalog_as_version_one_and_locks_it(org, make_form):
    ids = await _compile(org, make_form, "甲", "乙")
    filing_id = await filing.submit(await org.user("agri_editor"), org.agri, "首次备案", org.portal)
    row = await filing.load(filing_id)
    assert (row["version"], row["status"], row["resource_count"], row["unit"], row["note"]) == (1, "submitted", 2, org.county, "首次备案")
    items = await filing.items_of(filing_id)
    assert sorted(i["resource_id"] for i in items) == sorted(ids)
    assert items[0]["snapshot"]["classification"] == "307016001 农村经营管理"
    assert items[0]["snapshot"]["items"][0] == {"name": "承包方名称", "data_type": "string", "length": 100, "description": ""}
    assert {r["status"] for r in await Resource.select(Resource.status)} == {"submitted"}


async def test_an_empty_or_unchanged_catalog_is_not_filed(org, make_form):
    editor, reviewer = await org.user("agri_editor"), await org.user("county_reviewer")
    with pytest.raises(Invalid, match="no resources"):
        await filing.submit(editor, org.agri, "", org.portal)
    await _compile(org, make_form, "甲")
    await filing.decide(reviewer, await filing.submit(editor, org.agri, "", org.portal), "approve", "", org.portal)
    with pytest.raises(Invalid, match="Nothing changed since the approved version 1"):
        await filing.submit(editor, org.agri, "", org.portal)


async def test_one_filing_at_a_time_even_when_two_editors_submit_at_once(org, make_form):
    await _compile(org, make_form, "甲")
    editors = [await org.user("agri_editor"), await org.user("agri_editor2")]
    outcomes = await asyncio.gather(*(filing.submit(e, org.agri, "", org.portal) for e in editors), return_exceptions=True)
    assert sum(isinstance(o, int) for o in outcomes) == 1
    assert all(isinstance(o, (int, Conflict)) or "unique" in str(o).lower() for o in outcomes)
    assert await Filing.count() == 1


async def test_only_the_bureau_of_the_department_s_level_reviews(org, make_form):
    await _compile(org, make_form, "甲")
    filing_id = await filing.submit(await org.user("agri_editor"), org.agri, "", org.portal)
    for name in ("city_reviewer", "agri_editor2", "agri_staff"):
        with pytest.raises(Forbidden):
            await filing.decide(await org.user(name), filing_id, "approve", "", org.portal)
    with pytest.raises(Forbidden):
        await filing.decide(await org.user("agri_editor"), filing_id, "approve", "", org.portal)
    assert (await filing.load(filing_id))["status"] == "submitted"
    assert [f["id"] for f in await filing.awaiting_review(await org.user("county_reviewer"))] == [filing_id]
    assert await filing.awaiting_review(await org.user("city_reviewer")) == []


async def test_approval_publishes_the_version_and_keeps_secret_resources_out(org, make_form):
    public_id, secret_id = await _compile(org, make_form, "公开资源", "涉密资源")
    editor, reviewer = await org.user("agri_editor"), await org.user("county_reviewer")
    await resources.update(editor, secret_id, await make_form("涉密资源", secrecy="secret"), org.portal)
    filing_id = await filing.submit(editor, org.agri, "", org.portal)
    await filing.decide(reviewer, filing_id, "approve", "同意备案", org.portal)
    row = await filing.load(filing_id)
    assert (row["status"], row["reviewer"], row["opinion"]) == ("approved", reviewer.id, "同意备案")
    assert row["reviewed_at"] is not None
    entries = await CatalogEntry.select(CatalogEntry.resource_id, CatalogEntry.unit, CatalogEntry.items_text, CatalogEntry.class_item)
    assert entries == [{"resource_id": public_id, "unit": org.county, "items_text": "承包方名称\n地块编码", "class_item": "307"}]
    assert {i["verdict"] for i in await filing.items_of(filing_id)} == {"approved"}
    assert {r["status"] for r in await Resource.select(Resource.status)} == {"approved"}


async def test_a_return_needs_opinions_and_unlocks_the_catalog(org, make_form):
    first, _second = await _compile(org, make_form, "甲", "乙")
    editor, reviewer = await org.user("agri_editor"), await org.user("county_reviewer")
    filing_id = await filing.submit(editor, org.agri, "", org.portal)
    with pytest.raises(Invalid, match="Say why"):
        await filing.decide(reviewer, filing_id, "return", "", org.portal)
    item = next(i for i in await filing.items_of(filing_id) if i["resource_id"] == first)
    with pytest.raises(Invalid, match="what is to be corrected"):
        await filing.review_item(reviewer, filing_id, item["id"], "returned", "")
    await filing.review_item(reviewer, filing_id, item["id"], "returned", "摘要过于简单")
    with pytest.raises(Invalid, match="1 resources are marked"):
        await filing.decide(reviewer, filing_id, "approve", "", org.portal)
    await filing.decide(reviewer, filing_id, "return", "", org.portal)
    assert (await filing.load(filing_id))["status"] == "returned"
    assert {r["status"] for r in await Resource.select(Resource.status)} == {"draft"}
    assert await CatalogEntry.count() == 0
    await resources.update(editor, first, await make_form("甲", abstract="更详细的摘要"), org.portal)
    second = await filing.submit(editor, org.agri, "已按意见修改", org.portal)
    assert (await filing.load(second))["version"] == 2
    history = await filing.versions_of(org.agri)
    assert [(v["version"], v["status"]) for v in history] == [(2, "submitted"), (1, "returned")]
    assert next(i for i in await filing.items_of(filing_id) if i["resource_id"] == first)["opinion"] == "摘要过于简单"


async def test_a_decided_filing_cannot_be_decided_again(org, make_form):
    await _compile(org, make_form, "甲")
    filing_id = await filing.submit(await org.user("agri_editor"), org.agri, "", org.portal)
    reviewers = [await org.user("county_reviewer"), await org.user("county_reviewer2")]
    outcomes = await asyncio.gather(filing.decide(reviewers[0], filing_id, "approve", "", org.portal),
                                    filing.decide(reviewers[1], filing_id, "return", "不同意", org.portal),
                                    return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "NoneType"]
    with pytest.raises(Conflict):
        await filing.review_item(reviewers[0], filing_id, (await filing.items_of(filing_id))[0]["id"], "approved", "")


async def test_withdrawing_a_filing_unlocks_the_catalog_as_it_was(org, make_form):
    editor, reviewer = await org.user("agri_editor"), await org.user("county_reviewer")
    first, = await _compile(org, make_form, "甲")
    await filing.decide(reviewer, await filing.submit(editor, org.agri, "", org.portal), "approve", "", org.portal)
    await _compile(org, make_form, "乙")
    pending = await filing.submit(editor, org.agri, "", org.portal)
    await filing.withdraw(editor, pending, org.portal)
    statuses = {r["name"]: r["status"] for r in await Resource.select(Resource.name, Resource.status)}
    assert statuses == {"甲": "approved", "乙": "draft"}
    with pytest.raises(Conflict):
        await filing.withdraw(editor, pending, org.portal)


async def test_a_withdrawn_resource_leaves_with_the_next_approved_version(org, make_form):
    editor, reviewer = await org.user("agri_editor"), await org.user("county_reviewer")
    first, second = await _compile(org, make_form, "甲", "乙")
    await filing.decide(reviewer, await filing.submit(editor, org.agri, "", org.portal), "approve", "", org.portal)
    await resources.remove(editor, second, org.portal)
    assert await CatalogEntry.count() == 2
    await filing.decide(reviewer, await filing.submit(editor, org.agri, "删除一项", org.portal), "approve", "", org.portal)
    assert [e["resource_id"] for e in await CatalogEntry.select(CatalogEntry.resource_id)] == [first]
    assert not await Resource.exists().where(Resource.id == second)


async def test_two_versions_compare_by_resource_and_field(org, make_form, classification_of):
    editor, reviewer = await org.user("agri_editor"), await org.user("county_reviewer")
    kept, changed, dropped = await _compile(org, make_form, "不变", "要改", "要删")
    v1 = await filing.submit(editor, org.agri, "", org.portal)
    await filing.decide(reviewer, v1, "approve", "", org.portal)
    await resources.update(editor, changed, await make_form(
        "改过", classification_id=str(await classification_of("101001")), share_type="unconditional", share_conditions="",
        items=[ItemForm("承包方名称", "string", "200", ""), ItemForm("面积", "decimal", "", "亩")]), org.portal)
    await resources.remove(editor, dropped, org.portal)
    added, = await _compile(org, make_form, "新增")
    v2 = await filing.submit(editor, org.agri, "", org.portal)
    older, newer, comparison = await filing.compare_versions(reviewer, v2, v1)
    assert (older["version"], newer["version"]) == (1, 2)
    assert [a["resource_id"] for a in comparison.added] == [added]
    assert [r["resource_id"] for r in comparison.removed] == [dropped]
    assert comparison.unchanged == 1
    change, = comparison.changed
    fields = {name: (before, after) for name, before, after in change.fields}
    assert fields["name"] == ("要改", "改过")
    assert fields["code"] == ("307016001/000002", "101001/000001")
    assert fields["share_type"] == ("conditional", "unconditional")
    assert fields["items.承包方名称"] == ("string(100)", "string(200)")
    assert fields["items.地块编码"] == ("string(19)", "")
    assert fields["items.面积"] == ("", "decimal — 亩")
    assert "abstract" not in fields


async def test_versions_are_seen_by_the_department_and_its_bureau_only(org, make_form):
    await _compile(org, make_form, "甲")
    v1 = await filing.submit(await org.user("agri_editor"), org.agri, "", org.portal)
    for name in ("agri_editor", "county_reviewer"):
        assert (await filing.load_for(await org.user(name), v1))[0]["id"] == v1
    for name in ("market_editor", "city_reviewer", "agri_staff"):
        with pytest.raises(Forbidden):
            await filing.load_for(await org.user(name), v1)
