"""Bytes on the wire and login time, as a person on a first visit sees them, in Debian's Chromium.

Starts ``portal serve --demo`` on a temporary data directory and measures, with an empty cache:
- the login page and everything it loads (bytes as transferred, compressed, headers included);
- logging in (password, then TOTP) and the home page with everything it loads;
- a warm-cache revisit of the home page;
- the same first visit at 50 kbit/s down, 20 kbit/s up, 300 ms RTT (Chromium network
  emulation): time to first paint of the login page, and click "log in" → home page shown.

Targets (../shared/PERFORMANCE.md): ≤ 60 KB first visit to login and home (moonshot 30 KB);
login first paint at the slow link < 10 s. Run: ``python bench/page_weight.py``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pyotp
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SLOW_LINK = {"offline": False, "latency": 300, "downloadThroughput": 50_000 / 8, "uploadThroughput": 20_000 / 8}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_portal(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")} | {"PORTAL_DATA_DIR": str(data_dir)}
    process = subprocess.Popen([sys.executable, "-m", "portal.cli", "serve", "--demo", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)
            return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("portal did not start")


def demo_accounts() -> dict:
    output = subprocess.run([sys.executable, "-m", "portal.cli", "demo", "--json"], capture_output=True, text=True, check=True)
    return {a["username"]: a for a in json.loads(output.stdout)}


class WireMeter:
    """Sums encodedDataLength (bytes received, headers included) of every finished request."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.total = 0
        self.count = 0
        self.cdp.on("Network.loadingFinished", self._finished)

    def _finished(self, event) -> None:
        self.total += int(event["encodedDataLength"])
        self.count += 1

    def reset(self) -> tuple[int, int]:
        figures = (self.total, self.count)
        self.total = self.count = 0
        return figures


def log_in(page, url: str, account: dict) -> None:
    page.fill("#username", account["username"])
    page.fill("#password", account["password"])
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{url}/login/verify")
    page.fill("#code", pyotp.TOTP(account["totp_secret"]).now())
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{url}/")


def wait_for_first_paint(page, timeout: float = 120) -> float:
    """Seconds from navigation start to first paint (polled: the page's CSP forbids eval)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        paint = page.evaluate("() => performance.getEntriesByName('first-paint').map(e => e.startTime)")
        if paint:
            return paint[0] / 1000
        time.sleep(0.1)
    raise TimeoutError("no first paint")


def main() -> None:
    accounts = demo_accounts()
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_portal(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                context = browser.new_context()
                page = context.new_page()
                meter = WireMeter(page)
                page.goto(f"{url}/login", wait_until="networkidle")
                login_bytes, login_requests = meter.reset()
                started = time.perf_counter()
                log_in(page, url, accounts["zhangwei"])
                page.wait_for_load_state("networkidle")
                login_seconds = time.perf_counter() - started
                home_bytes, home_requests = meter.reset()
                page.goto(f"{url}/", wait_until="networkidle")
                revisit_bytes, revisit_requests = meter.reset()
                context.close()

                slow = browser.new_context()
                slow_page = slow.new_page()
                cdp = slow.new_cdp_session(slow_page)
                cdp.send("Network.enable")
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                cdp.send("Network.emulateNetworkConditions", SLOW_LINK)
                slow_page.goto(f"{url}/login", wait_until="commit")
                first_paint = wait_for_first_paint(slow_page)
                slow_page.wait_for_load_state("load", timeout=120_000)
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
                started = time.perf_counter()
                log_in(slow_page, url, accounts["lina"])
                slow_login_seconds = time.perf_counter() - started
                browser.close()
        finally:
            process.terminate()
            process.wait(10)

    print("page weight, first visit, bytes on the wire (target <= 60 KB, moonshot <= 30 KB)")
    print(f"  login page + assets      {login_bytes / 1024:7.1f} KB  in {login_requests} requests")
    print(f"  log in + home + assets   {home_bytes / 1024:7.1f} KB  in {home_requests} requests")
    print(f"  home revisit, warm cache {revisit_bytes / 1024:7.1f} KB  in {revisit_requests} requests")
    print(f"  first visit total        {(login_bytes + home_bytes) / 1024:7.1f} KB  (Roundcube reference: 392 KB login, 77 KB inbox)")
    print(f"login (password + TOTP) on loopback: {login_seconds * 1000:.0f} ms")
    print("slow link: 50 kbit/s down, 20 up, 300 ms RTT, empty cache")
    print(f"  login page first paint   {first_paint:5.1f} s   (target < 10 s; Roundcube 44 s)")
    print(f"  click log in -> home     {slow_login_seconds:5.1f} s   (two form posts, TOTP step included)")


if __name__ == "__main__":
    main()
