"""Accessibility of the public disclosure pages and the kiosk (PUB-2, PUB-4; WCAG 2.1 AA).

axe-core (from the npm registry: `nox` installs it and names its ``axe.min.js`` in
``PORTAL_TEST_AXE_JS``) checks each page in Chromium, in the default and the large-type theme, on
a desktop, a phone (390×844) and the kiosk's portrait screen; a serious or critical violation
fails. Beyond what axe sees: the keyboard focus is visible, the phone never scrolls sideways, and
a visitor switches to large type with one press, without JavaScript, and keeps it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

AXE_ENV = "PORTAL_TEST_AXE_JS"
AXE_PACKAGE = "axe-core@4"
AXE_CACHE = Path.home() / ".cache" / "portal-tests" / "axe-core"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
UNIT = "dongzhen"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
SCREEN = {"viewport": {"width": 1080, "height": 1920}, "has_touch": True}


def axe_path() -> Path:
    """``axe.min.js``: where ``PORTAL_TEST_AXE_JS`` says (nox sets it), else installed once with
    npm into a cache folder; without either the test fails saying how to get it."""
    named = os.environ.get(AXE_ENV)
    if named:
        if not Path(named).is_file():
            pytest.fail(f"{AXE_ENV}={named} is not a file", pytrace=False)
        return Path(named)
    installed = AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if not installed.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"axe-core is missing: run the suite through `nox` (it installs it), or `npm install --prefix "
                        f"{AXE_CACHE} {AXE_PACKAGE}`, or set {AXE_ENV} to an axe.min.js", pytrace=False)
        subprocess.run([npm, "install", "--prefix", str(AXE_CACHE), "--no-audit", "--no-fund", AXE_PACKAGE], check=True,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    return installed


@pytest.fixture(scope="module")
def axe_source() -> str:
    return axe_path().read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def server(start_live_server):
    return start_live_server("a11y", PORTAL_RATE_LIMIT_ANONYMOUS_IP="100000/minute")


@pytest.fixture
def checked_page(new_page, server, axe_source):
    """``checked_page(**context_options)``: a page with axe loaded before the page's own scripts
    (an init script, which the portal's CSP does not stop, unlike an inline one)."""

    def factory(**options):
        options.setdefault("locale", "zh-CN")
        page = new_page(server, **options)
        page.context.add_init_script(script=axe_source)
        return page

    return factory


def violations(page) -> list[str]:
    found = page.evaluate("""async tags => {
        const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            targets: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }""", WCAG_AA)
    return [f"{v['impact']}: {v['id']} ({v['help']}) at {v['targets']}" for v in found if v["impact"] in BLOCKING]


def public_paths(page) -> list[str]:
    """The public pages of the demo's township, found by following its links."""
    page.goto(f"/disclosure/units/{UNIT}")
    category = page.locator("ul.disclosure-catalog a").first.get_attribute("href")
    page.goto(category)
    item = page.locator("ol.disclosure-items a").first.get_attribute("href")
    return ["/disclosure", f"/disclosure/units/{UNIT}", category, item, "/disclosure/search?q=政务公开",
            f"/disclosure/search?unit={UNIT}&q=" + "长" * 101, "/disclosure/items/999999"]


def kiosk_paths(page) -> list[str]:
    page.goto(f"/kiosk/{UNIT}")
    category = page.locator("a.kiosk-tile").first.get_attribute("href")
    page.goto(category)
    item = page.locator("a.kiosk-item-button").first.get_attribute("href")
    return [f"/kiosk/{UNIT}", category, item, f"/kiosk/{UNIT}/offline", f"/kiosk/{UNIT}/items/999999", "/kiosk/nosuchunit"]


def check_all(page, paths: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        page.goto(path)
        if problems := violations(page):
            found[path] = problems
    return found


def use_large_type(page) -> None:
    page.goto("/disclosure")
    with page.expect_navigation():
        page.locator("form.type-switch button").click()
    assert "theme-large" in page.locator("body").get_attribute("class")


def test_the_public_pages_pass_axe(checked_page):
    page = checked_page()
    paths = public_paths(page)
    assert check_all(page, paths) == {}
    use_large_type(page)
    assert check_all(page, paths) == {}


def test_the_public_pages_pass_axe_on_a_phone_and_never_scroll_sideways(checked_page):
    page = checked_page(**PHONE)
    paths = public_paths(page)
    for theme in ("default", "large"):
        if theme == "large":
            use_large_type(page)
        for path in paths:
            page.goto(path)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (theme, path)
            assert violations(page) == [], (theme, path)
            for control in page.locator("main a, main button, header a, header button").all():
                box = control.bounding_box()
                assert box is None or box["height"] >= 24, (theme, path, control.inner_text())


def test_the_kiosk_passes_axe(checked_page):
    page = checked_page(**SCREEN)
    assert check_all(page, kiosk_paths(page)) == {}


def test_the_keyboard_focus_is_always_visible(new_page, server):
    """Tab through the public pages and the kiosk: whatever has the focus shows an outline."""
    page = new_page(server, locale="zh-CN")
    for path in ["/disclosure", f"/disclosure/units/{UNIT}", f"/kiosk/{UNIT}"]:
        page.goto(path)
        for _ in range(12):
            page.keyboard.press("Tab")
            focus = page.evaluate("""() => {
                const e = document.activeElement, s = getComputedStyle(e);
                return {tag: e.tagName, text: (e.innerText || e.value || "").slice(0, 30),
                        outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2};
            }""")
            if focus["tag"] == "BODY":
                break
            assert focus["outline"], (path, focus)


def test_a_visitor_switches_to_large_type_with_one_press_without_javascript(new_page, server):
    page = new_page(server, locale="zh-CN", java_script_enabled=False)
    page.goto(f"/disclosure/units/{UNIT}")
    normal = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    switch = page.get_by_role("button", name="大字版")
    assert switch.is_visible()
    with page.expect_navigation():
        switch.click()
    assert urlsplit(page.url).path == f"/disclosure/units/{UNIT}"  # the same page, now larger
    assert page.locator("link[rel=stylesheet]").first.get_attribute("href").startswith("/static/theme-large/")
    assert page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)") >= normal * 1.3
    cookie = next(c for c in page.context.cookies() if c["name"] == "portal_theme")
    assert cookie["value"] == "large" and cookie["expires"] > page.evaluate("Date.now() / 1000") + 300 * 86400
    assert not [c for c in page.context.cookies() if c["name"] == "portal_session"]  # no session for it

    again = page.context.new_page()  # the next visit
    again.goto("/disclosure")
    assert "theme-large" in again.locator("body").get_attribute("class")
    with again.expect_navigation():
        again.get_by_role("button", name="标准版").click()
    assert "theme-default" in again.locator("body").get_attribute("class")
