"""The catalog editor's pages (CAT-1): a department's working catalog, the resource form with its
data items, removal, and filing the catalog with the big-data bureau (CAT-2)."""

from __future__ import annotations

from litestar import Request, Response, get, post

from plugins.catalog import access, filing, pages, resources
from plugins.catalog.errors import CatalogError, Conflict, Forbidden, Invalid, NotFound
from plugins.catalog.resources import ItemForm, ResourceForm
from portal.i18n import gettext as _
from portal.web import current_user, permission_required, portal_of, redirect

GUARDS = [permission_required("catalog.edit")]
# Blank data item rows under the filled ones; "more rows" adds this many again.
BLANK_ROWS = 3


@get("/mine", name="catalog:mine", guards=GUARDS)
async def mine(request: Request) -> Response:
    """The editor's department catalog (the first, when he edits several)."""
    departments = await access.editable_departments(current_user(request))
    if not departments:
        return await pages.refusal(request, Forbidden(_("You edit no department's catalog.")))
    return redirect(f"/catalog/departments/{departments[0]}")


async def _department_page(request: Request, department: access.DepartmentInfo, *, status_code: int = 200,
                           message: str = "", errors: dict | None = None, note: str = "") -> Response:
    return await pages.page(
        request, "catalog/department.html", status_code=status_code, department=department,
        resources=await resources.resources_of(department.id), pending=await resources.pending_filing(department.id),
        changes=await filing.changes_since_approved(department.id), latest=await filing.latest_approved(department.id),
        versions=(await filing.versions_of(department.id))[:5], message=message, errors=errors or {}, note=note,
        editable=await access.can_edit(current_user(request), department.id),
    )


@get("/departments/{department_id:int}", name="catalog:department", guards=[permission_required(pages.READ)])
async def department_catalog(request: Request, department_id: int) -> Response:
    """The working catalog: for its editors and the reviewers of its unit (read only)."""
    department = await access.department_info(department_id)
    if department is None:
        return await pages.refusal(request, NotFound(_("No such department.")))
    if not await access.can_see_working_catalog(current_user(request), department):
        return await pages.refusal(request, Forbidden(_("You do not edit the catalog of this department.")))
    return await _department_page(request, department)


async def _form_page(request: Request, department: access.DepartmentInfo, form: ResourceForm, *, resource: dict | None = None,
                     status_code: int = 200, errors: dict | None = None, message: str = "", extra_rows: int = 0) -> Response:
    rows = form.items + [ItemForm() for _row in range(BLANK_ROWS + extra_rows)]
    return await pages.page(request, "catalog/resource_form.html", status_code=status_code, department=department, form=form,
                            rows=rows, resource=resource, errors=errors or {}, message=message,
                            nodes=await pages.classification_choices())


@get("/departments/{department_id:int}/new", name="catalog:new", guards=GUARDS)
async def new_resource(request: Request, department_id: int) -> Response:
    try:
        department = await access.require_edit(current_user(request), department_id)
    except CatalogError as error:
        return await pages.refusal(request, error)
    provider, provider_code = await resources.default_provider(department)
    return await _form_page(request, department, ResourceForm(provider=provider, provider_code=provider_code))


def _more_rows(data) -> int:
    return BLANK_ROWS if data.get("more_rows") else 0


@post("/departments/{department_id:int}/new", name="catalog:create", guards=GUARDS)
async def create_resource(request: Request, department_id: int) -> Response:
    user, data = current_user(request), await request.form()
    form = ResourceForm.from_mapping(data)
    try:
        department = await access.require_edit(user, department_id)
        if data.get("more_rows"):
            return await _form_page(request, department, form, extra_rows=_more_rows(data))
        resource_id = await resources.create(user, department.id, form, portal_of(request))
    except Invalid as error:
        return await _form_page(request, department, form, status_code=400, errors=error.errors, message=error.message)
    except CatalogError as error:
        return await pages.refusal(request, error, back=f"/catalog/departments/{department_id}")
    return redirect(f"/catalog/departments/{department.id}?saved={resource_id}")


@get("/resources/{resource_id:int}", name="catalog:resource", guards=GUARDS)
async def edit_resource(request: Request, resource_id: int) -> Response:
    try:
        resource, items, department = await resources.load_for_editor(current_user(request), resource_id)
    except CatalogError as error:
        return await pages.refusal(request, error)
    return await _form_page(request, department, ResourceForm.from_resource(resource, items), resource=resource)


@post("/resources/{resource_id:int}", name="catalog:update", guards=GUARDS)
async def update_resource(request: Request, resource_id: int) -> Response:
    user, data = current_user(request), await request.form()
    form = ResourceForm.from_mapping(data)
    try:
        resource, _items, department = await resources.load_for_editor(user, resource_id)
        if data.get("more_rows"):
            return await _form_page(request, department, form, resource=resource, extra_rows=_more_rows(data))
        await resources.update(user, resource_id, form, portal_of(request), seen=str(data.get("seen", ""))[:40] or None)
    except Invalid as error:
        return await _form_page(request, department, form, resource=resource, status_code=400, errors=error.errors,
                                message=error.message)
    except Conflict as error:
        # Under review, or saved by someone else meanwhile: the typed form again, with what the
        # catalog holds now as the revision a second save overwrites.
        latest, _items = await resources.load(resource_id)
        return await _form_page(request, department, form, resource=latest, status_code=409, message=error.message)
    except CatalogError as error:
        return await pages.refusal(request, error)
    return redirect(f"/catalog/departments/{department.id}?saved={resource_id}")


@post("/resources/{resource_id:int}/delete", name="catalog:delete", guards=GUARDS)
async def delete_resource(request: Request, resource_id: int) -> Response:
    try:
        resource, _items, department = await resources.load_for_editor(current_user(request), resource_id)
        outcome = await resources.remove(current_user(request), resource_id, portal_of(request))
    except CatalogError as error:
        return await pages.refusal(request, error)
    return redirect(f"/catalog/departments/{department.id}?{outcome}={resource_id}")


@post("/resources/{resource_id:int}/restore", name="catalog:restore", guards=GUARDS)
async def restore_resource(request: Request, resource_id: int) -> Response:
    try:
        _resource, _items, department = await resources.load_for_editor(current_user(request), resource_id)
        await resources.restore(current_user(request), resource_id, portal_of(request))
    except CatalogError as error:
        return await pages.refusal(request, error)
    return redirect(f"/catalog/departments/{department.id}")


@post("/departments/{department_id:int}/file", name="catalog:submit", guards=GUARDS)
async def submit_filing(request: Request, department_id: int) -> Response:
    user, data = current_user(request), await request.form()
    note = str(data.get("note", ""))[:filing.MAX_NOTE + 1]
    try:
        department = await access.require_edit(user, department_id)
        filing_id = await filing.submit(user, department.id, note, portal_of(request))
    except Invalid as error:
        return await _department_page(request, department, status_code=400, message=error.message, errors=error.errors, note=note)
    except CatalogError as error:
        return await pages.refusal(request, error, back=f"/catalog/departments/{department_id}")
    return redirect(f"/catalog/filings/{filing_id}")


EDITOR_ROUTES = [mine, department_catalog, new_resource, create_resource, edit_resource, update_resource, delete_resource,
                 restore_resource, submit_filing]
