"""Core pages: home (dashboard), static files, health; and the list of every core route."""

from __future__ import annotations

from litestar import MediaType, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

from portal.plugins import gather_hook
from portal.web import current_user, login_required, portal_of, render

IMMUTABLE = "public, max-age=31536000, immutable"


@get("/", name="home", guards=[login_required])
async def home(request: Request) -> Response:
    portal = portal_of(request)
    user = current_user(request)
    items = await gather_hook(portal.pm, "dashboard_items", portal=portal, user=user)
    return await render(request, "home.html", items=sorted(items, key=lambda i: (i.order, i.title)),
                        flash=request.session.pop("flash", None) if isinstance(request.scope.get("session"), dict) else None)


@get("/static/{root:str}/{path:path}", name="static", sync_to_thread=False, include_in_schema=False)
def static_file(request: Request, root: FromPath[str], path: FromPath[str]) -> File:
    portal = portal_of(request)
    file = portal.templates.static.lookup_fingerprinted(root, path.lstrip("/"))
    if file is None:
        raise NotFoundException()
    return File(path=file, filename=file.name, headers={"cache-control": IMMUTABLE}, content_disposition_type="inline")


@get("/health", name="health", media_type=MediaType.JSON)
async def health(request: Request) -> Response:
    """For monitors: the database and the plugins' checks; 503 when one failed (a warning is healthy)."""
    from portal.health.checks import database_health_check, run_checks

    portal = portal_of(request)
    checks = [database_health_check(), *await gather_hook(portal.pm, "register_health_checks", portal=portal)]
    results = {r.name: {"ok": r.status != "fail", "status": r.status, "message": r.message} for r in await run_checks(portal, checks)}
    healthy = all(r["ok"] for r in results.values())
    return Response({"ok": healthy, "checks": results}, status_code=200 if healthy else 503)


def core_route_handlers() -> list:
    from portal.accounts.routes import ACCOUNT_ROUTES
    from portal.admin.ip_library import IP_LIBRARY_ROUTES
    from portal.admin.login_rules import LOGIN_RULE_ROUTES
    from portal.admin.routes import ADMIN_ROUTES
    from portal.auth.password_change import PASSWORD_CHANGE_ROUTES
    from portal.auth.routes import AUTH_ROUTES
    from portal.health.routes import HEALTH_ROUTES
    from portal.notify import NOTIFY_ROUTES
    from portal.reports.routes import REPORT_ROUTES
    from portal.tls.routes import TLS_ROUTES

    return [home, static_file, health, *AUTH_ROUTES, *PASSWORD_CHANGE_ROUTES, *ACCOUNT_ROUTES, *ADMIN_ROUTES,
            *LOGIN_RULE_ROUTES, *IP_LIBRARY_ROUTES, *REPORT_ROUTES, *NOTIFY_ROUTES, *HEALTH_ROUTES, *TLS_ROUTES]
