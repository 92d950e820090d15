"""Encrypted login in Chromium (MAIL-15): the password leaves the browser as an RSA ciphertext.

The POST is watched with Playwright's request event: what the browser sends, byte for byte.
"""

import base64
from urllib.parse import parse_qs, quote_plus, urlsplit

import pytest

pytestmark = pytest.mark.e2e


def watch_login_posts(page) -> list[str]:
    """The bodies of the POSTs to /login the page sends from now on."""
    bodies: list[str] = []

    def seen(request) -> None:
        if request.method == "POST" and urlsplit(request.url).path == "/login":
            bodies.append(request.post_data or "")

    page.on("request", seen)
    return bodies


def test_the_password_is_sent_encrypted_and_the_login_succeeds(page, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["encrypted_login"]]
    bodies = watch_login_posts(page)
    page.goto("/login")
    assert page.locator("#login-form[data-key][data-nonce]").count() == 1
    e2e.enter_password(page, account["username"], account["password"])
    assert page.url.endswith("/login/verify")

    assert len(bodies) == 1
    assert account["password"] not in bodies[0] and quote_plus(account["password"]) not in bodies[0]
    form = parse_qs(bodies[0], keep_blank_values=True)
    assert form["username"] == [account["username"]]
    assert form["password"] == [""]
    assert len(base64.b64decode(form["password_cipher"][0])) == 3072 // 8  # one RSA block of the default key
    assert form["password_key"][0].isdigit()
    assert page.locator("#password").count() == 0  # on the second step now

    page.fill("#code", e2e.totp_code(account["totp_secret"]))
    e2e.submit(page)
    assert page.url.endswith("/")
    assert account["display_name"] in page.locator("header .who").inner_text()


def test_a_wrong_password_sent_encrypted_says_so_and_the_page_can_be_used_again(page, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["encrypted_login"]]
    bodies = watch_login_posts(page)
    e2e.enter_password(page, account["username"], "not-the-password")
    assert page.url.endswith("/login")
    assert page.locator("[role=alert]").inner_text() == "Wrong username or password."
    assert page.locator("#username").input_value() == account["username"]
    assert "not-the-password" not in bodies[0]
    # The page shown again has a fresh nonce: the right password now passes the first step.
    e2e.enter_password(page, account["username"], account["password"])
    assert page.url.endswith("/login/verify")
    assert parse_qs(bodies[1])["password_cipher"][0] != parse_qs(bodies[0])["password_cipher"][0]


@pytest.fixture
def insecure_page(browser, live_server, e2e):
    """A page at http://portal.example:<port>: Chromium resolves the name to 127.0.0.1, but plain
    http to a host other than localhost is no secure context, so WebCrypto's crypto.subtle is absent."""
    port = urlsplit(live_server.url).port
    chromium = browser.browser_type.launch(
        executable_path=e2e.CHROMIUM, headless=True,
        args=[*e2e.CHROMIUM_ARGS, "--host-resolver-rules=MAP portal.example 127.0.0.1"])
    context = chromium.new_context(base_url=f"http://portal.example:{port}", locale="en-US")
    context.set_default_timeout(15_000)
    yield context.new_page()
    chromium.close()


def test_without_webcrypto_the_plain_form_is_sent(insecure_page, demo_accounts, e2e):
    page = insecure_page
    account = demo_accounts[e2e.ACCOUNT_OF["encrypted_login"]]
    bodies = watch_login_posts(page)
    page.goto("/login")
    assert page.evaluate("window.isSecureContext") is False
    assert page.evaluate("typeof (window.crypto && window.crypto.subtle)") == "undefined"
    e2e.enter_password(page, account["username"], account["password"])
    assert page.url.endswith("/login/verify")  # the first step passed, silently
    form = parse_qs(bodies[0], keep_blank_values=True)
    assert form["password"] == [account["password"]]
    assert form["password_cipher"] == [""]
