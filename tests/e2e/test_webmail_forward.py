"""Forwarding a message as an attachment in Chromium (MAIL-4): saved as a draft, reopened from the
Drafts folder and sent, the original goes along whole as a message/rfc822 attachment. Then the
inbox's search box (MAIL-1) finds both by a two-character Chinese word.

The original comes in through the live server's SMTP listener; the demo account forwards it to
itself, so one login (one TOTP code) sees both ends.
"""

import re
import smtplib
import time
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

DOMAIN = "huanghe.gov.example"


def test_a_forward_as_attachment_survives_its_draft(new_page, live_server, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["webmail_forward"]]
    address = f"{account['username']}@{DOMAIN}"
    subject = f"E2E 原件 {int(time.time())}"
    original = EmailMessage()
    original["From"] = "Outsider <outsider@example.org>"
    original["To"] = address
    original["Subject"] = subject
    original.set_content("原件正文：请于周五前报送材料。")
    with smtplib.SMTP("127.0.0.1", live_server.smtp_port, timeout=20) as smtp:
        smtp.send_message(original, from_addr="outsider@example.org", to_addrs=[address])

    page = new_page(live_server)
    e2e.log_in(page, account)
    page.goto("/webmail")
    with page.expect_navigation():
        page.locator("main a", has_text=subject).click()
    with page.expect_navigation():
        page.get_by_role("link", name="Forward as attachment").click()
    form = page.locator("main form.compose")
    assert form.get_by_label(f"The original message: {subject}").is_checked()
    form.locator("#to").fill(address)
    with page.expect_navigation():
        form.locator("button[name=action][value=draft]").click()
    assert "The draft is saved." in page.locator("main").inner_text()

    # Reopened later from the Drafts folder, the original is still attached.
    page.goto("/webmail")
    with page.expect_navigation():
        page.locator(".webmail-folders a", has_text="Drafts").click()
    with page.expect_navigation():
        page.locator("main a", has_text=f"Fwd: {subject}").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Edit draft").click()
    form = page.locator("main form.compose")
    carried = form.get_by_label(re.compile(re.escape(subject) + r"\.eml"))
    assert carried.is_checked()
    assert form.locator("#to").input_value() == address
    with page.expect_navigation():
        form.locator("button[name=action][value=send]").click()
    assert re.search(r"/webmail/sent/\d+/status$", page.url), page.url

    page.goto("/webmail")
    with page.expect_navigation():
        page.locator("main a", has_text=f"Fwd: {subject}").click()
    attachment = page.locator(".webmail-attachments a", has_text=f"{subject}.eml")
    assert attachment.count() == 1
    download = page.request.get(attachment.get_attribute("href"))
    assert download.status == 200
    assert "原件正文：请于周五前报送材料。" in download.body().decode()
    page.goto("/webmail")
    with page.expect_navigation():
        page.locator(".webmail-folders a", has_text="Drafts").click()
    assert page.locator("main a", has_text=f"Fwd: {subject}").count() == 0

    # Search: two characters (shorter than a trigram) in subjects; FTS syntax is plain text.
    page.goto("/webmail")
    rows = page.locator("#message-list td.subject a")
    page.fill("#mail-search", "原件")
    page.press("#mail-search", "Enter")
    expect(rows.filter(has_text=subject)).to_have_count(2)  # the original and the forward
    page.fill("#mail-search", f'"{subject}" NEAR(')
    page.press("#mail-search", "Enter")
    expect(rows).to_have_count(0)
    page.fill("#mail-search", "请于周五前报送")
    page.press("#mail-search", "Enter")
    expect(rows).to_have_count(1)  # in the original's body only: the forward's own text is empty
