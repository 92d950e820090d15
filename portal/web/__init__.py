"""Helpers for route handlers, public to plugins: rendering, guards, the current user.

Handlers stay thin: parse, authorize (a guard), call a service, ``render``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.response import Redirect
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup, escape

from portal.api import CurrentUser
from portal.i18n import gettext as _

HTML = "text/html"


def current_user(connection: ASGIConnection) -> CurrentUser | None:
    return connection.scope.get("state", {}).get("user")


def portal_of(connection: ASGIConnection):
    return connection.app.state.portal


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def csrf_token(connection: ASGIConnection) -> str:
    token = ScopeState.from_scope(connection.scope).csrf_token
    return token if isinstance(token, str) else ""


async def render(request: Request, template: str, *, status_code: int = 200, fragment: str | None = None,
                 theme: str | None = None, **context: Any) -> Response:
    """Render ``template`` in the user's theme, or in ``theme`` when a page has its own look (the
    kiosk's); to an htmx request, ``fragment`` instead if given.

    Full pages get the menu from the plugins' ``menu_items`` hooks.
    """
    from portal.plugins import gather_hook

    portal = portal_of(request)
    name = fragment if fragment and is_htmx(request) else template
    if theme is None or theme not in portal.templates.themes:
        theme = request.scope.get("state", {}).get("theme", portal.settings.default_theme)
    token = csrf_token(request)
    user = current_user(request)
    context.setdefault("user", user)
    if user is not None and name == template:
        items = await gather_hook(portal.pm, "menu_items", portal=portal, user=user)
        context.setdefault("menu", sorted(items, key=lambda item: (item.order, item.label)))
        context.setdefault("menu_current", current_menu_url(items, request.url.path))
        if name.startswith("admin/") or context.get("admin_page"):
            pages = await gather_hook(portal.pm, "admin_items", portal=portal, user=user)
            context.setdefault("admin_menu", sorted(pages, key=lambda item: (item.order, item.label)))
    context.update(
        request=request,
        csrf_token=token,
        csrf_input=Markup(f'<input type="hidden" name="_csrf_token" value="{escape(token)}">'),
    )
    html = portal.templates.render(name, context, theme=theme)
    return Response(content=html, status_code=status_code, media_type=HTML)


def current_menu_url(items: list, path: str) -> str | None:
    """The URL of the menu entry the page at ``path`` belongs to: the longest entry URL that is
    ``path`` or a folder of it, so /disclosure/requests marks "requests" and not also
    /disclosure (and /edocs never marks /edoc)."""
    matching = [item.url for item in items if path == item.url or path.startswith(item.url.rstrip("/") + "/")]
    return max(matching, key=len, default=None)


def redirect(path: str, status_code: int = 303) -> Redirect:
    return Redirect(path=path, status_code=status_code)


async def login_required(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    if current_user(connection) is None:
        raise NotAuthorizedException(_("Please log in."))


def permission_required(permission: str):
    """A guard: the user must be logged in and hold ``permission`` (administrators hold all)."""

    async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        await login_required(connection, handler)
        user = current_user(connection)
        if not user.can(permission):
            raise PermissionDeniedException(_("You are not allowed to do this."))

    guard.__name__ = f"permission_required({permission})"
    return guard


def login_url(next_path: str) -> str:
    return f"/login?next={quote(next_path, safe='/')}"


def safe_next(next_path: str | None) -> str:
    """Only same-site paths: no scheme, no host, no protocol-relative URL."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        return "/"
    return next_path


def client_ip(connection: ASGIConnection) -> str:
    """The client's address; X-Forwarded-For is believed only from configured proxies."""
    peer = connection.client.host if connection.client else "unknown"
    trusted = portal_of(connection).settings.trusted_proxies
    if peer in trusted:
        forwarded = connection.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        while hops and hops[-1] in trusted:
            hops.pop()
        if hops:
            return hops[-1][:45]
    return peer[:45]


RATE_LIMIT_OPT = "rate_limit"
RATE_LIMITED_ACTIONS = ("login", "send", "search", "submit", "lookup")


def rate_limited(action: str, *, when: Callable[[Request], bool | Awaitable[bool]] | None = None) -> dict[str, Any]:
    """A route handler's ``opt`` that counts its requests against the ``rate_limit_<action>_*``
    limits (MAIL-17); ``when(request)``, which may be async, narrows it to the requests that
    really are the action. See ``portal.web.ratelimit``."""
    if action not in RATE_LIMITED_ACTIONS:
        raise ValueError(f"unknown rate-limited action {action!r}; one of {', '.join(RATE_LIMITED_ACTIONS)}")
    return {RATE_LIMIT_OPT: (action, when)}
