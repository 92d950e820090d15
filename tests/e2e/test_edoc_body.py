"""The body of an official document in Chromium (DOC-1): headings, emphasis, lists and tables show
as written; scripts, event handlers and javascript: links are gone and nothing runs, on the
document page and its print page; a plain-text body shows as paragraphs.

Runs on its own server (edoc-body); zhangwei drafts (ACCOUNT_OF["edoc_body_drafter"]).
"""

from __future__ import annotations

import re

import pyotp
import pytest

pytestmark = pytest.mark.e2e

RICH_BODY = """<h3>一、工作目标</h3>
<p>请各科室<strong>务必</strong>于<em>本月底前</em>完成<u>摸底</u>。</p>
<ol><li>摸清底数</li><li>建立台账</li></ol>
<table><tr><th>单位</th><th>完成时限</th></tr><tr><td>农业农村局</td><td>11月30日</td></tr></table>
<script>window.__injected = "script"; alert("script")</script>
<img src="/nothing.png" onerror="window.__injected = 'img'; alert('img')">
<p onclick="window.__injected = 'click'" style="color:red">详见<a href="javascript:window.__injected='link'">说明</a>。</p>
<svg onload="window.__injected = 'svg'"></svg><iframe srcdoc="&lt;script&gt;parent.__injected='frame'&lt;/script&gt;"></iframe>
<style>body { display: none; }</style>"""
PLAIN_BODY = "各科室：\n\n请于月底前报送材料，收入<5万元的不报。\n联系人：张伟\n\n特此通知。"


@pytest.fixture(scope="module")
def server(start_live_server):
    return start_live_server("edoc-body")


@pytest.fixture(scope="module")
def dialogs() -> list[str]:
    """The messages of every dialog the drafter's page opened (none may)."""
    return []


@pytest.fixture(scope="module")
def drafter(browser, server, demo_accounts, dialogs):
    """zhangwei's page for the module (ACCOUNT_OF["edoc_body_drafter"]), every dialog recorded."""
    account = demo_accounts["zhangwei"]
    context = browser.new_context(base_url=server.url, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/login")
    page.fill("#username", account["username"])
    page.fill("#password", account["password"])
    _click(page, page.locator("main form button[type=submit]"))
    page.fill("#code", pyotp.TOTP(account["totp_secret"]).now())
    _click(page, page.locator("main form button[type=submit]"))
    assert "/login" not in page.url, page.url
    yield page
    context.close()


def _click(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def _draft(page, title: str, body: str) -> str:
    page.goto("/edoc/new")
    page.select_option("#doc_type", "通知")
    page.select_option("#direction", "downward")
    page.fill("#title", title)
    page.fill("#main_recipients", "各科室")
    page.fill("#body", body)
    _click(page, page.locator("form.edoc-draft button[type=submit]"))
    return re.search(r"/edoc/\d+$", page.url).group(0)


def _assert_nothing_ran(page) -> None:
    body = page.locator(".edoc-body")
    for element in ("script", "img", "a", "svg", "iframe", "style"):
        assert body.locator(element).count() == 0, element
    assert page.locator(".edoc-body [onclick], .edoc-body [onerror], .edoc-body [onload], .edoc-body [style]").count() == 0
    assert page.locator("script:not([src])").count() == 0  # no inline script anywhere in the page
    assert page.evaluate("typeof window.__injected") == "undefined"
    assert page.locator("main").is_visible()  # the <style> hid nothing


def test_a_rich_body_shows_its_formatting_and_nothing_runs(drafter, dialogs):
    path = _draft(drafter, "关于开展摸底调查的通知", RICH_BODY)
    body = drafter.locator(".edoc-body")
    assert body.locator("h3").inner_text() == "一、工作目标"
    assert body.locator("strong").inner_text() == "务必"
    assert body.locator("em").inner_text() == "本月底前"
    assert body.locator("u").inner_text() == "摸底"
    assert body.locator("ol li").all_inner_texts() == ["摸清底数", "建立台账"]
    assert body.locator("table th").all_inner_texts() == ["单位", "完成时限"]
    assert body.locator("table td").all_inner_texts() == ["农业农村局", "11月30日"]
    assert "详见说明。" in body.inner_text()  # the link's words stay, the link does not
    assert "alert" not in body.inner_text() and "__injected" not in body.inner_text()
    _assert_nothing_ran(drafter)

    body.locator("p", has_text="详见").click()  # where the onclick was
    drafter.wait_for_timeout(300)
    assert drafter.evaluate("typeof window.__injected") == "undefined"

    drafter.goto(path + "/print")
    assert drafter.locator(".edoc-print .edoc-body h3").inner_text() == "一、工作目标"
    assert drafter.locator(".edoc-print .edoc-body td").count() == 2
    _assert_nothing_ran(drafter)

    # The drafter edits what he wrote: the form gives it back as typed, markup and all.
    drafter.goto(path + "/edit")
    assert drafter.locator("#body").input_value() == RICH_BODY
    assert dialogs == []


def test_a_plain_text_body_shows_as_paragraphs(drafter, dialogs):
    _draft(drafter, "关于报送材料的通知", PLAIN_BODY)
    paragraphs = drafter.locator(".edoc-body p")
    assert paragraphs.all_inner_texts() == ["各科室：", "请于月底前报送材料，收入<5万元的不报。\n联系人：张伟", "特此通知。"]
    second = paragraphs.nth(1).bounding_box()
    first = paragraphs.nth(0).bounding_box()
    assert second["height"] > first["height"] * 1.5  # its line break is kept: two lines
    assert dialogs == []
