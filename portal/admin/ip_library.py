"""Administration of the IP library (MAIL-20) and of a user's login records.

``/admin/ip-library``: upload the CSV ranges or a MaxMind DB file, remove them, look an address
up. ``/admin/users/<id>/logins``: a user's login records with their places and refusal reasons.
The library's rules live in ``portal.auth.geo``.
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from portal.admin import services
from portal.admin.routes import ADMIN, check_id, flash, found, pop_flash
from portal.auth import geo
from portal.auth import services as auth
from portal.i18n import gettext as _
from portal.web import client_ip, current_user, portal_of, redirect, render

UPLOAD_ROOM = 64 * 1024  # the multipart framing and the CSRF field around the file
LOOKUP_MAX = 45


async def _page(request: Request, errors: dict[str, list[str]] | None = None, status_code: int = 200) -> Response:
    looked_up = request.query_params.get("ip", "").strip()[:LOOKUP_MAX]
    place = None
    if looked_up:
        place = geo.place_label(await geo.locate(looked_up)) if geo.parse_address(looked_up) else None
    return await render(request, "admin/ip_library.html", status_code=status_code, library=await geo.library_state(),
                        errors=errors or {}, looked_up=looked_up, place=place, max_csv_mb=geo.MAX_CSV_BYTES // 2**20,
                        max_ranges=geo.MAX_CSV_RANGES, max_mmdb_mb=geo.MAX_MMDB_BYTES // 2**20, flash=pop_flash(request))


async def _uploaded(request: Request, limit: int) -> tuple[str, bytes] | None:
    """The file of the form's ``file`` field: (name, bytes), None when none was chosen.
    Reads one byte past the limit, so an oversized file is told apart without reading it all."""
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return upload.filename, await upload.read(limit + 1)


@get("/admin/ip-library", guards=ADMIN)
async def library_page(request: Request) -> Response:
    return await _page(request)


@post("/admin/ip-library/csv", guards=ADMIN, request_max_body_size=geo.MAX_CSV_BYTES + UPLOAD_ROOM)
async def csv_upload(request: Request) -> Response:
    uploaded = await _uploaded(request, geo.MAX_CSV_BYTES)
    if uploaded is None:
        return await _page(request, {"csv": [_("Choose a CSV file.")]}, status_code=400)
    try:
        count = await geo.upload_csv(current_user(request), *uploaded, ip=client_ip(request))
    except geo.LibraryError as error:
        return await _page(request, {"csv": error.errors}, status_code=400)
    flash(request, _("The IP library now holds %(n)s ranges from %(name)s.", n=count, name=uploaded[0]))
    return redirect("/admin/ip-library")


@post("/admin/ip-library/mmdb", guards=ADMIN, request_max_body_size=geo.MAX_MMDB_BYTES + UPLOAD_ROOM)
async def mmdb_upload(request: Request) -> Response:
    uploaded = await _uploaded(request, geo.MAX_MMDB_BYTES)
    if uploaded is None:
        return await _page(request, {"mmdb": [_("Choose a MaxMind DB file (.mmdb).")]}, status_code=400)
    name, data = uploaded
    try:
        kind = await geo.upload_mmdb(current_user(request), portal_of(request).settings.data_dir, name, data, ip=client_ip(request))
    except geo.LibraryError as error:
        return await _page(request, {"mmdb": error.errors}, status_code=400)
    flash(request, _("The MaxMind DB %(name)s (%(kind)s) is in use.", name=name, kind=kind))
    return redirect("/admin/ip-library")


@post("/admin/ip-library/{kind:str}/remove", guards=ADMIN)
async def source_remove(request: Request, kind: FromPath[str]) -> Response:
    if kind not in {"csv", "mmdb"}:
        raise NotFoundException()
    await geo.remove_source(current_user(request), kind, ip=client_ip(request))
    flash(request, _("The CSV ranges were removed.") if kind == "csv" else _("The MaxMind DB was removed."))
    return redirect("/admin/ip-library")


@get("/admin/users/{user_id:int}/logins", guards=ADMIN)
async def user_logins_page(request: Request, user_id: FromPath[int]) -> Response:
    account = found(await services.get_user(check_id(user_id)))
    return await render(request, "admin/user_logins.html", account=account, records=await auth.login_records(user_id))


IP_LIBRARY_ROUTES = [library_page, csv_upload, mmdb_upload, source_remove, user_logins_page]
