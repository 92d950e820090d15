"""Pages and endpoints of the catalog's exchange formats (CAT-6).

- ``/catalog/interop``: the departments whose catalog the user may export or import, and for
  each a page with the spreadsheet export, the import form and the working catalog;
- ``/catalog/dcat/<unit>.ttl`` and ``.jsonld``: DCAT-AP 3 of a unit's total catalog, public part;
- ``/catalog/api/3/action/<action>`` (and ``/catalog/api/action/<action>``): the read-only
  CKAN-compatible Action API over the public part of every total catalog;
- ``/catalog/open/<unit>``: the public part of a unit's total catalog as a page, with a page per
  resource (the datasets' landing pages).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from litestar import Request, Response, get, post, route
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, PermissionDeniedException

from plugins.catalog import access, ckan, dcat, opendata, resources, spreadsheet
from plugins.catalog.errors import CatalogError, Forbidden, NotFound
from plugins.catalog.tables import Department
from plugins.catalog.vocabulary import labels
from plugins.catalog.workbook import MAX_FILE_BYTES, MAX_RESOURCE_ROWS
from portal.i18n import gettext as _
from portal.localtime import today
from portal.web import current_user, permission_required, portal_of, redirect, render

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READERS = [permission_required("catalog.read")]
# The upload limit plus room for the form's other fields and the multipart framing.
IMPORT_BODY_LIMIT = MAX_FILE_BYTES + 64 * 1024


def attachment_headers(filename: str) -> dict[str, str]:
    """A download under ``filename`` (RFC 6266: an ASCII fallback and the UTF-8 name)."""
    fallback = "".join(c if c.isascii() and c.isalnum() or c in ".-_" else "_" for c in filename)
    return {"content-disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}",
            "x-content-type-options": "nosniff", "cache-control": "private, no-store"}


def _raise_for(error: CatalogError):
    if isinstance(error, NotFound):
        raise NotFoundException(error.message)
    raise PermissionDeniedException(error.message)


# Spreadsheets ----------------------------------------------------------------------------------


async def _departments_for(user) -> list[dict]:
    """The departments whose working catalog ``user`` sees (edits, or reviews in its unit)."""
    columns = (Department.id, Department.name, Department.unit, Department.unit.name.as_alias("unit_name"))
    if user.is_admin:
        rows = await Department.select(*columns).order_by(Department.unit).order_by(Department.id)
    else:
        edited = await access.editable_departments(user)
        units = await access.reviewed_units(user)
        if not edited and not units:
            return []
        condition = Department.id.is_in(edited or [0]) | Department.unit.is_in(units or [0])
        rows = await Department.select(*columns).where(condition).order_by(Department.unit).order_by(Department.id)
    for row in rows:
        row["can_edit"] = await access.can_edit(user, row["id"])
    return rows


@get("/interop", name="catalog:interop", guards=READERS)
async def interop_index(request: Request) -> Response:
    return await render(request, "catalog/interop/index.html", departments=await _departments_for(current_user(request)))


async def _seen_department(request: Request, department_id: int) -> access.DepartmentInfo:
    department = await access.department_info(department_id)
    if department is None:
        raise NotFoundException(_("No such department."))
    if not await access.can_see_working_catalog(current_user(request), department):
        raise PermissionDeniedException(_("This catalog is not yours to see."))
    return department


async def _xlsx_page(request: Request, department: access.DepartmentInfo, *, status_code: int = 200,
                     refused: spreadsheet.ImportRefused | None = None, result: spreadsheet.ImportResult | None = None) -> Response:
    user = current_user(request)
    session = request.scope.get("session")
    flash = session.pop("catalog_flash", None) if isinstance(session, dict) else None
    return await render(request, "catalog/interop/xlsx.html", status_code=status_code, department=department,
                        can_edit=await access.can_edit(user, department.id), refused=refused, result=result, flash=flash,
                        pending=await resources.pending_filing(department.id), rows=await resources.resources_of(department.id),
                        labels=labels(), max_mb=MAX_FILE_BYTES // (1024 * 1024),
                        max_rows=MAX_RESOURCE_ROWS)


@get("/interop/departments/{department_id:int}/xlsx", name="catalog:xlsx", guards=READERS)
async def xlsx_page(request: Request, department_id: int) -> Response:
    return await _xlsx_page(request, await _seen_department(request, department_id))


@get("/interop/departments/{department_id:int}/catalog.xlsx", name="catalog:xlsx_export", guards=READERS)
async def xlsx_export(request: Request, department_id: int) -> Response:
    user = current_user(request)
    try:
        department, data = await spreadsheet.export_workbook(user, department_id)
    except CatalogError as error:
        if await access.department_info(department_id) is None:
            raise NotFoundException(_("No such department.")) from None
        _raise_for(error)
    filename = f"{department.unit_name}{department.name}政务数据目录-{today().isoformat()}.xlsx"
    await portal_of(request).audit("catalog.export", actor=user, target_type="catalog_department", target_id=department.id,
                                   summary=f"{department.name} xlsx")
    return Response(data, media_type=XLSX, headers=attachment_headers(filename))


@get("/interop/units/{unit_id:int}/total.xlsx", name="catalog:xlsx_total", guards=READERS)
async def xlsx_total(request: Request, unit_id: int) -> Response:
    """A unit's total catalog (approved, never secret) for any reader of the catalog."""
    unit = (await opendata.units_by_id()).get(unit_id)
    if unit is None:
        raise NotFoundException(_("No such catalog."))
    data = await spreadsheet.total_workbook(current_user(request), unit_id)
    return Response(data, media_type=XLSX, headers=attachment_headers(f"{unit['name']}政务数据总目录-{today().isoformat()}.xlsx"))


@get("/interop/template.xlsx", name="catalog:xlsx_template", guards=READERS)
async def xlsx_template(request: Request) -> Response:
    return Response(await spreadsheet.template_workbook(), media_type=XLSX,
                    headers=attachment_headers("政务数据目录-模板.xlsx"))


@post("/interop/departments/{department_id:int}/xlsx", name="catalog:xlsx_import", guards=READERS,
      request_max_body_size=IMPORT_BODY_LIMIT)
async def xlsx_import(request: Request, department_id: int) -> Response:
    department = await _seen_department(request, department_id)
    user = current_user(request)
    if not await access.can_edit(user, department.id):
        raise PermissionDeniedException(_("You do not edit the catalog of this department."))
    form = await request.form()
    upload = form.get("file")
    check_only = bool(form.get("check_only"))
    data = await upload.read() if isinstance(upload, UploadFile) and upload.filename else b""
    if not data:
        refused = spreadsheet.ImportRefused(_("Choose the workbook (.xlsx) to import."))
        return await _xlsx_page(request, department, status_code=400, refused=refused)
    try:
        result = await spreadsheet.import_workbook(user, department.id, data, portal_of(request), check_only=check_only)
    except spreadsheet.ImportRefused as refused:
        return await _xlsx_page(request, department, status_code=400, refused=refused)
    except Forbidden as error:
        _raise_for(error)
    if check_only:
        return await _xlsx_page(request, department, result=result)
    request.session["catalog_flash"] = _(
        "Imported: %(created)d new, %(updated)d changed, %(unchanged)d unchanged resources.",
        created=len(result.created), updated=len(result.updated), unchanged=len(result.unchanged))
    return redirect(f"/catalog/interop/departments/{department.id}/xlsx")


# DCAT-AP ---------------------------------------------------------------------------------------

DCAT_FORMS = {"ttl": "turtle", "jsonld": "json-ld"}


def base_of(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@get("/dcat/{filename:str}", name="catalog:dcat")
async def dcat_export(request: Request, filename: str) -> Response:
    """Public, no login: ``<unit code>.ttl`` or ``<unit code>.jsonld``."""
    code, _dot, extension = filename.rpartition(".")
    unit = await opendata.unit_by_code(code) if extension in DCAT_FORMS else None
    if unit is None:
        raise NotFoundException(_("No such catalog."))
    form = DCAT_FORMS[extension]
    data = await dcat.export(base_of(request), unit, form)
    return Response(data, media_type=dcat.MEDIA_TYPES[form], headers={
        "cache-control": "public, max-age=300", "access-control-allow-origin": "*",
        "content-disposition": f"inline; filename=\"{unit['code']}.{extension}\""})


# CKAN-compatible Action API --------------------------------------------------------------------

API_BODY_LIMIT = 64 * 1024
API_PATHS = ["/api/3/action/{action:str}", "/api/action/{action:str}"]


async def _api_params(request: Request) -> dict:
    params = {key: value for key, value in request.query_params.items()}
    if request.method == "POST":
        if "json" in request.headers.get("content-type", ""):
            body = await request.body()
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise ckan.invalid(body="Not a JSON object")
            params.update(data)
        else:
            params.update({key: value for key, value in (await request.form()).items() if isinstance(value, str)})
    return params


# Read-only and public: POST is accepted because CKAN clients post their parameters as JSON, and
# with nothing to change there is nothing a forged request could do (hence no CSRF token).
@route(API_PATHS, http_method=["GET", "POST"], name="catalog:ckan", request_max_body_size=API_BODY_LIMIT,
       opt={"exclude_from_csrf": True})
async def ckan_action(request: Request, action: str) -> Response:
    return await _ckan_answer(request, action)


# The same API where CKAN clients look by default: /api/3/action/<action> at the site's root
# (mounted by register_site_routes), so RemoteCKAN("https://portal") works as it does for CKAN.
@route([path.removeprefix("/api") for path in API_PATHS], http_method=["GET", "POST"], name="catalog:ckan_site",
       request_max_body_size=API_BODY_LIMIT, opt={"exclude_from_csrf": True})
async def ckan_site_action(request: Request, action: str) -> Response:
    return await _ckan_answer(request, action)


async def _ckan_answer(request: Request, action: str) -> Response:
    site = ckan.Site(base_of(request))
    try:
        params = await _api_params(request)
    except ckan.ActionError as error:
        status, envelope = error.status, {"help": site.help(action), "success": False, "error": error.error()}
    else:
        status, envelope = await ckan.call(site, action, params)
    return Response(json.dumps(envelope, ensure_ascii=False, default=str).encode(), status_code=status,
                    media_type="application/json;charset=utf-8",
                    headers={"access-control-allow-origin": "*", "cache-control": "public, max-age=60"})


# Public pages of the open catalog --------------------------------------------------------------

OPEN_PAGE = 50


@get("/open/{unit_code:str}", name="catalog:open")
async def open_catalog(request: Request, unit_code: str, page: int = 1) -> Response:
    """Public, no login: the public part of a unit's total catalog."""
    unit = await opendata.unit_by_code(unit_code)
    if unit is None:
        raise NotFoundException(_("No such catalog."))
    where = opendata.Filter(unit_ids=await opendata.unit_ids_below(unit["id"]))
    total = await opendata.count(where)
    pages = max(1, -(-total // OPEN_PAGE))
    page = min(max(1, page), pages)
    rows = await opendata.entries(where, limit=OPEN_PAGE, offset=(page - 1) * OPEN_PAGE)
    organisations = await opendata.describe_departments(row["department"] for row in rows)
    return await render(request, "catalog/interop/open.html", unit=unit, rows=rows, total=total, page=page, pages=pages,
                        organisations=organisations, labels=labels())


@get("/open/resources/{resource_id:int}", name="catalog:open_resource")
async def open_resource(request: Request, resource_id: int) -> Response:
    """Public, no login: one public resource (its DCAT landing page)."""
    row = await opendata.entry(resource_id)
    if row is None:
        raise NotFoundException(_("No such resource."))
    organisation = (await opendata.describe_departments([row["department"]])).get(row["department"])
    units = await opendata.units_by_id()
    return await render(request, "catalog/interop/open_resource.html", row=row, organisation=organisation,
                        unit=units.get(row["unit"]), labels=labels(), package=ckan.package_name(row["code"]),
                        items=[line for line in row["items_text"].splitlines() if line])


ROUTES = [interop_index, xlsx_page, xlsx_export, xlsx_total, xlsx_template, xlsx_import, dcat_export, ckan_action, open_catalog,
          open_resource]
