"""Document numbers (发文字号, DOC-1 print room step, DOC-11): per unit and year, no gaps, no
duplicates, even when many print-room clerks number at once."""

import asyncio

import pytest

from plugins.edoc.numbering import UnknownUnit, format_number, next_number
from portal.accounts.services import UnitForm, create_unit
from portal.db import write_transaction


@pytest.fixture
async def units(app):
    county = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, "huanghe.gov.example", "黄河办"))
    town = await create_unit(None, UnitForm("东镇人民政府", "dongzhen", "township", county, "dongzhen.gov.example", "东镇"))
    return county, town


def test_the_number_is_written_as_gb_t_9704_writes_it():
    assert format_number("黄河办", 2026, 12) == "黄河办〔2026〕12号"
    assert format_number("", 2026, 1) == "〔2026〕1号"


async def test_each_unit_and_year_counts_from_one(units):
    county, town = units
    assert await next_number(county, 2026) == "黄河办〔2026〕1号"
    assert await next_number(county, 2026) == "黄河办〔2026〕2号"
    assert await next_number(town, 2026) == "东镇〔2026〕1号"
    assert await next_number(county, 2027) == "黄河办〔2027〕1号"
    assert await next_number(county, 2026) == "黄河办〔2026〕3号"


async def test_concurrent_numbering_gives_each_number_once_without_gaps(units):
    county, _town = units
    numbers = await asyncio.gather(*(next_number(county, 2026) for _ in range(40)))
    assert sorted(int(n.removeprefix("黄河办〔2026〕").removesuffix("号")) for n in numbers) == list(range(1, 41))


async def test_a_number_taken_in_a_transaction_that_rolls_back_is_given_again(units):
    county, _town = units
    assert await next_number(county, 2026) == "黄河办〔2026〕1号"
    with pytest.raises(RuntimeError):
        async with write_transaction():
            assert await next_number(county, 2026) == "黄河办〔2026〕2号"
            raise RuntimeError("registration failed")
    assert await next_number(county, 2026) == "黄河办〔2026〕2号"


async def test_an_unknown_unit_is_refused(units):
    with pytest.raises(UnknownUnit):
        await next_number(999_999, 2026)
