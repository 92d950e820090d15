"""Who may do what to which catalog (CAT-1, CAT-2), and the organisation as the catalog sees it.

A department's catalog is edited by the holders of ``catalog_editor`` in that department; it is
filed with the big-data bureau of the department's unit, whose officers hold
``catalog_reviewer`` in that unit. A role assignment names its scope (a department, or a unit);
one that names none is held where the user works. Units form the tree province › city › county
(› township); a unit's total catalog covers the unit and every unit below it.
"""

from __future__ import annotations

from dataclasses import dataclass

from plugins.catalog.errors import Forbidden, NotFound
from portal.accounts.tables import Department, RoleAssignment, Unit, User
from portal.api import CurrentUser
from portal.i18n import gettext as _

EDITOR_ROLE = "catalog_editor"
REVIEWER_ROLE = "catalog_reviewer"


@dataclass(frozen=True)
class DepartmentInfo:
    id: int
    name: str
    unit_id: int
    unit_name: str


async def department_info(department_id: int) -> DepartmentInfo | None:
    row = await Department.select(Department.id, Department.name, Department.unit, Department.unit.name.as_alias("unit_name")) \
        .where(Department.id == department_id).first()
    return DepartmentInfo(row["id"], row["name"], row["unit"], row["unit_name"]) if row else None


async def _assignments(user: CurrentUser, role: str) -> list[dict]:
    if role not in user.roles:
        return []
    return await RoleAssignment.select(RoleAssignment.unit, RoleAssignment.department) \
        .where((RoleAssignment.user == user.id) & (RoleAssignment.role == role))


async def editable_departments(user: CurrentUser) -> list[int]:
    """The departments whose catalog ``user`` edits, in id order."""
    found = set()
    for row in await _assignments(user, EDITOR_ROLE):
        if row["department"] is not None:
            found.add(row["department"])
        elif (row["unit"] is None or row["unit"] == user.unit_id) and user.department_id is not None:
            found.add(user.department_id)
    return sorted(found)


async def reviewed_units(user: CurrentUser) -> list[int]:
    """The units whose departments' filings ``user`` reviews, in id order."""
    found = {row["unit"] or user.unit_id for row in await _assignments(user, REVIEWER_ROLE)}
    return sorted(unit for unit in found if unit is not None)


async def can_edit(user: CurrentUser, department_id: int) -> bool:
    return user.is_admin or department_id in await editable_departments(user)


async def can_review(user: CurrentUser, unit_id: int) -> bool:
    return user.is_admin or unit_id in await reviewed_units(user)


async def require_edit(user: CurrentUser, department_id: int) -> DepartmentInfo:
    info = await department_info(department_id)
    if info is None:
        raise NotFound(_("No such department."))
    if not await can_edit(user, department_id):
        raise Forbidden(_("You do not edit the catalog of this department."))
    return info


async def can_see_working_catalog(user: CurrentUser, department: DepartmentInfo) -> bool:
    """The working catalog (drafts included) and the filings of a department are seen by its
    editors and by the reviewers of its unit, nobody else."""
    return await can_edit(user, department.id) or await can_review(user, department.unit_id)


# The unit tree ---------------------------------------------------------------------------------


async def units() -> list[dict]:
    return await Unit.select(Unit.id, Unit.name, Unit.level, Unit.parent).order_by(Unit.id)


def subtree(all_units: list[dict], unit_id: int) -> list[int]:
    """``unit_id`` and every unit below it (cycles in bad data end the walk)."""
    children: dict[int | None, list[int]] = {}
    for row in all_units:
        children.setdefault(row["parent"], []).append(row["id"])
    found, stack = [], [unit_id]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.append(current)
        stack.extend(children.get(current, []))
    return sorted(found)


async def unit_ids_below(unit_id: int) -> list[int]:
    return subtree(await units(), unit_id)


async def names_of(user_ids) -> dict[int, str]:
    ids = sorted({i for i in user_ids if i})
    if not ids:
        return {}
    return {r["id"]: r["display_name"] for r in await User.select(User.id, User.display_name).where(User.id.is_in(ids))}


async def departments_named(department_ids) -> dict[int, str]:
    ids = sorted({i for i in department_ids if i})
    if not ids:
        return {}
    return {r["id"]: r["name"] for r in await Department.select(Department.id, Department.name).where(Department.id.is_in(ids))}
