"""The public part of the total catalogs: what DCAT, the CKAN-compatible API and the open pages
show without login (CAT-6).

Read only from ``catalog_entry`` (approved resources, never a secret one) and, of those, only the
resources classified public whose open attribute lets the public see them (无条件开放, 有条件开放)
— the same set as ``total.public_resources``; a test holds the two together. Units and
departments are named as the organisation publishes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from piccolo.query.methods.select import Count

from plugins.catalog import access, total
from plugins.catalog.tables import CatalogEntry
from plugins.catalog.vocabulary import SECRET_LEVELS
from portal.accounts.tables import Department, Unit

PUBLIC_OPEN_TYPES = ("open", "conditional")
ORDERS = {
    "code": (CatalogEntry.code, True),
    "name": (CatalogEntry.name, True),
    "name_desc": (CatalogEntry.name, False),
    "modified": (CatalogEntry.approved_at, True),
    "modified_desc": (CatalogEntry.approved_at, False),
}


@dataclass(frozen=True)
class Organisation:
    """A department that publishes open resources, as other systems name it: ``<unit code>-<id>``."""

    department_id: int
    name: str
    department_name: str
    unit_id: int
    unit_code: str
    unit_name: str

    @property
    def title(self) -> str:
        return f"{self.unit_name}{self.department_name}"


def public_conditions() -> list:
    return [CatalogEntry.secrecy.not_in(list(SECRET_LEVELS)), CatalogEntry.secrecy == "public",
            CatalogEntry.open_type.is_in(list(PUBLIC_OPEN_TYPES))]


@dataclass(frozen=True)
class Filter:
    """Which public entries: under units (None = all), text as the total catalog's search,
    departments and formats (None = any)."""

    unit_ids: tuple[int, ...] | None = None
    text: str = ""
    department_ids: tuple[int, ...] | None = None
    formats: tuple[str, ...] | None = None

    def conditions(self) -> list:
        found = public_conditions()
        if self.unit_ids is not None:
            found.append(CatalogEntry.unit.is_in(list(self.unit_ids) or [0]))
        text = self.text.replace("\x00", "").strip()[:total.MAX_QUERY]
        if text:
            found.append(total.search_condition(text))
        if self.department_ids is not None:
            found.append(CatalogEntry.department.is_in(list(self.department_ids) or [0]))
        if self.formats is not None:
            found.append(CatalogEntry.format.is_in(list(self.formats) or [""]))
        return found


async def entries(where: Filter = Filter(), *, order: str = "code", limit: int | None = None, offset: int = 0) -> list[dict]:
    column, ascending = ORDERS[order]
    query = CatalogEntry.select().where(*where.conditions()).order_by(column, ascending=ascending)
    if column is not CatalogEntry.code:
        query = query.order_by(CatalogEntry.code)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return await query


async def count(where: Filter = Filter()) -> int:
    return await CatalogEntry.count().where(*where.conditions())


async def entry(resource_id: int) -> dict | None:
    return await CatalogEntry.select().where(CatalogEntry.resource_id == resource_id, *public_conditions()).first()


async def entry_by_code(code: str) -> dict | None:
    return await CatalogEntry.select().where(CatalogEntry.code == code, *public_conditions()).first()


# Units and organisations -----------------------------------------------------------------------


async def unit_by_code(code: str) -> dict | None:
    return await Unit.select(Unit.id, Unit.name, Unit.code, Unit.level, Unit.parent).where(Unit.code == code).first()


async def unit_ids_below(unit_id: int) -> tuple[int, ...]:
    return tuple(await access.unit_ids_below(unit_id))


async def units_by_id() -> dict[int, dict]:
    return {row["id"]: row for row in await Unit.select(Unit.id, Unit.name, Unit.code, Unit.parent)}


def organisation_name(unit_code: str, department_id: int) -> str:
    # CKAN names are lowercase letters, digits, - and _.
    code = "".join(c for c in unit_code.lower() if c.isascii() and (c.isalnum() or c in "-_")) or "unit"
    return f"{code}-{department_id}"


async def organisations(where: Filter = Filter()) -> list[tuple[Organisation, int]]:
    """The departments with public entries (under ``where``), with how many, by name."""
    counted = await CatalogEntry.select(CatalogEntry.department, Count(CatalogEntry.id, alias="count")) \
        .where(*where.conditions()).group_by(CatalogEntry.department)
    described = await describe_departments([row["department"] for row in counted])
    found = [(described[row["department"]], row["count"]) for row in counted if row["department"] in described]
    return sorted(found, key=lambda pair: pair[0].name)


async def describe_departments(department_ids) -> dict[int, Organisation]:
    ids = sorted(set(department_ids))
    if not ids:
        return {}
    rows = await Department.select(Department.id, Department.name, Department.unit, Department.unit.name.as_alias("unit_name"),
                                   Department.unit.code.as_alias("unit_code")).where(Department.id.is_in(ids))
    return {row["id"]: Organisation(row["id"], organisation_name(row["unit_code"], row["id"]), row["name"], row["unit"],
                                    row["unit_code"], row["unit_name"]) for row in rows}


async def organisation_named(name: str) -> Organisation | None:
    """The organisation of that name, if it publishes open resources."""
    _head, _dash, tail = name.rpartition("-")
    if not tail.isdigit() or len(tail) > 9:
        return None
    found = (await describe_departments([int(tail)])).get(int(tail))
    if found is None or found.name != name or not await count(Filter(department_ids=(found.department_id,))):
        return None
    return found
