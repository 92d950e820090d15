"""The township hall kiosk (PUB-2) in Chromium as the hall's screen: portrait 1080×1920, touch.

A person taps tiles, pages and items (no keyboard), the screen returns home when left alone,
keeps showing the pages it loaded when the network drops (with a notice) and recovers by
itself, and the QR code of an item, read back from the screen, is the item's public address.
The kiosk has its own server: its crawl and its service worker's requests stay out of the
shared server's per-address limit of anonymous requests.
"""

from __future__ import annotations

import io
import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

pytestmark = pytest.mark.e2e

UNIT = "dongzhen"
HOME = f"/kiosk/{UNIT}"
PAGE_SIZE = 2  # so the demo's categories of three items have two pages
SCREEN = {"viewport": {"width": 1080, "height": 1920}, "has_touch": True, "locale": "zh-CN",
          "service_workers": "allow"}
MIN_TARGET = 48  # px, each side of anything to tap
PING_WAIT_MS = 15_000  # the screen looks for the network every 5 s


@pytest.fixture(scope="module")
def kiosk_server(start_live_server):
    return start_live_server("kiosk", PORTAL_DISCLOSURE_KIOSK_PAGE_SIZE=str(PAGE_SIZE),
                             PORTAL_RATE_LIMIT_ANONYMOUS_IP="100000/minute")


@pytest.fixture
def screen(new_page, kiosk_server):
    return new_page(kiosk_server, **SCREEN)


def tap(page, locator) -> None:
    """A finger on the element, then the page it leads to."""
    with page.expect_navigation():
        locator.tap()


def small_targets(page) -> list[str]:
    """Every link and button on the page smaller than a fingertip, measured as laid out."""
    found = []
    for element in page.locator("a[href], button, [role=button], input, select").all():
        box = element.bounding_box()
        if box is None:  # not displayed (the hidden offline notice has none)
            continue
        if box["width"] < MIN_TARGET or box["height"] < MIN_TARGET:
            found.append(f"{element.inner_text()!r} {box['width']:.0f}×{box['height']:.0f}")
    return found


def font_px(page, selector: str) -> float:
    return page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")


def wait_until(page, predicate: str, arg=None, timeout_ms: int = 15_000) -> None:
    """Until ``predicate`` (a JS function) holds in the page. Not ``page.wait_for_function``: its
    polling evaluates strings in the page, which the portal's CSP (no unsafe-eval) refuses."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            if page.evaluate(predicate, arg):
                return
        except PlaywrightError:  # the page was navigating
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_ms} ms: {predicate} ({arg!r})")
        page.wait_for_timeout(200)


def wait_for_worker(page) -> None:
    """Until the service worker controls the page (it claims the pages open when it activates)."""
    wait_until(page, "() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)")


def test_tiles_category_item_by_touch_with_big_targets(screen):
    page = screen
    page.goto(HOME)
    assert page.locator("h1").inner_text() == "政务公开目录"
    assert page.locator("a.kiosk-tile").count() == 9
    assert small_targets(page) == []
    assert font_px(page, ".kiosk-tile-name") >= 32

    tap(page, page.locator("a.kiosk-tile", has_text="工作动态"))
    assert page.locator("h1").inner_text() == "工作动态"
    assert page.locator("a.kiosk-item-button").count() == PAGE_SIZE
    assert small_targets(page) == []
    tap(page, page.locator("a[rel=next]"))
    assert page.url.endswith("?page=2")
    assert page.locator("a.kiosk-item-button").count() == 1
    assert page.locator("a[rel=next]").count() == 0
    title = page.locator(".kiosk-item-title").first.inner_text()

    tap(page, page.locator("a.kiosk-item-button").first)
    assert page.locator("h1").inner_text() == title
    assert small_targets(page) == []
    assert font_px(page, ".kiosk-body") >= 28  # read from a step away
    assert page.locator(".kiosk-qr-box svg").bounding_box()["width"] >= 300
    # Nothing to type anywhere: no field, no form.
    assert page.locator("input, textarea, select, form").count() == 0

    tap(page, page.locator("a.kiosk-back"))
    assert page.url.endswith("?page=2") and page.locator("h1").inner_text() == "工作动态"
    tap(page, page.locator("a.kiosk-home"))
    assert urlsplit(page.url).path == HOME


def test_every_link_on_the_kiosk_stays_in_the_kiosk(screen, kiosk_server):
    """Crawl the screen as the browser lays it out: every link of every page, no form."""
    page = screen
    seen, queue = set(), [HOME]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(path)
        assert response.status == 200, path
        assert page.locator("form, input, textarea, iframe, header.top, nav.menu, footer").count() == 0, path
        for href in page.eval_on_selector_all("a[href], area[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            assert f"{parts.scheme}://{parts.netloc}" == kiosk_server.url, f"{path} links to {href}"
            assert parts.path.startswith(HOME), f"{path} links out of the kiosk: {href}"
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    # Home, the nine categories (one with a second page) and every item of the demo's catalog.
    assert len({p for p in seen if re.fullmatch(rf"{HOME}/categories/\d+", p)}) == 9
    assert len({p.split("?")[0] for p in seen if "/items/" in p}) >= 18


def test_the_screen_returns_home_when_left_alone(screen):
    page = screen
    page.goto(f"{HOME}?idle=3")  # this screen's own idle time, as set up in the hall
    assert urlsplit(page.url).path == HOME and not urlsplit(page.url).query
    tap(page, page.locator("a.kiosk-tile", has_text="通知公告"))
    tap(page, page.locator("a.kiosk-item-button").first)
    item = page.url
    # Someone reading: each touch restarts the wait.
    for _ in range(4):
        page.wait_for_timeout(1_500)
        page.touchscreen.tap(540, 1700)
    assert page.url == item
    page.wait_for_url(lambda url: urlsplit(url).path == HOME and not urlsplit(url).query, timeout=8_000)
    assert page.locator("a.kiosk-tile").count() == 9


def test_pages_stay_readable_offline_and_the_screen_recovers(screen):
    page = screen
    page.goto(HOME)
    wait_for_worker(page)
    page.reload()  # now through the worker, which keeps it
    tap(page, page.locator("a.kiosk-tile", has_text="通知公告"))
    unread = page.locator("a.kiosk-item-button").nth(1)
    unread_href, unread_title = unread.get_attribute("href"), unread.locator(".kiosk-item-title").inner_text()
    tap(page, page.locator("a.kiosk-item-button").first)
    read_title = page.locator("h1").inner_text()
    tap(page, page.locator("a.kiosk-home"))
    notice = page.locator(".kiosk-offline")
    assert notice.is_hidden()

    page.context.set_offline(True)
    notice.wait_for(state="visible", timeout=PING_WAIT_MS)
    # The pages loaded before are still there, touched as before, with the notice.
    tap(page, page.locator("a.kiosk-tile", has_text="通知公告"))
    assert page.locator("h1").inner_text() == "通知公告"
    notice.wait_for(state="visible", timeout=PING_WAIT_MS)
    tap(page, page.locator("a.kiosk-item-button").first)
    assert page.locator("h1").inner_text() == read_title
    notice.wait_for(state="visible", timeout=PING_WAIT_MS)
    # A category nobody opened was kept ahead when the home screen showed its tile.
    tap(page, page.locator("a.kiosk-home"))
    tap(page, page.locator("a.kiosk-tile", has_text="人事信息"))
    assert page.locator("h1").inner_text() == "人事信息"
    assert page.locator("a.kiosk-item-button").count() >= 1
    # An item never opened: the screen says so, offers the way home...
    page.goto(unread_href)
    assert page.locator("h1").inner_text() == "本屏幕未保存此页"
    assert page.locator("a.kiosk-home").get_attribute("href") == HOME
    notice.wait_for(state="visible", timeout=PING_WAIT_MS)

    # ...and shows the item by itself once the network is back.
    page.context.set_offline(False)
    wait_until(page, "t => !!document.querySelector('h1') && document.querySelector('h1').innerText === t", unread_title,
               PING_WAIT_MS)
    assert page.locator(".kiosk-offline").is_hidden()
    tap(page, page.locator("a.kiosk-home"))
    assert page.locator(".kiosk-offline").is_hidden() and page.locator("a.kiosk-tile").count() == 9


def test_the_qr_code_on_screen_reads_as_the_items_public_address(screen, new_page, kiosk_server):
    import zxingcpp
    from PIL import Image

    page = screen
    page.goto(HOME)
    tap(page, page.locator("a.kiosk-tile", has_text="政策文件"))
    tap(page, page.locator("a.kiosk-item-button").first)
    item_id = re.search(r"/items/(\d+)", page.url).group(1)
    title = page.locator("h1").inner_text()

    png = page.locator(".kiosk-qr-box svg").screenshot()
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert [code.text for code in codes] == [f"{kiosk_server.url}/disclosure/items/{item_id}"]

    phone = new_page(kiosk_server, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, locale="zh-CN")
    response = phone.goto(codes[0].text)
    assert response.status == 200 and phone.locator("h1").inner_text() == title
