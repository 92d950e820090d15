"""The township hall kiosk (PUB-2), at ``/kiosk`` (``register_site_routes``): the public catalog
of one unit on a touch screen, in the kiosk theme.

/kiosk/<unit>[?idle=<seconds>]           home: the unit's categories as tiles, the newest items
/kiosk/<unit>/categories/<id>[?page=]    a category's items as big buttons, paged by buttons
/kiosk/<unit>/items/<id>[?page=]         an item, large, with a QR code of its public page
/kiosk/<unit>/offline                    what the screen shows for a page it never loaded, offline
/kiosk/sw.js                             the service worker (scope /kiosk/) keeping pages offline
/kiosk/ping                              how the screen notices the network is back

Nothing here leads out of /kiosk/: no header or menu of the staff site, no login, no link to
the public pages (their address is in the QR code, for a phone). Errors are kiosk pages too.
No handler touches the session, so an anonymous screen creates no server-side session.
"""

from __future__ import annotations

import logging
import re

from litestar import Request, Response, Router, get
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from plugins.disclosure import kiosk, public
from plugins.disclosure.display import day, size
from portal.i18n import gettext as _
from portal.richtext import body_html
from portal.web import HTML, portal_of, redirect, render

log = logging.getLogger("portal")

THEME = "kiosk"
MAX_ID = 2**31 - 1
CODE = re.compile(r"[A-Za-z0-9_-]{1,40}")
NO_STORE = {"cache-control": "no-store"}


class UnknownKiosk(NotFoundException):
    """The address names no unit with a catalog: its error page has no home to offer."""


def _settings(request: Request) -> dict:
    return portal_of(request).plugin_settings("disclosure")


def _home(code: str) -> str:
    return f"/kiosk/{code}"


async def _unit(code: str) -> dict:
    unit = await public.unit_by_code(code) if CODE.fullmatch(code) else None
    if unit is None:
        raise UnknownKiosk()
    return unit


def _id(value: int) -> int:
    if not 0 < value <= MAX_ID:
        raise NotFoundException()
    return value


async def kiosk_page(request: Request, template: str, unit: dict, *, status_code: int = 200, **context) -> Response:
    """A kiosk page of ``unit`` in the kiosk theme, with its idle time and home."""
    idle = kiosk.idle_seconds(_settings(request), unit["code"], request.cookies.get(kiosk.IDLE_COOKIE))
    return await render(request, template, theme=THEME, status_code=status_code, unit=unit, home=_home(unit["code"]),
                        idle=idle, ping_ms=kiosk.PING_INTERVAL_MS, day=day, size=size, **context)


@get("/{code:str}", name="disclosure:kiosk_home")
async def kiosk_home(request: Request, code: FromPath[str]) -> Response:
    unit = await _unit(code)
    idle = request.query_params.get("idle")
    if idle is not None:
        # The screen's own idle time, set once in the address it was installed with; the address
        # without it is the one its pages and its cache use.
        response = redirect(_home(unit["code"]))
        seconds = kiosk.idle_value(idle)
        if seconds is None:
            response.delete_cookie(kiosk.IDLE_COOKIE, path="/kiosk/")
        else:
            response.set_cookie(kiosk.IDLE_COOKIE, str(seconds), max_age=10 * 365 * 24 * 3600, path="/kiosk/",
                                samesite="lax", httponly=True)
        return response
    return await kiosk_page(request, "disclosure/kiosk/home.html", unit, page_name="home",
                            catalog=await public.catalog(unit["id"]),
                            latest=await public.published_items(unit["id"], page_size=kiosk.page_size(_settings(request))))


async def category_page(request: Request, unit: dict, category_id: int) -> Response:
    category = await public.public_category(category_id)
    if category is None or category["unit"] != unit["id"]:
        raise NotFoundException()
    listed = await public.published_items(unit["id"], category["id"], public.page_number(request.query_params.get("page")),
                                          page_size=kiosk.page_size(_settings(request)))
    return await kiosk_page(request, "disclosure/kiosk/category.html", unit, page_name="category", category=category,
                            listed=listed)


async def item_page(request: Request, unit: dict, item_id: int) -> Response:
    item = await public.get_public_item(item_id)
    if item is None or item["unit"] != unit["id"]:
        raise NotFoundException()
    url = kiosk.item_url(kiosk.public_base(_settings(request), str(request.base_url)), item["id"])
    return await kiosk_page(request, "disclosure/kiosk/item.html", unit, page_name="item", item=item,
                            body=body_html(item["body"]), public_url=url,
                            qr=kiosk.qr_svg(url, _("QR code of this page's address: %(url)s", url=url)),
                            back_page=public.page_number(request.query_params.get("page")))


async def offline_page(request: Request, unit: dict) -> Response:
    return await kiosk_page(request, "disclosure/kiosk/offline.html", unit, page_name="offline")


# The pages of a unit's kiosk below its home, matched here rather than by the router, so that
# any other address (``items/abc``, ``categories/``) is the kiosk's own "not found" too: the
# router's would be the core's error page, whose header leads out of the kiosk.
UNIT_PAGES = [
    (re.compile(r"categories/(\d{1,10})"), category_page),
    (re.compile(r"items/(\d{1,10})"), item_page),
    (re.compile(r"offline"), offline_page),
]


@get("/{code:str}/{rest:path}", name="disclosure:kiosk_page")
async def kiosk_unit_page(request: Request, code: FromPath[str], rest: FromPath[str]) -> Response:
    unit = await _unit(code)
    for pattern, show in UNIT_PAGES:
        if match := pattern.fullmatch(rest.strip("/")):
            return await show(request, unit, *(_id(int(group)) for group in match.groups()))
    raise NotFoundException()


@get("/", name="disclosure:kiosk_root")
async def kiosk_root() -> None:
    raise UnknownKiosk()


@get("/sw.js", name="disclosure:kiosk_service_worker")
async def service_worker(request: Request) -> Response:
    portal = portal_of(request)
    assets = [portal.templates.static_url("disclosure", name, THEME) for name in ("kiosk.css", "kiosk.js")]
    version = kiosk.service_worker_version(assets)
    script = portal.templates.render("disclosure/kiosk/sw.js", {"assets": assets, "version": version}, theme=THEME)
    # Looked for on every start: a new version reaches the screens without anyone touching them.
    return Response(script, media_type="text/javascript", headers={"cache-control": "no-cache",
                                                                   "service-worker-allowed": "/kiosk/"})


@get("/ping", name="disclosure:kiosk_ping", status_code=204, response_headers=NO_STORE)
async def ping() -> None:
    return None


def kiosk_error(request: Request, exc: Exception) -> Response:
    """Errors under /kiosk/ as kiosk pages: the core's error page would lead out (its header links
    to the staff site's home and login)."""
    status = exc.status_code if isinstance(exc, HTTPException) else HTTP_500_INTERNAL_SERVER_ERROR
    if status >= 500:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    segments = request.url.path.split("/")
    code = segments[2] if len(segments) > 2 else ""
    home = _home(code) if CODE.fullmatch(code) and not isinstance(exc, UnknownKiosk) else None
    title = _("Not found") if status == 404 else _("Please try again") if status < 500 else _("Something went wrong")
    text = (_("This page is not in the catalog.") if status == 404 else
            _("The screen could not show this page now. Please try again in a moment."))
    html = portal_of(request).templates.render("disclosure/kiosk/error.html", {
        "request": request, "status": status, "title": title, "text": text, "home": home, "unit": None,
        "idle": kiosk.DEFAULT_IDLE_SECONDS, "ping_ms": kiosk.PING_INTERVAL_MS, "page_name": "error",
    }, theme=THEME)
    headers = dict(getattr(exc, "headers", None) or {}) if isinstance(exc, HTTPException) else {}
    return Response(html, status_code=status, media_type=HTML, headers={**headers, **NO_STORE})


KIOSK_ROUTES = [Router(path="/", route_handlers=[kiosk_root, kiosk_home, kiosk_unit_page, service_worker, ping],
                       exception_handlers={HTTPException: kiosk_error, Exception: kiosk_error})]
