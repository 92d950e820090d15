"""The SMTP server for mail from outside (MAIL-23), on aiosmtpd, in the application's event loop.

It accepts only the portal's own domains, refuses unknown recipients at RCPT (550), refuses
messages over the size limit (552, aiosmtpd's ``data_size_limit``), and answers 250 only
after the raw message (fsynced) and its rows (committed) are stored. A storage failure
answers 451, so the sender keeps the message and tries again: nothing is accepted then lost.
"""

from __future__ import annotations

import asyncio
import logging

from aiosmtpd.smtp import SMTP, Envelope, Session

from plugins.webmail.levels import limits_for_mailbox, room_for
from plugins.webmail.services import deliver_to_inboxes, find_mailbox, local_domains

log = logging.getLogger("portal.webmail.smtp")
DEFAULT_MAX_MESSAGE = 25 * 1024 * 1024
MAX_RECIPIENTS = 100


class InboundHandler:
    def __init__(self, portal):
        self.portal = portal

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list) -> str:
        address = address.strip().lower()
        _, _, domain = address.rpartition("@")
        if domain not in await local_domains():
            return "550 5.7.1 Relaying denied: not a domain of this portal"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        mailbox = await find_mailbox(address)
        if mailbox is None:
            return "550 5.1.1 No such user here"
        refusal = await _refusal(mailbox, _declared_size(envelope) or 1)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = _with_trace(envelope.original_content or b"", session, envelope)
        try:
            mailboxes = [await find_mailbox(address) for address in envelope.rcpt_tos]
            for mailbox in mailboxes:
                refusal = await _refusal(mailbox, len(raw))
                if refusal:
                    # One answer covers every recipient of the transaction: refuse it whole, so
                    # the sender's server reports it and nothing is accepted and then dropped.
                    return refusal
            await deliver_to_inboxes(self.portal, raw, sorted({m["id"] for m in mailboxes}))
        except Exception:
            log.exception("could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 Could not store the message now; please try again later"
        return "250 OK: stored"


async def _refusal(mailbox: dict, size: int) -> str | None:
    """552 when the recipient's service level (MAIL-12) has no room or takes no message this large."""
    limits = await limits_for_mailbox(mailbox)
    if size > limits.max_message_bytes:
        return f"552 5.3.4 Message too big for <{mailbox['address']}>"
    if not room_for(mailbox, size):
        return f"552 5.2.2 Mailbox of <{mailbox['address']}> is full"
    return None


def _declared_size(envelope: Envelope) -> int:
    """The SIZE the client declared with MAIL FROM (RFC 1870), else 0."""
    for option in envelope.mail_options or []:
        name, _, value = option.partition("=")
        if name.upper() == "SIZE" and value.isdigit():
            return int(value)
    return 0


def _with_trace(raw: bytes, session: Session, envelope: Envelope) -> bytes:
    peer = session.peer[0] if session.peer else "unknown"
    return (f"Return-Path: <{envelope.mail_from or ''}>\r\n"
            f"Received: from {session.host_name or 'unknown'} ([{peer}]) by portal\r\n").encode("ascii", "replace") + raw


async def start_smtp_server(portal, host: str, port: int) -> asyncio.AbstractServer:
    settings = portal.plugin_settings("webmail")
    limit = int(settings.get("max_message_bytes", DEFAULT_MAX_MESSAGE))
    handler = InboundHandler(portal)
    hostname = settings.get("hostname", "portal.localdomain")
    loop = asyncio.get_running_loop()
    # hostname= avoids aiosmtpd's FQDN lookup on every connection (a quarter of its throughput).
    # tls_context is asked for each connection: STARTTLS is offered once a certificate is
    # uploaded (MAIL-21), and each handshake gets the certificate current then.
    return await loop.create_server(
        lambda: SMTP(handler, hostname=hostname, data_size_limit=limit, enable_SMTPUTF8=True, decode_data=False,
                     timeout=60, tls_context=portal.tls_context()),
        host=host, port=port,
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
    """`portal smtpd --host --port`: the SMTP server alone."""
    server = await start_smtp_server(portal, args.host, args.port)
    print(f"SMTP listening on {args.host}:{args.port}")
    async with server:
        await server.serve_forever()
    return 0
