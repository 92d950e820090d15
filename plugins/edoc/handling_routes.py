"""The timeliness report page (DOC-10): per department, documents handled and waiting and the
late ones, for the office and administrators."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException

from plugins.edoc import publishing
from plugins.edoc.display import when
from plugins.edoc.handling import handling_records
from plugins.edoc.publishing import recent_publications
from plugins.edoc.workdays import timeliness_report
from portal.localtime import today
from portal.richtext import body_html
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


@get("/published/{publication_id:int}", guards=[login_required], name="edoc:published_document")
async def published_document(request: Request, publication_id: int) -> Response:
    """A published document as every reader of the list opens it (DOC-13): not the document's
    page, whose steps and opinions stay with those who handled it."""
    publication = await publishing.published_document(publication_id)
    if publication is None:
        raise NotFoundException()
    return await render(request, "edoc/published_document.html", publication=publication, when=when,
                        body_html=body_html(publication["body"]))


HANDLING_ROUTES = [timeliness, published, published_document]
