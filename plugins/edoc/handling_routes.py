"""The timeliness report page (DOC-10): per department, documents handled and waiting and the
late ones, for the office and administrators."""

from __future__ import annotations

from litestar import Request, Response, get

from plugins.edoc.display import when
from plugins.edoc.handling import handling_records
from plugins.edoc.publishing import recent_publications
from plugins.edoc.workdays import timeliness_report
from portal.localtime import today
from portal.web import current_user, login_required, permission_required, render
from portal.workdays import calendar_knows


@get("/timeliness", guards=[permission_required("edoc.timeliness")], name="edoc:timeliness")
async def timeliness(request: Request) -> Response:
    user = current_user(request)
    day = today()
    # Administrators see every unit; the office its own unit's departments.
    records = [record for _row, record in await handling_records(None if user.is_admin else user.unit_id)]
    return await render(request, "edoc/timeliness.html", report=timeliness_report(records, day), today=day,
                        calendar_known=calendar_knows(day.year), when=when)


@get("/published", guards=[login_required], name="edoc:published")
async def published(request: Request) -> Response:
    return await render(request, "edoc/published.html", publications=await recent_publications(100), when=when)


HANDLING_ROUTES = [timeliness, published]
