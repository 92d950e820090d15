"""SMTP ingest: messages per second for 10 KB messages, a new connection each, durable storage.

Measures in one run, with the same client load:
- reference: aiosmtpd with a handler that stores nothing (answers 250 at once);
- portal: ``portal smtpd`` on the demo organisation (blob fsynced, rows committed, then 250),
  with its default of one process per CPU (``--workers``).
Target (../shared/PERFORMANCE.md): portal ≥ 0.5 × the reference (moonshot 0.7 ×).

The client is a bare asyncio SMTP dialogue (EHLO, MAIL, RCPT, DATA, QUIT, every reply read and
checked), its messages built before the clock starts, in one or more processes: aiosmtplib
costs so much per message that it, not the server, set the reference's figure (about 400
msg/s against about 1,500 with this client on a quiet machine here). ``--client aiosmtplib``
measures with it all the same. Each server's CPU time per message is printed too, of all its
threads and of its event loop's thread: unlike messages per second it hardly moves with the
machine's load, and the loop threads' bound what the processes can do. The portal's rate
at a fixed number of connections also depends on how long the disk takes to flush: each
message waits for its group's commit (raw messages and rows in one transaction).
Run: ``python bench/smtp_ingest.py [--messages 2000] [--concurrency 16] [--processes 1] [--workers N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

from scratch_db import scratch_postgres

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


def wait_for_listening(portal: subprocess.Popen) -> None:
    """Until every process of ``portal smtpd`` listens: each prints a line when it does, the
    first with how many there are ("SMTP listening on …:port (2 processes)")."""
    first = portal.stdout.readline()
    if "SMTP listening" not in first:
        raise SystemExit(f"portal smtpd did not start: {first!r}")
    count = int(first.rpartition("(")[2].split()[0]) if first.rstrip().endswith("processes)") else 1
    for _ in range(count - 1):
        portal.stdout.readline()


class Refused(Exception):
    pass


async def _reply(reader: asyncio.StreamReader) -> int:
    """The code of one (possibly multi-line) reply."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("the server closed the connection")
        if line[3:4] != b"-":
            return int(line[:3])


async def send_raw(port: int, to: str, message: bytes) -> None:
    """One message over a new connection, as a plain SMTP client does it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if await _reply(reader) != 220:
            raise Refused("greeting")
        for command, expected in ((b"EHLO bench.example\r\n", 250), (b"MAIL FROM:<bench@example.org>\r\n", 250),
                                  (b"RCPT TO:<%s>\r\n" % to.encode(), 250), (b"DATA\r\n", 354)):
            writer.write(command)
            if await _reply(reader) != expected:
                raise Refused(command.decode().strip())
        # Dot-stuffing: a line that starts with "." gets another one (RFC 5321 4.5.2).
        writer.write(message.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
        if await _reply(reader) != 250:
            raise Refused("DATA")
        writer.write(b"QUIT\r\n")
        await _reply(reader)
    finally:
        writer.close()


async def send_aiosmtplib(port: int, to: str, message: bytes) -> None:
    import aiosmtplib

    await aiosmtplib.send(message, sender="bench@example.org", recipients=[to], hostname="127.0.0.1", port=port, timeout=30)


async def blast(port: int, messages: list[tuple[str, bytes]], concurrency: int, client: str) -> int:
    """Send (recipient, message) pairs with ``concurrency`` connections at a time; returns how
    many failed."""
    send = send_raw if client == "raw" else send_aiosmtplib
    queue = iter(messages)
    errors = 0

    async def sender() -> None:
        nonlocal errors
        for to, message in queue:
            try:
                await send(port, to, message)
            except Exception:
                errors += 1

    await asyncio.gather(*[sender() for _ in range(concurrency)])
    return errors


def client_process(args: list[str]) -> None:
    """``--client-process PORT FIRST COUNT CONCURRENCY CLIENT RECIPIENTS``: one client process;
    it builds its messages, says "ready", waits for "go" and prints how many failed."""
    port, first, count, concurrency, client, recipients = args
    addresses = json.loads(recipients)
    messages = [(addresses[n % len(addresses)], ten_kb_message(addresses[n % len(addresses)], n))
                for n in range(int(first), int(first) + int(count))]
    print("ready", flush=True)
    sys.stdin.readline()
    print(asyncio.run(blast(int(port), messages, int(concurrency), client)), flush=True)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU time so far (Linux) of a process and its children (``portal smtpd``
    runs a process per CPU), and of their main threads alone (the event loops': Python runs one
    thread of a process at a time, so this is what bounds a process's rate)."""
    def read(path: str) -> float:
        fields = Path(path).read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    processes = [pid, *(int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                        for child in (task / "children").read_text().split())]
    return (sum(read(f"/proc/{p}/stat") for p in processes),
            sum(read(f"/proc/{p}/task/{p}/stat") for p in processes))


def measure(port: int, server_pid: int, recipients: list[str], args, first: int) -> tuple[float, float, float, int]:
    """Messages per second, the server's CPU ms per message (all threads, the event loop's
    thread) and failures, over ``args.processes``
    client processes that start together; messages are numbered from ``first`` (each round's
    are new: the same bytes twice would be stored once)."""
    share = args.messages // args.processes
    clients = [subprocess.Popen([sys.executable, __file__, "--client-process", str(port), str(first + n * share),
                                 str(share if n < args.processes - 1 else args.messages - n * share),
                                 str(max(1, args.concurrency // args.processes)), args.client, json.dumps(recipients)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for n in range(args.processes)]
    for process in clients:
        assert process.stdout.readline().strip() == "ready"
    cpu = cpu_seconds(server_pid)
    started = time.perf_counter()
    for process in clients:
        process.stdin.write("go\n")
        process.stdin.flush()
    errors = sum(int(process.stdout.readline()) for process in clients)
    elapsed = time.perf_counter() - started
    cpu = [after - before for after, before in zip(cpu_seconds(server_pid), cpu)]
    for process in clients:
        process.wait(10)
    done = max(args.messages - errors, 1)
    return done / elapsed, cpu[0] / done * 1000, cpu[1] / done * 1000, errors


def main() -> None:
    if sys.argv[1:2] == ["--client-process"]:
        client_process(sys.argv[2:])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16, help="connections at a time, over all client processes")
    parser.add_argument("--processes", type=int, default=1, help="client processes")
    parser.add_argument("--workers", type=int, default=0, help="portal smtpd processes (default: its own, one per CPU)")
    parser.add_argument("--client", choices=("raw", "aiosmtplib"), default="raw")
    parser.add_argument("--rounds", type=int, default=3,
                        help="reference and portal measured in turn this many times; medians are compared")
    parser.add_argument("--postgres", metavar="URL",
                        help="store in PostgreSQL instead of SQLite: a scratch database on this server")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        env["PORTAL_DATA_DIR"] = tmp
        if args.postgres:
            env["PORTAL_DATABASE_URL"] = stack.enter_context(scratch_postgres(args.postgres, "smtp"))
        subprocess.run([sys.executable, "-m", "portal.cli", "demo"], env=env, check=True, capture_output=True)
        accounts = json.loads(subprocess.run([sys.executable, "-m", "portal.cli", "demo", "--json"], env=env, check=True,
                                             capture_output=True, text=True).stdout)
        recipients = [a["email"] for a in accounts if a["unit"] == "huanghe"]
        null_port, portal_port = free_port(), free_port()
        null = subprocess.Popen([sys.executable, "-c", NULL_SERVER, str(null_port)])
        workers = ["--workers", str(args.workers)] if args.workers else []
        portal = subprocess.Popen([sys.executable, "-m", "portal.cli", "smtpd", "--port", str(portal_port), *workers],
                                  env=env, stdout=subprocess.PIPE, text=True)
        try:
            wait_for_port(null_port)
            wait_for_listening(portal)
            rounds = [(measure(null_port, null.pid, recipients, args, n * args.messages),
                       measure(portal_port, portal.pid, recipients, args, n * args.messages)) for n in range(args.rounds)]
        finally:
            null.terminate()
            portal.terminate()
            null.wait(10)
            portal.wait(10)
        stored = count_blobs(Path(tmp) / "portal.sqlite3", env.get("PORTAL_DATABASE_URL"))
    reference, measured = (_median([r[side] for r in rounds]) for side in (0, 1))
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"SMTP ingest, {args.messages} messages of 10 KB, new connection each, {args.concurrency} connections "
          f"from {args.processes} {args.client} client process(es), {database}; median of {args.rounds} rounds")
    for n, (ref, mine) in enumerate(rounds, 1):
        print(f"  round {n}: reference {ref[0]:6.0f} msg/s, portal {mine[0]:6.0f} msg/s, ratio {mine[0] / ref[0]:.2f}")
    print(f"  aiosmtpd, handler stores nothing   {reference[0]:8.0f} msg/s   (reference)")
    print(f"  portal smtpd, durable + parsed     {measured[0]:8.0f} msg/s   ratio {measured[0] / reference[0]:.2f}"
          "  (target >= 0.5, moonshot 0.7)")
    print(f"  server CPU per message, all threads / event loop thread: reference {reference[1]:.2f} / {reference[2]:.2f} ms,"
          f" portal {measured[1]:.2f} / {measured[2]:.2f} ms")
    for name, (_rate, _cpu, _loop, errors) in (("reference", reference), ("portal", measured)):
        if errors:
            print(f"  {name}: {errors} messages refused or failed")
    print(f"  raw messages stored: {stored} (expected {args.messages * args.rounds - measured[3]})")


def count_blobs(sqlite_path: Path, database_url: str | None) -> int:
    """Raw messages the portal stored (one per message here: one recipient each)."""
    if database_url:
        async def count() -> int:
            import asyncpg

            connection = await asyncpg.connect(database_url)
            try:
                return await connection.fetchval("SELECT count(*) FROM webmail_blob")
            finally:
                await connection.close()

        return asyncio.run(count())
    with contextlib.closing(sqlite3.connect(sqlite_path)) as connection:
        return connection.execute("SELECT count(*) FROM webmail_blob").fetchone()[0]


def _median(results: list[tuple[float, float, float, int]]) -> tuple[float, float, float, int]:
    """Median rate and CPU per message, and all the failures."""
    middle = [sorted(r[n] for r in results)[len(results) // 2] for n in range(3)]
    return middle[0], middle[1], middle[2], sum(r[3] for r in results)


if __name__ == "__main__":
    main()
