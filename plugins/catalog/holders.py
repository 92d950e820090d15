"""Who holds the catalog's roles where: the people reminders and requests go to, and the units a
bureau officer oversees (CAT-4, CAT-5). The rules are those of ``access``: a role assignment
names a department or a unit, or none (then it is held where the user works)."""

from __future__ import annotations

from plugins.catalog import access
from portal.accounts.tables import RoleAssignment
from portal.api import CurrentUser


async def editors_of(department_id: int) -> list[int]:
    """Active catalog editors of the department, by id."""
    ra = RoleAssignment
    rows = await ra.select(ra.user, ra.unit, ra.department, ra.user.unit.as_alias("user_unit")).where(
        (ra.role == access.EDITOR_ROLE) & (ra.user.active == True)  # noqa: E712
        & ((ra.department == department_id) | (ra.department.is_null() & (ra.user.department == department_id))))
    return sorted({r["user"] for r in rows
                   if r["department"] == department_id or r["unit"] is None or r["unit"] == r["user_unit"]})


async def reviewers_of(unit_id: int) -> list[int]:
    """Active officers of the big-data bureau of the unit (catalog reviewers), by id."""
    ra = RoleAssignment
    rows = await ra.select(ra.user).where(
        (ra.role == access.REVIEWER_ROLE) & (ra.user.active == True)  # noqa: E712
        & ((ra.unit == unit_id) | (ra.unit.is_null() & (ra.user.unit == unit_id))))
    return sorted({r["user"] for r in rows})


async def overseen_units(user: CurrentUser) -> set[int] | None:
    """The units whose departments the user oversees as a bureau officer: each unit he reviews
    and every unit below it; None for an administrator (all units)."""
    if user.is_admin:
        return None
    reviewed = await access.reviewed_units(user)
    if not reviewed:
        return set()
    all_units = await access.units()
    found: set[int] = set()
    for unit_id in reviewed:
        found.update(access.subtree(all_units, unit_id))
    return found


async def oversees(user: CurrentUser, unit_id: int) -> bool:
    scope = await overseen_units(user)
    return scope is None or unit_id in scope
