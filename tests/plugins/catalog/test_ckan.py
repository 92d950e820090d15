"""The read-only CKAN-compatible Action API (CAT-6), read by the real ``ckanapi`` client from a
live server: lists, shows and searches the public part of the total catalogs only, with CKAN's
envelope and CKAN's errors."""

import asyncio
import json

import ckanapi
import pytest

from plugins.catalog import ckan, opendata
from plugins.catalog.tables import Resource


@pytest.fixture
async def server(live_server, public_catalogs):
    return live_server


def remote(server, *, get_only: bool = False, at_root: bool = False) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(server.url if at_root else f"{server.url}/catalog", get_only=get_only, user_agent="portal-tests")


async def call(client: ckanapi.RemoteCKAN, action: str, **params):
    """The action through ckanapi, in a thread: the server answers in this test's event loop."""
    return await asyncio.to_thread(client.call_action, action, params)


async def codes_of(catalogs, names) -> list[str]:
    """The resource codes of ``names`` (the working ones: a draft change may have renamed one)."""
    rows = await Resource.select(Resource.code).where(Resource.id.is_in([catalogs.ids[name] for name in names if name in catalogs.ids]))
    return sorted(row["code"] for row in rows)


@pytest.mark.parametrize(("get_only", "at_root"), [(False, False), (True, False), (False, True)], ids=["post", "get", "root"])
async def test_package_list_has_the_public_packages_only(server, public_catalogs, get_only, at_root):
    """A CKAN client given the portal's own address finds the API at /api/3/action, as on CKAN."""
    found = await call(remote(server, get_only=get_only, at_root=at_root), "package_list")
    assert found == [ckan.package_name(code) for code in await codes_of(public_catalogs, public_catalogs.public)]


async def test_package_show_describes_a_package_as_ckan_does(server, public_catalogs, org):
    client = remote(server)
    code = (await Resource.select(Resource.code).where(Resource.id == public_catalogs.ids["市场主体登记信息"]).first())["code"]
    package = await call(client, "package_show", id=ckan.package_name(code))
    assert package["title"] == "市场主体登记信息" and package["notes"] == "企业和个体工商户的登记信息"
    assert package["organization"]["title"] == "济南市人民政府市场监管局"
    assert package["owner_org"] == f"jinan-{org.market}"
    assert package["num_resources"] == 1 and package["resources"][0]["format"] == "Database"
    assert package["resources"][0]["url"].endswith(f"/catalog/open/resources/{public_catalogs.ids['市场主体登记信息']}")
    extras = {extra["key"]: extra["value"] for extra in package["extras"]}
    assert extras["identifier"] == code and extras["frequency"].endswith("/frequency/UPDATE_CONT")
    assert extras["issued"] == "2025-12-01" and extras["open_type"] == "open"
    assert await call(client, "package_show", id=code) == package


async def test_approved_text_is_shown_not_the_draft_change(server, public_catalogs):
    code = (await Resource.select(Resource.code).where(Resource.id == public_catalogs.ids["农机购置补贴发放信息"]).first())["code"]
    package = await call(remote(server), "package_show", id=code)
    assert package["title"] == "农机购置补贴发放信息"
    assert {extra["key"]: extra["value"] for extra in package["extras"]}["data_items"] == "补贴对象、补贴金额"


async def test_unknown_or_hidden_packages_are_not_found(server, public_catalogs):
    client = remote(server)
    for code in await codes_of(public_catalogs, public_catalogs.hidden):
        with pytest.raises(ckanapi.NotFound):
            await call(client, "package_show", id=ckan.package_name(code))
    with pytest.raises(ckanapi.NotFound):
        await call(client, "package_show", id="no-such-package")
    with pytest.raises(ckanapi.ValidationError) as invalid:
        await call(client, "package_show")
    assert invalid.value.error_dict["id"] == ["Missing value"]


async def test_package_search_finds_pages_and_filters(server, public_catalogs, org):
    client = remote(server)
    everything = await call(client, "package_search", q="*:*", rows=100)
    assert everything["count"] == 3
    assert {p["title"] for p in everything["results"]} == public_catalogs.public
    subsidy = await call(client, "package_search", q="补贴")
    assert [p["title"] for p in subsidy["results"]] == ["农机购置补贴发放信息"] and subsidy["count"] == 1
    first, rest = await call(client, "package_search", rows=1), await call(client, "package_search", rows=10, start=1)
    assert first["count"] == 3 and len(first["results"]) == 1 and len(rest["results"]) == 2
    assert first["results"][0]["name"] not in {p["name"] for p in rest["results"]}
    county = await call(client, "package_search", fq=f"organization:huanghe-{org.agri}", rows=10)
    assert {p["title"] for p in county["results"]} == {"农机购置补贴发放信息", "农产品质量抽检结果"}
    assert (await call(client, "package_search", fq="res_format:Spreadsheet"))["count"] == 0
    by_name = await call(client, "package_search", sort="name desc", rows=10)
    assert [p["title"] for p in by_name["results"]] == sorted(public_catalogs.public, reverse=True)
    assert (await call(client, "package_search", q="动物防疫"))["count"] == 0


async def test_package_search_refuses_what_it_cannot_do(server, public_catalogs):
    client = remote(server)
    with pytest.raises(ckanapi.SearchQueryError):
        await call(client, "package_search", fq="secrecy:secret")
    with pytest.raises(ckanapi.ValidationError):
        await call(client, "package_search", rows="many")
    with pytest.raises(ckanapi.ValidationError):
        await call(client, "package_search", rows=5000)


async def test_organizations_are_the_departments_publishing_open_resources(server, public_catalogs, org):
    client = remote(server)
    names = await call(client, "organization_list")
    assert names == sorted([f"huanghe-{org.agri}", f"jinan-{org.market}"])
    full = await call(client, "organization_list", all_fields=True)
    assert {o["name"]: o["package_count"] for o in full} == {f"huanghe-{org.agri}": 2, f"jinan-{org.market}": 1}
    shown = await call(client, "organization_show", id=f"huanghe-{org.agri}", include_datasets=True)
    assert shown["title"] == "黄河县人民政府农业农村局" and shown["package_count"] == 2
    assert {p["title"] for p in shown["packages"]} == {"农机购置补贴发放信息", "农产品质量抽检结果"}
    for unknown in (f"huanghe-{org.county_bureau}", f"jinan-{org.agri}", "nobody"):
        with pytest.raises(ckanapi.NotFound):
            await call(client, "organization_show", id=unknown)


async def test_nothing_hidden_appears_in_any_answer(server, public_catalogs, org):
    client = remote(server)
    answers = [await call(client, "package_list"), await call(client, "package_search", rows=1000),
               await call(client, "organization_list", all_fields=True),
               await call(client, "organization_show", id=f"jinan-{org.market}", include_datasets=True),
               await call(client, "organization_show", id=f"huanghe-{org.agri}", include_datasets=True)]
    text = json.dumps(answers, ensure_ascii=False)
    for name in public_catalogs.hidden:
        assert name not in text
    for code in await codes_of(public_catalogs, public_catalogs.hidden):
        assert code not in text and ckan.package_name(code) not in text


async def test_the_envelope_and_statuses_are_ckan_s(server, public_catalogs):
    async with server.client() as http:
        ok = await http.get("/catalog/api/3/action/package_list")
        assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/json")
        body = ok.json()
        assert body["success"] is True and body["help"] == f"{server.url}/api/3/action/help_show?name=package_list"
        missing = await http.get("/catalog/api/3/action/package_show", params={"id": "nothing"})
        assert missing.status_code == 404
        assert missing.json()["success"] is False and missing.json()["error"]["__type"] == "Not Found Error"
        invalid = await http.post("/catalog/api/3/action/package_show", json={})
        assert invalid.status_code == 409 and invalid.json()["error"]["__type"] == "Validation Error"
        unknown = await http.get("/catalog/api/3/action/package_create")
        assert unknown.status_code == 400 and unknown.json()["success"] is False
        not_json = await http.post("/catalog/api/3/action/package_list", content=b"[1]", headers={"content-type": "application/json"})
        assert not_json.status_code == 409
        helped = await http.get("/catalog/api/3/action/help_show", params={"name": "package_search"})
        assert "fq" in helped.json()["result"]


async def test_the_public_set_is_opendata_s(app, public_catalogs):
    rows = await opendata.entries()
    assert {row["name"] for row in rows} == public_catalogs.public
