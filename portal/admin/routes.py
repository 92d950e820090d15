"""Administration pages (CORE-3): units and departments, users and their roles, plugins, login lockout
(MAIL-16), audit log.

Handlers stay thin: parse the form, call ``portal.accounts.services`` (which validates and
writes the audit log) or ``portal.admin.services``, then redirect (303) or re-render the form
with the messages (400). Every page works without JavaScript; the user search is enhanced
with htmx (the list fragment ``admin/_user_rows.html``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from portal.accounts import services as accounts
from portal.accounts.services import UnitForm, UserForm, ValidationError
from portal.accounts.tables import UNIT_LEVELS
from portal.admin import services
from portal.audit import services as audit_log
from portal.auth import lockout
from portal.i18n import gettext as _
from portal.localtime import day_start
from portal.roles import role_labels
from portal.web import client_ip, current_user, permission_required, portal_of, redirect, render

ADMIN = [permission_required("core.admin")]
AUDIT = [permission_required("core.audit")]
USERS_PAGE_SIZE = 50
MAX_ID = 2**31 - 1  # PostgreSQL ``integer``: a larger id cannot exist
MAX_FIELD = 1000
ID_RE = re.compile(r"[0-9]{1,10}")


# Parsing -------------------------------------------------------------------------------------


def parse_id(raw: str | None) -> int | None:
    """A database id from text, or None when it is not one (empty, not a number, out of range)."""
    raw = (raw or "").strip()
    if not ID_RE.fullmatch(raw):
        return None
    number = int(raw)
    return number if 1 <= number <= MAX_ID else None


def check_id(number: int) -> int:
    if not 1 <= number <= MAX_ID:
        raise NotFoundException()
    return number


def found(row):
    if row is None:
        raise NotFoundException()
    return row


def optional_id(values: dict[str, str], name: str, errors: dict[str, str]) -> int | None:
    """An optional choice from a list: empty is None; anything but a valid id is an error."""
    raw = values.get(name, "").strip()
    if not raw:
        return None
    number = parse_id(raw)
    if number is None:
        errors[name] = _("Choose from the list.")
    return number


async def read_form(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The submitted fields (the last value of each) and every value by name (for checkboxes)."""
    form = await request.form()
    values: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            values[key] = value[:MAX_FIELD]
            lists.setdefault(key, []).append(value[:MAX_FIELD])
    return values, lists


def query_int(request: Request, name: str, default: int = 1) -> int:
    number = parse_id(request.query_params.get(name))
    return number if number is not None else default


def flash(request: Request, message: str) -> None:
    request.session["flash"] = message


def pop_flash(request: Request) -> str | None:
    session = request.scope.get("session")
    return session.pop("flash", None) if isinstance(session, dict) else None


def level_labels() -> dict[str, str]:
    labels = {"province": _("Province"), "city": _("City"), "county": _("County"), "township": _("Township")}
    return {level: labels.get(level, level) for level in UNIT_LEVELS}


# Overview ------------------------------------------------------------------------------------


@get("/admin", guards=ADMIN)
async def admin_index(request: Request) -> Response:
    return await render(request, "admin/index.html", flash=pop_flash(request))


# Units ---------------------------------------------------------------------------------------


async def _unit_form_page(request: Request, values: dict, errors: dict, unit: dict | None = None, status_code: int = 200) -> Response:
    tree = await accounts.unit_tree()
    return await render(request, "admin/unit_form.html", status_code=status_code, unit=unit, values=values,
                        errors=errors, units=[u for u in tree if unit is None or u["id"] != unit["id"]],
                        levels=level_labels())


def _unit_form(values: dict[str, str], errors: dict[str, str]) -> UnitForm:
    return UnitForm(
        name=values.get("name", ""), code=values.get("code", "").strip(), level=values.get("level", ""),
        parent_id=optional_id(values, "parent_id", errors), mail_domain=values.get("mail_domain", ""),
        document_prefix=values.get("document_prefix", ""),
    )


@get("/admin/units", guards=ADMIN)
async def units_page(request: Request) -> Response:
    return await render(request, "admin/units.html", units=await accounts.unit_tree(), levels=level_labels(),
                        flash=pop_flash(request))


@get("/admin/units/new", guards=ADMIN)
async def unit_new_page(request: Request) -> Response:
    parent = parse_id(request.query_params.get("parent"))
    return await _unit_form_page(request, {"parent_id": str(parent or "")}, {})


@post("/admin/units", guards=ADMIN)
async def unit_create(request: Request) -> Response:
    values, _lists = await read_form(request)
    errors: dict[str, str] = {}
    form = _unit_form(values, errors)
    try:
        if errors:
            raise ValidationError(errors)
        await accounts.create_unit(current_user(request), form, ip=client_ip(request))
    except ValidationError as error:
        return await _unit_form_page(request, values, error.errors, status_code=400)
    flash(request, _("The unit %(name)s was created.", name=form.name.strip()))
    return redirect("/admin/units")


@get("/admin/units/{unit_id:int}", guards=ADMIN)
async def unit_edit_page(request: Request, unit_id: FromPath[int]) -> Response:
    unit = found(await services.get_unit(check_id(unit_id)))
    values = {key: "" if unit[key] is None else str(unit[key]) for key in ("name", "code", "level", "mail_domain", "document_prefix")}
    values["parent_id"] = str(unit["parent"] or "")
    return await _unit_form_page(request, values, {}, unit=unit)


@post("/admin/units/{unit_id:int}", guards=ADMIN)
async def unit_update(request: Request, unit_id: FromPath[int]) -> Response:
    unit = found(await services.get_unit(check_id(unit_id)))
    values, _lists = await read_form(request)
    errors: dict[str, str] = {}
    form = _unit_form(values, errors)
    try:
        if errors:
            raise ValidationError(errors)
        await accounts.update_unit(current_user(request), unit_id, form, ip=client_ip(request))
    except ValidationError as error:
        return await _unit_form_page(request, values, error.errors, unit=unit, status_code=400)
    flash(request, _("The unit %(name)s was saved.", name=form.name.strip()))
    return redirect("/admin/units")


async def _departments_page(request: Request, unit: dict, values: dict, errors: dict, status_code: int = 200) -> Response:
    return await render(request, "admin/departments.html", status_code=status_code, unit=unit,
                        departments=await accounts.departments_of(unit["id"]), values=values, errors=errors,
                        flash=pop_flash(request))


@get("/admin/units/{unit_id:int}/departments", guards=ADMIN)
async def departments_page(request: Request, unit_id: FromPath[int]) -> Response:
    unit = found(await services.get_unit(check_id(unit_id)))
    return await _departments_page(request, unit, {}, {})


@post("/admin/units/{unit_id:int}/departments", guards=ADMIN)
async def department_create(request: Request, unit_id: FromPath[int]) -> Response:
    unit = found(await services.get_unit(check_id(unit_id)))
    values, _lists = await read_form(request)
    try:
        await accounts.create_department(current_user(request), unit_id, values.get("name", ""),
                                         is_office=values.get("is_office") == "on", ip=client_ip(request))
    except ValidationError as error:
        return await _departments_page(request, unit, values, error.errors, status_code=400)
    flash(request, _("The department %(name)s was created.", name=values.get("name", "").strip()))
    return redirect(f"/admin/units/{unit_id}/departments")


# Users ---------------------------------------------------------------------------------------


@get("/admin/users", guards=ADMIN)
async def users_page(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()[:50]
    unit_id = parse_id(request.query_params.get("unit"))
    page = query_int(request, "page")
    rows = await accounts.search_users(query, unit_id, limit=USERS_PAGE_SIZE + 1, offset=(page - 1) * USERS_PAGE_SIZE)
    params = {k: v for k, v in {"q": query, "unit": unit_id or ""}.items() if v}

    def page_url(number: int) -> str:
        return "/admin/users?" + urlencode({**params, "page": number})

    # A history restore asks for the whole page, even from htmx.
    fragment = None if request.headers.get("hx-history-restore-request") else "admin/_user_rows.html"
    response = await render(
        request, "admin/users.html", fragment=fragment, users=rows[:USERS_PAGE_SIZE], q=query, unit_id=unit_id,
        units=await accounts.unit_tree(), page=page,
        previous_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if len(rows) > USERS_PAGE_SIZE else None,
        flash=pop_flash(request),
    )
    response.headers["vary"] = "HX-Request"
    return response


async def _user_form_page(request: Request, template: str, values: dict, errors: dict, status_code: int = 200, **context) -> Response:
    return await render(request, template, status_code=status_code, values=values, errors=errors,
                        units=await accounts.unit_tree(), departments=await services.all_departments(),
                        roles=role_labels(), **context)


def _user_form(values: dict[str, str], errors: dict[str, str], username: str = "", active: bool = True) -> UserForm:
    return UserForm(
        username=values.get("username", username), display_name=values.get("display_name", ""),
        email=values.get("email", "").strip(), unit_id=optional_id(values, "unit_id", errors),
        department_id=optional_id(values, "department_id", errors), password=values.get("password", ""),
        active=active,
    )


@get("/admin/users/new", guards=ADMIN)
async def user_new_page(request: Request) -> Response:
    unit = parse_id(request.query_params.get("unit"))
    return await _user_form_page(request, "admin/user_new.html", {"unit_id": str(unit or "")}, {}, chosen_roles=["staff"])


@post("/admin/users", guards=ADMIN)
async def user_create(request: Request) -> Response:
    values, lists = await read_form(request)
    chosen = lists.get("roles", [])
    errors: dict[str, str] = {}
    form = _user_form(values, errors)
    try:
        if errors:
            raise ValidationError(errors)
        user_id = await accounts.create_user(current_user(request), form, roles=chosen or None, ip=client_ip(request))
    except ValidationError as error:
        values.pop("password", None)  # never sent back to the browser
        return await _user_form_page(request, "admin/user_new.html", values, error.errors, status_code=400,
                                     chosen_roles=chosen)
    flash(request, _("The user %(name)s was created.", name=form.username))
    return redirect(f"/admin/users/{user_id}")


@get("/admin/users/{user_id:int}", guards=ADMIN)
async def user_edit_page(request: Request, user_id: FromPath[int]) -> Response:
    account = found(await services.get_user(check_id(user_id)))
    values = {"display_name": account["display_name"], "email": account["email"],
              "unit_id": str(account["unit"] or ""), "department_id": str(account["department"] or ""),
              "active": "on" if account["active"] else ""}
    return await _user_form_page(request, "admin/user_edit.html", values, {}, account=account,
                                 assignments=await accounts.roles_of(user_id), flash=pop_flash(request))


@post("/admin/users/{user_id:int}", guards=ADMIN)
async def user_update(request: Request, user_id: FromPath[int]) -> Response:
    account = found(await services.get_user(check_id(user_id)))
    values, _lists = await read_form(request)
    errors: dict[str, str] = {}
    form = _user_form(values, errors, username=account["username"], active=values.get("active") == "on")
    try:
        if errors:
            raise ValidationError(errors)
        await accounts.update_user(current_user(request), user_id, form, ip=client_ip(request))
    except ValidationError as error:
        return await _user_form_page(request, "admin/user_edit.html", values, error.errors, status_code=400,
                                     account=account, assignments=await accounts.roles_of(user_id))
    flash(request, _("The user %(name)s was saved.", name=account["username"]))
    return redirect(f"/admin/users/{user_id}")


@get("/admin/users/{user_id:int}/password", guards=ADMIN)
async def password_page(request: Request, user_id: FromPath[int]) -> Response:
    account = found(await services.get_user(check_id(user_id)))
    return await render(request, "admin/user_password.html", account=account, values={}, errors={})


@post("/admin/users/{user_id:int}/password", guards=ADMIN)
async def password_reset(request: Request, user_id: FromPath[int]) -> Response:
    account = found(await services.get_user(check_id(user_id)))
    values, _lists = await read_form(request)
    reset_second_factor = values.get("reset_second_factor") == "on"
    try:
        await accounts.reset_password(current_user(request), user_id, values.get("password", ""),
                                      reset_second_factor, ip=client_ip(request))
    except ValidationError as error:
        return await render(request, "admin/user_password.html", status_code=400, account=account,
                            values={"reset_second_factor": "on" if reset_second_factor else ""}, errors=error.errors)
    if reset_second_factor:
        flash(request, _("The password of %(name)s was reset; the user sets up the second factor again at the next login.",
                         name=account["username"]))
    else:
        flash(request, _("The password of %(name)s was reset.", name=account["username"]))
    return redirect(f"/admin/users/{user_id}")


async def _roles_page(request: Request, account: dict, values: dict, errors: dict, status_code: int = 200) -> Response:
    return await render(request, "admin/user_roles.html", status_code=status_code, account=account, values=values,
                        errors=errors, assignments=await accounts.roles_of(account["id"]), roles=role_labels(),
                        units=await accounts.unit_tree(), departments=await services.all_departments(),
                        flash=pop_flash(request))


def _scope(raw: str) -> tuple[int | None, int | None] | None:
    """``unit-<id>``, ``department-<id>`` or empty (no scope) -> (unit_id, department_id); None if invalid."""
    if not raw:
        return None, None
    kind, _sep, number = raw.partition("-")
    scope_id = parse_id(number)
    if scope_id is None or kind not in {"unit", "department"}:
        return None
    return (scope_id, None) if kind == "unit" else (None, scope_id)


@get("/admin/users/{user_id:int}/roles", guards=ADMIN)
async def roles_page(request: Request, user_id: FromPath[int]) -> Response:
    account = found(await services.get_user(check_id(user_id)))
    return await _roles_page(request, account, {"scope": f"unit-{account['unit']}" if account["unit"] else ""}, {})


@post("/admin/users/{user_id:int}/roles", guards=ADMIN)
async def role_assign(request: Request, user_id: FromPath[int]) -> Response:
    account = found(await services.get_user(check_id(user_id)))
    values, _lists = await read_form(request)
    role = values.get("role", "")
    scope = _scope(values.get("scope", "").strip())
    try:
        if scope is None:
            raise ValidationError({"scope": _("Choose from the list.")})
        await accounts.assign_role(current_user(request), user_id, role, *scope, ip=client_ip(request))
    except ValidationError as error:
        errors = dict(error.errors)
        for key in ("unit_id", "department_id"):
            if key in errors:
                errors["scope"] = errors.pop(key)
        return await _roles_page(request, account, values, errors, status_code=400)
    flash(request, _("The role %(role)s was assigned.", role=role_labels().get(role, role)))
    return redirect(f"/admin/users/{user_id}/roles")


@post("/admin/users/{user_id:int}/roles/{assignment_id:int}/revoke", guards=ADMIN)
async def role_revoke(request: Request, user_id: FromPath[int], assignment_id: FromPath[int]) -> Response:
    account = found(await services.get_user(check_id(user_id)))
    assignments = {a["id"]: a for a in await accounts.roles_of(user_id)}
    assignment = found(assignments.get(check_id(assignment_id)))
    try:
        await accounts.revoke_role(current_user(request), user_id, assignment_id, ip=client_ip(request))
    except ValidationError as error:
        return await _roles_page(request, account, {}, {"revoke": error.errors.get("role", str(error))}, status_code=400)
    flash(request, _("The role %(role)s was revoked.", role=role_labels().get(assignment["role"], assignment["role"])))
    return redirect(f"/admin/users/{user_id}/roles")


# Plugins -------------------------------------------------------------------------------------


@get("/admin/plugins", guards=ADMIN)
async def plugins_page(request: Request) -> Response:
    portal = portal_of(request)
    return await render(request, "admin/plugins.html", plugins=await services.plugin_statuses(portal.plugin_names),
                        fixed_by_settings=portal.settings.plugins is not None, flash=pop_flash(request))


async def _set_plugin(request: Request, name: str, enabled: bool) -> Response:
    try:
        await services.set_plugin_enabled(current_user(request), name, enabled, ip=client_ip(request))
    except services.UnknownPluginError:
        raise NotFoundException() from None
    if enabled:
        flash(request, _("The plugin %(name)s will be enabled at the next start of the portal.", name=name))
    else:
        flash(request, _("The plugin %(name)s will be disabled at the next start of the portal.", name=name))
    return redirect("/admin/plugins")


@post("/admin/plugins/{name:str}/enable", guards=ADMIN)
async def plugin_enable(request: Request, name: FromPath[str]) -> Response:
    return await _set_plugin(request, name, True)


@post("/admin/plugins/{name:str}/disable", guards=ADMIN)
async def plugin_disable(request: Request, name: FromPath[str]) -> Response:
    return await _set_plugin(request, name, False)


# Login lockout (MAIL-16) ---------------------------------------------------------------------


def lock_kinds() -> dict[str, str]:
    return {"username": _("Username"), "ip": _("IP address")}


async def _lockout_page(request: Request, values: dict[str, str] | None = None, errors: dict | None = None,
                        status_code: int = 200) -> Response:
    settings = portal_of(request).settings
    policy = await lockout.lockout_policy(settings)
    if values is None:
        values = {name: str(getattr(policy, name)) for name in lockout.LIMITS}
    return await render(request, "admin/lockout.html", status_code=status_code, policy=policy, values=values,
                        errors=errors or {}, limits=lockout.LIMITS, defaults=lockout.default_policy(settings),
                        locks=await lockout.active_locks(), kinds=lock_kinds(), flash=pop_flash(request))


@get("/admin/lockout", guards=ADMIN)
async def lockout_page(request: Request) -> Response:
    return await _lockout_page(request)


@post("/admin/lockout", guards=ADMIN)
async def lockout_policy_save(request: Request) -> Response:
    values, _lists = await read_form(request)
    try:
        policy = lockout.parse_policy(values)
    except ValidationError as error:
        return await _lockout_page(request, values, error.errors, status_code=400)
    await lockout.save_policy(current_user(request), portal_of(request).settings, policy, ip=client_ip(request))
    flash(request, _("The lockout rule was saved. It applies to failed logins from now on."))
    return redirect("/admin/lockout")


@post("/admin/lockout/{lock_id:int}/unlock", guards=ADMIN)
async def lockout_unlock(request: Request, lock_id: FromPath[int]) -> Response:
    row = found(await lockout.unlock(current_user(request), check_id(lock_id), ip=client_ip(request)))
    what = lock_kinds().get(row["kind"], row["kind"])
    if row["ended"]:
        flash(request, _("The lock of %(what)s %(value)s had already ended.", what=what, value=row["value"]))
    else:
        flash(request, _("%(what)s %(value)s is unlocked.", what=what, value=row["value"]))
    return redirect("/admin/lockout")


# Audit log -----------------------------------------------------------------------------------


def _day(raw: str, name: str, errors: dict[str, str]) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None


def _local_midnight(day: date) -> datetime:
    """Midnight starting ``day`` in Beijing time, as every day range of the administration."""
    return day_start(day)


@get("/admin/audit", guards=AUDIT)
async def audit_page(request: Request) -> Response:
    params = request.query_params
    values = {key: params.get(key, "").strip()[:80] for key in ("actor", "action", "since", "until")}
    errors: dict[str, str] = {}
    since = _day(values["since"], "since", errors)
    until = _day(values["until"], "until", errors)
    page = query_int(request, "page")
    entries, total = [], 0
    if not errors:
        entries, total = await audit_log.search_audit(
            actor=values["actor"], action=values["action"], since=_local_midnight(since) if since else None,
            # The "to" day is included: entries before the next midnight.
            until=_local_midnight(until + timedelta(days=1)) if until else None, page=page,
        )
    pages = max(1, -(-total // audit_log.PAGE_SIZE))
    filters = {k: v for k, v in values.items() if v}

    def page_url(number: int) -> str:
        return "/admin/audit?" + urlencode({**filters, "page": number})

    return await render(
        request, "admin/audit.html", status_code=400 if errors else 200, entries=entries, total=total, values=values,
        errors=errors, page=page, pages=pages, previous_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if page < pages else None,
    )


ADMIN_ROUTES = [
    admin_index,
    units_page, unit_new_page, unit_create, unit_edit_page, unit_update, departments_page, department_create,
    users_page, user_new_page, user_create, user_edit_page, user_update, password_page, password_reset,
    roles_page, role_assign, role_revoke,
    plugins_page, plugin_enable, plugin_disable,
    lockout_page, lockout_policy_save, lockout_unlock,
    audit_page,
]
