"""The SMTP server for mail from outside (MAIL-23): real smtplib client, real aiosmtpd server."""

import asyncio
import smtplib
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import pytest
from aiosmtpd.smtp import SMTP

from plugins.webmail import blobs
from plugins.webmail.blobs import read_blob
from plugins.webmail.services import SYSTEM_FOLDERS, ensure_mailbox, find_recipients, folder_id
from plugins.webmail.smtp import GroupCommit, PortalSMTP, start_smtp_server
from plugins.webmail.tables import Blob, Folder, Mailbox, Message
from portal.accounts.services import UnitForm, create_unit
from portal.accounts.tables import User

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
    assert await Blob.count() == 1
    raw = await read_blob(app.state.portal, rows[0]["blob_sha"])
    assert raw.startswith(b"Return-Path: <sender@example.org>") and f"To: {addresses[0]}".encode() in raw


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


async def test_a_raw_message_that_cannot_be_stored_answers_451_and_keeps_nothing(smtp, town, make_user, monkeypatch):
    """The blob's statement fails (as on a full disk): its rows go with it and the sender hears 451."""
    await make_user("ivy", unit_id=town)
    monkeypatch.setattr(blobs, "INSERT_BLOB", "INSERT INTO webmail_no_such_table (sha, data) VALUES ({}, {})")
    code, _ = await asyncio.to_thread(_send_without_size, smtp, _message(f"ivy@{DOMAIN}").as_bytes(policy=SMTP_POLICY), f"ivy@{DOMAIN}")
    assert code == 451
    assert await Message.count() == 0 and await Blob.count() == 0


async def test_rows_that_cannot_be_stored_answer_451_and_keep_nothing(smtp, town, make_user):
    """The mailbox goes away between RCPT and DATA: the rows fail, the sender hears 451."""
    user = await make_user("jun", unit_id=town)
    mailbox = await ensure_mailbox(user.id)
    client = await asyncio.to_thread(smtplib.SMTP, "127.0.0.1", smtp, timeout=10)
    try:
        await asyncio.to_thread(client.ehlo)
        await asyncio.to_thread(client.mail, "sender@example.org")
        assert (await asyncio.to_thread(client.rcpt, f"jun@{DOMAIN}"))[0] == 250
        await Mailbox.delete().where(Mailbox.id == mailbox["id"])
        code, _ = await asyncio.to_thread(client.data, _message(f"jun@{DOMAIN}").as_bytes(policy=SMTP_POLICY))
    finally:
        await asyncio.to_thread(client.close)
    assert code == 451
    assert await Message.count() == 0 and await Blob.count() == 0


async def test_a_message_failing_in_a_shared_commit_fails_alone(app, town, make_user):
    """Messages that arrive together share a transaction; one that cannot be stored must not
    take the others down with it (and must not be stored either)."""
    users = [await make_user(name, unit_id=town) for name in ("kai", "lan", "mei", "nan")]
    mailboxes = [(await ensure_mailbox(u.id))["id"] for u in users]
    commits = GroupCommit(app.state.portal)
    targets = [[m] for m in mailboxes[:2]] + [[mailboxes[2], 999_999]] + [[m] for m in mailboxes[3:]]
    raws = [_message(f"{u.username}@{DOMAIN}", subject=f"一起到 {n}").as_bytes() for n, u in enumerate(users)]
    results = await asyncio.gather(*[commits.store(raw, ids) for raw, ids in zip(raws, targets)], return_exceptions=True)
    assert [isinstance(r, Exception) for r in results] == [False, False, True, False]
    rows = await Message.select(Message.mailbox, Message.subject).order_by(Message.mailbox)
    assert [(r["mailbox"], r["subject"]) for r in rows] == [(mailboxes[n], f"一起到 {n}") for n in (0, 1, 3)]
    assert {r["sha"] for r in await Blob.select(Blob.sha)} == {blobs.blob_id(raws[n]) for n in (0, 1, 3)}


async def test_deactivated_accounts_are_refused_at_rcpt(smtp, town, make_user):
    user = await make_user("ou", unit_id=town)
    await ensure_mailbox(user.id)
    await User.update({User.active: False}).where(User.id == user.id)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(_send, smtp, _message(f"ou@{DOMAIN}"), [f"ou@{DOMAIN}"])
    assert refused.value.recipients[f"ou@{DOMAIN}"][0] == 550
    assert await Message.count() == 0


async def test_a_new_unit_domain_takes_mail_at_once(smtp, town, make_user):
    address = "pei@linhe.gov.example"
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        await asyncio.to_thread(_send, smtp, _message(address), [address])
    unit = await create_unit(None, UnitForm("临河镇人民政府", "linhe", "township", town, "linhe.gov.example", "临河"))
    await make_user("pei", unit_id=unit)
    assert await asyncio.to_thread(_send, smtp, _message(address), [address]) == {}
    assert await Message.count() == 1


@pytest.mark.parametrize("arg", ["<zhang@huanghe.gov.example>", "zhang@huanghe.gov.example SIZE=10240",
                                 "<a@b.example> SIZE=100 BODY=8BITMIME", "<>", "", "<unclosed@b.example", "<@>",
                                 '<"quoted local"@b.example>', "<" + "x" * 70 + "@b.example>", "not an address", "<a@[127.0.0.1]>"])
async def test_addresses_of_mail_from_and_rcpt_to_parse_as_aiosmtpd_parses_them(arg):
    """PortalSMTP remembers parsed addresses; what it gives must be aiosmtpd's answer, limits included."""
    class Strict(PortalSMTP):
        local_part_limit = 64

    class StockStrict(SMTP):
        local_part_limit = 64

    for ours, stock in ((PortalSMTP(None, hostname="t"), SMTP(None, hostname="t")),
                        (Strict(None, hostname="t"), StockStrict(None, hostname="t"))):
        assert ours._getaddr(arg) == ours._getaddr(arg) == stock._getaddr(arg)


async def test_first_mails_to_a_new_account_arriving_at_once_make_one_mailbox(smtp, town, make_user):
    """Two ``portal smtpd`` processes take the first mails of an account at the same moment:
    both find its mailbox, made once with its folders (PostgreSQL runs both transactions at once)."""
    user = await make_user("xin", unit_id=town)
    address = f"xin@{DOMAIN}"
    found = await asyncio.gather(*[find_recipients([address]) for _ in range(6)])
    assert len({f[address].mailbox_id for f in found}) == 1
    assert await Mailbox.count().where(Mailbox.owner == user.id) == 1
    assert await Folder.count().where(Folder.mailbox == found[0][address].mailbox_id) == len(SYSTEM_FOLDERS)
    await asyncio.gather(*[asyncio.to_thread(_send, smtp, _message(address, subject=f"第{n}封"), [address]) for n in range(4)])
    assert await Message.count().where(Message.mailbox == found[0][address].mailbox_id) == 4
    # The same from the web: pages of a new account opened at once.
    other = await make_user("yue", unit_id=town)
    boxes = await asyncio.gather(*[ensure_mailbox(other.id) for _ in range(4)])
    assert len({box["id"] for box in boxes}) == 1 and await Mailbox.count().where(Mailbox.owner == other.id) == 1
