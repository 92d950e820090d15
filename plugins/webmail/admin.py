"""Administration of the mail system: service levels (MAIL-12), under /webmail/admin.

Handlers parse the form, call ``plugins.webmail.levels`` (which validates and audits) and
redirect (303), or re-render the form with the messages (400). Administrators only.
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from plugins.webmail import levels
from plugins.webmail.sending import max_message_bytes
from portal.i18n import gettext as _
from portal.web import client_ip, current_user, permission_required, portal_of, redirect, render

ADMIN = [permission_required("webmail.admin")]
FLASH_KEY = "webmail_admin_flash"
MAX_FIELD = 20_000
MB = levels.MB


async def _form(request: Request) -> tuple[dict[str, str], list[str]]:
    form = await request.form()
    values = {k: str(v)[:MAX_FIELD] for k, v in form.items() if isinstance(v, str)}
    features = [str(f) for f in form.getall("features")] if "features" in form else []
    return values, features


def _level_form(values: dict[str, str], features: list[str]) -> levels.LevelForm:
    return levels.LevelForm(values.get("name", ""), values.get("quota_mb", ""), values.get("max_message_mb", ""),
                            values.get("max_recipients", ""), tuple(features), values.get("is_default") == "on")


def _values_of(level: dict) -> dict:
    return {"name": level["name"], "quota_mb": str(level["quota_bytes"] // MB),
            "max_message_mb": str(level["max_message_bytes"] // MB), "max_recipients": str(level["max_recipients"]),
            "features": (level["features"] or "").split(), "is_default": "on" if level["is_default"] else ""}


def _flash(request: Request, message: str) -> None:
    request.session[FLASH_KEY] = message


def _pop_flash(request: Request) -> str | None:
    session = request.scope.get("session")
    return session.pop(FLASH_KEY, None) if isinstance(session, dict) else None


async def _level(level_id: FromPath[int]) -> dict:
    level = await levels.get_level(level_id) if 1 <= level_id <= 2**31 - 1 else None
    if level is None:
        raise NotFoundException()
    return level


async def _organisation() -> tuple[list[dict], list[dict]]:
    from portal.accounts.tables import Department, Unit

    units = await Unit.select(Unit.id, Unit.name).order_by(Unit.name)
    departments = await Department.select(Department.id, Department.name, Department.unit.name.as_alias("unit_name")).order_by(Department.unit.name)
    return units, departments


async def _list_page(request: Request, values: dict, errors: dict, status_code: int = 200) -> Response:
    server_mb = max_message_bytes(portal_of(request)) // MB
    return await render(request, "webmail/admin_levels.html", status_code=status_code, levels=await levels.list_levels(),
                        values=values, errors=errors, labels=levels.feature_labels(), features=levels.FEATURES,
                        server_mb=server_mb, flash=_pop_flash(request), admin_page=True)


async def _level_page(request: Request, level: dict, values: dict, errors: dict, status_code: int = 200,
                      assign_values: dict | None = None, assign_errors: dict | None = None) -> Response:
    units, departments = await _organisation()
    return await render(request, "webmail/admin_level.html", status_code=status_code, level=level, values=values,
                        errors=errors, labels=levels.feature_labels(), features=levels.FEATURES,
                        server_mb=max_message_bytes(portal_of(request)) // MB, members=await levels.members(level),
                        units=units, departments=departments, assign_values=assign_values or {},
                        assign_errors=assign_errors or {}, flash=_pop_flash(request), admin_page=True)


NEW_LEVEL = {"quota_mb": "2048", "max_message_mb": "25", "max_recipients": "100",
             "features": ["external_sending", "mass_send"]}


@get("/admin/levels", guards=ADMIN, name="webmail:admin_levels")
async def levels_page(request: Request) -> Response:
    return await _list_page(request, dict(NEW_LEVEL), {})


@post("/admin/levels", guards=ADMIN, name="webmail:admin_level_create")
async def level_create(request: Request) -> Response:
    values, features = await _form(request)
    try:
        await levels.create_level(portal_of(request), current_user(request), _level_form(values, features), client_ip(request))
    except levels.LevelError as error:
        return await _list_page(request, {**values, "features": features}, error.errors, status_code=400)
    _flash(request, _("The service level %(name)s was created.", name=" ".join(values.get("name", "").split())))
    return redirect("/webmail/admin/levels")


@get("/admin/levels/{level_id:int}", guards=ADMIN, name="webmail:admin_level")
async def level_page(request: Request, level_id: FromPath[int]) -> Response:
    level = await _level(level_id)
    return await _level_page(request, level, _values_of(level), {})


@post("/admin/levels/{level_id:int}", guards=ADMIN, name="webmail:admin_level_update")
async def level_update(request: Request, level_id: FromPath[int]) -> Response:
    level = await _level(level_id)
    values, features = await _form(request)
    try:
        await levels.update_level(portal_of(request), current_user(request), level_id, _level_form(values, features),
                                  client_ip(request))
    except levels.LevelError as error:
        return await _level_page(request, level, {**values, "features": features}, error.errors, status_code=400)
    _flash(request, _("The service level %(name)s was saved.", name=" ".join(values.get("name", "").split())))
    return redirect(f"/webmail/admin/levels/{level_id}")


@post("/admin/levels/{level_id:int}/delete", guards=ADMIN, name="webmail:admin_level_delete")
async def level_delete(request: Request, level_id: FromPath[int]) -> Response:
    level = await _level(level_id)
    try:
        await levels.delete_level(portal_of(request), current_user(request), level_id, client_ip(request))
    except levels.LevelError as error:
        return await _level_page(request, level, _values_of(level), error.errors, status_code=400)
    _flash(request, _("The service level %(name)s was deleted; its users now have the default level.", name=level["name"]))
    return redirect("/webmail/admin/levels")


def _optional_id(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


@post("/admin/levels/{level_id:int}/assign", guards=ADMIN, name="webmail:admin_level_assign")
async def level_assign(request: Request, level_id: FromPath[int]) -> Response:
    level = await _level(level_id)
    values, _features = await _form(request)
    usernames = [u for u in values.get("usernames", "").replace("，", ",").replace("\n", ",").split(",") if u.strip()]
    unit_id, department_id = _optional_id(values.get("unit")), _optional_id(values.get("department"))
    user_ids, unknown = await levels.users_to_assign(usernames, unit_id, department_id)
    errors = {}
    if unknown:
        errors["usernames"] = _("No such users: %(names)s", names=", ".join(unknown[:10]))
    elif not user_ids:
        errors["usernames"] = _("Name the users, or choose a unit or a department with users.")
    if errors:
        return await _level_page(request, level, _values_of(level), {}, status_code=400, assign_values=values,
                                 assign_errors=errors)
    count = await levels.assign(portal_of(request), current_user(request), level_id, user_ids, client_ip(request))
    _flash(request, _("%(count)s users now have the service level %(name)s.", count=count, name=level["name"]))
    return redirect(f"/webmail/admin/levels/{level_id}")


ADMIN_ROUTES = [levels_page, level_create, level_page, level_update, level_delete, level_assign]
