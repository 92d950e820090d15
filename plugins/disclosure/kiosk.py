"""The township hall kiosk (政务公开专区, PUB-2): what its pages need besides the public catalog.

A kiosk is a touch screen left alone for months: no keyboard, no login, nobody to press
"reload". Its settings, in the ``[disclosure]`` section (``PORTAL_DISCLOSURE_<KEY>``):

- ``kiosk_idle_seconds``: how long a screen may stay untouched before it returns to its home
  (120 by default); ``[disclosure.kiosk_idle_units]`` sets it per unit code;
  a kiosk's own address may carry ``?idle=<seconds>``, kept in a cookie on that screen;
- ``kiosk_page_size``: items on one page of a category (6 by default, 2 to 20), each a button;
- ``public_base_url``: the address the public reaches the portal at (``https://gov.example``),
  for the QR codes; without it, the address the kiosk itself used.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import segno
from markupsafe import Markup, escape

DEFAULT_IDLE_SECONDS = 120
MIN_IDLE_SECONDS = 3
MAX_IDLE_SECONDS = 3600
IDLE_COOKIE = "portal_kiosk_idle"
# Items per category page: each is a button a finger finds on a portrait screen without scrolling.
PAGE_SIZE = 6
MIN_PAGE_SIZE, MAX_PAGE_SIZE = 2, 20
# The screen looks for the network this often while it is away (milliseconds, in kiosk.js).
PING_INTERVAL_MS = 5000
MAX_BASE_URL = 200


def idle_value(value) -> int | None:
    """Seconds from a setting, query or cookie, kept within the bounds; None when not a number."""
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return min(max(seconds, MIN_IDLE_SECONDS), MAX_IDLE_SECONDS)


def idle_seconds(settings: dict, unit_code: str, screen: str | None = None) -> int:
    """The idle time of a kiosk: its own (``screen``, from its address), else its unit's, else the
    portal's, else ``DEFAULT_IDLE_SECONDS``."""
    units = settings.get("kiosk_idle_units")
    for value in (screen, units.get(unit_code) if isinstance(units, dict) else None, settings.get("kiosk_idle_seconds")):
        seconds = idle_value(value) if value is not None else None
        if seconds is not None:
            return seconds
    return DEFAULT_IDLE_SECONDS


def page_size(settings: dict) -> int:
    try:
        size = int(str(settings.get("kiosk_page_size", PAGE_SIZE)).strip())
    except ValueError:
        return PAGE_SIZE
    return min(max(size, MIN_PAGE_SIZE), MAX_PAGE_SIZE)


def public_base(settings: dict, request_base: str) -> str:
    """The configured ``public_base_url`` when it is an http(s) address, else the request's base."""
    configured = str(settings.get("public_base_url") or "").strip().rstrip("/")
    parts = urlsplit(configured)
    if configured and len(configured) <= MAX_BASE_URL and parts.scheme in ("http", "https") and parts.netloc:
        return configured
    return request_base.rstrip("/")


def item_url(base: str, item_id: int) -> str:
    """The public page of an item, the address a phone opens from the QR code."""
    return f"{base}/disclosure/items/{item_id}"


def qr_svg(data: str, label: str) -> Markup:
    """``data`` as an inline SVG QR code (no file, no script: the CSP allows neither inline), with
    ``label`` as its accessible name. Scalable: its size is the stylesheet's."""
    svg = segno.make(data, error="m").svg_inline(scale=1, border=4, dark="#000", light="#fff", omitsize=True,
                                                 svgclass="kiosk-qr")
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))


# Raised when what the worker keeps changes shape, so screens drop what the old worker kept.
CACHE_SCHEMA = "1"


def service_worker_version(asset_urls: list[str]) -> str:
    """What changes the worker's script when an asset changes (their addresses are fingerprinted),
    so screens install the new worker and drop the old one's cache of assets."""
    return hashlib.sha256("\n".join([CACHE_SCHEMA, *asset_urls]).encode()).hexdigest()[:12]
