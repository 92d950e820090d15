"""Messages from the portal itself into local mailboxes (``deliver_system_message`` hook):
health reports (MAIL-10), alerts. Each recipient gets his own copy, in his own language."""

from __future__ import annotations

import email.utils
from datetime import datetime, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage

from plugins.webmail.services import deliver_to_inboxes, ensure_mailbox, find_recipients
from plugins.webmail.tables import Mailbox
from portal.accounts.tables import User

SENDER_NAME = "政务门户 Portal"


async def _mailbox_of(recipient) -> dict | None:
    """The local mailbox of an address or of an (active) account id; None when there is none."""
    if isinstance(recipient, int) and not isinstance(recipient, bool):
        if not await User.exists().where((User.id == recipient) & (User.active == True)):  # noqa: E712
            return None
        return await ensure_mailbox(recipient)
    if isinstance(recipient, str):
        found = (await find_recipients([recipient])).get(recipient.strip().lower())
        return found.as_mailbox() if found else None
    return None


def build_message(address: str, subject: str, text: str, html: str) -> bytes:
    domain = address.rpartition("@")[2] or "localhost"
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(display_name=SENDER_NAME, username="postmaster", domain=domain)
    message["To"] = address
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = email.utils.make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message.as_bytes(policy=policy.SMTP)


async def deliver_system_message(portal, recipients: list, message) -> list:
    """Into the inbox of each recipient with a local mailbox; returns those delivered to."""
    delivered = []
    for recipient in recipients:
        mailbox = await _mailbox_of(recipient)
        if mailbox is None:
            continue
        owner = await Mailbox.select(Mailbox.owner.locale.as_alias("locale")).where(Mailbox.id == mailbox["id"]).first()
        subject, text, html = message.in_locale((owner or {}).get("locale") or portal.settings.default_locale)
        await deliver_to_inboxes(portal, build_message(mailbox["address"], subject, text, html), [mailbox["id"]])
        delivered.append(recipient)
    return delivered
