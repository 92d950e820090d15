"""The catalog's pages over HTTP (CAT-1, CAT-2, CAT-3): what an editor, a reviewer and a reader
see and may do, and what someone trying other people's ids or bad input gets."""

import re

from plugins.catalog.tables import Classification, Resource
from portal.testing import login_as, post_form


async def _login(client, org, name):
    await login_as(client, await org.test_user(name))


async def _form_data(valid_uscc, **changes) -> dict:
    node = await Classification.select(Classification.id).where(Classification.code == "307016001").first()
    data = {"name": "农村土地承包经营权登记信息", "classification_id": str(node["id"]), "provider": "黄河县农业农村局",
            "provider_code": valid_uscc(), "abstract": "全县农村土地承包经营权的登记信息。", "format": "database",
            "share_type": "conditional", "share_conditions": "仅用于补贴核验", "share_method": "platform_api",
            "open_type": "closed", "update_cycle": "monthly", "secrecy": "internal",
            "item-0-name": "承包方名称", "item-0-data_type": "string", "item-0-length": "100",
            "item-1-name": "地块编码", "item-1-data_type": "string", "item-1-length": "19"}
    data.update(changes)
    return data


async def _create(client, org, valid_uscc, **changes) -> int:
    response = await post_form(client, f"/catalog/departments/{org.agri}/new", await _form_data(valid_uscc, **changes))
    assert response.status_code == 303, response.text
    return int(re.search(r"saved=(\d+)", response.headers["location"])[1])


async def test_an_editor_compiles_a_resource_and_sees_it_in_the_catalog(client, org, valid_uscc):
    await _login(client, org, "agri_editor")
    mine = await client.get("/catalog/mine")
    assert mine.headers["location"] == f"/catalog/departments/{org.agri}"
    form = await client.get(f"/catalog/departments/{org.agri}/new")
    assert form.status_code == 200 and "黄河县人民政府农业农村局" in form.text
    resource_id = await _create(client, org, valid_uscc)
    page = await client.get(f"/catalog/departments/{org.agri}")
    assert "307016001/000001" in page.text and "农村土地承包经营权登记信息" in page.text
    edit = await client.get(f"/catalog/resources/{resource_id}")
    assert 'value="地块编码"' in edit.text


async def test_a_refused_form_shows_each_fault_and_keeps_what_was_typed(client, org, valid_uscc):
    await _login(client, org, "agri_editor")
    data = await _form_data(valid_uscc, name="我的资源<b>", share_conditions="", provider_code="123", **{"item-1-length": "abc"})
    response = await post_form(client, f"/catalog/departments/{org.agri}/new", data)
    assert response.status_code == 400
    assert "有条件共享须填写共享条件。" in response.text
    assert 'aria-invalid="true" aria-describedby="share_conditions-error"' in response.text
    assert 'aria-describedby="provider_code-error"' in response.text
    assert 'id="items-1-length-error"' in response.text
    assert 'value="我的资源&lt;b&gt;"' in response.text
    assert 'value="abc"' in response.text and 'value="承包方名称"' in response.text
    assert await Resource.count() == 0


async def test_more_rows_keeps_the_input_and_stores_nothing(client, org, valid_uscc):
    await _login(client, org, "agri_editor")
    response = await post_form(client, f"/catalog/departments/{org.agri}/new", await _form_data(valid_uscc, more_rows="1"))
    assert response.status_code == 200
    assert 'name="item-7-name"' in response.text and 'value="地块编码"' in response.text
    assert await Resource.count() == 0


async def test_oversized_input_is_refused_with_the_limit(client, org, valid_uscc):
    await _login(client, org, "agri_editor")
    response = await post_form(client, f"/catalog/departments/{org.agri}/new", await _form_data(valid_uscc, name="长" * 10_000))
    assert response.status_code == 400
    assert "最多200个字符。" in response.text
    assert await Resource.count() == 0


async def test_another_department_s_catalog_is_refused(client, org, valid_uscc):
    await _login(client, org, "agri_editor")
    resource_id = await _create(client, org, valid_uscc)
    await _login(client, org, "market_editor")
    assert (await client.get(f"/catalog/departments/{org.agri}/new")).status_code == 403
    assert (await post_form(client, f"/catalog/departments/{org.agri}/new", await _form_data(valid_uscc))).status_code == 403
    assert (await client.get(f"/catalog/resources/{resource_id}")).status_code == 403
    assert (await post_form(client, f"/catalog/resources/{resource_id}", await _form_data(valid_uscc, name="改"))).status_code == 403
    assert (await post_form(client, f"/catalog/resources/{resource_id}/delete")).status_code == 403
    assert (await post_form(client, f"/catalog/departments/{org.agri}/file")).status_code == 403
    assert (await client.get(f"/catalog/departments/{org.agri}")).status_code == 403
    assert (await client.get("/catalog/resources/999999")).status_code == 404
    assert (await client.get("/catalog/departments/999999")).status_code == 404
    assert (await Resource.select(Resource.name).first())["name"] == "农村土地承包经营权登记信息"


async def test_without_the_editor_role_the_editor_pages_are_refused(client, org):
    await _login(client, org, "agri_staff")
    assert (await client.get("/catalog")).status_code == 200
    assert (await client.get("/catalog/mine")).status_code == 403
    assert (await client.get(f"/catalog/departments/{org.agri}/new")).status_code == 403
    assert (await client.get("/catalog/filings")).status_code == 403


async def test_a_form_without_its_csrf_token_is_refused(client, org, valid_uscc):
    await _login(client, org, "agri_editor")
    response = await client.post(f"/catalog/departments/{org.agri}/new", data=await _form_data(valid_uscc))
    assert response.status_code == 403
    assert await Resource.count() == 0


async def _file(client, org, valid_uscc, **changes) -> int:
    await _login(client, org, "agri_editor")
    await _create(client, org, valid_uscc, **changes)
    response = await post_form(client, f"/catalog/departments/{org.agri}/file", {"note": "请审核"})
    assert response.status_code == 303
    return int(response.headers["location"].rsplit("/", 1)[1])


async def test_filing_review_and_approval_put_the_resource_in_the_total_catalogs(client, org, valid_uscc):
    filing_id = await _file(client, org, valid_uscc)
    await _login(client, org, "county_reviewer")
    queue = await client.get("/catalog/filings")
    assert f"/catalog/filings/{filing_id}" in queue.text
    page = await client.get(f"/catalog/filings/{filing_id}")
    assert "请审核" in page.text and 'value="approve"' in page.text
    item = re.search(r'/catalog/filings/\d+/items/(\d+)', page.text)[1]
    full = await post_form(client, f"/catalog/filings/{filing_id}/items/{item}", {"verdict": "approved", "opinion": "规范"})
    assert full.status_code == 303
    fragment = await post_form(client, f"/catalog/filings/{filing_id}/items/{item}", {"verdict": "approved", "opinion": "很规范"},
                               headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="filing">') and "<html" not in fragment.text and "很规范" in fragment.text
    decided = await post_form(client, f"/catalog/filings/{filing_id}/decide", {"decision": "approve", "opinion": "同意"})
    assert decided.status_code == 303
    await _login(client, org, "city_staff")
    city = await client.get(f"/catalog/total/{org.city}")
    assert "农村土地承包经营权登记信息" in city.text and "307016001/000001" in city.text
    found = await client.get(f"/catalog/total/{org.province}", params={"q": "地块编码"}, headers={"HX-Request": "true"})
    assert "农村土地承包经营权登记信息" in found.text and "<html" not in found.text
    nothing = await client.get(f"/catalog/total/{org.province}", params={"q": "没有这个"})
    assert "农村土地承包经营权登记信息" not in nothing.text and "<html" in nothing.text
    resource_id = (await Resource.select(Resource.id).first())["id"]
    entry = await client.get(f"/catalog/entries/{resource_id}")
    assert entry.status_code == 200 and "仅用于补贴核验" in entry.text and "地块编码" in entry.text


async def test_a_secret_resource_never_shows_in_a_shared_view(client, org, valid_uscc):
    filing_id = await _file(client, org, valid_uscc, name="秘密资源甲", secrecy="secret")
    await _login(client, org, "county_reviewer")
    assert (await post_form(client, f"/catalog/filings/{filing_id}/decide", {"decision": "approve"})).status_code == 303
    await _login(client, org, "city_staff")
    for url in (f"/catalog/total/{org.city}", f"/catalog/total/{org.city}?q=秘密", f"/catalog/total/{org.county}?q=秘密资源", "/catalog"):
        assert "秘密资源甲" not in (await client.get(url)).text
    resource_id = (await Resource.select(Resource.id).first())["id"]
    assert (await client.get(f"/catalog/entries/{resource_id}")).status_code == 404
    assert (await client.get(f"/catalog/filings/{filing_id}")).status_code == 403


async def test_only_the_bureau_of_the_level_decides(client, org, valid_uscc):
    filing_id = await _file(client, org, valid_uscc)
    assert (await post_form(client, f"/catalog/filings/{filing_id}/decide", {"decision": "approve"})).status_code == 403
    await _login(client, org, "city_reviewer")
    assert (await client.get(f"/catalog/filings/{filing_id}")).status_code == 403
    assert (await post_form(client, f"/catalog/filings/{filing_id}/decide", {"decision": "approve"})).status_code == 403
    assert (await post_form(client, f"/catalog/filings/{filing_id}/items/1", {"verdict": "approved"})).status_code == 403
    await _login(client, org, "county_reviewer")
    assert (await post_form(client, f"/catalog/filings/{filing_id}/items/999999", {"verdict": "approved"})).status_code == 404
    assert (await client.get("/catalog/filings/999999")).status_code == 404


async def test_a_return_without_opinion_keeps_the_page_and_says_why(client, org, valid_uscc):
    filing_id = await _file(client, org, valid_uscc)
    await _login(client, org, "county_reviewer")
    response = await post_form(client, f"/catalog/filings/{filing_id}/decide", {"decision": "return", "opinion": ""})
    assert response.status_code == 400 and 'aria-describedby="opinion-error"' in response.text
    page = await client.get(f"/catalog/filings/{filing_id}")
    item = re.search(r'/catalog/filings/\d+/items/(\d+)', page.text)[1]
    refused = await post_form(client, f"/catalog/filings/{filing_id}/items/{item}", {"verdict": "returned", "opinion": ""})
    assert refused.status_code == 400 and f'id="opinion-{item}-error"' in refused.text
    await post_form(client, f"/catalog/filings/{filing_id}/items/{item}", {"verdict": "returned", "opinion": "摘要不清"})
    assert (await post_form(client, f"/catalog/filings/{filing_id}/decide", {"decision": "return"})).status_code == 303
    await _login(client, org, "agri_editor")
    page = await client.get(f"/catalog/filings/{filing_id}")
    assert "摘要不清" in page.text


async def test_two_versions_are_compared_on_a_page(client, org, valid_uscc):
    first = await _file(client, org, valid_uscc)
    await _login(client, org, "county_reviewer")
    await post_form(client, f"/catalog/filings/{first}/decide", {"decision": "approve"})
    await _login(client, org, "agri_editor")
    resource_id = (await Resource.select(Resource.id).first())["id"]
    saved = await post_form(client, f"/catalog/resources/{resource_id}", await _form_data(valid_uscc, name="改名后的资源"))
    assert saved.status_code == 303
    await _create(client, org, valid_uscc, name="新增的资源")
    second = int((await post_form(client, f"/catalog/departments/{org.agri}/file")).headers["location"].rsplit("/", 1)[1])
    page = await client.get("/catalog/compare", params={"a": first, "b": second})
    assert page.status_code == 200
    assert "新增的资源" in page.text and "<del>农村土地承包经营权登记信息</del>" in page.text and "<ins>改名后的资源</ins>" in page.text
    await _login(client, org, "market_editor")
    assert (await client.get("/catalog/compare", params={"a": first, "b": second})).status_code == 403
    assert (await client.get(f"/catalog/departments/{org.agri}/versions")).status_code == 403


async def test_the_home_page_shows_what_waits_for_the_bureau_and_the_editor(client, org, valid_uscc):
    filing_id = await _file(client, org, valid_uscc)
    home = await client.get("/")
    assert f'href="/catalog/departments/{org.agri}"' in home.text and "第1版审核中" in home.text
    await _login(client, org, "county_reviewer")
    home = await client.get("/")
    assert f'href="/catalog/filings/{filing_id}"' in home.text
    await _login(client, org, "city_staff")
    assert "/catalog/filings/" not in (await client.get("/")).text


async def test_a_save_over_someone_else_s_save_is_refused_and_keeps_the_input(client, org, valid_uscc):
    await _login(client, org, "agri_editor")
    resource_id = await _create(client, org, valid_uscc)
    seen = re.search(r'name="seen" value="([^"]+)"', (await client.get(f"/catalog/resources/{resource_id}")).text)[1]
    other = await post_form(client, f"/catalog/resources/{resource_id}", await _form_data(valid_uscc, name="同事的名称", seen=seen))
    assert other.status_code == 303
    late = await post_form(client, f"/catalog/resources/{resource_id}", await _form_data(valid_uscc, name="我的名称", seen=seen))
    assert late.status_code == 409
    assert 'value="我的名称"' in late.text and "有人在您打开后保存了该信息资源" in late.text
    assert (await Resource.select(Resource.name).first())["name"] == "同事的名称"
    newer = re.search(r'name="seen" value="([^"]+)"', late.text)[1]
    again = await post_form(client, f"/catalog/resources/{resource_id}", await _form_data(valid_uscc, name="我的名称", seen=newer))
    assert again.status_code == 303
    assert (await Resource.select(Resource.name).first())["name"] == "我的名称"
