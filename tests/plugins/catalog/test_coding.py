"""Resource codes (CAT-1): 分类码/顺序码, one sequence per classification code, every code given
once even when editors create resources at the same moment."""

import asyncio

import pytest

from plugins.catalog import coding, resources
from plugins.catalog.tables import Classification, Resource
from portal.db import write_transaction


def test_a_code_is_the_classification_code_and_a_six_digit_sequence_number():
    assert coding.format_code("307016001", 12) == "307016001/000012"
    assert coding.format_code("101", 1_234_567) == "101/1234567"
    assert coding.RESOURCE_CODE.match("307016001/000012")
    assert not coding.RESOURCE_CODE.match("4070/000012")
    assert [coding.level_of(c) for c in ("1", "101", "101001", "101001001")] == [1, 2, 3, 4]


def test_the_unified_social_credit_code_check_character_is_verified():
    # The example code printed in GB 32100-2015's explanations.
    assert resources.valid_uscc("91350100M000100Y43")
    assert not resources.valid_uscc("91350100M000100Y44")
    assert not resources.valid_uscc("91350100M000100Y4")
    assert not resources.valid_uscc("9135010OM000100Y43")


async def test_the_seeded_trees_follow_the_compilation_guide(app):
    roots = await Classification.select(Classification.code, Classification.name, Classification.tree) \
        .where(Classification.level == 1).order_by(Classification.code)
    assert [(r["code"], r["tree"]) for r in roots] == [("1", "basic"), ("2", "thematic"), ("3", "departmental")]
    basic = await Classification.select(Classification.name).where(Classification.tree == "basic").where(Classification.level == 2) \
        .order_by(Classification.code)
    assert [r["name"] for r in basic] == ["人口基础信息资源", "法人单位基础信息资源", "自然资源和空间地理基础信息资源",
                                          "社会信用基础信息资源", "电子证照基础信息资源"]
    for node in await Classification.select(Classification.code, Classification.parent.code.as_alias("parent_code"),
                                            Classification.level):
        assert node["parent_code"] == coding.parent_code(node["code"])
        assert node["level"] == coding.level_of(node["code"])


async def test_each_classification_code_counts_from_one(app):
    async with write_transaction():
        assert await coding.next_code("307016001") == "307016001/000001"
        assert await coding.next_code("307016001") == "307016001/000002"
        assert await coding.next_code("101") == "101/000001"


async def test_a_class_alone_makes_no_code(app):
    with pytest.raises(ValueError):
        await coding.next_code("3")
    with pytest.raises(ValueError):
        await coding.next_code("30701x")


async def test_concurrent_creation_gives_every_resource_its_own_code(org, make_form):
    editors = [await org.user("agri_editor"), await org.user("agri_editor2")]
    forms = [await make_form(f"资源{n}") for n in range(30)]
    ids = await asyncio.gather(*(resources.create(editors[n % 2], org.agri, form, org.portal) for n, form in enumerate(forms)))
    codes = [r["code"] for r in await Resource.select(Resource.code).where(Resource.id.is_in(list(ids)))]
    assert sorted(codes) == [f"307016001/{n:06d}" for n in range(1, 31)]


async def test_a_code_taken_by_a_rolled_back_creation_is_given_again(app):
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await coding.next_code("102")
            raise RuntimeError("the insert failed")
    async with write_transaction():
        assert await coding.next_code("102") == "102/000001"


async def test_a_deleted_resource_s_code_is_never_given_again(org, make_form):
    editor = await org.user("agri_editor")
    first = await resources.create(editor, org.agri, await make_form("甲"), org.portal)
    assert await resources.remove(editor, first, org.portal) == "deleted"
    second = await resources.create(editor, org.agri, await make_form("乙"), org.portal)
    assert (await Resource.select(Resource.code).where(Resource.id == second).first())["code"] == "307016001/000002"
