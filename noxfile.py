"""Test sessions: ``pip install nox && nox`` runs them all on a fresh machine.

- ``tests``: the whole pytest suite (unit, web, plugins, end-to-end in Debian's Chromium, the
  accessibility checks with axe-core from the npm registry) on SQLite, and on PostgreSQL as well
  when ``PORTAL_TEST_POSTGRES_URL`` is set;
- ``installed``: a plain, non-editable ``pip install`` of the project, then ``portal migrate``,
  ``portal demo --json`` and ``portal serve`` answering /login and SMTP, run outside the checkout, so
  migrations, templates and static files are proven to ship in the package.

``nox -s tests -- tests/e2e -x`` passes arguments on to pytest.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nox

nox.options.sessions = ["tests", "installed"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"
ROOT = Path(__file__).resolve().parent
SAMPLE_PLUGIN = ROOT / "tests" / "sample_plugin"
CHROMIUM = "/usr/bin/chromium"
# axe-core, the accessibility checker the end-to-end tests run in Chromium (WCAG 2.1 AA).
AXE_PACKAGE = "axe-core@4"
AXE_ENV = "PORTAL_TEST_AXE_JS"
# Not copied when building from a clean copy of the checkout.
BUILD_IGNORE = shutil.ignore_patterns(".git", ".venv", ".nox", "build", "dist", "var", "*.egg-info",
                                      "__pycache__", "*.pyc", "test-results", ".pytest_cache")


def apt_install(session: nox.Session, packages: list[str]) -> None:
    """Install Debian packages the tests need; only root can, anyone else is told what to install."""
    if not packages:
        return
    if os.geteuid() != 0:
        session.error(f"missing: install Debian's packages first (sudo apt-get install -y {' '.join(packages)})")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run("apt-get", "update", external=True, env=env)
    session.run("apt-get", "install", "-y", *packages, external=True, env=env)


def ensure_chromium(session: nox.Session) -> None:
    """The end-to-end tests drive Debian's Chromium; install it when missing and we are root."""
    if not Path(CHROMIUM).exists():
        apt_install(session, ["chromium"])


def ensure_axe(session: nox.Session) -> str:
    """``axe.min.js`` of axe-core for the accessibility tests (tests/e2e/test_accessibility.py),
    installed with npm from the npm registry into nox's cache folder once; Debian's npm first
    when it is missing and we are root. The tests find it through ``PORTAL_TEST_AXE_JS``."""
    if os.environ.get(AXE_ENV):
        return os.environ[AXE_ENV]
    folder = Path(session.cache_dir).resolve() / "axe-core"
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        if shutil.which("npm") is None:
            apt_install(session, ["npm"])
        session.run("npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", AXE_PACKAGE, external=True)
    return str(script)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole suite; PostgreSQL too when PORTAL_TEST_POSTGRES_URL is set."""
    session.install("-e", ".[test]")
    if SAMPLE_PLUGIN.is_dir():
        session.install(str(SAMPLE_PLUGIN))
    ensure_chromium(session)
    axe = ensure_axe(session)
    if os.environ.get("PORTAL_TEST_POSTGRES_URL"):
        session.log(f"PostgreSQL too: {os.environ['PORTAL_TEST_POSTGRES_URL']}")
    session.run("pytest", *(session.posargs or ["-q", "-rfEX"]), env={AXE_ENV: axe})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.headers.get("content-type", ""), response.read().decode("utf-8", "replace")


@nox.session(python=PYTHON)
def installed(session: nox.Session) -> None:
    """A non-editable install from a clean copy, exercised from a folder outside the checkout."""
    tmp = Path(session.create_tmp()).resolve()
    source = tmp / "source"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(ROOT, source, ignore=BUILD_IGNORE)  # no stale build/ folder can leak into the wheel
    session.run("python", "-m", "pip", "uninstall", "-y", "-q", "portal")
    session.install(str(source))
    if (source / "tests" / "sample_plugin").is_dir():  # a third-party plugin, installed the same way
        session.install(str(source / "tests" / "sample_plugin"))
    shutil.rmtree(source)

    work = tmp / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    session.chdir(work)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PORTAL_DATA_DIR"] = str(work / "data")

    run = {"env": env, "include_outer_env": False}  # no PORTAL_* setting of the caller leaks in
    location = session.run("python", "-c", "import portal; print(portal.__file__)", silent=True, stderr=None, **run).strip()
    site = Path(session.virtualenv.location).resolve()
    if not Path(location).resolve().is_relative_to(site) or "site-packages" not in location:
        session.error(f"portal was imported from {location}, not from the installed package")
    session.run("portal", "migrate", **run)
    accounts = json.loads(session.run("portal", "demo", "--json", silent=True, stderr=None, **run))
    if not any(a["username"] == "admin" and "admin" in a["roles"] for a in accounts):
        session.error("portal demo --json lists no administrator")
    session.run("portal", "plugins", **run)

    port, smtp_port = _free_port(), _free_port()
    bin_dir = Path(session.bin)
    log_path = work / "serve.log"
    command = [str(bin_dir / "portal"), "serve", "--demo", "--port", str(port), "--smtp-port", str(smtp_port)]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        status, page = 0, ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, _type, page = _get(f"http://127.0.0.1:{port}/login")
                break
            except OSError:
                time.sleep(0.3)
        if status != 200 or 'name="username"' not in page:
            session.error(f"portal serve did not show the login page (status {status}):\n{log_path.read_text()}")
        stylesheet = page.split('rel="stylesheet" href="', 1)[1].split('"', 1)[0]
        css_status, css_type, css = _get(f"http://127.0.0.1:{port}{stylesheet}")
        if css_status != 200 or not css_type.startswith("text/css") or "{" not in css:
            session.error(f"the stylesheet {stylesheet} did not load: {css_status} {css_type}")
        with socket.create_connection(("127.0.0.1", smtp_port), timeout=5) as smtp:
            banner = smtp.makefile("rb").readline().decode("ascii", "replace")
        if not banner.startswith("220"):
            session.error(f"the SMTP listener on port {smtp_port} greeted with {banner!r}")
        session.log(f"portal serve answered /login, {stylesheet} and SMTP ({banner.strip()}) from the installed package")
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
