"""Pages of catalog updates after a change (CAT-4), under /catalog/changes: the countdown of a
department's editors, the bureau's record of changes and its list of overdue departments."""

from __future__ import annotations

from litestar import Request, Response, get, post

from plugins.catalog import access, changes
from plugins.catalog.changes import EventForm
from plugins.catalog.duty_web import refused, when
from plugins.catalog.errors import CatalogError, Forbidden, Invalid
from portal.i18n import gettext as _
from portal.localtime import today
from portal.web import current_user, permission_required, portal_of, redirect, render

GUARDS = [permission_required("catalog.read")]


def _may_record(user) -> bool:
    return user.is_admin or "catalog_reviewer" in user.roles


@get("/changes", guards=GUARDS, name="catalog:changes")
async def changes_index(request: Request) -> Response:
    user = current_user(request)
    day = today()
    duties = await changes.duties_for_editor(user, today=day)
    events = await changes.events_for_bureau(user, today=day)
    overdue = await changes.overdue_departments(user, today=day) if _may_record(user) else []
    return await render(request, "catalog/changes/index.html", duties=duties, events=events, overdue=overdue,
                        may_record=_may_record(user), today=day, calendar_note=changes.calendar_note(day, duties),
                        kinds=changes.kind_labels(), statuses=changes.status_labels(), limit=changes.LIMIT_DAYS, when=when,
                        max_reason=changes.MAX_REASON)


async def _form_page(request: Request, form: EventForm, *, errors: dict | None = None, error: str = "",
                     status_code: int = 200) -> Response:
    user = current_user(request)
    units = await changes.recording_units(user)
    if not units:
        return await refused(request, Forbidden(_("Only the big-data bureau records changes that oblige catalog updates.")))
    chosen = int(form.unit) if form.unit.isdigit() and int(form.unit) in {u["id"] for u in units} else units[0]["id"]
    departments = await changes.departments_within(chosen)
    groups: dict[str, list[dict]] = {}
    for department in departments:
        groups.setdefault(department["unit_name"], []).append(department)
    return await render(request, "catalog/changes/new.html", status_code=status_code, form=form, errors=errors or {},
                        error=error, units=units, unit=chosen, groups=groups, kinds=changes.kind_labels(),
                        selected={int(d) for d in form.department_ids()}, limit=changes.LIMIT_DAYS,
                        max_title=changes.MAX_TITLE, max_description=changes.MAX_DESCRIPTION, max_basis=changes.MAX_BASIS)


@get("/changes/new", guards=GUARDS, name="catalog:change_new")
async def change_new(request: Request) -> Response:
    return await _form_page(request, EventForm(occurred_on=today().isoformat(), unit=request.query_params.get("unit", "")[:12]))


@post("/changes", guards=GUARDS, name="catalog:change_record")
async def change_record(request: Request) -> Response:
    form = EventForm.from_mapping(await request.form())
    try:
        event_id = await changes.record(current_user(request), form, portal_of(request))
    except Invalid as invalid:
        return await _form_page(request, form, errors=invalid.errors, error=invalid.message, status_code=400)
    except CatalogError as error:
        return await refused(request, error)
    return redirect(f"/catalog/changes/{event_id}")


async def _event_page(request: Request, event_id: int, *, error: str = "", status_code: int = 200) -> Response:
    user = current_user(request)
    try:
        view = await changes.event_for(user, event_id)
    except CatalogError as failure:
        return await refused(request, failure)
    editable = set(await access.editable_departments(user))
    return await render(request, "catalog/changes/event.html", status_code=status_code, view=view, error=error,
                        editable=editable, kinds=changes.kind_labels(), statuses=changes.status_labels(),
                        due_on=changes.due_date(view.event["occurred_on"], view.event["limit_days"]), when=when,
                        max_reason=changes.MAX_REASON)


@get("/changes/{event_id:int}", guards=GUARDS, name="catalog:change")
async def change_page(request: Request, event_id: int) -> Response:
    return await _event_page(request, event_id)


@post("/changes/{event_id:int}/cancel", guards=GUARDS, name="catalog:change_cancel")
async def change_cancel(request: Request, event_id: int) -> Response:
    form = await request.form()
    user = current_user(request)
    try:
        await changes.event_for(user, event_id)
        await changes.cancel(user, event_id, str(form.get("reason", ""))[:changes.MAX_REASON + 1], portal_of(request))
    except Invalid as invalid:
        return await _event_page(request, event_id, error=invalid.message, status_code=400)
    except CatalogError as error:
        return await refused(request, error)
    return redirect(f"/catalog/changes/{event_id}")


@post("/changes/duties/{duty_id:int}/declare", guards=GUARDS, name="catalog:change_declare")
async def change_declare(request: Request, duty_id: int) -> Response:
    form = await request.form()
    back = "/catalog/changes"
    try:
        await changes.declare(current_user(request), duty_id, str(form.get("reason", ""))[:changes.MAX_REASON + 1], portal_of(request))
    except Invalid as invalid:
        event_id = await changes.event_of_duty(duty_id)
        if event_id is None:
            raise
        return await _event_page(request, event_id, error=invalid.message, status_code=400)
    except CatalogError as error:
        return await refused(request, error)
    event_id = await changes.event_of_duty(duty_id)
    return redirect(f"/catalog/changes/{event_id}" if event_id else back)


@get("/changes/overdue", guards=GUARDS, name="catalog:changes_overdue")
async def changes_overdue(request: Request) -> Response:
    user = current_user(request)
    if not _may_record(user):
        return await refused(request, Forbidden(_("Only the big-data bureau oversees the catalog updates of departments.")))
    day = today()
    return await render(request, "catalog/changes/overdue.html", departments=await changes.overdue_departments(user, today=day),
                        today=day, kinds=changes.kind_labels())


DUTY_ROUTES = [changes_index, change_new, change_record, change_page, change_cancel, change_declare, changes_overdue]
