"""SMTP ingest: messages per second for 10 KB messages, a new connection each, durable storage.

Measures in one run, with the same client load:
- reference: aiosmtpd with a handler that stores nothing (answers 250 at once);
- portal: ``portal smtpd`` on the demo organisation (blob fsynced, rows committed, then 250).
Target (../shared/PERFORMANCE.md): portal ≥ 0.5 × the reference (moonshot 0.7 ×).
Run: ``python bench/smtp_ingest.py [--messages 2000] [--concurrency 16]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

import aiosmtplib

NULL_SERVER = """
import asyncio, sys
from aiosmtpd.smtp import SMTP
class Null:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Null(), hostname="bench"), "127.0.0.1", int(sys.argv[1]))
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def ten_kb_message(to: str, n: int) -> bytes:
    message = EmailMessage()
    message["From"] = "bench@example.org"
    message["To"] = to
    message["Subject"] = f"压力测试 {n}"
    message.set_content(("政务邮箱性能测试。" * 40 + "\n") * 9)
    raw = message.as_bytes(policy=SMTP_POLICY)
    return raw + b"X" * max(0, 10_240 - len(raw))


async def blast(port: int, recipients: list[str], count: int, concurrency: int) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    errors = 0

    async def sender() -> None:
        nonlocal errors
        while not queue.empty():
            n = queue.get_nowait()
            to = recipients[n % len(recipients)]
            try:
                await aiosmtplib.send(ten_kb_message(to, n), sender="bench@example.org", recipients=[to],
                                      hostname="127.0.0.1", port=port, timeout=30)
            except Exception:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*[sender() for _ in range(concurrency)])
    elapsed = time.perf_counter() - started
    if errors:
        print(f"  ({errors} messages refused)")
    return (count - errors) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    with tempfile.TemporaryDirectory() as tmp:
        env["PORTAL_DATA_DIR"] = tmp
        subprocess.run([sys.executable, "-m", "portal.cli", "demo"], env=env, check=True, capture_output=True)
        accounts = json.loads(subprocess.run([sys.executable, "-m", "portal.cli", "demo", "--json"], env=env, check=True,
                                             capture_output=True, text=True).stdout)
        recipients = [a["email"] for a in accounts if a["unit"] == "huanghe"]
        null_port, portal_port = free_port(), free_port()
        null = subprocess.Popen([sys.executable, "-c", NULL_SERVER, str(null_port)])
        portal = subprocess.Popen([sys.executable, "-m", "portal.cli", "smtpd", "--port", str(portal_port)], env=env,
                                  stdout=subprocess.DEVNULL)
        try:
            wait_for_port(null_port)
            wait_for_port(portal_port)
            reference = asyncio.run(blast(null_port, recipients, args.messages, args.concurrency))
            measured = asyncio.run(blast(portal_port, recipients, args.messages, args.concurrency))
        finally:
            null.terminate()
            portal.terminate()
            null.wait(10)
            portal.wait(10)
        stored = sum(1 for _ in (Path(tmp) / "mail" / "blobs").rglob("*") if _.is_file())
    print(f"SMTP ingest, {args.messages} messages of 10 KB, new connection each, {args.concurrency} clients")
    print(f"  aiosmtpd, handler stores nothing   {reference:8.0f} msg/s   (reference)")
    print(f"  portal smtpd, durable + parsed     {measured:8.0f} msg/s   ratio {measured / reference:.2f}  (target >= 0.5)")
    print(f"  blobs on disk: {stored}")


if __name__ == "__main__":
    main()
