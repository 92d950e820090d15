"""New mail is announced on every open page, not only in the mailbox (MAIL-1).

One person sits on the home page, then on his account page; a colleague writes to him in the
browser, and mail from outside comes through the server's SMTP port. The unread badge in the
menu and the toast appear on the page he has open, without a reload (webmail.js is on every
page through the core's register_page_assets hook).
"""

import re
import smtplib
import time
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

DOMAIN = "huanghe.gov.example"


def open_and_listen(page, path: str) -> None:
    """Go to ``path`` and wait until its event stream is connected."""
    with page.expect_response(lambda response: response.url.endswith("/events")):
        page.goto(path)
    page.wait_for_timeout(500)  # the subscription is made as the stream starts
    page.evaluate("window.stillTheSamePage = true")


def assert_announced(page, badge_count: int, subject: str) -> None:
    badge = page.locator("header [data-webmail-unread]")
    expect(badge).to_have_text(str(badge_count), timeout=10_000)
    expect(badge).to_be_visible()
    toast = page.locator("#webmail-toast[role=status]")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text(subject)
    expect(toast.locator("a")).to_have_attribute("href", re.compile(r"^/webmail/message/\d+$"))  # links to the mail
    assert page.evaluate("window.stillTheSamePage") is True  # no reload happened


def test_new_mail_appears_on_the_home_and_account_pages_without_reload(new_page, live_server, demo_accounts, e2e):
    reader_account = demo_accounts[e2e.ACCOUNT_OF["live_everywhere_reader"]]
    sender_account = demo_accounts[e2e.ACCOUNT_OF["live_everywhere_sender"]]
    reader_address = f"{reader_account['username']}@{DOMAIN}"

    reader = new_page(live_server)
    e2e.log_in(reader, reader_account)
    open_and_listen(reader, "/")
    expect(reader.locator("main h1")).to_be_visible()
    before = int(reader.locator("header [data-webmail-unread]").text_content() or 0)

    # A colleague writes to him from the compose page.
    subject = f"Live on the home page {int(time.time())}"
    writer = new_page(live_server)
    e2e.log_in(writer, sender_account)
    writer.goto("/webmail/compose")
    form = writer.locator("main form.compose")
    form.locator("#to").fill(reader_address)
    form.locator("#subject").fill(subject)
    form.locator("#body").fill("Seen on whatever page is open.")
    with writer.expect_navigation():
        form.locator("button[name=action][value=send]").click()
    assert writer.url.endswith("/status"), writer.url
    assert reader.url == f"{live_server.url}/"
    assert_announced(reader, before + 1, subject)

    # On the account page, mail from outside through the SMTP port.
    open_and_listen(reader, "/account")
    outside_subject = f"Live on the account page {int(time.time())}"
    message = EmailMessage()
    message["From"] = "Citizen <citizen@example.org>"
    message["To"] = reader_address
    message["Subject"] = outside_subject
    message.set_content("From outside, while the account page is open.")
    with smtplib.SMTP("127.0.0.1", live_server.smtp_port, timeout=20) as smtp:
        smtp.send_message(message, from_addr="citizen@example.org", to_addrs=[reader_address])
    assert_announced(reader, before + 2, outside_subject)
    assert reader.url == f"{live_server.url}/account"

    # Reloaded (and so without any script), the server counts the same.
    reader.reload()
    expect(reader.locator("header [data-webmail-unread]")).to_have_text(str(before + 2))
