"""The uploaded certificate is served at once (MAIL-21): a real TLS client on the HTTPS port and on
SMTP STARTTLS sees the new certificate after an upload, with no restart, while a connection
opened before keeps working."""

import asyncio
import hashlib
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import pyotp

from portal.tls.certs import inspect
from portal.tls.serve import Listeners
from portal.tls.store import CertificateStore
from portal.testing import TestUser as AccountOfTest, csrf_token, login_as

WAIT = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def client_context() -> ssl.SSLContext:
    """A client that accepts any certificate: the test compares fingerprints itself."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def colon_hex(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest().upper()


def fingerprint_of(pki_fingerprint: str) -> str:
    return pki_fingerprint.replace(":", "")


def https_fingerprint(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as raw:
        with client_context().wrap_socket(raw, server_hostname="portal.example") as tls:
            return colon_hex(tls.getpeercert(binary_form=True))


def starttls_fingerprint(port: int) -> str:
    with smtplib.SMTP("127.0.0.1", port, timeout=WAIT) as smtp:
        smtp.ehlo("client.example")
        assert smtp.has_extn("starttls")
        smtp.starttls(context=client_context())
        fingerprint = colon_hex(smtp.sock.getpeercert(binary_form=True))
        smtp.ehlo("client.example")  # the session goes on over TLS
        return fingerprint


def smtp_offers_starttls(port: int) -> bool:
    with smtplib.SMTP("127.0.0.1", port, timeout=WAIT) as smtp:
        smtp.ehlo("client.example")
        return smtp.has_extn("starttls")


class HeldConnection:
    """One keep-alive HTTPS connection, opened before an upload and used after it."""

    def __init__(self, port: int):
        raw = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        self.tls = client_context().wrap_socket(raw, server_hostname="portal.example")
        self.fingerprint = colon_hex(self.tls.getpeercert(binary_form=True))

    def get(self, path: str) -> bytes:
        self.tls.sendall(f"GET {path} HTTP/1.1\r\nHost: portal.example\r\nConnection: keep-alive\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.tls.recv(4096)
        header, _sep, body = head.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in header.split(b"\r\n") if line.lower().startswith(b"content-length")))
        while len(body) < length:
            body += self.tls.recv(4096)
        return header.split(b"\r\n")[0]

    def close(self) -> None:
        self.tls.close()


async def make_admin() -> AccountOfTest:
    from portal.accounts.services import UserForm, create_user
    from portal.accounts.tables import User

    secret = pyotp.random_base32()
    user_id = await create_user(None, UserForm("root", "Root", "root@test.example", None, None, "test-password-123"),
                                roles=["admin", "staff"])
    await User.update({User.totp_secret: secret}).where(User.id == user_id)
    return AccountOfTest(user_id, "root", "test-password-123", secret, ["admin", "staff"])


async def upload(client, issued) -> None:
    response = await client.post("/admin/tls", data={"_csrf_token": csrf_token(client)},
                                 files={"chain": ("chain.pem", issued.chain_pem()), "key": ("key.pem", issued.key_pem())})
    assert response.status_code == 303, response.text


async def test_https_and_starttls_use_an_uploaded_certificate_without_a_restart(make_app, pki):
    smtp_port = free_port()
    app = make_app(services=True, smtp_port=smtp_port)
    listeners = Listeners(app, "127.0.0.1", 0, 0, log_level="warning")
    serving = asyncio.create_task(listeners.serve())
    try:
        while not listeners.https.started:
            assert not serving.done(), serving.result()
            await asyncio.sleep(0.05)
        http_url = f"http://127.0.0.1:{Listeners.port_of(listeners.http)}"
        https_port = Listeners.port_of(listeners.https)
        admin = await make_admin()
        first, second = pki.leaf(("first.portal.example",)), pki.leaf(("second.portal.example",))
        async with httpx.AsyncClient(base_url=http_url, timeout=WAIT) as client:
            await client.get("/login")
            await login_as(client, admin)

            # Nothing uploaded yet: HTTPS refuses the handshake, SMTP offers no STARTTLS.
            try:
                await asyncio.to_thread(https_fingerprint, https_port)
                raise AssertionError("HTTPS answered without a certificate")
            except (ssl.SSLError, ConnectionError):
                pass
            assert not await asyncio.to_thread(smtp_offers_starttls, smtp_port)

            await upload(client, first)
            assert await asyncio.to_thread(https_fingerprint, https_port) == fingerprint_of(first.fingerprint)
            assert await asyncio.to_thread(starttls_fingerprint, smtp_port) == fingerprint_of(first.fingerprint)
            held = await asyncio.to_thread(HeldConnection, https_port)
            assert (await asyncio.to_thread(held.get, "/health")).endswith(b"200 OK")

            await upload(client, second)
            assert await asyncio.to_thread(https_fingerprint, https_port) == fingerprint_of(second.fingerprint)
            assert await asyncio.to_thread(starttls_fingerprint, smtp_port) == fingerprint_of(second.fingerprint)
            # The connection opened before the upload keeps its certificate and is still served.
            assert held.fingerprint == fingerprint_of(first.fingerprint)
            assert (await asyncio.to_thread(held.get, "/login")).endswith(b"200 OK")
            held.close()

            # Pages are served over HTTPS too, the same application.
            async with httpx.AsyncClient(base_url=f"https://127.0.0.1:{https_port}", verify=False, timeout=WAIT) as tls_client:
                assert (await tls_client.get("/health")).json()["ok"] is True
    finally:
        listeners.stop()
        await asyncio.wait_for(serving, WAIT)


def test_portal_serve_https_port_picks_up_a_certificate_installed_by_another_process(tmp_path, pki):
    """The command's own wiring, and a change made in another process (the state file is shared)."""
    data_dir = tmp_path / "data"
    store = CertificateStore(data_dir / "tls")
    first, second = pki.leaf(("first.example",)), pki.leaf(("second.example",))
    store.install(first.chain_pem(), first.key_pem(), inspect(first.chain_pem(), first.key_pem()), uploaded_by="root")
    port, https_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(PORTAL_DATA_DIR=str(data_dir), PORTAL_SECRET_KEY="test", PYTHONUNBUFFERED="1")
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "portal.cli", "serve", "--no-smtp", "--port", str(port),
                                "--https-port", str(https_port)], cwd=tmp_path, env=env, stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, Path(tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        while True:  # the HTTPS listener starts after the HTTP one
            try:
                seen = https_fingerprint(https_port)
                break
            except ConnectionRefusedError:
                assert process.poll() is None and time.monotonic() < deadline, Path(tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        assert seen == fingerprint_of(first.fingerprint)
        store.install(second.chain_pem(), second.key_pem(), inspect(second.chain_pem(), second.key_pem()), uploaded_by="root")
        time.sleep(1.2)  # the server looks at the state file at most once a second
        assert https_fingerprint(https_port) == fingerprint_of(second.fingerprint)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
