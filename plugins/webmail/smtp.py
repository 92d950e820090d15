"""The SMTP server for mail from outside (MAIL-23), on aiosmtpd, in the application's event loop.

It accepts only the portal's own domains, refuses unknown recipients at RCPT (550), refuses
messages over the size limit (552, aiosmtpd's ``data_size_limit``), and answers 250 only
after the raw message and its rows are committed (one transaction). A storage failure
answers 451, so the sender keeps the message and tries again: nothing is accepted then lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace

from aiosmtpd.smtp import MISSING, SMTP, Envelope, Session

from plugins.webmail.blobs import blob_id
from plugins.webmail.levels import limits_for_mailbox
from plugins.webmail.mime import ParsedMessage, parse_message
from plugins.webmail.services import (Copy, Recipient, Stored, announce, find_recipients, local_domains, store_copies,
                                      store_copies_with)
from portal.db import thread_writer

log = logging.getLogger("portal.webmail.smtp")
DEFAULT_MAX_MESSAGE = 25 * 1024 * 1024
MAX_RECIPIENTS = 100
PR_SET_PDEATHSIG = 1


class InboundHandler:
    def __init__(self, portal):
        self.portal = portal
        self.commits = GroupCommit(portal)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list) -> str:
        address = address.strip().lower()
        found = (await find_recipients([address])).get(address)
        if found is None:
            if address.rpartition("@")[2] not in await local_domains():
                return "550 5.7.1 Relaying denied: not a domain of this portal"
            return "550 5.1.1 No such user here"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        refusal = await _refusal(found, _declared_size(envelope) or 1)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        _recipients(envelope)[address] = found
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        # The mailboxes found at RCPT: a message in the middle of its SMTP dialogue is not looked up again.
        mailboxes = {r.mailbox_id: r for r in (_recipients(envelope)[a] for a in envelope.rcpt_tos)}
        traced = _with_trace(raw, session, envelope)
        for recipient in mailboxes.values():
            refusal = await _refusal(recipient, len(traced))
            if refusal:
                # One answer covers every recipient of the transaction: refuse it whole, so the
                # sender's server reports it and nothing is accepted and then dropped.
                return refusal
        try:
            await self.commits.store(traced, sorted(mailboxes))
        except Exception:
            log.exception("could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 Could not store the message now; please try again later"
        return "250 OK: stored"


async def _refusal(recipient: Recipient, size: int) -> str | None:
    """552 when the recipient's service level (MAIL-12) has no room or takes no message this large."""
    limits = await limits_for_mailbox(recipient.as_mailbox())
    if size > limits.max_message_bytes:
        return f"552 5.3.4 Message too big for <{recipient.address}>"
    if not recipient.has_room(size):
        return f"552 5.2.2 Mailbox of <{recipient.address}> is full"
    return None


def _declared_size(envelope: Envelope) -> int:
    """The SIZE the client declared with MAIL FROM (RFC 1870), else 0."""
    for option in envelope.mail_options or []:
        name, _, value = option.partition("=")
        if name.upper() == "SIZE" and value.isdigit():
            return int(value)
    return 0


def _recipients(envelope: Envelope) -> dict[str, Recipient]:
    """The mailbox of each accepted recipient of this envelope, by address."""
    if not hasattr(envelope, "portal_recipients"):
        envelope.portal_recipients = {}
    return envelope.portal_recipients


@dataclass(frozen=True)
class _Incoming:
    raw: bytes
    parsed: ParsedMessage
    mailbox_ids: list[int]


class GroupCommit:
    """Messages arriving together are stored together (group commit): while one group is being
    stored, the messages that come in wait and form the next, so the database's flush is paid
    once per group instead of once per message. A group's raw messages and rows are one
    transaction. Each sender still hears 250 only after his own message is committed, and a
    message that fails alone answers 451 alone."""

    def __init__(self, portal):
        self.portal = portal
        self.waiting: list[tuple[_Incoming, asyncio.Future]] = []
        self.flushing: asyncio.Task | None = None

    async def store(self, raw: bytes, mailbox_ids: list[int]) -> None:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((_Incoming(raw, parse_message(raw), mailbox_ids), future))
        if self.flushing is None:
            self.flushing = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        try:
            while self.waiting:
                group, self.waiting = self.waiting, []
                try:
                    await self._commit(group)
                finally:
                    for _incoming, future in group:  # still open only if the flush itself was cancelled
                        _settle(future, RuntimeError("the server stopped before storing the message"))
        finally:
            self.flushing = None

    async def _commit(self, group: list[tuple[_Incoming, asyncio.Future]]) -> None:
        try:
            copies, stored = await self._store([incoming for incoming, _ in group])
        except Exception as error:
            if len(group) == 1:
                _settle(group[0][1], error)
                return
            # Someone's message broke the group: each goes again on his own.
            for item in group:
                await self._commit([item])
            return
        position = 0
        for mine, (_incoming, future) in zip(copies, group):
            announce(self.portal, [(copy.parsed, item) for copy, item in zip(mine, stored[position:position + len(mine)])])
            position += len(mine)
            _settle(future)

    async def _store(self, group: list[_Incoming]) -> tuple[list[list[Copy]], list[Stored]]:
        """The group's blobs and rows in one transaction: on SQLite in one trip to the writer's
        thread (a trip a statement costs more than the statements when the loop is busy)."""
        shas = [blob_id(incoming.raw) for incoming in group]
        blobs = {sha: incoming.raw for sha, incoming in zip(shas, group)}
        copies = [[Copy(incoming.parsed, m, sha, len(incoming.raw)) for m in incoming.mailbox_ids]
                  for incoming, sha in zip(group, shas)]
        every = [copy for mine in copies for copy in mine]
        writer = thread_writer()
        if writer is None:
            return copies, await store_copies(every, blobs)
        return copies, await writer.run(lambda connection: store_copies_with(connection, every, blobs))


class PortalSMTP(SMTP):
    """aiosmtpd's protocol, with the address of MAIL FROM and RCPT TO parsed once per text and
    the message of DATA read in blocks.

    aiosmtpd parses each address with the email package's RFC 5322 grammar and defines a class
    on every call, and reads DATA one line at a time (an await, a copy and a list entry for
    each of a 10 KB message's ~180 lines): together a third of the server's loop time."""

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        return _parsed_address(arg, self.local_part_limit)

    async def smtp_DATA(self, arg: str) -> None:
        if self._decode_data or "DATA" not in self._handle_hooks:
            return await super().smtp_DATA(arg)  # what the portal never configures: aiosmtpd's own
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return None
        if not self.envelope.rcpt_tos:
            return await self.push("503 Error: need RCPT command")
        if arg:
            return await self.push("501 Syntax: DATA")
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            content, refusal = await read_data(self._reader, self.data_size_limit, self.line_length_limit)
        except asyncio.CancelledError:
            log.info("connection lost during DATA")
            self._writer.close()
            raise
        if refusal:
            self._set_post_data_state()
            return await self.push(refusal)
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)
        return None


DOT_LINE = b".\r\n"


async def read_data(reader: asyncio.StreamReader, size_limit: int | None, line_limit: int) -> tuple[bytes, str | None]:
    """The message of a DATA command, up to the line that is a lone "." (RFC 5321 4.1.1.4),
    dot-stuffing undone (4.5.2), as aiosmtpd reads it line by line, and its refusal: 552 over
    ``size_limit`` bytes, 500 for a line over ``line_limit`` (with its CRLF). Refused data is
    read to its end all the same (and not kept past the limit), so the session goes on.

    ``reader`` gives out a block only up to a ".\r\n" (or up to its own limit): that is the
    end when a line end comes before it, which the two bytes read before tell."""
    kept = bytearray()
    size = 0
    tail = b"\r\n"  # the DATA command's line end: the first line is a line start too
    while True:
        try:
            block = await reader.readuntil(DOT_LINE)
        except asyncio.LimitOverrunError as error:  # no ".\r\n" near: take what is there
            block = await reader.readexactly(error.consumed)
        except asyncio.IncompleteReadError as error:
            raise ConnectionResetError("the client left during DATA") from error
        ends = block.endswith(DOT_LINE) and (block[-5:-3] if len(block) >= 5 else (tail + block)[-5:-3]) == b"\r\n"
        taken = block[:-3] if ends else block
        size += len(taken)
        if not size_limit or size <= size_limit:
            kept += taken
        elif kept:
            kept.clear()  # the rest is read and dropped
        if ends:
            break
        tail = block[-2:] if len(block) >= 2 else (tail + block)[-2:]
    if size_limit and size > size_limit:
        return b"", "552 Error: Too much mail data"
    if any(len(line) + 2 > line_limit for line in kept.split(b"\r\n")):
        return b"", "500 Line too long (see RFC5321 4.5.3.1.6)"
    if kept.startswith(b"."):
        del kept[0]
    return bytes(kept.replace(b"\r\n.", b"\r\n")), None


@lru_cache(maxsize=1024)
def _parsed_address(arg: str, local_part_limit: int) -> tuple[str | None, str | None]:
    """aiosmtpd's own parse (its only input besides ``arg`` is the local part limit)."""
    return SMTP._getaddr(SimpleNamespace(local_part_limit=local_part_limit), arg)


def _settle(future: asyncio.Future, error: Exception | None = None) -> None:
    if future.done():  # settled already, or the sender hung up
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _with_trace(raw: bytes, session: Session, envelope: Envelope) -> bytes:
    peer = session.peer[0] if session.peer else "unknown"
    return (f"Return-Path: <{envelope.mail_from or ''}>\r\n"
            f"Received: from {session.host_name or 'unknown'} ([{peer}]) by portal\r\n").encode("ascii", "replace") + raw


async def start_smtp_server(portal, host: str, port: int, *, reuse_port: bool = False) -> asyncio.AbstractServer:
    settings = portal.plugin_settings("webmail")
    limit = int(settings.get("max_message_bytes", DEFAULT_MAX_MESSAGE))
    handler = InboundHandler(portal)
    hostname = settings.get("hostname", "portal.localdomain")
    loop = asyncio.get_running_loop()
    # aiosmtpd logs every command of every connection at INFO: a dozen records per message cost
    # more than storing it. Warnings and errors still show.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    # hostname= avoids aiosmtpd's FQDN lookup on every connection (a quarter of its throughput).
    # tls_context is asked for each connection: STARTTLS is offered once a certificate is
    # uploaded (MAIL-21), and each handshake gets the certificate current then.
    return await loop.create_server(
        lambda: PortalSMTP(handler, hostname=hostname, data_size_limit=limit, enable_SMTPUTF8=True, decode_data=False,
                           timeout=60, tls_context=portal.tls_context()),
        host=host, port=port, reuse_port=reuse_port or None,
    )


async def start_service(portal):
    """register_services: the listener of `portal serve` (port from --smtp-port; 0 = off)."""
    settings = portal.settings
    if not settings.smtp_port:
        async def nothing() -> None:
            return None

        return nothing
    server = await start_smtp_server(portal, settings.smtp_host, settings.smtp_port)
    log.info("SMTP listening on %s:%s", settings.smtp_host, settings.smtp_port)

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    return stop


async def smtpd_command(portal, args) -> int:
    """`portal smtpd --host --port --workers`: the SMTP server alone, in ``--workers`` processes
    (one per CPU by default) that share the port (SO_REUSEPORT: the kernel deals the
    connections out). A process runs Python one thread at a time, and parsing and storing mail
    keep its thread busy: more processes take more mail, as Postfix runs many smtpd."""
    workers = 1 if args.worker or not args.port else max(1, args.workers or os.cpu_count() or 1)
    server = await start_smtp_server(portal, args.host, args.port, reuse_port=workers > 1 or args.worker)
    # What is loaded by now lives as long as the process: frozen out of the garbage collector's
    # sight, it is not traversed again and again while mail flows (~0.07 ms a message).
    gc.collect()
    gc.freeze()
    print(f"SMTP listening on {args.host}:{args.port}" + (f" ({workers} processes)" if workers > 1 else ""), flush=True)
    others = [_start_worker(args) for _ in range(workers - 1)]
    try:
        async with server:
            await asyncio.gather(server.serve_forever(), *[_keep_running(others, n, args) for n in range(len(others))])
    finally:
        for process in others:
            process.terminate()
        for process in others:
            await asyncio.to_thread(process.wait)
    return 0


def _start_worker(args) -> subprocess.Popen:
    """Another process of ``portal smtpd`` on the same port, which ends when this one does."""
    command = [sys.executable, "-m", "portal.cli", "smtpd", "--host", args.host, "--port", str(args.port), "--worker"]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, preexec_fn=_end_with_parent)


def _end_with_parent() -> None:
    """In the child: SIGTERM when the parent dies, even by SIGKILL (Linux prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


async def _keep_running(processes: list[subprocess.Popen], index: int, args) -> None:
    """Start worker ``index`` again whenever it ends."""
    while True:
        code = await asyncio.to_thread(processes[index].wait)
        log.warning("SMTP worker process %s ended (%s); starting another", processes[index].pid, code)
        await asyncio.sleep(1)
        processes[index] = _start_worker(args)
