"""Each unit's disclosure catalog (政府信息公开目录, PUB-1): its categories, in its own order.

A unit starts with the categories of information the 2019 Regulations on Open Government
Information (《中华人民共和国政府信息公开条例》, articles 19–20) oblige it to disclose on its own
initiative; its publishers rename, reorder and add to them. A category's ``key`` remembers which
standard one it started as, so the documents arriving from the edoc plugin find 政策文件 after a
rename.
"""

from __future__ import annotations

from plugins.disclosure.tables import Category, Item
from plugins.disclosure.text import clean_line
from portal.api import CurrentUser
from portal.db import write_transaction
from portal.i18n import gettext as _

MAX_NAME = 100
MAX_CATEGORIES = 100

# (key, name): the active-disclosure categories of the 2019 Regulations, in the usual order of a
# county's catalog. Names are Chinese whatever the publisher's language: they are the catalog.
STANDARD_CATEGORIES = (
    ("functions", "机构职能"),
    ("policies", "政策文件"),
    ("plans", "规划计划"),
    ("budgets", "财政预决算"),
    ("permits", "行政许可和处罚"),
    ("services", "公共服务事项"),
    ("personnel", "人事信息"),
    ("news", "工作动态"),
    ("notices", "通知公告"),
)
# Where official documents published through the edoc plugin are listed.
DOCUMENTS_KEY = "policies"


class CategoryRefused(ValueError):
    """The category cannot be saved; ``str()`` says why, for the form."""


class CategoryNotFound(LookupError):
    pass


async def ensure_standard_categories(unit_id: int) -> int:
    """Give the unit the standard categories it lacks (by key); returns how many were added."""
    async with write_transaction():
        existing = await Category.select(Category.key, Category.position).where(Category.unit == unit_id)
        have = {row["key"] for row in existing}
        position = max((row["position"] for row in existing), default=0)
        missing = [(key, name) for key, name in STANDARD_CATEGORIES if key not in have]
        rows = []
        for offset, (key, name) in enumerate(missing, start=1):
            rows.append(Category(unit=unit_id, key=key, name=name, position=position + offset))
        if rows:
            await Category.insert(*rows)
    return len(rows)


async def categories_of(unit_id: int) -> list[dict]:
    """The unit's categories in catalog order: ``id``, ``name``, ``key``, ``position``."""
    return await Category.select(Category.id, Category.name, Category.key, Category.position).where(
        Category.unit == unit_id).order_by(Category.position).order_by(Category.id)


async def category(category_id: int) -> dict:
    row = await Category.select(Category.id, Category.unit, Category.name, Category.key, Category.position).where(
        Category.id == category_id).first()
    if row is None:
        raise CategoryNotFound(category_id)
    return row


async def category_by_key(unit_id: int, key: str) -> dict | None:
    return await Category.select(Category.id, Category.name).where(
        (Category.unit == unit_id) & (Category.key == key)).order_by(Category.id).first()


def _valid_name(name: str) -> str:
    name = clean_line(name)
    if not name or len(name) > MAX_NAME:
        raise CategoryRefused(_("Enter a category name of at most %(n)d characters.", n=MAX_NAME))
    return name


async def _refuse_duplicate(unit_id: int, name: str, category_id: int | None = None) -> None:
    where = (Category.unit == unit_id) & (Category.name == name)
    if category_id is not None:
        where &= Category.id != category_id
    if await Category.exists().where(where):
        raise CategoryRefused(_("The catalog already has a category named “%(name)s”.", name=name))


async def add_category(portal, actor: CurrentUser, unit_id: int, name: str) -> int:
    """Add a category at the end of the unit's catalog; returns its id."""
    name = _valid_name(name)
    async with write_transaction():
        await _refuse_duplicate(unit_id, name)
        existing = await Category.select(Category.position).where(Category.unit == unit_id)
        if len(existing) >= MAX_CATEGORIES:
            raise CategoryRefused(_("A catalog has at most %(n)d categories.", n=MAX_CATEGORIES))
        position = max((row["position"] for row in existing), default=0) + 1
        rows = await Category.insert(Category(unit=unit_id, name=name, position=position)).returning(Category.id)
    await portal.audit("disclosure.category_add", actor=actor, target_type="disclosure_category",
                       target_id=rows[0]["id"], summary=name)
    return rows[0]["id"]


async def rename_category(portal, actor: CurrentUser, category_id: int, name: str) -> None:
    name = _valid_name(name)
    async with write_transaction():
        row = await category(category_id)
        await _refuse_duplicate(row["unit"], name, category_id)
        await Category.update({Category.name: name}).where(Category.id == category_id)
    await portal.audit("disclosure.category_rename", actor=actor, target_type="disclosure_category",
                       target_id=category_id, summary=f"{row['name']} → {name}")


async def move_category(portal, actor: CurrentUser, category_id: int, step: int) -> None:
    """Move the category one place up (``step`` -1) or down (+1) in its unit's catalog; the
    positions are renumbered 1..n, so they stay distinct whatever they were before."""
    async with write_transaction():
        row = await category(category_id)
        ordered = [c["id"] for c in await categories_of(row["unit"])]
        index = ordered.index(category_id)
        target = min(max(index + (1 if step > 0 else -1), 0), len(ordered) - 1)
        ordered.insert(target, ordered.pop(index))
        for position, other in enumerate(ordered, start=1):
            await Category.update({Category.position: position}).where(Category.id == other)
    await portal.audit("disclosure.category_move", actor=actor, target_type="disclosure_category",
                       target_id=category_id, summary=f"{row['name']}: {index + 1} → {target + 1}")


async def delete_category(portal, actor: CurrentUser, category_id: int) -> None:
    """Remove a category without items (withdrawn ones count: they still cite it)."""
    async with write_transaction():
        row = await category(category_id)
        if await Item.exists().where(Item.category == category_id):
            raise CategoryRefused(_("Only a category without items can be removed; move its items to another category first."))
        await Category.delete().where(Category.id == category_id)
    await portal.audit("disclosure.category_delete", actor=actor, target_type="disclosure_category",
                       target_id=category_id, summary=row["name"])
