"""Who holds which role where: the organisation as the document flows see it.

A role is held in a unit (and a department) either by its assignment's own scope or, when the
assignment names none, by the user's own unit and department.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.accounts.tables import Department, RoleAssignment, User


@dataclass(frozen=True)
class RoleScope:
    role: str
    unit_id: int | None
    department_id: int | None


async def holders(role: str, unit_id: int | None, department_id: int | None = None) -> list[int]:
    """Active users holding ``role`` in the unit (and the department, when given), by id."""
    ra = RoleAssignment
    where = (ra.role == role) & (ra.user.active == True)  # noqa: E712
    where &= (ra.unit == unit_id) | (ra.unit.is_null() & (ra.user.unit == unit_id))
    if department_id is not None:
        where &= (ra.department == department_id) | (ra.department.is_null() & (ra.user.department == department_id))
    rows = await ra.select(ra.user).where(where)
    return sorted({r["user"] for r in rows})


async def scopes_of(user_id: int) -> list[RoleScope]:
    """Where the user holds each of his roles."""
    user = await User.select(User.unit, User.department).where(User.id == user_id).first()
    rows = await RoleAssignment.select().where(RoleAssignment.user == user_id)
    return [RoleScope(r["role"], r["unit"] or user["unit"], r["department"] or (None if r["unit"] and r["unit"] != user["unit"] else user["department"]))
            for r in rows]


async def units_administered_by(user_id: int) -> frozenset[int] | None:
    """The units where the user holds the administrator role; None when one of his administrator
    roles names no unit ("All units" on the administration pages): he administers every unit."""
    rows = await RoleAssignment.select(RoleAssignment.unit).where((RoleAssignment.user == user_id) & (RoleAssignment.role == "admin"))
    if any(r["unit"] is None for r in rows):
        return None
    return frozenset(r["unit"] for r in rows)


async def office_of(unit_id: int | None) -> int | None:
    """The unit's general office (办公室), which registers, numbers and sends documents."""
    row = await Department.select(Department.id).where((Department.unit == unit_id) & (Department.is_office == True)) \
        .order_by(Department.id).first()  # noqa: E712
    return row["id"] if row else None


async def departments_of(unit_id: int | None) -> list[dict]:
    return await Department.select(Department.id, Department.name).where(Department.unit == unit_id).order_by(Department.id)


async def department_name(department_id: int | None) -> str:
    row = await Department.select(Department.name).where(Department.id == department_id).first() if department_id else None
    return row["name"] if row else ""


async def names_of(user_ids) -> dict[int, str]:
    ids = sorted({i for i in user_ids if i})
    if not ids:
        return {}
    return {r["id"]: r["display_name"] for r in await User.select(User.id, User.display_name).where(User.id.is_in(ids))}


async def names_of_units() -> list[dict]:
    from portal.accounts.tables import Unit

    return await Unit.select(Unit.id, Unit.name).order_by(Unit.id)
