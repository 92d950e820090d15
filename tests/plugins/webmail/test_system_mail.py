"""The mail plugin's part of the health self-check (MAIL-10): delivering the portal's own messages
(``deliver_system_message``) and its health checks (queue backlog, failed deliveries, spam)."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest

from plugins.webmail import health
from plugins.webmail.blobs import read_blob
from plugins.webmail.services import apply_action, ensure_mailbox, folder_id
from plugins.webmail.tables import Delivery, Message, Outgoing
from portal.accounts.services import UnitForm, create_unit
from portal.accounts.tables import User
from portal.api import SystemMessage
from portal.i18n import locale_context
from portal.jobs import now

DOMAIN = "huanghe.gov.example"
MESSAGE = SystemMessage(subject={"zh_CN": "通知", "en": "Notice"}, text={"zh_CN": "正文", "en": "Body"},
                        html={"zh_CN": "<p>正文</p>", "en": "<p>Body</p>"})


@pytest.fixture
async def people(client, make_user):
    town = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, DOMAIN, "黄河办"))
    people = {name: await make_user(name, unit_id=town) for name in ("li", "ann", "gone")}
    await User.update({User.locale: "en"}).where(User.id == people["ann"].id)
    await User.update({User.active: False}).where(User.id == people["gone"].id)
    return people


async def inbox(user_id: int) -> list[dict]:
    mailbox = await ensure_mailbox(user_id)
    return await Message.select().where((Message.mailbox == mailbox["id"])
                                        & (Message.folder == await folder_id(mailbox["id"], "inbox")))


async def test_local_addresses_and_accounts_get_their_own_copy_in_their_language(app, people):
    portal = app.state.portal
    recipients = [f"li@{DOMAIN}", people["ann"].id, "someone@example.org", f"nobody@{DOMAIN}", people["gone"].id]
    delivered, undelivered = await portal.deliver_system_message(recipients, MESSAGE)
    assert delivered == [f"li@{DOMAIN}", people["ann"].id]
    assert undelivered == ["someone@example.org", f"nobody@{DOMAIN}", people["gone"].id]
    [chinese] = await inbox(people["li"].id)
    [english] = await inbox(people["ann"].id)
    assert (chinese["subject"], english["subject"]) == ("通知", "Notice")
    raw = message_from_bytes(await read_blob(portal, english["blob_sha"]), policy=policy.default)
    assert raw["To"] == f"ann@{DOMAIN}" and raw["From"].addresses[0].addr_spec == f"postmaster@{DOMAIN}"
    assert raw["Auto-Submitted"] == "auto-generated"
    assert raw.get_body(("plain",)).get_content().strip() == "Body"
    assert raw.get_body(("html",)).get_content().strip() == "<p>Body</p>"
    assert await inbox(people["gone"].id) == []


async def test_a_language_the_message_lacks_falls_back_to_the_default(app, people):
    only_chinese = SystemMessage(subject={"zh_CN": "仅中文"}, text={"zh_CN": "正文"})
    await app.state.portal.deliver_system_message([people["ann"].id], only_chinese)
    [row] = await inbox(people["ann"].id)
    assert row["subject"] == "仅中文"


async def in_english(check, portal):
    with locale_context("en"):
        return await check(portal)


async def outgoing(people, *statuses: str, age: timedelta = timedelta(0)) -> None:
    mailbox = await ensure_mailbox(people["li"].id)
    [row] = await Outgoing.insert(Outgoing(mailbox=mailbox["id"], created_at=now() - age)).returning(Outgoing.id)
    await Delivery.insert(*[Delivery(outgoing=row["id"], recipient=f"x{n}@example.org", status=status)
                            for n, status in enumerate(statuses)])


async def test_the_queue_check_warns_when_mail_waits_for_an_hour(app, people):
    portal = app.state.portal
    assert await in_english(health.queue_check, portal) == ("ok", "No message is waiting to be delivered.")
    await outgoing(people, "queued", "delivered")
    status, message = await in_english(health.queue_check, portal)
    assert status == "ok" and message.startswith("1 delivery waiting; the oldest for 0.0 hours")
    await outgoing(people, "deferred", age=timedelta(hours=3))
    status, message = await in_english(health.queue_check, portal)
    assert status == "warning" and message.startswith("2 deliveries waiting; the oldest for 3.0 hours")


async def test_the_failures_check_counts_the_last_seven_days(app, people):
    portal = app.state.portal
    assert (await in_english(health.failures_check, portal))[0] == "ok"
    await outgoing(people, "failed", "bounced", "bounced", "delivered")
    assert await in_english(health.failures_check, portal) == (
        "warning", "In the last 7 days: 1 deliveries failed, 2 bounced.")
    await Delivery.update({Delivery.updated_at: now() - timedelta(days=8)}).where(Delivery.id > 0)
    assert (await in_english(health.failures_check, portal))[0] == "ok"


async def test_the_spam_check_says_nothing_is_scanned_and_counts_what_users_marked(app, people):
    portal = app.state.portal
    await app.state.portal.deliver_system_message([people["li"].id], MESSAGE)
    mailbox = await ensure_mailbox(people["li"].id)
    [row] = await inbox(people["li"].id)
    await apply_action(mailbox["id"], [row["id"]], "move", await folder_id(mailbox["id"], "spam"))
    status, message = await in_english(health.spam_check, portal)
    assert status == "warning" and "not scanned" in message and message.endswith("in the last 7 days: 1.")
