"""The ``webmail.relay`` job (MAIL-23 outbound, MAIL-5): one recipient's copy to the smarthost.

The relay is ``PORTAL_SMTP_RELAY`` (``host:port``), or ``smtp_relay`` in the webmail settings
section, read each time a job runs. Its answer decides the delivery's status:

- 2xx: ``delivered`` (the detail keeps the relay's answer, e.g. its queue id);
- 4xx, a connection error or no relay configured: ``deferred`` with the answer and the time
  of the next try; the job is retried with a back-off that doubles with the time the message
  has been waiting (1 minute up to 2 hours);
- 5xx: ``bounced``, and the sender gets a bounce message in his inbox;
- still not delivered after ``MAX_ATTEMPTS``: ``failed``, and a bounce message too.

A delivery to an internal recipient whose direct delivery failed is retried here as well,
straight into the inbox.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
from datetime import datetime, timedelta, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage

import aiosmtplib

from plugins.webmail.blobs import read_blob
from plugins.webmail.mime import parse_message
from plugins.webmail.services import deliver_to_inboxes, find_recipients
from plugins.webmail.tables import Delivery, Mailbox, Outgoing
from portal.jobs import RetryLater, TaskHandler

log = logging.getLogger("portal.webmail.relay")
MAX_ATTEMPTS = 30  # about two days with the back-off below
TIMEOUT = 60
FINAL = ("delivered", "opened", "bounced", "failed")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def relay_address(portal) -> tuple[str, int] | None:
    """(host, port) of the smarthost, read now (so a changed setting applies to the next try)."""
    value = os.environ.get("PORTAL_SMTP_RELAY") or str(portal.plugin_settings("webmail").get("smtp_relay", "") or "")
    value = value.strip()
    if not value:
        return None
    host, sep, port = value.rpartition(":")
    if not sep:
        return value, 25
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        return None


def retry_delay(waiting: timedelta) -> float:
    """As long as the message has waited so far, between 1 minute and 2 hours, with jitter."""
    seconds = min(max(waiting.total_seconds(), 60.0), 7200.0)
    return seconds * random.uniform(0.9, 1.1)


async def _load_unfinished(delivery_id: int) -> tuple[dict, dict] | None:
    """The delivery and its outgoing message, or None when it is gone or already final."""
    delivery = await Delivery.select().where(Delivery.id == delivery_id).first()
    if delivery is None or delivery["status"] in FINAL:
        return None
    outgoing = await Outgoing.select(Outgoing.id, Outgoing.created_at, Outgoing.mailbox,
                                     Outgoing.mailbox.address.as_alias("sender")).where(
        Outgoing.id == delivery["outgoing"]).first()
    return delivery, outgoing


async def _set(delivery_id: int, status: str, detail: str = "", next_try_at: datetime | None = None) -> None:
    await Delivery.update({Delivery.status: status, Delivery.detail: detail[:500], Delivery.next_try_at: next_try_at,
                           Delivery.updated_at: _now()}).where(Delivery.id == delivery_id)


def _answer(code: int | None, message: str) -> str:
    text = " ".join(str(message or "").split())
    return f"{code} {text}".strip() if code else text


async def run(portal, payload: dict) -> None:
    found = await _load_unfinished(int(payload["delivery_id"]))
    if found is None:
        return
    delivery, outgoing = found
    waiting = _now() - outgoing["created_at"]
    raw = await read_blob(portal, delivery["blob_sha"])

    if delivery["internal"]:
        recipient = (await find_recipients([delivery["recipient"]])).get(delivery["recipient"].lower())
        if recipient is None:
            await _set(delivery["id"], "failed", "no such user")
            return
        mailbox_id = recipient.mailbox_id
        try:
            await deliver_to_inboxes(portal, raw, [mailbox_id], delivery_ids={mailbox_id: delivery["id"]})
        except Exception as error:  # noqa: BLE001
            await _defer(delivery["id"], str(error), waiting)
        await _set(delivery["id"], "delivered")
        return

    relay = relay_address(portal)
    if relay is None:
        await _defer(delivery["id"], "No relay (smarthost) is configured: set PORTAL_SMTP_RELAY to host:port.", waiting)
    host, port = relay
    try:
        errors, response = await aiosmtplib.send(
            raw, sender=outgoing["sender"], recipients=[delivery["recipient"]], hostname=host, port=port,
            timeout=TIMEOUT, start_tls=None, validate_certs=False,
            local_hostname=str(portal.plugin_settings("webmail").get("hostname", "portal.localdomain")),
        )
    except aiosmtplib.SMTPRecipientsRefused as refused:
        first = refused.recipients[0] if refused.recipients else None
        code, message = (first.code, first.message) if first else (550, str(refused))
        await _answered(portal, delivery, outgoing, raw, code, message, waiting)
        return
    except aiosmtplib.SMTPResponseException as error:
        await _answered(portal, delivery, outgoing, raw, error.code, error.message, waiting)
        return
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        await _defer(delivery["id"], f"{host}:{port}: {type(error).__name__}: {error}", waiting)
        return
    refused = errors.get(delivery["recipient"]) if errors else None
    if refused is not None:
        await _answered(portal, delivery, outgoing, raw, refused.code, refused.message, waiting)
        return
    await _set(delivery["id"], "delivered", _answer(250, response))


async def _answered(portal, delivery: dict, outgoing: dict, raw: bytes, code: int, message: str, waiting: timedelta) -> None:
    answer = _answer(code, message)
    if 400 <= code < 500:
        await _defer(delivery["id"], answer, waiting)
    if 200 <= code < 300:
        await _set(delivery["id"], "delivered", answer)
        return
    await _set(delivery["id"], "bounced", answer)
    await bounce(portal, delivery, outgoing, raw, answer)


async def _defer(delivery_id: int, detail: str, waiting: timedelta) -> None:
    """Mark the delivery deferred and have the worker try again later (raises RetryLater)."""
    delay = retry_delay(waiting)
    await _set(delivery_id, "deferred", detail, _now() + timedelta(seconds=delay))
    raise RetryLater(delay, detail)


async def on_failure(portal, payload: dict, error: str) -> None:
    """The job gave up: the delivery failed for good, and the sender learns of it."""
    found = await _load_unfinished(int(payload["delivery_id"]))
    if found is None:
        return
    delivery, outgoing = found
    detail = delivery["detail"] or error
    await _set(delivery["id"], "failed", detail)
    try:
        raw = await read_blob(portal, delivery["blob_sha"])
    except OSError:
        raw = b""
    await bounce(portal, delivery, outgoing, raw, detail)


BOUNCE_TEXT = """\
这是邮件系统的自动回复。您发出的邮件未能投递给下列收件人：
This is the mail system at {domain}. Your message could not be delivered to the recipient below.

    {recipient}

对方邮件服务器的答复 / The answer of the receiving mail system:

    {answer}

原邮件 / Your message:

    主题 Subject: {subject}
    日期 Date:    {date}
    编号 Message-ID: {message_id}
"""


async def bounce(portal, delivery: dict, outgoing: dict, raw: bytes, answer: str) -> None:
    """A plain delivery-status notification into the sender's inbox."""
    sender = outgoing["sender"]
    domain = sender.rpartition("@")[2] or "localhost"
    parsed = parse_message(raw) if raw else None
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(display_name="Mail Delivery System", username="postmaster", domain=domain)
    message["To"] = sender
    message["Subject"] = "退信：邮件无法投递 / Undelivered Mail Returned to Sender"
    message["Date"] = email.utils.format_datetime(_now())
    message["Message-ID"] = email.utils.make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-replied"
    if parsed and parsed.message_id:
        message["In-Reply-To"] = parsed.message_id
        message["References"] = parsed.message_id
    message.set_content(BOUNCE_TEXT.format(
        domain=domain, recipient=delivery["recipient"], answer=answer or "-",
        subject=parsed.subject if parsed else "", date=parsed.date.strftime("%Y-%m-%d %H:%M %z") if parsed and parsed.date else "",
        message_id=parsed.message_id if parsed else "",
    ))
    mailbox = await Mailbox.select(Mailbox.id).where(Mailbox.id == outgoing["mailbox"]).first()
    if mailbox is None:
        return
    await deliver_to_inboxes(portal, message.as_bytes(policy=policy.SMTP), [mailbox["id"]])


HANDLER = TaskHandler(run=run, max_attempts=MAX_ATTEMPTS, on_failure=on_failure)
