"""The township hall kiosk (PUB-2) without a browser: its pages and where their links lead, what
it refuses to show, its idle time, its service worker, and that it keeps no session.

The browser parts (touch, the idle return, the network dropping, the QR code read back) are in
tests/e2e/test_kiosk.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from plugins.disclosure import kiosk
from plugins.disclosure.tables import Item
from portal.jobs import now as utc_now
from portal.testing import login_as

HREF = re.compile(r'<a\b[^>]*\bhref="([^"]*)"')


@pytest.fixture
def disclosure_settings() -> dict:
    """The ``[disclosure]`` settings of the application; a test parametrizes it to change them."""
    return {}


@pytest.fixture
def app(make_app, portal_plugins, disclosure_settings):
    return make_app(plugins=portal_plugins, extra={"disclosure": disclosure_settings})


async def publish(unit_id: int, category_id: int, title: str, *, ago: int = 0, **fields) -> int:
    """An item of the unit's category, published ``ago`` hours ago (negative: scheduled ahead)."""
    rows = await Item.insert(Item(unit=unit_id, category=category_id, title=title, body=fields.pop("body", "正文"),
                                  status=fields.pop("status", "published"),
                                  publish_at=utc_now() - timedelta(hours=ago), **fields))
    return rows[0]["id"]


def links(html: str) -> list[str]:
    return [unescape(href) for href in HREF.findall(html)]


async def test_home_shows_the_units_categories_as_tiles_and_its_newest_items(client, units, categories):
    await publish(units["town"], categories["town"]["notices"], "东镇停水通知")
    await publish(units["county"], categories["county"]["notices"], "黄河县的通知")
    page = await client.get("/kiosk/dongzhen")
    assert page.status_code == 200
    assert "东镇人民政府" in page.text and "东镇停水通知" in page.text
    assert "黄河县的通知" not in page.text
    tiles = re.findall(r'class="kiosk-tile" href="([^"]+)"', page.text)
    assert tiles == [f"/kiosk/dongzhen/categories/{c}" for c in categories["town"].values()]
    assert 'data-home="/kiosk/dongzhen"' in page.text


async def test_every_link_of_every_kiosk_page_stays_in_the_kiosk(client, units, categories, make_user):
    """Crawl the whole kiosk of a unit, logged in as staff even: no link, form or menu leads out."""
    town = units["town"]
    for n in range(8):
        await publish(town, categories["town"]["notices"], f"通知{n}", ago=n, body="<h3>标题</h3><p>正文</p>")
    await publish(town, categories["town"]["policies"], "政策文件", document_number="东政发〔2024〕1号")
    await login_as(client, await make_user(roles=["staff", "publisher", "admin"], unit_id=town))
    seen, queue = set(), ["/kiosk/dongzhen"]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        page = await client.get(path)
        assert page.status_code == 200, path
        assert "<form" not in page.text and "/logout" not in page.text and 'class="menu"' not in page.text, path
        for href in links(page.text):
            assert href.startswith("/kiosk/dongzhen"), f"{path} links out of the kiosk: {href}"
            queue.append(href)
    assert len(seen) > 12  # home, categories, both pages of notices, every item
    assert "/kiosk/dongzhen/categories/%d?page=2" % categories["town"]["notices"] in seen


async def test_a_category_is_paged_by_buttons(client, units, categories):
    notices = categories["town"]["notices"]
    for n in range(kiosk.PAGE_SIZE + 2):
        await publish(units["town"], notices, f"通知{n:02d}", ago=n)
    first = await client.get(f"/kiosk/dongzhen/categories/{notices}")
    assert first.text.count('class="kiosk-item-button"') == kiosk.PAGE_SIZE
    assert "通知00" in first.text and f"通知{kiosk.PAGE_SIZE:02d}" not in first.text
    assert f'rel="next" href="/kiosk/dongzhen/categories/{notices}?page=2"' in first.text
    assert 'rel="prev"' not in first.text
    second = await client.get(f"/kiosk/dongzhen/categories/{notices}?page=2")
    assert second.text.count('class="kiosk-item-button"') == 2
    assert f'rel="prev" href="/kiosk/dongzhen/categories/{notices}"' in second.text
    # An item opened from the second page leads back to it.
    item = re.search(r'href="(/kiosk/dongzhen/items/\d+\?page=2)"', second.text).group(1)
    assert f'href="/kiosk/dongzhen/categories/{notices}?page=2"' in (await client.get(item)).text


NO_HOME = ("/kiosk/nosuchunit", "/kiosk/no such unit", "/kiosk", "/kiosk/")


@pytest.mark.parametrize("path", [
    *NO_HOME, "/kiosk/dongzhen/categories/{county_notices}",
    "/kiosk/dongzhen/categories/999999", "/kiosk/dongzhen/categories/99999999999",
    "/kiosk/dongzhen/items/{county_item}", "/kiosk/dongzhen/items/{draft}", "/kiosk/dongzhen/items/{scheduled}",
    "/kiosk/dongzhen/items/{withdrawn}", "/kiosk/dongzhen/items/0", "/kiosk/dongzhen/items/abc",
    "/kiosk/dongzhen/no/such/page", "/kiosk/dongzhen/categories/",
])
async def test_what_is_not_the_units_public_catalog_is_a_kiosk_page_saying_not_found(client, units, categories, path):
    town, county = units["town"], units["county"]
    ids = {
        "county_notices": categories["county"]["notices"],
        "county_item": await publish(county, categories["county"]["notices"], "县里的"),
        "draft": await publish(town, categories["town"]["notices"], "草稿", status="draft"),
        "scheduled": await publish(town, categories["town"]["notices"], "定时", ago=-5),
        "withdrawn": await publish(town, categories["town"]["notices"], "撤回", status="withdrawn"),
    }
    page = await client.get(path.format(**ids))
    assert page.status_code == 404
    assert 'class="kiosk ' in page.text and 'class="top"' not in page.text
    assert all(href.startswith("/kiosk/dongzhen") for href in links(page.text))
    assert not {"草稿", "定时", "撤回", "县里的"} & set(re.findall(r"[\u4e00-\u9fff]+", page.text))
    if path in NO_HOME:
        assert links(page.text) == []  # no home to go back to


async def test_an_item_shows_a_qr_code_of_its_public_address(client, units, categories):
    item = await publish(units["town"], categories["town"]["notices"], "东镇停水通知", document_number="东政〔2024〕3号")
    page = await client.get(f"/kiosk/dongzhen/items/{item}")
    assert page.status_code == 200
    assert "东镇停水通知" in page.text and "东政〔2024〕3号" in page.text
    svg = re.search(r"<svg [^>]*>", page.text).group(0)
    assert 'role="img"' in svg and f"http://127.0.0.1/disclosure/items/{item}" in unescape(svg)
    assert f'href="/kiosk/dongzhen/categories/{categories["town"]["notices"]}"' in page.text


@pytest.mark.parametrize("disclosure_settings", [{"public_base_url": "https://gov.example/"}])
async def test_the_qr_code_uses_the_configured_public_address(client, units, categories):
    item = await publish(units["town"], categories["town"]["notices"], "通知")
    page = await client.get(f"/kiosk/dongzhen/items/{item}")
    assert f"https://gov.example/disclosure/items/{item}" in unescape(page.text)


def test_a_public_base_url_that_is_not_an_http_address_is_ignored():
    assert kiosk.public_base({"public_base_url": "javascript:alert(1)"}, "http://hall/") == "http://hall"
    assert kiosk.public_base({"public_base_url": "gov.example"}, "http://hall") == "http://hall"
    assert kiosk.public_base({"public_base_url": "https://gov.example/portal/"}, "http://hall") == "https://gov.example/portal"


def test_the_qr_code_holds_the_address():
    """segno's own decoder-free check: the code's matrix is the one made for the address."""
    import segno

    url = "https://gov.example/disclosure/items/42"
    svg = kiosk.qr_svg(url, "码 <label>")
    assert 'aria-label="码 &lt;label&gt;"' in svg
    assert "<script" not in svg and "style=" not in svg  # nothing the CSP would refuse
    assert segno.make(url, error="m").svg_inline(scale=1, border=4, dark="#000", light="#fff", omitsize=True,
                                                 svgclass="kiosk-qr").split('class="kiosk-qr"')[1] in svg


async def test_the_idle_time_is_the_portals_by_default(client, units):
    assert f'data-idle="{kiosk.DEFAULT_IDLE_SECONDS}"' in (await client.get("/kiosk/dongzhen")).text


@pytest.mark.parametrize("disclosure_settings", [{"kiosk_idle_seconds": "45", "kiosk_idle_units": {"dongzhen": 30}}])
async def test_the_idle_time_is_set_per_unit_then_for_the_portal(client, units):
    assert 'data-idle="30"' in (await client.get("/kiosk/dongzhen")).text
    assert 'data-idle="45"' in (await client.get("/kiosk/huanghe")).text


async def test_a_screen_keeps_the_idle_time_of_the_address_it_was_set_up_with(client, units):
    response = await client.get("/kiosk/dongzhen?idle=20")
    assert response.status_code == 303 and response.headers["location"] == "/kiosk/dongzhen"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{kiosk.IDLE_COOKIE}=20;") and "Path=/kiosk/" in cookie and "HttpOnly" in cookie
    assert 'data-idle="20"' in (await client.get("/kiosk/dongzhen")).text
    await client.get("/kiosk/dongzhen?idle=1")
    assert f'data-idle="{kiosk.MIN_IDLE_SECONDS}"' in (await client.get("/kiosk/dongzhen")).text
    await client.get("/kiosk/dongzhen?idle=forever")
    assert f'data-idle="{kiosk.DEFAULT_IDLE_SECONDS}"' in (await client.get("/kiosk/dongzhen")).text


def test_the_page_size_is_a_setting_within_bounds():
    assert kiosk.page_size({}) == kiosk.PAGE_SIZE
    assert kiosk.page_size({"kiosk_page_size": "4"}) == 4
    assert kiosk.page_size({"kiosk_page_size": "0"}) == kiosk.MIN_PAGE_SIZE
    assert kiosk.page_size({"kiosk_page_size": "500"}) == kiosk.MAX_PAGE_SIZE
    assert kiosk.page_size({"kiosk_page_size": "many"}) == kiosk.PAGE_SIZE


def test_idle_values_are_kept_within_bounds():
    assert kiosk.idle_value("abc") is None and kiosk.idle_value(None) is None
    assert kiosk.idle_value("0") == kiosk.MIN_IDLE_SECONDS
    assert kiosk.idle_value("99999999999999999999") == kiosk.MAX_IDLE_SECONDS
    assert kiosk.idle_seconds({"kiosk_idle_seconds": "soon"}, "x") == kiosk.DEFAULT_IDLE_SECONDS


async def test_an_anonymous_screen_creates_no_server_side_session(client, app, units, categories):
    item = await publish(units["town"], categories["town"]["notices"], "通知")
    sessions = app.state.portal.settings.data_dir / "sessions"
    before = set(sessions.iterdir())
    for path in ["/kiosk/dongzhen", f"/kiosk/dongzhen/categories/{categories['town']['notices']}",
                 f"/kiosk/dongzhen/items/{item}", "/kiosk/dongzhen/offline", "/kiosk/sw.js", "/kiosk/ping", "/kiosk/nosuch"]:
        response = await client.get(path)
        assert "portal_session=" not in response.headers.get("set-cookie", ""), path
    assert set(sessions.iterdir()) == before


async def test_the_service_worker_is_scoped_to_the_kiosk_and_keeps_its_assets(client, units):
    worker = await client.get("/kiosk/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"
    assert worker.headers["service-worker-allowed"] == "/kiosk/"
    assets = re.search(r"var ASSETS = (\[.*?\]);", worker.text).group(1)
    home = (await client.get("/kiosk/dongzhen")).text
    for url in re.findall(r'"(/static/disclosure/[^"]+)"', assets):
        assert url in home
        assert (await client.get(url)).status_code == 200
    ping = await client.get("/kiosk/ping")
    assert ping.status_code == 204 and ping.headers["cache-control"] == "no-store"


async def test_the_offline_page_of_a_unit_leads_home(client, units):
    page = await client.get("/kiosk/dongzhen/offline")
    assert page.status_code == 200 and links(page.text) == ["/kiosk/dongzhen"]
