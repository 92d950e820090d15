"""What the pages of the catalog's duties share: a refusal shown as a page, times and page numbers."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, Response

from plugins.catalog.errors import CatalogError, NotFound
from portal.i18n import gettext as _
from portal.localtime import local
from portal.web import render


async def refused(request: Request, error: CatalogError) -> Response:
    """The service's refusal as a page with its status: what was refused and why."""
    titles = {403: _("Not allowed"), 404: _("Not found"), 409: _("Changed meanwhile")}
    return await render(request, "error.html", status_code=error.status_code, title=titles.get(error.status_code, _("Not possible")),
                        text=error.message or (_("Not found.") if isinstance(error, NotFound) else ""), status=error.status_code)


def when(moment: datetime | None) -> str:
    """A stored moment as Beijing time, to the minute."""
    return local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 7 else 1
