"""Inbox page latency with 100,000 messages in one mailbox, logged in, on SQLite.

Measures in one run, with the same client (httpx, N concurrent requests):
- reference: a bare Litestar app rendering a 50-row Jinja page from one shared aiosqlite
  connection over the same database (the "raw aiosqlite reference page" of PERFORMANCE.md);
- portal: GET /webmail (inbox, first page of 50, newest first) as a logged-in user.
Targets: portal ≥ 0.5 × the reference's requests/s (moonshot 0.8 ×); issue B: p50 < 20 ms.
Run: ``python bench/inbox_page.py [--messages 100000] [--requests 2000] [--concurrency 32]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
import pyotp

REFERENCE_APP = textwrap.dedent('''
    import sys, aiosqlite, jinja2, uvicorn
    from litestar import Litestar, get, Response
    DB = sys.argv[1]
    template = jinja2.Environment(autoescape=True).from_string(
        "<!doctype html><title>inbox</title><table>{% for r in rows %}<tr><td>{{ r[1] }}</td><td>{{ r[2] }}</td>"
        "<td>{{ r[3] }}</td><td>{{ r[4] }}</td></tr>{% endfor %}</table>")
    state = {}
    async def open_db():
        state["db"] = await aiosqlite.connect(DB)
    @get("/inbox")
    async def inbox() -> Response:
        async with state["db"].execute(
            "SELECT id, subject, sender_address, received_at, size FROM webmail_message WHERE mailbox = ? AND folder = ? "
            "ORDER BY received_at DESC LIMIT 50", (int(sys.argv[4]), int(sys.argv[3]))) as cursor:
            rows = await cursor.fetchall()
        return Response(template.render(rows=rows), media_type="text/html")
    app = Litestar([inbox], on_startup=[open_db])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
''')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def fill_mailbox(db_path: Path, username: str, count: int) -> tuple[int, int]:
    """Insert ``count`` messages into the user's inbox directly (one shared blob); returns (folder, mailbox)."""
    db = sqlite3.connect(db_path)
    mailbox = db.execute("SELECT m.id FROM webmail_mailbox m JOIN core_user u ON u.id = m.owner WHERE u.username = ?", (username,)).fetchone()[0]
    folder = db.execute("SELECT id FROM webmail_folder WHERE mailbox = ? AND kind = 'inbox'", (mailbox,)).fetchone()[0]
    rows = ((mailbox, folder, "0" * 64, 10240, f"<{n}@bench>", "", f"关于第{n}次会议的通知", "办公室", f"office{n % 50}@example.org",
             "", "", f"2026-{1 + n % 12:02d}-{1 + n % 28:02d} 08:00:00+00:00", f"2026-{1 + n % 12:02d}-{1 + n % 28:02d} {n % 24:02d}:{n % 60:02d}:00+00:00",
             n % 3 == 0, False, n % 10 == 0, "请各单位按时参加。", "请各单位按时参加会议。" * 5, None) for n in range(count))
    db.executemany(
        "INSERT INTO webmail_message (mailbox, folder, blob_sha, size, message_id, in_reply_to, subject, sender_name, "
        "sender_address, to_addresses, cc_addresses, sent_at, received_at, seen, flagged, has_attachments, snippet, "
        "body_text, delivery_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    return folder, mailbox


async def load(url: str, cookies, total: int, concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    remaining = total

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await client.get(url)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(cookies=cookies, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*[worker(client) for _ in range(concurrency)])
        elapsed = time.perf_counter() - started
    return total / elapsed, latencies


def log_in(base: str, account: dict) -> httpx.Cookies:
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/login")
        token = client.cookies["portal_csrf"]
        client.post("/login", data={"username": account["username"], "password": account["password"], "_csrf_token": token})
        client.post("/login/verify", data={"code": pyotp.TOTP(account["totp_secret"]).now(), "_csrf_token": token})
        assert client.get("/webmail").status_code == 200
        return client.cookies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    with tempfile.TemporaryDirectory() as tmp:
        env.update(PORTAL_DATA_DIR=tmp, PORTAL_WORKER="off")
        subprocess.run([sys.executable, "-m", "portal.cli", "demo"], env=env, check=True, capture_output=True)
        accounts = {a["username"]: a for a in json.loads(subprocess.run(
            [sys.executable, "-m", "portal.cli", "demo", "--json"], env=env, check=True, capture_output=True, text=True).stdout)}
        account = accounts["zhangwei"]
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "portal.cli", "serve", "--no-smtp", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        reference = None
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/health")
            cookies = log_in(base, account)  # creates the mailbox and its folders
            started = time.perf_counter()
            folder, mailbox = fill_mailbox(Path(tmp) / "portal.sqlite3", account["username"], args.messages)
            print(f"filled the inbox with {args.messages} messages in {time.perf_counter() - started:.1f} s")
            reference_port = free_port()
            reference = subprocess.Popen([sys.executable, "-c", REFERENCE_APP, str(Path(tmp) / "portal.sqlite3"),
                                          str(reference_port), str(folder), str(mailbox)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_http(f"http://127.0.0.1:{reference_port}/inbox")
            asyncio.run(load(f"{base}/webmail", cookies, 100, 4))  # warm-up: templates compiled, caches filled
            asyncio.run(load(f"http://127.0.0.1:{reference_port}/inbox", None, 100, 4))
            ref_rate, ref_latencies = asyncio.run(load(f"http://127.0.0.1:{reference_port}/inbox", None, args.requests, args.concurrency))
            rate, latencies = asyncio.run(load(f"{base}/webmail", cookies, args.requests, args.concurrency))
            single_rate, single = asyncio.run(load(f"{base}/webmail", cookies, 200, 1))
        finally:
            server.terminate()
            server.wait(10)
            if reference is not None:
                reference.terminate()
                reference.wait(10)
    print(f"inbox page, 50 of {args.messages} messages, {args.requests} requests, concurrency {args.concurrency}")
    print(f"  reference (aiosqlite + Jinja2) {ref_rate:7.0f} req/s  p50 {percentile(ref_latencies, .5):6.1f} ms  p99 {percentile(ref_latencies, .99):6.1f} ms")
    print(f"  portal /webmail               {rate:7.0f} req/s  p50 {percentile(latencies, .5):6.1f} ms  p99 {percentile(latencies, .99):6.1f} ms"
          f"  ratio {rate / ref_rate:.2f} (target >= 0.5)")
    print(f"  portal, one request at a time: p50 {percentile(single, .5):.1f} ms  p99 {percentile(single, .99):.1f} ms  (issue B target p50 < 20 ms)")


if __name__ == "__main__":
    main()
