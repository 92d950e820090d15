"""Administration of login restrictions (MAIL-13): list, create, edit and delete rules.

The rules themselves, their validation and their audit entries live in
``portal.auth.restrictions``; these handlers parse the form and render.
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import FromPath

from portal.accounts import services as accounts
from portal.accounts.services import ValidationError
from portal.admin import services
from portal.admin.routes import ADMIN, check_id, flash, found, optional_id, pop_flash, read_form
from portal.auth import restrictions
from portal.i18n import gettext as _
from portal.roles import role_labels
from portal.web import client_ip, current_user, redirect, render


def scope_labels() -> dict[str, str]:
    return {"user": _("A user"), "unit": _("A unit and the units below it"), "department": _("A department"),
            "role": _("Everyone holding a role")}


def terminal_labels() -> dict[str, str]:
    return {"desktop": _("Desktop browsers"), "mobile": _("Mobile browsers"), "client": _("Named clients")}


def _rule_form(values: dict[str, str], lists: dict[str, list[str]], errors: dict[str, str]) -> restrictions.RuleForm:
    return restrictions.RuleForm(
        name=values.get("name", ""), scope=values.get("scope", ""), username=values.get("username", ""),
        unit_id=optional_id(values, "unit_id", errors), department_id=optional_id(values, "department_id", errors),
        role=values.get("role", ""), networks=values.get("networks", ""), terminals=lists.get("terminals", []),
        client_names=values.get("client_names", ""), weekdays=lists.get("weekdays", []),
        start=values.get("start", ""), end=values.get("end", ""), enabled=values.get("enabled") == "on",
    )


def _values_of(row: dict, username: str) -> tuple[dict, dict]:
    """A stored rule as the form shows it: the text fields and the ticked boxes."""
    values = {
        "name": row["name"], "scope": row["scope"], "username": username, "unit_id": str(row["unit"] or ""),
        "department_id": str(row["department"] or ""), "role": row["role"], "networks": row["networks"],
        "client_names": row["client_names"], "enabled": "on" if row["enabled"] else "",
        "start": restrictions.format_minute(row["start_minute"]) if row["start_minute"] is not None else "",
        "end": restrictions.format_minute(row["end_minute"]) if row["end_minute"] is not None else "",
    }
    lists = {"terminals": [t for t in row["terminals"].split(",") if t], "weekdays": [d for d in row["weekdays"].split(",") if d]}
    return values, lists


async def _form_page(request: Request, values: dict, lists: dict, errors: dict, rule: dict | None = None,
                     status_code: int = 200) -> Response:
    return await render(request, "admin/login_rule_form.html", status_code=status_code, rule=rule, values=values,
                        lists=lists, errors=errors, scopes=scope_labels(), terminals=terminal_labels(),
                        weekdays=restrictions.weekday_names(), roles=role_labels(), units=await accounts.unit_tree(),
                        departments=await services.all_departments())


def describe(row: dict) -> dict:
    """What a rule's row says, in words, for the list."""
    rule = restrictions.rule_from_row(row)
    labels = terminal_labels()
    return {
        "networks": ", ".join(str(n) for n in rule.networks),
        "terminals": "、".join(labels[t] for t in restrictions.TERMINALS if t in rule.terminals),
        "client_names": ", ".join(rule.client_names),
        "time": restrictions.describe_window(rule) if rule.has_time else "",
    }


@get("/admin/login-rules", guards=ADMIN)
async def rules_page(request: Request) -> Response:
    rows = await restrictions.list_rules()
    return await render(request, "admin/login_rules.html", rules=[(row, describe(row)) for row in rows],
                        scopes=scope_labels(), roles=role_labels(), flash=pop_flash(request))


@get("/admin/login-rules/new", guards=ADMIN)
async def rule_new_page(request: Request) -> Response:
    username = request.query_params.get("user", "").strip()[:64]
    values = {"scope": "user" if username else "", "username": username, "enabled": "on"}
    return await _form_page(request, values, {}, {})


@post("/admin/login-rules", guards=ADMIN)
async def rule_create(request: Request) -> Response:
    values, lists = await read_form(request)
    errors: dict[str, str] = {}
    form = _rule_form(values, lists, errors)
    try:
        if errors:
            raise ValidationError(errors)
        await restrictions.create_rule(current_user(request), form, ip=client_ip(request))
    except ValidationError as error:
        return await _form_page(request, values, lists, error.errors, status_code=400)
    flash(request, _("The login rule %(name)s was created.", name=form.name.strip()))
    return redirect("/admin/login-rules")


async def _rule_with_username(rule_id: int) -> tuple[dict, str]:
    row = found(await restrictions.get_rule(check_id(rule_id)))
    account = await services.get_user(row["user"]) if row["user"] else None
    return row, account["username"] if account else ""


@get("/admin/login-rules/{rule_id:int}", guards=ADMIN)
async def rule_edit_page(request: Request, rule_id: FromPath[int]) -> Response:
    row, username = await _rule_with_username(rule_id)
    values, lists = _values_of(row, username)
    return await _form_page(request, values, lists, {}, rule=row)


@post("/admin/login-rules/{rule_id:int}", guards=ADMIN)
async def rule_update(request: Request, rule_id: FromPath[int]) -> Response:
    row, _username = await _rule_with_username(rule_id)
    values, lists = await read_form(request)
    errors: dict[str, str] = {}
    form = _rule_form(values, lists, errors)
    try:
        if errors:
            raise ValidationError(errors)
        await restrictions.update_rule(current_user(request), rule_id, form, ip=client_ip(request))
    except ValidationError as error:
        return await _form_page(request, values, lists, error.errors, rule=row, status_code=400)
    flash(request, _("The login rule %(name)s was saved.", name=form.name.strip()))
    return redirect("/admin/login-rules")


@post("/admin/login-rules/{rule_id:int}/delete", guards=ADMIN)
async def rule_delete(request: Request, rule_id: FromPath[int]) -> Response:
    row, _username = await _rule_with_username(rule_id)
    await restrictions.delete_rule(current_user(request), rule_id, ip=client_ip(request))
    flash(request, _("The login rule %(name)s was deleted.", name=row["name"]))
    return redirect("/admin/login-rules")


LOGIN_RULE_ROUTES = [rules_page, rule_new_page, rule_create, rule_edit_page, rule_update, rule_delete]
