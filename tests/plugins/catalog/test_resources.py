"""Compiling a department's catalog (CAT-1): every field checked and named, only the
department's editors write, an approved resource leaves only through the next approved version."""

import pytest

pytestmark = pytest.mark.usefixtures("in_english")

from plugins.catalog import filing, resources
from plugins.catalog.errors import Conflict, Forbidden, Invalid
from plugins.catalog.resources import ItemForm, ResourceForm
from plugins.catalog.tables import DataItem, Resource


async def test_a_complete_form_has_no_faults(org, make_form):
    assert await (await make_form()).errors() == {}


async def test_an_empty_form_names_every_required_field(org):
    errors = await ResourceForm(format="database").errors()
    assert set(errors) >= {"name", "provider", "provider_code", "abstract", "classification_id", "share_conditions", "items"}


@pytest.mark.parametrize("changes, field, words", [
    ({"provider_code": "91350100M000100Y44"}, "provider_code", "check character"),
    ({"share_type": "conditional", "share_conditions": "  "}, "share_conditions", "conditions of use"),
    ({"share_type": "none", "share_conditions": ""}, "share_conditions", "does not allow sharing"),
    ({"share_type": "unconditional", "share_method": "carrier pigeon"}, "share_method", "how the resource is shared"),
    ({"open_type": "open", "secrecy": "internal"}, "open_type", "classified as public"),
    ({"open_type": "conditional", "secrecy": "public", "open_conditions": ""}, "open_conditions", "conditions"),
    ({"update_cycle": "sometimes"}, "update_cycle", "update cycle"),
    ({"published_on": "2026-02-30"}, "published_on", "YYYY-MM-DD"),
    ({"related_codes": "101001/000001 nonsense"}, "related_codes", "nonsense"),
    ({"name": "名" * 201}, "name", "200"),
    ({"secrecy": "very secret"}, "secrecy", "classification level"),
    ({"items": []}, "items", "at least one data item"),
    ({"items": [ItemForm("编码", "string", "0", "")]}, "items.0.length", "whole number"),
    ({"items": [ItemForm("编码", "string", "", ""), ItemForm("编码", "string", "", "")]}, "items.1.name", "Another data item"),
    ({"items": [ItemForm("", "string", "12", "说明")]}, "items.0.name", "name"),
    ({"items": [ItemForm("编码", "blob", "", "")]}, "items.0.data_type", "data type"),
])
async def test_each_fault_is_named_at_its_field(org, make_form, changes, field, words):
    errors = await (await make_form(**changes)).errors()
    assert field in errors
    assert words in errors[field]


async def test_classification_places_are_checked(org, make_form, classification_of):
    form = await make_form(basic_classification_id=str(await classification_of("201")))
    assert "basic_classification_id" in await form.errors()
    form = await make_form(classification_id=str(await classification_of("3")))
    assert "second level" in (await form.errors())["classification_id"]
    form = await make_form(classification_id="999999")
    assert "classification_id" in await form.errors()
    form = await make_form(basic_classification_id=str(await classification_of("101001")),
                           thematic_classification_id=str(await classification_of("211")))
    assert await form.errors() == {}


async def test_a_form_parsed_from_a_request_keeps_every_row_in_order_and_drops_blank_ones(org):
    form = ResourceForm.from_mapping({"name": "x", "item-2-name": "乙", "item-0-name": "甲", "item-0-length": "5",
                                      "item-1-name": "", "item-1-description": "", "item-9-name": "丙"})
    assert [(i.name, i.length) for i in form.items] == [("甲", "5"), ("乙", ""), ("丙", "")]


async def test_created_resource_is_stored_with_its_items_and_code(org, make_form, valid_uscc):
    editor = await org.user("agri_editor")
    resource_id = await resources.create(editor, org.agri, await make_form(), org.portal)
    resource, items = await resources.load(resource_id)
    assert resource["code"] == "307016001/000001"
    assert resource["status"] == "draft"
    assert resource["provider_code"] == valid_uscc()
    assert [(i["name"], i["length"], i["position"]) for i in items] == [("承包方名称", 100, 0), ("地块编码", 19, 1)]
    assert ResourceForm.from_resource(resource, items).items[1].name == "地块编码"


async def test_a_refused_form_writes_nothing(org, make_form):
    editor = await org.user("agri_editor")
    with pytest.raises(Invalid) as refused:
        await resources.create(editor, org.agri, await make_form(share_conditions=""), org.portal)
    assert "share_conditions" in refused.value.errors
    assert await Resource.count() == 0 and await DataItem.count() == 0


async def test_only_the_department_s_editors_write_its_catalog(org, make_form):
    form = await make_form()
    for name in ("market_editor", "agri_staff", "county_reviewer"):
        with pytest.raises(Forbidden):
            await resources.create(await org.user(name), org.agri, form, org.portal)
    resource_id = await resources.create(await org.user("agri_editor"), org.agri, form, org.portal)
    with pytest.raises(Forbidden):
        await resources.update(await org.user("market_editor"), resource_id, form, org.portal)
    with pytest.raises(Forbidden):
        await resources.remove(await org.user("market_editor"), resource_id, org.portal)
    assert await Resource.count() == 1


async def test_a_new_classification_gives_a_new_code(org, make_form, classification_of):
    editor = await org.user("agri_editor")
    resource_id = await resources.create(editor, org.agri, await make_form(), org.portal)
    same = await resources.update(editor, resource_id, await make_form(name="改名"), org.portal)
    assert same == "307016001/000001"
    moved = await resources.update(editor, resource_id, await make_form(classification_id=str(await classification_of("101001"))),
                                   org.portal)
    assert moved == "101001/000001"


async def test_an_approved_resource_is_withdrawn_until_the_next_approval(org, make_form):
    editor, reviewer = await org.user("agri_editor"), await org.user("county_reviewer")
    resource_id = await resources.create(editor, org.agri, await make_form(), org.portal)
    filing_id = await filing.submit(editor, org.agri, "", org.portal)
    await filing.decide(reviewer, filing_id, "approve", "", org.portal)
    assert await resources.remove(editor, resource_id, org.portal) == "withdrawn"
    assert (await resources.load(resource_id))[0]["status"] == "withdrawn"
    await resources.restore(editor, resource_id, org.portal)
    assert (await resources.load(resource_id))[0]["status"] == "draft"


async def test_the_catalog_is_locked_while_under_review(org, make_form):
    editor = await org.user("agri_editor")
    resource_id = await resources.create(editor, org.agri, await make_form(), org.portal)
    await filing.submit(editor, org.agri, "", org.portal)
    with pytest.raises(Conflict):
        await resources.update(editor, resource_id, await make_form(name="改"), org.portal)
    with pytest.raises(Conflict):
        await resources.create(editor, org.agri, await make_form(name="新"), org.portal)
    with pytest.raises(Conflict):
        await resources.remove(editor, resource_id, org.portal)
