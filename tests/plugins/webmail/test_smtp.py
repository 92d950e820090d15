"""The SMTP server for mail from outside (MAIL-23): real smtplib client, real aiosmtpd server."""

import asyncio
import smtplib
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import pytest

from plugins.webmail.services import ensure_mailbox, folder_id
from plugins.webmail.smtp import start_smtp_server
from plugins.webmail.tables import Message
from portal.accounts.services import UnitForm, create_unit
from portal.testing import login_as

DOMAIN = "huanghe.gov.example"


@pytest.fixture
async def smtp(app, client):
    server = await start_smtp_server(app.state.portal, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest.fixture
async def town(client):
    return await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, DOMAIN, "黄河办"))


def _message(to: str, subject: str = "会议通知", body: str = "请于周五上午九点参加会议。") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "外部 <sender@example.org>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def _send(port: int, message: EmailMessage | bytes, to: list[str], sender: str = "sender@example.org") -> dict:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        raw = message if isinstance(message, bytes) else message.as_bytes()
        return client.sendmail(sender, to, raw)


async def test_mail_from_outside_arrives_in_the_inbox(smtp, town, make_user, client):
    user = await make_user("alice", unit_id=town)
    mailbox = await ensure_mailbox(user.id)
    assert mailbox["address"] == f"alice@{DOMAIN}"
    refused = await asyncio.to_thread(_send, smtp, _message(f"alice@{DOMAIN}"), [f"alice@{DOMAIN}"])
    assert refused == {}
    rows = await Message.select().where(Message.mailbox == mailbox["id"])
    assert len(rows) == 1
    assert rows[0]["subject"] == "会议通知" and rows[0]["folder"] == await folder_id(mailbox["id"], "inbox")
    assert "周五" in rows[0]["body_text"]


async def test_unknown_recipient_is_refused_at_rcpt(smtp, town, make_user):
    await make_user("bob", unit_id=town)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(_send, smtp, _message(f"nobody@{DOMAIN}"), [f"nobody@{DOMAIN}"])
    assert refused.value.recipients[f"nobody@{DOMAIN}"][0] == 550


async def test_other_domains_are_not_relayed(smtp, town):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(_send, smtp, _message("someone@gmail.example"), ["someone@gmail.example"])
    assert refused.value.recipients["someone@gmail.example"][0] == 550
    assert await Message.count() == 0


async def test_message_over_the_size_limit_is_refused_with_552(app, town, make_user, monkeypatch):
    monkeypatch.setenv("PORTAL_WEBMAIL_MAX_MESSAGE_BYTES", "10000")
    server = await start_smtp_server(app.state.portal, "127.0.0.1", 0)
    try:
        await make_user("carol", unit_id=town)
        port = server.sockets[0].getsockname()[1]
        # Refused at MAIL FROM (the client declares SIZE) or after DATA: 552 either way.
        with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as error:
            await asyncio.to_thread(_send, port, _message(f"carol@{DOMAIN}", body="长" * 20000), [f"carol@{DOMAIN}"])
        assert error.value.smtp_code == 552
    finally:
        server.close()
    assert await Message.count() == 0


async def test_one_blob_for_many_recipients_and_a_copy_each(smtp, town, make_user, app):
    users = [await make_user(name, unit_id=town) for name in ("dan", "eve", "fay")]
    addresses = [f"{u.username}@{DOMAIN}" for u in users]
    await asyncio.to_thread(_send, smtp, _message(", ".join(addresses)), addresses)
    rows = await Message.select(Message.mailbox, Message.blob_sha)
    assert len(rows) == 3 and len({r["blob_sha"] for r in rows}) == 1
    blobs = list((app.state.portal.settings.data_dir / "mail" / "blobs").rglob("*"))
    assert len([b for b in blobs if b.is_file()]) == 1


async def test_malformed_gbk_message_is_stored_not_crashed_on(smtp, town, make_user):
    user = await make_user("gao", unit_id=town)
    raw = (b"From: =?gb2312?B?1cXI/Q==?= <zhang@example.org>\r\nTo: gao@" + DOMAIN.encode() + b"\r\n"
           b"Subject: =?GBK?Q?=C4=E3=BA=C3?= \xb2\xe2\xca\xd4\r\nContent-Type: text/plain; charset=gb2312\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\n" + "你好，世界".encode("gbk") + b"\r\n")
    await asyncio.to_thread(_send, smtp, raw, [f"gao@{DOMAIN}"])
    row = await Message.select().where(Message.mailbox == (await ensure_mailbox(user.id))["id"]).first()
    assert "你好" in row["subject"] and "世界" in row["body_text"]


def _send_without_size(port: int, raw: bytes, to: str) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        client.mail("sender@example.org")
        client.rcpt(to)
        client.putcmd("data")
        code, _ = client.getreply()
        assert code == 354
        client.send(raw.replace(b"\n.", b"\n..") + b"\r\n.\r\n")
        return client.getreply()


async def test_oversized_data_without_a_declared_size_is_refused_after_data(app, town, make_user, monkeypatch):
    monkeypatch.setenv("PORTAL_WEBMAIL_MAX_MESSAGE_BYTES", "10000")
    server = await start_smtp_server(app.state.portal, "127.0.0.1", 0)
    try:
        await make_user("hua", unit_id=town)
        port = server.sockets[0].getsockname()[1]
        code, _ = await asyncio.to_thread(_send_without_size, port, _message(f"hua@{DOMAIN}", body="长" * 20000).as_bytes(policy=SMTP_POLICY), f"hua@{DOMAIN}")
    finally:
        server.close()
    assert code == 552
    assert await Message.count() == 0


async def test_storage_failure_answers_451_and_keeps_nothing(smtp, town, make_user, monkeypatch):
    import plugins.webmail.smtp as smtp_module

    await make_user("ivy", unit_id=town)

    async def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(smtp_module, "deliver_to_inboxes", broken)
    code, _ = await asyncio.to_thread(_send_without_size, smtp, _message(f"ivy@{DOMAIN}").as_bytes(policy=SMTP_POLICY), f"ivy@{DOMAIN}")
    assert code == 451
    assert await Message.count() == 0
