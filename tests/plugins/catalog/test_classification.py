"""Keeping the classification trees (CAT-1): the province's big-data bureau adds, renames and
retires nodes; codes follow the 类/项/目/细目 rules; nobody else changes them."""

import pytest

from plugins.catalog import classification, resources
from plugins.catalog.classification import NodeForm
from plugins.catalog.errors import Conflict, Forbidden, Invalid
from plugins.catalog.tables import Classification
from portal.testing import login_as, post_form

pytestmark = pytest.mark.usefixtures("in_english")


async def test_the_province_bureau_adds_a_node_under_its_parent(org, classification_of):
    bureau = await org.user("province_reviewer")
    node_id = await classification.add_node(bureau, NodeForm(str(await classification_of("307")), "024", " 数据资源管理 "), org.portal)
    node = await Classification.select().where(Classification.id == node_id).first()
    assert (node["code"], node["level"], node["tree"], node["name"]) == ("307024", 3, "departmental", "数据资源管理")
    detail = await classification.add_node(bureau, NodeForm(str(node_id), "7", "共享交换"), org.portal)
    assert (await Classification.select(Classification.code).where(Classification.id == detail).first())["code"] == "3070247"


@pytest.mark.parametrize("parent, segment, field, words", [
    ("307", "24", "segment", "three digits"),
    ("3", "7", "segment", "two digits"),
    ("307016001", "1", "parent_id", "Choose the node"),
    ("307016", "1234567", "segment", "one to six digits"),
    ("307", "016", "segment", "307016 is taken"),
])
async def test_a_bad_code_is_refused(org, classification_of, parent, segment, field, words):
    with pytest.raises(Invalid) as refused:
        await classification.add_node(await org.user("province_reviewer"), NodeForm(str(await classification_of(parent)), segment, "名称"),
                                      org.portal)
    assert words in refused.value.errors[field]


async def test_only_the_province_bureau_keeps_the_trees(org, classification_of):
    node = await classification_of("101001")
    for name in ("county_reviewer", "city_reviewer", "agri_editor"):
        user = await org.user(name)
        assert not await classification.can_classify(user)
        with pytest.raises(Forbidden):
            await classification.rename(user, node, "改名", org.portal)
        with pytest.raises(Forbidden):
            await classification.add_node(user, NodeForm(str(node), "1", "新"), org.portal)
    assert (await Classification.select(Classification.name).where(Classification.id == node).first())["name"] == "户籍人口信息"


async def test_a_retired_node_takes_no_new_resources_but_keeps_its_own(org, make_form, classification_of):
    bureau, editor = await org.user("province_reviewer"), await org.user("agri_editor")
    resource_id = await resources.create(editor, org.agri, await make_form(), org.portal)
    await classification.set_retired(bureau, await classification_of("307016001"), True, org.portal)
    assert "retired" in (await (await make_form("新资源")).errors())["classification_id"]
    assert "classification_id" in await (await make_form()).errors()
    assert (await resources.load(resource_id))[0]["code"] == "307016001/000001"
    await classification.set_retired(bureau, await classification_of("307016001"), False, org.portal)
    assert await (await make_form("新资源")).errors() == {}
    with pytest.raises(Conflict):
        await classification.set_retired(bureau, await classification_of("1"), True, org.portal)


async def test_the_tree_pages_over_http(client, org, classification_of):
    node = await classification_of("101001")
    await login_as(client, await org.test_user("county_reviewer"))
    assert "/catalog/classifications/" not in (await client.get("/catalog/classifications")).text
    assert (await client.get(f"/catalog/classifications/{node}")).status_code == 403
    assert (await post_form(client, f"/catalog/classifications/{node}", {"name": "改"})).status_code == 403
    assert (await post_form(client, "/catalog/classifications", {"parent_id": node, "segment": "9", "name": "x"})).status_code == 403
    await login_as(client, await org.test_user("province_reviewer"))
    refused = await post_form(client, "/catalog/classifications", {"parent_id": str(node), "segment": "x", "name": "户籍迁移<信息>"})
    assert refused.status_code == 400 and 'value="户籍迁移&lt;信息&gt;"' in refused.text and 'id="segment-error"' in refused.text
    added = await post_form(client, "/catalog/classifications", {"parent_id": str(node), "segment": "9", "name": "户籍迁移信息"})
    assert added.status_code == 303
    assert "1010019" in (await client.get("/catalog/classifications")).text
    renamed = await post_form(client, f"/catalog/classifications/{node}", {"name": "户籍人口基本信息"})
    assert renamed.status_code == 303
    assert "户籍人口基本信息" in (await client.get("/catalog/classifications")).text
    assert (await client.get("/catalog/classifications/999999")).status_code == 404
