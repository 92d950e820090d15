"""Total catalogs (总目录, CAT-3): each level aggregates its departments' approved catalogs and
the levels below; search by name, abstract, data item and code with facets; a secret resource
never shows."""

import pytest

from plugins.catalog import filing, resources, total
from plugins.catalog.resources import ItemForm
from plugins.catalog.tables import CatalogEntry


async def _approved(org, editor: str, department: int, reviewer: str, forms) -> list[int]:
    user = await org.user(editor)
    ids = [await resources.create(user, department, form, org.portal) for form in forms]
    filing_id = await filing.submit(user, department, "", org.portal)
    await filing.decide(await org.user(reviewer), filing_id, "approve", "", org.portal)
    return ids


@pytest.fixture
async def catalogs(org, make_form, valid_uscc):
    county = await _approved(org, "agri_editor", org.agri, "county_reviewer", [
        await make_form("农村土地承包经营权登记信息"),
        await make_form("农机购置补贴发放信息", abstract="农机购置补贴的发放记录", share_type="unconditional", share_conditions="",
                        items=[ItemForm("补贴对象", "string", "50", ""), ItemForm("补贴金额", "decimal", "", "元")]),
        await make_form("动物防疫秘密档案", secrecy="secret"),
    ])
    city = await _approved(org, "market_editor", org.market, "city_reviewer", [
        await make_form("市场主体登记信息", "102001", provider="济南市市场监管局", provider_code=valid_uscc("11370100MB0000001"),
                        abstract="企业和个体工商户的登记信息", share_type="unconditional", share_conditions=""),
    ])
    return county, city


async def test_each_level_aggregates_its_departments_and_the_levels_below(org, catalogs):
    county_ids, city_ids = catalogs
    county = await total.total_catalog(org.county)
    city = await total.total_catalog(org.city)
    province = await total.total_catalog(org.province)
    assert (county.total, city.total, province.total) == (2, 3, 3)
    assert city.per_class_item == [("102", 1), ("307", 2)]
    assert dict(city.per_department) == {org.agri: 2, org.market: 1}
    assert city.per_share_type == [("unconditional", 2), ("conditional", 1), ("none", 0)]
    assert dict(city.per_unit) == {org.county: 2, org.city: 1}
    assert county.per_share_type == [("unconditional", 1), ("conditional", 1), ("none", 0)]


async def test_a_secret_resource_is_never_in_a_total_catalog_or_a_search(org, catalogs):
    secret_id = catalogs[0][2]
    viewer = await org.user("city_staff")
    assert not await CatalogEntry.exists().where(CatalogEntry.resource_id == secret_id)
    for text in ("", "秘密", "动物防疫"):
        found = await total.visible_resources(viewer, org.province, total.Query(text=text))
        assert secret_id not in [r["resource_id"] for r in found.rows]
    assert await total.entry_of_resource(viewer, secret_id) is None


async def test_even_a_secret_row_written_by_mistake_stays_out_of_shared_views(org, catalogs):
    await CatalogEntry.update({CatalogEntry.secrecy: "top_secret"}).where(CatalogEntry.name == "市场主体登记信息")
    viewer = await org.user("city_staff")
    for text in ("", "市场主体"):
        found = await total.visible_resources(viewer, org.city, total.Query(text=text))
        assert "市场主体登记信息" not in [r["name"] for r in found.rows]
    assert (await total.visible_resources(viewer, org.city, total.Query(text="市场主体"))).total == 0


@pytest.mark.parametrize("text, names", [
    ("土地承包", ["农村土地承包经营权登记信息"]),           # name
    ("个体工商户", ["市场主体登记信息"]),                   # abstract
    ("补贴金额", ["农机购置补贴发放信息"]),                 # data item
    ("102001/", ["市场主体登记信息"]),                      # the beginning of a code
    ("102001/000001", ["市场主体登记信息"]),                # a code
    ("1/000001", ["农村土地承包经营权登记信息", "市场主体登记信息"]),  # any part of a code
    ("00002", ["农机购置补贴发放信息"]),                    # digits anywhere in a code
    ("登记", ["农村土地承包经营权登记信息", "市场主体登记信息"]),  # two characters
    ("补", ["农机购置补贴发放信息"]),                       # one character
    ("%", []), ('"', []), ("no such thing", []),
])
async def test_search_finds_a_substring_of_name_abstract_item_or_code(org, catalogs, text, names):
    found = await total.visible_resources(await org.user("city_staff"), org.city, total.Query(text=text))
    assert sorted(r["name"] for r in found.rows) == sorted(names)
    assert found.total == len(names)


async def test_facets_count_the_search_and_filters_narrow_it(org, catalogs):
    viewer = await org.user("city_staff")
    found = await total.visible_resources(viewer, org.city, total.Query(text="信息"))
    assert found.total == 3
    assert dict(found.facets["share_type"]) == {"unconditional": 2, "conditional": 1}
    assert dict(found.facets["class_item"]) == {"307": 2, "102": 1}
    narrowed = await total.visible_resources(viewer, org.city, total.Query(text="信息", share_type="unconditional"))
    assert sorted(r["name"] for r in narrowed.rows) == ["农机购置补贴发放信息", "市场主体登记信息"]
    # A facet counts as if its own filter were off, so the other values stay reachable.
    assert dict(narrowed.facets["share_type"]) == {"unconditional": 2, "conditional": 1}
    assert dict(narrowed.facets["department"]) == {org.agri: 1, org.market: 1}
    by_department = await total.visible_resources(viewer, org.city, total.Query(department=org.market))
    assert [r["name"] for r in by_department.rows] == ["市场主体登记信息"]


async def test_a_county_total_catalog_does_not_reach_up(org, catalogs):
    found = await total.visible_resources(await org.user("agri_staff"), org.county, total.Query(text="市场主体"))
    assert found.rows == []


async def test_paging_keeps_within_the_pages(org, catalogs):
    viewer = await org.user("city_staff")
    first = await total.visible_resources(viewer, org.city, total.Query(page=1), per_page=2)
    last = await total.visible_resources(viewer, org.city, total.Query(page=99), per_page=2)
    assert (first.pages, len(first.rows), last.page, len(last.rows)) == (2, 2, 2, 1)


async def test_a_user_without_the_read_permission_sees_nothing(org, catalogs):
    from dataclasses import replace

    viewer = replace(await org.user("city_staff"), permissions=frozenset())
    with pytest.raises(total.NotAllowed):
        await total.visible_resources(viewer, org.city)


async def test_public_views_show_only_public_resources_open_to_the_public(org, make_form):
    await _approved(org, "agri_editor", org.agri, "county_reviewer", [
        await make_form("开放数据", secrecy="public", open_type="open"),
        await make_form("内部数据", secrecy="internal"),
    ])
    assert [r["name"] for r in await total.public_resources(org.province)] == ["开放数据"]


async def test_the_counts_of_a_search_follow_each_approval(org, catalogs, make_form, valid_uscc):
    viewer = await org.user("city_staff")
    assert (await total.visible_resources(viewer, org.city, total.Query(text="登记信息"))).total == 2
    await _approved(org, "market_editor", org.market, "city_reviewer", [
        await make_form("食品经营许可登记信息", "102001", provider="济南市市场监管局", provider_code=valid_uscc("11370100MB0000001")),
    ])
    found = await total.visible_resources(viewer, org.city, total.Query(text="登记信息"))
    assert found.total == 3
    assert dict(found.facets["department"]) == {org.agri: 1, org.market: 2}


async def test_a_whole_total_catalog_is_read_in_batches_for_exports(org, catalogs):
    viewer = await org.user("city_staff")
    rows = [row async for row in total.all_visible(viewer, org.province, batch=2)]
    assert [r["code"] for r in rows] == ["102001/000001", "307016001/000001", "307016001/000002"]
    assert "动物防疫秘密档案" not in [r["name"] for r in rows]
