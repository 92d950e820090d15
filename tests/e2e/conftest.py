"""End-to-end fixtures: the real ``portal serve --demo`` in a subprocess, driven by Debian's Chromium.

- ``live_server``: one demo portal for the whole session (its own temporary data directory, HTTP
  and SMTP ports);
- ``lockout_server``: a second, dedicated portal for the lockout test, because five failures
  from 127.0.0.1 lock the *address* for every account for 15 minutes;
- ``unlock_server``: a third one, where an administrator ends such a lock (his own login must
  come before the failures lock the address, so it cannot share ``lockout_server``);
- ``browser`` and ``new_page(server, **context_options)``: Playwright (sync API) driving
  /usr/bin/chromium; every page gets its own context (cookies), closed after the test, and
  a screenshot in ``test-results/`` when the test fails;
- ``demo_accounts``: what ``portal demo --json`` prints, by username; ``totp_code(secret)``.

Two rules keep the tests independent of each other on the shared server:
- TOTP codes are single-use per time step, so every test that logs in with a code uses its
  own demo account (see ``ACCOUNT_OF`` below) instead of waiting for the next 30 s step;
- failed attempts count towards the per-address lockout (5 within 15 minutes), so tests on
  ``live_server`` make at most one deliberate failure each and stay well below it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
START_TIMEOUT = 60  # seconds for `portal serve` to migrate, seed and answer
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"

# Which demo account each test logs in with, so no TOTP code is used twice within a step.
ACCOUNT_OF = {
    "enrolment": "enrol",
    "totp": "zhangwei",
    "recovery": "lina",
    "logout": "wangfang",
    "no_javascript": "zhaolei",
    "preferences_on_account": "liuyang",
    "admin": "admin",
    "lockout": "chenjing",  # on lockout_server only
    "lockout_other": "sunli",  # on lockout_server only
    # chenjing and sunli log in on lockout_server only, so on live_server they are free:
    "webmail_hostile": "chenjing",
    "webmail_live": "sunli",
    "webmail_sender": "zhoujie",  # test_webmail_sending.py (SENDER)
    "webmail_reader": "wuhong",  # test_webmail_sending.py (READER)
    # Recovery codes (not TOTP): admin's code #3 and zhangwei's code #5, for test_webmail_levels.py.
    "levels_admin": "admin",
    "levels_user": "zhangwei",
    # test_login_security.py, on its own server:
    "rule_network": "heqiang",
    "rule_terminal": "guoli",
    "rule_time": "majun",
    "new_place": "luohui",
    # admin with recovery codes #8 and #9 only (test_health_cert.py); his TOTP stays with "admin".
    "certificate_upload": "admin",
    "health_report": "admin",
    # test_admin_reports.py: admin logs in with its recovery codes #5 and #6 (#7 kept spare), never
    # a TOTP code, so it does not race the "admin" test; hanbing is the account it locks.
    "admin_reports": "admin",
    "admin_reports_locked": "hanbing",
    "encrypted_login": "songtao",  # test_login_encryption.py
    "unlocked": "tangxue",  # on unlock_server only (test_lockout.py), with "admin" there
    "live_everywhere_reader": "xuyan",  # test_webmail_live_everywhere.py
    "live_everywhere_sender": "gaoming",  # test_webmail_live_everywhere.py
    "upload_too_large": "heqiang",  # test_request_limits.py
    "load_user": "linfeng",  # test_server_load.py, on its own server
    # test_edoc_parts.py, on its own server (edoc-parts): the office posts a notice, a department's
    # staff member posts news, another attaches files.
    "edoc_parts_office": "wangfang",
    "edoc_parts_staff": "linfeng",
    "edoc_parts_drafter": "xuyan",
    "webmail_forward": "linfeng",  # test_webmail_forward.py, on live_server (the other linfeng claims are on their own servers)
    "webmail_counts": "guoli",  # test_webmail_reading.py (folder counts); guoli's other claim is on its own server
    # test_catalog.py, on its own server (catalog): the county editor, the county's and the city's bureau.
    "catalog_editor": "fengyu",
    "catalog_county_reviewer": "dengli",
    "catalog_city_reader": "caijun",
    "catalog_trees": "yuanfang",
    # test_catalog_interop.py, on its own server (catalog-interop): the county editor imports and exports.
    "catalog_xlsx": "fengyu",
}
# Free demo accounts with TOTP for further tests: majun (township 东镇; on live_server —
# test_login_security.py uses it on its own server) and pengbo (catalog editor, 济南市市场监督管理局).
# Claim one here before using it.
# test_edoc_flow.py logs in zhangwei, lina, wangfang, liuyang, zhaolei, sunli and chenjing on its own
# server (edoc_server), so it takes none of the codes above.


@dataclass
class LiveServer:
    url: str
    smtp_port: int  # the server's own SMTP listener (mail ingress), never the default 2525
    data_dir: Path
    log_path: Path
    process: subprocess.Popen

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clean_env() -> dict[str, str]:
    """The caller's environment without any PORTAL_* setting (no database URL, config file, ...)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}


def _server_env(data_dir: Path) -> dict[str, str]:
    env = _clean_env()
    env.update(PORTAL_DATA_DIR=str(data_dir), PORTAL_SECRET_KEY="e2e-secret-key-not-for-production", PYTHONUNBUFFERED="1")
    return env


def _wait_until_up(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"portal serve exited with {server.process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{server.url}/login", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"portal serve did not answer within {START_TIMEOUT} s:\n{server.log()}")


def _stop(server: LiveServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


@pytest.fixture(scope="session")
def start_live_server(tmp_path_factory):
    """Start ``portal serve --demo`` on a free port with its own data directory; stopped at the end."""
    started: list[LiveServer] = []

    def start(name: str = "portal", **settings: str) -> LiveServer:
        """``settings``: further environment variables, e.g. ``PORTAL_RATE_LIMIT_LOGIN_IP="10/minute"``."""
        root = tmp_path_factory.mktemp(f"e2e-{name}")
        data_dir = root / "data"
        log_path = root / "server.log"
        port, smtp_port = _free_port(), _free_port()
        command = [sys.executable, "-m", "portal.cli", "serve", "--demo", "--host", "127.0.0.1", "--port", str(port),
                   "--smtp-port", str(smtp_port)]
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, cwd=root, env={**_server_env(data_dir), **settings}, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=subprocess.STDOUT)
        server = LiveServer(f"http://127.0.0.1:{port}", smtp_port, data_dir, log_path, process)
        started.append(server)
        _wait_until_up(server)
        return server

    yield start
    for server in started:
        _stop(server)


@pytest.fixture(scope="session")
def live_server(start_live_server) -> LiveServer:
    return start_live_server("main")


@pytest.fixture(scope="session")
def lockout_server(start_live_server) -> LiveServer:
    return start_live_server("lockout")


@pytest.fixture(scope="session")
def unlock_server(start_live_server) -> LiveServer:
    return start_live_server("unlock")


@pytest.fixture(scope="session")
def demo_accounts() -> dict[str, dict]:
    """The demo accounts as ``portal demo --json`` hands them to automation, by username."""
    output = subprocess.run([sys.executable, "-m", "portal.cli", "demo", "--json"], check=True, capture_output=True,
                            text=True, stdin=subprocess.DEVNULL, env=_clean_env()).stdout
    return {account["username"]: account for account in json.loads(output)}


def totp_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module. Not for the session: while Playwright's sync API runs it keeps
    an event loop running in the main thread, and the async tests after tests/e2e would fail."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run the suite through `nox` (it installs Debian's chromium when run as root) "
                    "or `apt-get install -y chromium`", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed
    return report


@pytest.fixture
def new_page(browser, request):
    """``new_page(server, **context_options)``: a page in a fresh browser context (English unless asked)."""
    contexts = []

    def factory(server: LiveServer, **options):
        options.setdefault("locale", "en-US")
        context = browser.new_context(base_url=server.url, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield factory
    for n, context in enumerate(contexts):
        if getattr(request.node, "e2e_failed", False):
            RESULTS_DIR.mkdir(exist_ok=True)
            for m, page in enumerate(context.pages):
                page.screenshot(path=str(RESULTS_DIR / f"{request.node.name}-{n}-{m}.png"), full_page=True)
        context.close()


@pytest.fixture
def page(new_page, live_server):
    return new_page(live_server)


def submit(page, form: str = "main form") -> None:
    """Press the submit button of ``form`` and wait for the page it leads to."""
    with page.expect_navigation():
        page.locator(form).locator("button[type=submit]").click()


def enter_password(page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    submit(page)


def log_in(page, account: dict) -> None:
    """Both steps, as a person types them: password, then the code the authenticator app shows."""
    enter_password(page, account["username"], account["password"])
    assert page.url.endswith("/login/verify"), page.url
    page.fill("#code", totp_code(account["totp_secret"]))
    submit(page)


def log_in_with_recovery_code(page, account: dict, index: int) -> None:
    """Both steps with recovery code number ``index`` of ``portal demo --json`` (each works once)."""
    enter_password(page, account["username"], account["password"])
    assert page.url.endswith("/login/verify"), page.url
    page.goto("/login/recovery")
    page.fill("#code", account["recovery_codes"][index])
    submit(page)
    assert not page.url.endswith("/login/recovery"), page.url


@pytest.fixture
def e2e():
    """The helpers above, for the test modules (which ``--import-mode=importlib`` cannot import from)."""
    return _Helpers()


class _Helpers:
    ACCOUNT_OF = ACCOUNT_OF
    CHROMIUM = CHROMIUM
    CHROMIUM_ARGS = CHROMIUM_ARGS
    submit = staticmethod(submit)
    enter_password = staticmethod(enter_password)
    log_in = staticmethod(log_in)
    log_in_with_recovery_code = staticmethod(log_in_with_recovery_code)
    totp_code = staticmethod(totp_code)
