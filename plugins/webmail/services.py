"""Mailbox rules: every account has one mailbox, created on first use."""

from plugins.webmail.tables import Mailbox


async def mailbox_of(user) -> dict:
    row = await Mailbox.select().where(Mailbox.owner == user.id).first()
    if row is None:
        await Mailbox.insert(Mailbox(owner=user.id, address=user.email or f"{user.username}@localhost"))
        row = await Mailbox.select().where(Mailbox.owner == user.id).first()
    return row
