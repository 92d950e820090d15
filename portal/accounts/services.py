"""Organisation rules: units, departments, users and role assignments.

Every change made by an administrator is written to the audit log here, in the same place
the change happens, so no handler can forget it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal.accounts.tables import UNIT_LEVELS, Department, RoleAssignment, Unit, User
from portal.api import CurrentUser
from portal.audit.services import write_audit
from portal.auth.passwords import hash_password
from portal.db import write_transaction
from portal.i18n import gettext as _
from portal.roles import ROLE_CODES, PermissionRegistry

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class ValidationError(ValueError):
    """Bad input: ``errors`` maps a form field to a message a person understands."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# An active user with his roles in one query (one row per role, or one with a NULL role), as
# raw SQL: it runs on every request, and building it with Piccolo cost more than running it.
USER_WITH_ROLES = "u.id, u.username, u.display_name, u.email, u.unit, u.department, u.locale, u.theme, r.role"
ROLES_JOIN = 'LEFT JOIN core_role_assignment r ON r."user" = u.id'


async def load_current_user(user_id: int, registry: PermissionRegistry) -> CurrentUser | None:
    rows = await User.raw(f"SELECT {USER_WITH_ROLES} FROM core_user u {ROLES_JOIN} WHERE u.id = {{}} AND u.active", user_id)
    return current_user_from(rows, registry)


def current_user_from(rows: list[dict], registry: PermissionRegistry) -> CurrentUser | None:
    """The ``CurrentUser`` of the rows of a ``USER_WITH_ROLES`` query; None without rows."""
    if not rows:
        return None
    row = rows[0]
    roles = frozenset(r["role"] for r in rows if r["role"] is not None)
    return CurrentUser(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        email=row["email"],
        unit_id=row["unit"],
        department_id=row["department"],
        roles=roles,
        permissions=registry.for_roles(roles),
        locale=row["locale"],
        theme=row["theme"],
    )


# Units ---------------------------------------------------------------------------------------


@dataclass
class UnitForm:
    name: str
    code: str
    level: str
    parent_id: int | None
    mail_domain: str = ""
    document_prefix: str = ""


async def _validate_unit(form: UnitForm, unit_id: int | None = None) -> None:
    errors = {}
    if not form.name.strip() or len(form.name) > 100:
        errors["name"] = _("Enter a name of at most 100 characters.")
    if not CODE_RE.match(form.code):
        errors["code"] = _("Use lower-case letters, digits and hyphens (at most 40).")
    elif await Unit.exists().where((Unit.code == form.code) & (Unit.id != (unit_id or 0))):
        errors["code"] = _("This code is taken.")
    if form.level not in UNIT_LEVELS:
        errors["level"] = _("Choose a level.")
    if form.parent_id is not None:
        parent = await Unit.select(Unit.level).where(Unit.id == form.parent_id).first()
        if parent is None:
            errors["parent_id"] = _("No such parent unit.")
        elif form.level in UNIT_LEVELS and UNIT_LEVELS.index(parent["level"]) >= UNIT_LEVELS.index(form.level):
            errors["parent_id"] = _("The parent must be of a higher level.")
        elif unit_id is not None and unit_id in await ancestor_ids(form.parent_id) | {form.parent_id}:
            errors["parent_id"] = _("A unit cannot be placed under itself.")
    if len(form.mail_domain) > 100 or len(form.document_prefix) > 20:
        errors["mail_domain"] = _("Too long.")
    if errors:
        raise ValidationError(errors)


async def ancestor_ids(unit_id: int) -> set[int]:
    found: set[int] = set()
    current = unit_id
    while current is not None and current not in found:
        found.add(current)
        row = await Unit.select(Unit.parent).where(Unit.id == current).first()
        current = row["parent"] if row else None
    return found - {unit_id}


async def create_unit(actor: CurrentUser | None, form: UnitForm, ip: str = "") -> int:
    await _validate_unit(form)
    async with write_transaction():
        row = await Unit.insert(
            Unit(name=form.name.strip(), code=form.code, level=form.level, parent=form.parent_id,
                 mail_domain=form.mail_domain.strip() or None, document_prefix=form.document_prefix.strip())
        ).returning(Unit.id)
        await write_audit("core.unit.create", actor=actor, target_type="unit", target_id=row[0]["id"], summary=form.name, ip=ip)
    return row[0]["id"]


async def update_unit(actor: CurrentUser, unit_id: int, form: UnitForm, ip: str = "") -> None:
    await _validate_unit(form, unit_id)
    async with write_transaction():
        await Unit.update(
            {Unit.name: form.name.strip(), Unit.code: form.code, Unit.level: form.level, Unit.parent: form.parent_id,
             Unit.mail_domain: form.mail_domain.strip() or None, Unit.document_prefix: form.document_prefix.strip()}
        ).where(Unit.id == unit_id)
        await write_audit("core.unit.update", actor=actor, target_type="unit", target_id=unit_id, summary=form.name, ip=ip)


async def unit_tree() -> list[dict]:
    """All units in tree order, each with ``depth`` for indentation."""
    rows = await Unit.select().order_by(Unit.name)
    children: dict[int | None, list[dict]] = {}
    for row in rows:
        children.setdefault(row["parent"], []).append(row)
    ordered: list[dict] = []

    def walk(parent: int | None, depth: int) -> None:
        for row in children.get(parent, []):
            ordered.append({**row, "depth": depth})
            walk(row["id"], depth + 1)

    walk(None, 0)
    return ordered


# Departments ---------------------------------------------------------------------------------


async def create_department(actor: CurrentUser | None, unit_id: int, name: str, is_office: bool = False, ip: str = "") -> int:
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": _("Enter a name of at most 100 characters.")})
    if not await Unit.exists().where(Unit.id == unit_id):
        raise ValidationError({"unit_id": _("No such unit.")})
    async with write_transaction():
        row = await Department.insert(Department(unit=unit_id, name=name, is_office=is_office)).returning(Department.id)
        await write_audit("core.department.create", actor=actor, target_type="department", target_id=row[0]["id"], summary=name, ip=ip)
    return row[0]["id"]


async def departments_of(unit_id: int) -> list[dict]:
    return await Department.select().where(Department.unit == unit_id).order_by(Department.name)


# Users ---------------------------------------------------------------------------------------


@dataclass
class UserForm:
    username: str
    display_name: str
    email: str
    unit_id: int | None
    department_id: int | None
    password: str = ""
    active: bool = True


async def _validate_user(form: UserForm, user_id: int | None = None, roles: list[str] | None = None) -> None:
    errors = {}
    if roles and not set(roles) <= set(ROLE_CODES):
        errors["roles"] = _("Choose roles from the list.")
    if user_id is None:
        if not USERNAME_RE.match(form.username):
            errors["username"] = _("Use 2 to 64 lower-case letters, digits, dots, hyphens or underscores.")
        elif await User.exists().where(User.username == form.username):
            errors["username"] = _("This username is taken.")
        if len(form.password) < 10 or len(form.password) > 256:
            errors["password"] = _("The password must have at least %(n)s characters.", n=10)
    if not form.display_name.strip() or len(form.display_name) > 100:
        errors["display_name"] = _("Enter a name of at most 100 characters.")
    if form.email and (len(form.email) > 254 or "@" not in form.email):
        errors["email"] = _("Enter a valid e-mail address.")
    if form.department_id is not None:
        dept = await Department.select(Department.unit).where(Department.id == form.department_id).first()
        if dept is None or dept["unit"] != form.unit_id:
            errors["department_id"] = _("The department must belong to the chosen unit.")
    if form.unit_id is not None and not await Unit.exists().where(Unit.id == form.unit_id):
        errors["unit_id"] = _("No such unit.")
    if errors:
        raise ValidationError(errors)


async def create_user(actor: CurrentUser | None, form: UserForm, roles: list[str] | None = None, ip: str = "") -> int:
    form.username = form.username.strip().lower()
    await _validate_user(form, roles=roles)
    async with write_transaction():
        row = await User.insert(
            User(username=form.username, display_name=form.display_name.strip(), email=form.email.strip(),
                 password_hash=hash_password(form.password), unit=form.unit_id, department=form.department_id,
                 active=form.active)
        ).returning(User.id)
        user_id = row[0]["id"]
        for role in roles or ["staff"]:
            await _insert_role(user_id, role, form.unit_id, None)
        await write_audit("core.user.create", actor=actor, target_type="user", target_id=user_id, summary=form.username, ip=ip)
    return user_id


async def update_user(actor: CurrentUser, user_id: int, form: UserForm, ip: str = "") -> None:
    await _validate_user(form, user_id)
    if actor.id == user_id and not form.active:
        raise ValidationError({"active": _("You cannot deactivate your own account.")})
    async with write_transaction():
        await User.update(
            {User.display_name: form.display_name.strip(), User.email: form.email.strip(), User.unit: form.unit_id,
             User.department: form.department_id, User.active: form.active}
        ).where(User.id == user_id)
        if not form.active:
            from portal.auth.tables import UserSession

            await UserSession.delete().where(UserSession.user == user_id)
        await write_audit("core.user.update", actor=actor, target_type="user", target_id=user_id,
                          summary=form.display_name, ip=ip, details={"active": form.active})


async def reset_password(actor: CurrentUser, user_id: int, password: str, reset_second_factor: bool, ip: str = "") -> None:
    if len(password) < 10 or len(password) > 256:
        raise ValidationError({"password": _("The password must have at least %(n)s characters.", n=10)})
    changes = {User.password_hash: hash_password(password)}
    if reset_second_factor:
        changes[User.totp_secret] = None
    async with write_transaction():
        await User.update(changes).where(User.id == user_id)
        from portal.auth.tables import RecoveryCode, UserSession

        await UserSession.delete().where(UserSession.user == user_id)
        if reset_second_factor:
            await RecoveryCode.delete().where(RecoveryCode.user == user_id)
        await write_audit("core.user.reset_password", actor=actor, target_type="user", target_id=user_id, ip=ip,
                          details={"second_factor_reset": reset_second_factor})


async def _insert_role(user_id: int, role: str, unit_id: int | None, department_id: int | None) -> int:
    row = await RoleAssignment.insert(
        RoleAssignment(user=user_id, role=role, unit=unit_id, department=department_id)
    ).returning(RoleAssignment.id)
    return row[0]["id"]


async def assign_role(actor: CurrentUser, user_id: int, role: str, unit_id: int | None, department_id: int | None, ip: str = "") -> int:
    errors = {}
    if role not in ROLE_CODES:
        errors["role"] = _("Choose a role.")
    if unit_id is not None and not await Unit.exists().where(Unit.id == unit_id):
        errors["unit_id"] = _("No such unit.")
    if department_id is not None:
        dept = await Department.select(Department.unit).where(Department.id == department_id).first()
        if dept is None:
            errors["department_id"] = _("No such department.")
        else:
            unit_id = dept["unit"]
    if errors:
        raise ValidationError(errors)
    exists = await RoleAssignment.exists().where(
        (RoleAssignment.user == user_id) & (RoleAssignment.role == role)
        & (RoleAssignment.unit.is_null() if unit_id is None else RoleAssignment.unit == unit_id)
        & (RoleAssignment.department.is_null() if department_id is None else RoleAssignment.department == department_id)
    )
    if exists:
        raise ValidationError({"role": _("The user already holds this role in this scope.")})
    async with write_transaction():
        assignment_id = await _insert_role(user_id, role, unit_id, department_id)
        await write_audit("core.role.assign", actor=actor, target_type="user", target_id=user_id, summary=role, ip=ip,
                          details={"unit": unit_id, "department": department_id})
    return assignment_id


async def revoke_role(actor: CurrentUser, user_id: int, assignment_id: int, ip: str = "") -> None:
    row = await RoleAssignment.select().where((RoleAssignment.id == assignment_id) & (RoleAssignment.user == user_id)).first()
    if row is None:
        raise ValidationError({"role": _("No such role assignment.")})
    if row["role"] == "admin" and actor.id == user_id:
        raise ValidationError({"role": _("You cannot remove your own administrator role.")})
    async with write_transaction():
        await RoleAssignment.delete().where(RoleAssignment.id == assignment_id)
        await write_audit("core.role.revoke", actor=actor, target_type="user", target_id=user_id, summary=row["role"], ip=ip,
                          details={"unit": row["unit"], "department": row["department"]})


async def roles_of(user_id: int) -> list[dict]:
    return await RoleAssignment.select(
        RoleAssignment.id, RoleAssignment.role, RoleAssignment.unit.name.as_alias("unit_name"),
        RoleAssignment.department.name.as_alias("department_name"),
    ).where(RoleAssignment.user == user_id).order_by(RoleAssignment.id)


async def search_users(query: str = "", unit_id: int | None = None, limit: int = 50, offset: int = 0) -> list[dict]:
    select = User.select(
        User.id, User.username, User.display_name, User.email, User.active, User.last_login_at,
        User.unit.name.as_alias("unit_name"), User.department.name.as_alias("department_name"),
    ).order_by(User.username).limit(limit).offset(offset)
    conditions = []
    if query:
        pattern = f"%{query.strip()[:50]}%"
        conditions.append(User.username.ilike(pattern) | User.display_name.ilike(pattern))
    if unit_id:
        conditions.append(User.unit == unit_id)
    if conditions:
        select = select.where(*conditions)
    return await select


async def set_preferences(user_id: int, locale: str | None, theme: str | None) -> None:
    changes = {}
    if locale is not None:
        changes[User.locale] = locale
    if theme is not None:
        changes[User.theme] = theme
    if changes:
        await User.update(changes).where(User.id == user_id)
