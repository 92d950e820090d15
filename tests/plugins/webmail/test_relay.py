"""Outbound mail through the relay (MAIL-23 outbound, MAIL-5): a real aiosmtpd sink on 127.0.0.1
answers as a smarthost would; the worker runs the ``webmail.relay`` jobs."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timezone
from email import message_from_bytes, policy
from types import SimpleNamespace

import pytest
from aiosmtpd.smtp import SMTP

from plugins.webmail import relay, sending
from plugins.webmail.services import ensure_mailbox, folder_id
from plugins.webmail.tables import Delivery, Message
from portal.accounts.services import UnitForm, create_unit
from portal.jobs.tables import QueuedJob
from portal.testing import login_as

DOMAIN = "huanghe.gov.example"
OUTSIDE = "someone@example.org"


class Sink:
    """An SMTP server's handler: answers RCPT from a script (then 250), keeps what it accepted."""

    def __init__(self):
        self.rcpt_answers: list[str] = []
        self.received: list[SimpleNamespace] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_answers:
            answer = self.rcpt_answers.pop(0)
            if not answer.startswith("250"):
                return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(SimpleNamespace(mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos),
                                             content=envelope.original_content))
        return "250 2.0.0 Ok: queued as SINK1"


@pytest.fixture
async def sink(monkeypatch):
    handler = Sink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="relay.test", decode_data=False),
                                      host="127.0.0.1", port=0)
    monkeypatch.setenv("PORTAL_SMTP_RELAY", f"127.0.0.1:{server.sockets[0].getsockname()[1]}")
    yield handler
    server.close()
    await server.wait_closed()


@pytest.fixture
async def alice(client, make_user):
    town = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, DOMAIN, "黄河办"))
    return await make_user("alice", unit_id=town)


def sender(user) -> SimpleNamespace:
    return SimpleNamespace(id=user.id, display_name="Alice")


async def send_out(app, user, **changes) -> int:
    draft = sending.Draft(to=[OUTSIDE], subject="对外函件", body="您好。", **changes)
    return await sending.send(app.state.portal, sender(user), draft)


async def delivery(outgoing_id: int) -> dict:
    return await Delivery.select().where(Delivery.outgoing == outgoing_id).first()


async def make_jobs_due() -> None:
    await QueuedJob.update({QueuedJob.run_at: datetime(2000, 1, 1, tzinfo=timezone.utc)}).where(QueuedJob.status == "queued")


async def inbox(user) -> list[dict]:
    mailbox = await ensure_mailbox(user.id)
    return await Message.select().where(Message.folder == await folder_id(mailbox["id"], "inbox"))


async def test_the_relay_receives_the_message_and_the_delivery_is_delivered(app, alice, sink):
    outgoing_id = await send_out(app, alice, bcc=["hidden@example.net"])
    assert (await delivery(outgoing_id))["status"] == "queued"
    assert await app.state.portal.worker.run_until_idle() == 2
    by_recipient = {m.rcpt_tos[0]: m for m in sink.received}
    assert set(by_recipient) == {OUTSIDE, "hidden@example.net"}
    got = by_recipient[OUTSIDE]
    assert got.mail_from == f"alice@{DOMAIN}"
    message = message_from_bytes(got.content, policy=policy.default)
    assert message["Subject"] == "对外函件" and message["To"] == OUTSIDE and message["Bcc"] is None
    assert b"hidden@example.net" not in got.content
    row = await delivery(outgoing_id)
    assert row["status"] == "delivered" and "queued as SINK1" in row["detail"]


async def test_4xx_defers_then_the_retry_delivers(app, alice, sink):
    sink.rcpt_answers = ["451 4.7.1 Greylisted, try again later"]
    outgoing_id = await send_out(app, alice)
    await app.state.portal.worker.run_until_idle()
    row = await delivery(outgoing_id)
    assert row["status"] == "deferred" and "451" in row["detail"] and "Greylisted" in row["detail"]
    assert row["next_try_at"] is not None and row["next_try_at"] > datetime.now(timezone.utc)
    assert sink.received == []
    assert await app.state.portal.worker.run_until_idle() == 0  # not due yet
    await make_jobs_due()
    assert await app.state.portal.worker.run_until_idle() == 1
    row = await delivery(outgoing_id)
    assert row["status"] == "delivered" and row["next_try_at"] is None
    assert len(sink.received) == 1


async def test_5xx_bounces_with_a_notice_in_the_senders_inbox(client, app, alice, sink):
    sink.rcpt_answers = ["550 5.1.1 <someone@example.org>: Recipient address rejected: User unknown"]
    outgoing_id = await send_out(app, alice)
    await app.state.portal.worker.run_until_idle()
    row = await delivery(outgoing_id)
    assert row["status"] == "bounced" and "550 5.1.1" in row["detail"]
    (notice,) = await inbox(alice)
    assert "Undelivered Mail Returned to Sender" in notice["subject"] and "退信" in notice["subject"]
    assert notice["sender_address"] == f"postmaster@{DOMAIN}" and notice["sender_name"] == "Mail Delivery System"
    assert OUTSIDE in notice["body_text"] and "User unknown" in notice["body_text"]
    assert await QueuedJob.count().where(QueuedJob.status == "queued") == 0
    await login_as(client, alice)
    page = await client.get(f"/webmail/sent/{outgoing_id}/status")
    assert page.status_code == 200 and "User unknown" in page.text


async def test_giving_up_after_max_attempts_fails_and_bounces(app, alice, sink):
    sink.rcpt_answers = ["421 4.3.2 Service not available"] * 2
    outgoing_id = await send_out(app, alice)
    await QueuedJob.update({QueuedJob.attempts: relay.MAX_ATTEMPTS - 1}).where(QueuedJob.kind == "webmail.relay")
    await app.state.portal.worker.run_until_idle()
    row = await delivery(outgoing_id)
    assert row["status"] == "failed" and "421" in row["detail"]
    (notice,) = await inbox(alice)
    assert "Undelivered Mail" in notice["subject"]
    assert (await QueuedJob.select(QueuedJob.status).first())["status"] == "failed"


async def test_no_relay_configured_defers_with_a_clear_reason(app, alice, monkeypatch):
    monkeypatch.delenv("PORTAL_SMTP_RELAY", raising=False)
    monkeypatch.delenv("PORTAL_WEBMAIL_SMTP_RELAY", raising=False)
    outgoing_id = await send_out(app, alice)
    await app.state.portal.worker.run_until_idle()
    row = await delivery(outgoing_id)
    assert row["status"] == "deferred" and "PORTAL_SMTP_RELAY" in row["detail"]


async def test_an_unreachable_relay_defers(app, alice, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PORTAL_SMTP_RELAY", f"127.0.0.1:{port}")
    outgoing_id = await send_out(app, alice)
    await app.state.portal.worker.run_until_idle()
    row = await delivery(outgoing_id)
    assert row["status"] == "deferred" and f"127.0.0.1:{port}" in row["detail"] and row["next_try_at"] is not None


async def test_separate_display_relays_each_recipients_own_copy(app, alice, sink):
    outgoing_id = await sending.send(app.state.portal, sender(alice), sending.Draft(
        to=["a@example.org", "b@example.org"], subject="单显", separate_display=True))
    await app.state.portal.worker.run_until_idle()
    assert len(sink.received) == 2
    for got in sink.received:
        message = message_from_bytes(got.content, policy=policy.default)
        assert message["To"] == got.rcpt_tos[0] and message["Cc"] is None
    rows = await Delivery.select(Delivery.status).where(Delivery.outgoing == outgoing_id)
    assert {r["status"] for r in rows} == {"delivered"}


def test_relay_address_is_read_at_run_time(monkeypatch):
    portal = SimpleNamespace(plugin_settings=lambda name: {})
    monkeypatch.setenv("PORTAL_SMTP_RELAY", "smarthost.example:2525")
    assert relay.relay_address(portal) == ("smarthost.example", 2525)
    monkeypatch.setenv("PORTAL_SMTP_RELAY", "smarthost.example")
    assert relay.relay_address(portal) == ("smarthost.example", 25)
    monkeypatch.delenv("PORTAL_SMTP_RELAY")
    assert relay.relay_address(portal) is None
