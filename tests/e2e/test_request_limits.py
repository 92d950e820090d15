"""Too large for the server, as a person sees it in Chromium (MAIL-17): attachments over the
compose form's limit give a page that says the limit, not a broken connection."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

MB = 1024 * 1024
COMPOSE_LIMIT_MB = 29  # the default message limit (25 MB) plus 4 MB for the form


def test_attachments_over_the_compose_limit_give_a_page_that_says_the_limit(new_page, live_server, demo_accounts, e2e,
                                                                           tmp_path):
    big = tmp_path / "scan.pdf"
    with big.open("wb") as handle:
        handle.truncate((COMPOSE_LIMIT_MB + 2) * MB)
    page = new_page(live_server)
    e2e.log_in(page, demo_accounts[e2e.ACCOUNT_OF["upload_too_large"]])
    page.goto("/webmail/compose")
    form = page.locator("main form.compose")
    form.locator("#to").fill("xuyan@huanghe.gov.example")
    form.locator("#subject").fill("Too large")
    form.locator("#attachments").set_input_files(str(big))
    with page.expect_navigation() as navigation:
        form.locator("button[name=action][value=send]").click()
    assert navigation.value.status == 413
    expect(page.locator("main h1")).to_have_text("Too large")
    expect(page.locator("main [role=alert]")).to_contain_text(f"larger than the {COMPOSE_LIMIT_MB} MB allowed here")
    # Going back finds the form as it was left (the browser keeps what was typed).
    page.go_back()
    expect(page.locator("#subject")).to_have_value("Too large")
    assert re.search(r"/webmail/compose$", page.url)
