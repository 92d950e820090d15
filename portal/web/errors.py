"""Error pages a person understands, with the right status code."""

from __future__ import annotations

import logging

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from portal.i18n import gettext as _
from portal.web import HTML, current_user, is_htmx, login_url

log = logging.getLogger("portal")


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood. Go back and check what you entered.")),
        401: (_("Please log in"), _("This page needs you to log in.")),
        403: (_("Not allowed"), _("You are not allowed to see this page or do this.")),
        404: (_("Not found"), _("There is no such page. It may have been moved or deleted.")),
        405: (_("Not allowed"), _("This address does not accept this kind of request.")),
        413: (_("Too large"), _("What you sent is larger than allowed.")),
        429: (_("Too many requests"), _("Please wait a moment and try again.")),
        500: (_("Something went wrong"), _("The portal could not complete your request. Nothing was saved; please try again.")),
    }


def _render_error(request: Request, status: int, detail: str = "", headers: dict[str, str] | None = None) -> Response:
    portal = request.app.state.portal
    title, text = _messages().get(status, _messages()[500] if status >= 500 else _messages()[400])
    if status == 403 and "CSRF" in detail:
        text = _("The form has expired or did not come from this site. Go back, reload the page and submit it again.")
    if status == 413 and (limit := _body_limit(request)):
        text = _("What you sent is larger than the %(size)s allowed here. Go back and send less, "
                 "for example fewer or smaller attached files.", size=_megabytes(limit))
    retry_after = (headers or {}).get("Retry-After", "")
    if status == 429 and retry_after.isdigit():
        text = _("You sent too many requests in a short time. Please wait %(seconds)s seconds and try again.", seconds=retry_after)
    if request.headers.get("accept", "").startswith("application/json"):
        return Response({"status": status, "title": title, "detail": text}, status_code=status, media_type=MediaType.JSON,
                        headers=headers)
    theme = request.scope.get("state", {}).get("theme", "default")
    html = portal.templates.render(
        "_error.html" if is_htmx(request) else "error.html",
        {"status": status, "title": title, "text": text, "user": current_user(request), "request": request, "csrf_token": "", "csrf_input": ""},
        theme=theme,
    )
    return Response(html, status_code=status, media_type=HTML, headers=headers)


def _body_limit(request: Request) -> int | None:
    """The largest request body the route takes (its own limit, else the portal's)."""
    handler = request.scope.get("route_handler")
    return handler.resolve_request_max_body_size() if handler is not None and hasattr(handler, "resolve_request_max_body_size") else None


def _megabytes(size: int) -> str:
    return f"{size / 1048576:.1f}".removesuffix(".0") + " MB"


def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, NotAuthorizedException) and request.method in {"GET", "HEAD"} and not is_htmx(request):
        return Redirect(login_url(request.url.path + (f"?{request.url.query}" if request.url.query else "")), status_code=303)
    return _render_error(request, exc.status_code, str(exc.detail), exc.headers)


def internal_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _render_error(request, HTTP_500_INTERNAL_SERVER_ERROR)


def exception_handlers() -> dict:
    return {HTTPException: http_exception_handler, Exception: internal_error_handler}
