"""Sending mail in the browser (MAIL-4, MAIL-5) and mail from outside through the live server's
SMTP port with swaks (MAIL-23).

One person writes to a colleague; the colleague logs in (another browser context) and reads it;
the sender's status page then says "Opened". The two demo accounts used here are used by no
other e2e test, so their TOTP codes are never replayed.
"""

import re
import shutil
import subprocess
import time

import pytest

pytestmark = pytest.mark.e2e

SENDER = "zhoujie"
READER = "wuhong"
DOMAIN = "huanghe.gov.example"
SWAKS = shutil.which("swaks") or "/usr/bin/swaks"


def swaks(server, to: str, subject: str, body: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SWAKS, "--server", f"127.0.0.1:{server.smtp_port}", "--from", "citizen@example.org", "--to", to,
         "--header", f"Subject: {subject}", "--body", body, "--timeout", "20"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )


def test_a_message_is_sent_read_and_its_status_becomes_opened(new_page, live_server, demo_accounts, e2e):
    subject = f"E2E 会议通知 {int(time.time())}"
    reader_address = f"{READER}@{DOMAIN}"

    writer = new_page(live_server)
    e2e.log_in(writer, demo_accounts[SENDER])
    writer.goto("/webmail/compose")
    form = writer.locator("main form.compose")
    form.locator("#to").fill(reader_address)
    form.locator("#subject").fill(subject)
    form.locator("#body").fill("请于周五上午九点参加会议。")
    with writer.expect_navigation():
        form.locator("button[name=action][value=send]").click()
    assert re.search(r"/webmail/sent/\d+/status$", writer.url), writer.url
    row = writer.locator("#status-rows tr", has_text=reader_address)
    assert "Delivered" in row.inner_text()
    status_page = writer.url

    reader = new_page(live_server)
    e2e.log_in(reader, demo_accounts[READER])
    reader.goto("/webmail")
    link = reader.locator("main a", has_text=subject)
    assert link.count() == 1
    with reader.expect_navigation():
        link.click()
    assert "请于周五上午九点参加会议" in reader.locator("main").inner_text()

    writer.goto(status_page)
    assert "Opened" in writer.locator("#status-rows tr", has_text=reader_address).inner_text()

    # Mail from outside through the server's SMTP port reaches the same inbox.
    outside_subject = f"E2E from outside {int(time.time())}"
    result = swaks(live_server, reader_address, outside_subject, "Hello from the outside world.")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "250" in result.stdout
    reader.goto("/webmail")
    assert reader.locator("main a", has_text=outside_subject).count() == 1


def test_swaks_to_an_unknown_recipient_is_refused(live_server):
    result = swaks(live_server, f"nobody-here@{DOMAIN}", "E2E unknown", "x")
    assert result.returncode != 0
    assert "550" in result.stdout
