"""Fixtures of the disclosure tests: two units with their catalogs, a publisher of each, staff."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from plugins.disclosure.categories import categories_of, ensure_standard_categories
from portal.accounts.services import UnitForm, create_unit
from portal.api import CurrentUser


@pytest.fixture
def portal_plugins():
    # Without edoc unless a test asks for it: the plugin must work alone (PUB-1).
    return ["disclosure"]


@pytest.fixture
async def units(app):
    county = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, "huanghe.gov.example", "黄河办"))
    town = await create_unit(None, UnitForm("东镇人民政府", "dongzhen", "township", county, "dongzhen.gov.example", "东镇"))
    for unit_id in (county, town):
        await ensure_standard_categories(unit_id)
    return {"county": county, "town": town}


@pytest.fixture
async def categories(units) -> dict[str, dict[str, int]]:
    """Category ids by unit ("county", "town") and standard key."""
    return {name: {c["key"]: c["id"] for c in await categories_of(unit_id)} for name, unit_id in units.items()}


def as_current(user, unit_id, permissions=("disclosure.publish",)) -> CurrentUser:
    return CurrentUser(user.id, user.username, user.username, "", unit_id, None, frozenset(user.roles),
                       frozenset(permissions), "zh_CN", "")


@pytest.fixture
async def publisher(make_user, units):
    return await make_user("publisher", roles=["publisher", "staff"], unit_id=units["county"])


@pytest.fixture
async def town_publisher(make_user, units):
    return await make_user("townpublisher", roles=["publisher", "staff"], unit_id=units["town"])


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
