"""Mass send with separate display (群发单显, MAIL-4): one user's message to 1,000 colleagues.

Times ``plugins.webmail.sending.send`` (the service the compose page calls) for a message of
about 4 KB, separate display on, to N internal recipients:
- cold: the recipients have never had mail, so their mailboxes are created on the way;
- warm: the same again, every mailbox there.
Each recipient's copy is a raw message of its own (its To differs), stored in the transaction
of the send's rows. For scale, the time to write and fsync as many 4 KB files one by one (the
disk's floor for naive durable storage) is printed too. Targets (../shared/PERFORMANCE.md): < 2 s,
moonshot < 0.5 s. The copies are checked afterwards: one per recipient, To him alone.
Run: ``python bench/mass_send.py [--recipients 1000] [--postgres postgresql://…/postgres]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import sys
import tempfile
import time
from email import message_from_bytes, policy
from pathlib import Path
from types import SimpleNamespace

from scratch_db import scratch_postgres

DOMAIN = "qunfa.gov.example"
BODY = ("各位同事：\n根据工作安排，现将有关事项通知如下，请认真阅读并按要求落实。\n" * 30)[:2000]


def fsync_floor(directory: Path, count: int, size: int) -> float:
    """Seconds to write and fsync ``count`` files of ``size`` bytes one after the other."""
    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for n in range(count):
        with open(directory / f"{n}.eml", "wb") as handle:
            handle.write(hashlib.sha256(str(n).encode()).digest() * (size // 32))
            handle.flush()
            os.fsync(handle.fileno())
    descriptor = os.open(directory, os.O_RDONLY)
    os.fsync(descriptor)
    os.close(descriptor)
    return time.perf_counter() - started


async def organisation(count: int) -> tuple[SimpleNamespace, list[str]]:
    """A unit with its mail domain, the sender, and ``count`` colleagues (inserted directly:
    hashing a thousand passwords would only time argon2)."""
    from portal.accounts.services import UnitForm, UserForm, create_unit, create_user
    from portal.accounts.tables import User

    unit = await create_unit(None, UnitForm("群发测试局", "qunfa", "county", None, DOMAIN, "群发"))
    sender = await create_user(None, UserForm("sender", "发件人", f"sender@{DOMAIN}", unit, None, "bench-password-123"))
    names = [f"staff{n:05d}" for n in range(count)]
    for start in range(0, count, 500):
        await User.insert(*[User(username=name, display_name=f"同事{name[5:]}", email=f"{name}@{DOMAIN}",
                                 password_hash="!", unit=unit) for name in names[start:start + 500]])
    return SimpleNamespace(id=sender, display_name="发件人"), [f"{name}@{DOMAIN}" for name in names]


async def timed_send(portal, sender, recipients: list[str], subject: str) -> tuple[float, int]:
    from plugins.webmail import sending

    started = time.perf_counter()
    outgoing = await sending.send(portal, sender, sending.Draft(to=recipients, subject=subject, body=BODY, separate_display=True))
    return time.perf_counter() - started, outgoing


async def check(portal, outgoing: int, recipients: list[str]) -> str:
    """Every recipient has exactly one copy of this send, in his inbox, To him alone, delivered."""
    from plugins.webmail.blobs import read_blob
    from plugins.webmail.tables import Delivery, Mailbox, Message

    deliveries = await Delivery.select(Delivery.id, Delivery.recipient, Delivery.status).where(Delivery.outgoing == outgoing)
    if sorted(d["recipient"] for d in deliveries) != sorted(recipients) or {d["status"] for d in deliveries} != {"delivered"}:
        return "FAILED: deliveries"
    copies = await Message.select(Message.blob_sha, Message.delivery_id, Message.mailbox.address.as_alias("address")).where(
        Message.delivery_id.is_in([d["id"] for d in deliveries]))
    if sorted(c["address"] for c in copies) != sorted(recipients):
        return "FAILED: copies"
    for copy in copies:
        raw = await read_blob(portal, copy["blob_sha"])
        if message_from_bytes(raw, policy=policy.default)["To"] != copy["address"] or b"Bcc" in raw:
            return f"FAILED: To of {copy['address']}"
    assert await Mailbox.count() >= len(recipients)
    return f"ok: {len(copies)} copies, each To its recipient alone, {len(deliveries)} deliveries delivered"


async def run(args, data_dir: Path) -> None:
    from portal.cli import _app, _prepare
    from portal.db import close_engine
    from portal.settings import Settings

    app = _app(Settings.from_env().with_changes(worker="off", services=False))
    await _prepare(app, seed=False, verbose=False)
    portal = app.state.portal
    try:
        async with app.lifespan():
            sender, recipients = await organisation(args.recipients)
            cold, first = await timed_send(portal, sender, recipients, "关于开展安全检查的通知")
            first_check = await check(portal, first, recipients)
            warm, second = await timed_send(portal, sender, recipients, "关于开展安全检查的补充通知")
            second_check = await check(portal, second, recipients)
    finally:
        await close_engine()
    floor = fsync_floor(data_dir / "floor", args.recipients, 4096)
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"Mass send with separate display to {args.recipients} internal recipients, {database}")
    print(f"  cold (mailboxes created on the way)   {cold:6.2f} s   {first_check}")
    print(f"  warm (every mailbox there)            {warm:6.2f} s   {second_check}")
    print(f"  for scale: {args.recipients} files of 4 KB written and fsynced one by one: {floor:.2f} s")
    print("  target < 2 s, moonshot < 0.5 s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL instead of SQLite: a scratch database on this server")
    args = parser.parse_args()
    for name in [k for k in os.environ if k.startswith("PORTAL_")]:
        del os.environ[name]
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        os.environ["PORTAL_DATA_DIR"] = tmp
        if args.postgres:
            os.environ["PORTAL_DATABASE_URL"] = stack.enter_context(scratch_postgres(args.postgres, "mass_send"))
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
