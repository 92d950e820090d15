"""Sending mail (MAIL-4, MAIL-5): compose pages, internal delivery, drafts, reply/forward, status."""

from __future__ import annotations

import email
import re
from email import policy
from types import SimpleNamespace

import pytest

from plugins.webmail import sending
from plugins.webmail.blobs import read_blob
from plugins.webmail.mime import attachment_bytes, parse_message
from plugins.webmail.services import apply_action, ensure_mailbox, folder_id, mark_seen
from plugins.webmail.tables import Delivery, Message, Outgoing
from portal.accounts.services import UnitForm, create_department, create_unit
from portal.accounts.tables import User
from portal.jobs.tables import QueuedJob
from portal.testing import csrf_token, login_as, post_form

DOMAIN = "huanghe.gov.example"


@pytest.fixture
async def town(client):
    return await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, DOMAIN, "黄河办"))


@pytest.fixture
async def people(town, make_user):
    """alice (the sender), bob, carol and dan, all of the county."""
    return {name: await make_user(name, unit_id=town) for name in ("alice", "bob", "carol", "dan")}


def who(user) -> SimpleNamespace:
    return SimpleNamespace(id=user.id, display_name=user.username.title())


def addr(user) -> str:
    return f"{user.username}@{DOMAIN}"


async def inbox_of(user) -> list[dict]:
    mailbox = await ensure_mailbox(user.id)
    return await Message.select().where((Message.mailbox == mailbox["id"])
                                        & (Message.folder == await folder_id(mailbox["id"], "inbox")))


async def folder_rows(user, kind: str) -> list[dict]:
    mailbox = await ensure_mailbox(user.id)
    return await Message.select().where((Message.mailbox == mailbox["id"])
                                        & (Message.folder == await folder_id(mailbox["id"], kind)))


async def raw_of(app, row: dict) -> bytes:
    return await read_blob(app.state.portal, row["blob_sha"])


async def statuses(outgoing_id: int) -> dict[str, str]:
    rows = await Delivery.select(Delivery.recipient, Delivery.status).where(Delivery.outgoing == outgoing_id)
    return {r["recipient"]: r["status"] for r in rows}


# Through the pages ---------------------------------------------------------------------------


async def test_compose_and_send_internally_then_delivered_then_opened(client, app, people):
    alice, bob = people["alice"], people["bob"]
    await login_as(client, alice)
    page = await client.get("/webmail/compose")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    response = await post_form(client, "/webmail/compose", {
        "to": f"{addr(bob)}", "subject": "会议通知", "body": "请于周五上午九点参加会议。", "action": "send",
    }, files={"attachments": ("议程.txt", "一、开幕\n".encode(), "text/plain")})
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/webmail/sent/") and location.endswith("/status")
    outgoing_id = int(location.split("/")[3])

    received = await inbox_of(bob)
    assert len(received) == 1 and received[0]["subject"] == "会议通知" and received[0]["has_attachments"]
    parsed = parse_message(await raw_of(app, received[0]))
    assert parsed.sender_address == addr(alice) and parsed.sender_name == "Alice"
    assert parsed.message_id.endswith(f"@{DOMAIN}>") and parsed.date is not None
    assert [a.filename for a in parsed.attachments] == ["议程.txt"]
    sent = await folder_rows(alice, "sent")
    assert len(sent) == 1 and sent[0]["seen"] and sent[0]["subject"] == "会议通知"
    assert await statuses(outgoing_id) == {addr(bob): "delivered"}

    status = await client.get(location)
    assert status.status_code == 200 and addr(bob) in status.text
    await mark_seen(received[0]["mailbox"], received[0]["id"])
    assert await statuses(outgoing_id) == {addr(bob): "opened"}
    fragment = await client.get(location, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith("<tbody") and "<html" not in fragment.text
    listing = await client.get("/webmail/status")
    assert listing.status_code == 200 and "会议通知" in listing.text


@pytest.mark.parametrize("form, field", [
    ({"to": "", "subject": "空"}, "to"),
    ({"to": "not-an-address, bob@", "subject": "坏地址"}, "to"),
    ({"to": ", ".join(f"u{n}@example.org" for n in range(101)), "subject": "太多外部"}, "to"),
    ({"to": ", ".join(f"u{n}@{DOMAIN}" for n in range(2001)), "subject": "太多"}, "to"),
    ({"to": f"bob@{DOMAIN}", "subject": "行\n二"}, "subject"),
])
async def test_invalid_forms_give_400_keep_input_and_store_nothing(client, people, form, field):
    await login_as(client, people["alice"])
    response = await post_form(client, "/webmail/compose", {"body": "正文保留", "action": "send", **form})
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.text and "正文保留" in response.text
    assert await Outgoing.count() == 0 and await Message.count() == 0 and await Delivery.count() == 0
    assert await QueuedJob.count() == 0


async def test_too_large_attachments_give_400(client, people, monkeypatch):
    monkeypatch.setenv("PORTAL_WEBMAIL_MAX_MESSAGE_BYTES", "10000")
    await login_as(client, people["alice"])
    response = await post_form(client, "/webmail/compose", {"to": addr(people["bob"]), "subject": "大", "action": "send"},
                               files={"attachments": ("big.bin", b"x" * 20000, "application/octet-stream")})
    assert response.status_code == 400 and 'id="attachments-error"' in response.text
    assert await Message.count() == 0 and await Outgoing.count() == 0


async def test_a_request_over_the_upload_limit_is_refused(client, people):
    await login_as(client, people["alice"])
    huge = b"x" * (sending.DEFAULT_MAX_MESSAGE + 5 * 1024 * 1024)
    response = await post_form(client, "/webmail/compose", {"to": addr(people["bob"]), "action": "send"},
                               files={"attachments": ("huge.bin", huge, "application/octet-stream")})
    assert response.status_code == 413
    assert await Message.count() == 0


async def test_post_without_csrf_token_is_refused(client, people):
    await login_as(client, people["alice"])
    response = await client.post("/webmail/compose", data={"to": addr(people["bob"]), "action": "send"})
    assert response.status_code == 403
    assert await Message.count() == 0


async def test_status_of_another_users_send_is_404(client, app, people):
    outgoing_id = await sending.send(app.state.portal, who(people["bob"]), sending.Draft(to=[addr(people["carol"])], subject="私"))
    await login_as(client, people["alice"])
    assert (await client.get(f"/webmail/sent/{outgoing_id}/status")).status_code == 404
    assert (await client.get("/webmail/sent/99999/status")).status_code == 404
    assert "私" not in (await client.get("/webmail/status")).text


async def test_pages_need_a_login(client):
    for path in ("/webmail/compose", "/webmail/status", "/webmail/sent/1/status", "/webmail/message/1/reply"):
        response = await client.get(path)
        assert response.status_code in (302, 303, 401), path


async def test_directory_picker_full_page_and_fragment(client, app, town, make_user):
    office = await create_department(None, town, "办公室", True)
    alice = await make_user("alice", unit_id=town)
    await make_user("bob", unit_id=town, department_id=office)
    await login_as(client, alice)
    page = await client.get(f"/webmail/compose?unit={town}")
    assert page.status_code == 200 and "<html" in page.text
    assert f'value="bob@{DOMAIN}"' in page.text and "办公室" in page.text
    fragment = await client.get(f"/webmail/compose?unit={town}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and f'value="bob@{DOMAIN}"' in fragment.text
    # Without JavaScript: the "show" button re-renders the form, keeping what was typed.
    shown = await post_form(client, "/webmail/compose", {"to": "x@example.org", "subject": "保留", "unit": str(town),
                                                         "action": "directory"})
    assert shown.status_code == 200 and "保留" in shown.text and f'value="bob@{DOMAIN}"' in shown.text
    # Ticked members are sent to.
    response = await post_form(client, "/webmail/compose", {"to": "", "pick": f"bob@{DOMAIN}", "subject": "点选",
                                                            "action": "send"})
    assert response.status_code == 303
    assert [r["subject"] for r in await inbox_of(SimpleNamespace(id=(await ensure_mailbox_user("bob")).id))] == ["点选"]


async def ensure_mailbox_user(username: str):
    from portal.accounts.tables import User

    row = await User.select(User.id).where(User.username == username).first()
    return SimpleNamespace(id=row["id"])


# Services ------------------------------------------------------------------------------------


async def test_bcc_is_not_visible_to_recipients(app, people):
    alice, bob, carol, dan = (people[n] for n in ("alice", "bob", "carol", "dan"))
    outgoing_id = await sending.send(app.state.portal, who(alice), sending.Draft(
        to=[addr(bob)], cc=[addr(carol)], bcc=[addr(dan)], subject="密送", body="x"))
    assert await statuses(outgoing_id) == {addr(bob): "delivered", addr(carol): "delivered", addr(dan): "delivered"}
    for user in (bob, carol, dan):
        (row,) = await inbox_of(user)
        raw = await raw_of(app, row)
        assert b"Bcc" not in raw and addr(dan).encode() not in raw
        headers = email.message_from_bytes(raw, policy=policy.default)
        assert headers["To"] == addr(bob) and headers["Cc"] == addr(carol)
    (sent,) = await folder_rows(alice, "sent")
    assert addr(dan).encode() in await raw_of(app, sent)  # the sender's copy remembers the Bcc


async def test_separate_display_each_recipient_sees_only_himself(app, people, town):
    """群发单显 to 200 colleagues (MAIL-4): each gets exactly one copy, To him alone and without
    the Cc, listed so in his inbox, with a delivery row; the sender's copy keeps everyone."""
    alice = people["alice"]
    staff = [f"staff{n:03d}" for n in range(197)]  # inserted directly: hashing 197 passwords only takes time
    await User.insert(*[User(username=name, display_name=name, email="", password_hash="!", unit=town) for name in staff])
    to = [addr(people["bob"]), addr(people["carol"]), *[f"{name}@{DOMAIN}" for name in staff]]
    cc = [addr(people["dan"])]
    outgoing_id = await sending.send(app.state.portal, who(alice), sending.Draft(
        to=to, cc=cc, subject="群发单显", body="各位好", separate_display=True))

    deliveries = {d["id"]: d for d in await Delivery.select().where(Delivery.outgoing == outgoing_id)}
    assert sorted(d["recipient"] for d in deliveries.values()) == sorted(to + cc)
    assert {d["status"] for d in deliveries.values()} == {"delivered"}
    assert len({d["blob_sha"] for d in deliveries.values()}) == 200
    copies = await Message.select(Message.blob_sha, Message.to_addresses, Message.cc_addresses, Message.delivery_id,
                                  Message.folder, Message.mailbox.address.as_alias("owner")).where(
        Message.subject == "群发单显", Message.folder.kind == "inbox")
    assert sorted(c["owner"] for c in copies) == sorted(to + cc)  # one copy each, in his inbox
    for copy in copies:
        assert deliveries[copy["delivery_id"]]["recipient"] == copy["owner"]
        assert copy["to_addresses"] == copy["owner"] and copy["cc_addresses"] == ""  # what his list shows
        raw = await raw_of(app, copy)
        parsed = parse_message(raw)
        assert [a for _n, a in parsed.to] == [copy["owner"]] and parsed.cc == []
        assert [a for a in to + cc if a.encode() in raw] == [copy["owner"]]  # no one else's address anywhere
    (sent,) = await folder_rows(alice, "sent")
    parsed = parse_message(await raw_of(app, sent))
    assert [a for _n, a in parsed.to] == to and [a for _n, a in parsed.cc] == cc
    assert sent["to_addresses"] == ", ".join(to) and sent["cc_addresses"] == ", ".join(cc)


async def test_unknown_internal_address_fails_with_no_such_user(client, app, people):
    outgoing_id = await sending.send(app.state.portal, who(people["alice"]), sending.Draft(
        to=[f"nobody@{DOMAIN}", addr(people["bob"])], subject="有人没有"))
    rows = {r["recipient"]: r for r in await Delivery.select().where(Delivery.outgoing == outgoing_id)}
    assert rows[f"nobody@{DOMAIN}"]["status"] == "failed" and rows[f"nobody@{DOMAIN}"]["detail"] == "no such user"
    assert rows[addr(people["bob"])]["status"] == "delivered"
    await login_as(client, people["alice"])
    page = await client.get(f"/webmail/sent/{outgoing_id}/status")
    assert "收件人不存在" in page.text  # "No such user", in the default locale


async def test_external_recipients_get_one_relay_job_each(app, people):
    outgoing_id = await sending.send(app.state.portal, who(people["alice"]), sending.Draft(
        to=["a@example.org", "b@example.net", addr(people["bob"])], subject="外发"))
    jobs = await QueuedJob.select().where(QueuedJob.kind == "webmail.relay")
    assert len(jobs) == 2
    assert await statuses(outgoing_id) == {"a@example.org": "queued", "b@example.net": "queued", addr(people["bob"]): "delivered"}


async def test_drafts_are_saved_replaced_reopened_and_removed_on_send(client, app, people):
    alice, bob = people["alice"], people["bob"]
    await login_as(client, alice)
    response = await post_form(client, "/webmail/compose", {"to": addr(bob), "bcc": addr(people["carol"]), "subject": "草稿",
                                                            "body": "第一版", "separate_display": "1", "action": "draft"},
                               files={"attachments": ("a.pdf", b"%PDF-1.4 draft", "application/pdf")})
    assert response.status_code == 303 and "draft=" in response.headers["location"]
    first = int(response.headers["location"].split("draft=")[1].split("&")[0])
    page = await client.get(response.headers["location"])
    assert page.status_code == 200 and "第一版" in page.text and addr(people["carol"]) in page.text
    assert 'name="separate_display" value="1" checked' in page.text and "a.pdf" in page.text

    second_draft = await sending.save_draft(app.state.portal, who(alice), sending.Draft(
        to=[addr(bob)], subject="草稿", body="第二版", draft_id=first, source_id=first,
        carry=[a.index for a in (await sending.open_draft(app.state.portal, who(alice), first)).carried]))
    drafts = await folder_rows(alice, "drafts")
    assert [d["id"] for d in drafts] == [second_draft] and "第二版" in drafts[0]["body_text"]
    assert drafts[0]["has_attachments"]

    response = await post_form(client, "/webmail/compose", {"to": addr(bob), "subject": "草稿", "body": "定稿",
                                                            "draft_id": str(second_draft), "source_id": str(second_draft),
                                                            "carry": [str(a.index) for a in (await sending.open_draft(
                                                                app.state.portal, who(alice), second_draft)).carried],
                                                            "action": "send"})
    assert response.status_code == 303
    assert await folder_rows(alice, "drafts") == []
    (received,) = await inbox_of(bob)
    assert "定稿" in received["body_text"] and received["has_attachments"]
    # Someone else's draft cannot be opened.
    await login_as(client, people["dan"])
    assert (await client.get(f"/webmail/compose?draft={second_draft}")).status_code == 404


async def test_reply_reply_all_and_forward_prefill(client, app, people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    await sending.send(app.state.portal, who(bob), sending.Draft(
        to=[addr(alice), addr(carol)], cc=["ext@example.org"], subject="季度报告", body="见附件。\n第二行",
        attachments=[("报告.pdf", "application/pdf", b"%PDF-1.4 report")]))
    (original,) = await inbox_of(alice)
    await login_as(client, alice)

    reply = await client.get(f"/webmail/message/{original['id']}/reply")
    assert reply.status_code == 200
    assert f'value="{addr(bob)}"' in reply.text and "Re: 季度报告" in reply.text and "&gt; 见附件。" in reply.text
    assert original["message_id"].replace("<", "&lt;").replace(">", "&gt;") in reply.text  # In-Reply-To

    everyone = await client.get(f"/webmail/message/{original['id']}/reply-all")
    assert everyone.status_code == 200
    prefill = await sending.reply(app.state.portal, who(alice), original["id"], everyone=True)
    assert prefill.draft.to == [addr(bob), addr(carol)] and prefill.draft.cc == ["ext@example.org"]
    assert addr(alice) not in prefill.draft.to + prefill.draft.cc

    forward = await client.get(f"/webmail/message/{original['id']}/forward")
    assert forward.status_code == 200 and "Fwd: 季度报告" in forward.text and "报告.pdf" in forward.text
    prefill = await sending.forward(app.state.portal, who(alice), original["id"])
    outgoing_id = await sending.send(app.state.portal, who(alice), sending.Draft(
        to=[addr(people["dan"])], subject=prefill.draft.subject, body=prefill.draft.body,
        source_id=prefill.draft.source_id, carry=prefill.draft.carry))
    (forwarded,) = await inbox_of(people["dan"])
    parsed = parse_message(await raw_of(app, forwarded))
    assert [a.filename for a in parsed.attachments] == ["报告.pdf"] and "见附件" in parsed.text
    assert outgoing_id

    as_attachment = await sending.forward(app.state.portal, who(alice), original["id"], as_attachment=True)
    await sending.send(app.state.portal, who(alice), sending.Draft(
        to=[addr(people["dan"])], subject=as_attachment.draft.subject, source_id=original["id"], attach_original=True))
    latest = max(await inbox_of(people["dan"]), key=lambda r: r["id"])
    assert [a.content_type for a in parse_message(await raw_of(app, latest)).attachments] == ["message/rfc822"]


async def test_a_draft_saved_while_forwarding_as_attachment_keeps_the_original(app, people):
    alice, bob, dan = people["alice"], people["bob"], people["dan"]
    portal = app.state.portal
    await sending.send(portal, who(bob), sending.Draft(to=[addr(alice)], subject="季度报告", body="见附件。",
                                                       attachments=[("报告.pdf", "application/pdf", b"%PDF-1.4 report")]))
    (original,) = await inbox_of(alice)
    forward = await sending.forward(portal, who(alice), original["id"], as_attachment=True)
    first = await sending.save_draft(portal, who(alice), sending.Draft(
        to=[addr(dan)], subject=forward.draft.subject, body="第一版", source_id=original["id"], attach_original=True))
    # The draft holds its own copy: the original may be deleted for good meanwhile.
    box = await ensure_mailbox(alice.id)
    await apply_action(box["id"], [original["id"]], "delete")
    await apply_action(box["id"], [original["id"]], "delete")
    assert await folder_rows(alice, "trash") == []

    reopened = await sending.open_draft(portal, who(alice), first)
    assert [(a.filename, a.content_type) for a in reopened.carried] == [("季度报告.eml", "message/rfc822")]
    assert reopened.draft.carry == [reopened.carried[0].index]
    second = await sending.save_draft(portal, who(alice), sending.Draft(
        to=[addr(dan)], subject=reopened.draft.subject, body="第二版", draft_id=first, source_id=first,
        carry=reopened.draft.carry))
    assert [d["id"] for d in await folder_rows(alice, "drafts")] == [second]

    await sending.send(portal, who(alice), (await sending.open_draft(portal, who(alice), second)).draft)
    assert await folder_rows(alice, "drafts") == []
    (received,) = await inbox_of(dan)
    raw = await raw_of(app, received)
    parsed = parse_message(raw)
    assert parsed.subject == "Fwd: 季度报告" and "第二版" in parsed.text
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [("季度报告.eml", "message/rfc822")]
    inner = parse_message(attachment_bytes(raw, parsed.attachments[0].index)[1])
    assert inner.subject == "季度报告" and inner.text.strip() == "见附件。" and inner.sender_address == addr(bob)
    (pdf,) = inner.attachments
    assert pdf.filename == "报告.pdf"


async def test_forward_as_attachment_and_edit_draft_pages(client, app, people):
    alice, dan = people["alice"], people["dan"]
    await sending.send(app.state.portal, who(people["bob"]), sending.Draft(to=[addr(alice)], subject="季度报告", body="见附件。"))
    (original,) = await inbox_of(alice)
    await login_as(client, alice)
    page = await client.get(f"/webmail/message/{original['id']}")
    assert f'href="/webmail/message/{original["id"]}/forward?as=attachment"' in page.text
    assert "/webmail/compose?draft=" not in page.text  # only a draft is edited
    form = {"to": addr(dan), "subject": "Fwd: 季度报告", "body": "", "source_id": str(original["id"]), "attach_original": "1"}
    # Shown again (the address book without JavaScript, an error), the form still names the original.
    for action, status in (("directory", 200), ("send", 400)):
        again = await post_form(client, "/webmail/compose", {**form, "action": action} | ({"to": "不是地址"} if status == 400 else {}))
        assert again.status_code == status
        assert 'name="attach_original" value="1" checked' in again.text and "原邮件：季度报告" in again.text

    saved = await post_form(client, "/webmail/compose", {**form, "action": "draft"})
    draft_id = int(saved.headers["location"].split("draft=")[1].split("&")[0])
    draft_page = await client.get(f"/webmail/message/{draft_id}")
    assert f'href="/webmail/compose?draft={draft_id}"' in draft_page.text and "继续编辑" in draft_page.text
    reopened = await client.get(f"/webmail/compose?draft={draft_id}")
    assert reopened.status_code == 200
    assert re.search(r'name="carry" value="\d+" checked> 季度报告\.eml', reopened.text)


async def test_reply_or_forward_of_another_users_message_is_404(client, app, people):
    await sending.send(app.state.portal, who(people["bob"]), sending.Draft(to=[addr(people["carol"])], subject="别人的"))
    (theirs,) = await inbox_of(people["carol"])
    await login_as(client, people["alice"])
    for action in ("reply", "reply-all", "forward"):
        assert (await client.get(f"/webmail/message/{theirs['id']}/{action}")).status_code == 404
    # Nor can its attachments be carried into one's own message.
    response = await post_form(client, "/webmail/compose", {"to": addr(people["dan"]), "subject": "偷",
                                                            "source_id": str(theirs["id"]), "carry": "2",
                                                            "action": "send"})
    assert response.status_code == 400 and await inbox_of(people["dan"]) == []


async def test_address_fields_accept_commas_semicolons_and_names():
    assert sending.split_addresses("a@x.example; 张伟 <zw@x.example>，b@x.example\nc@x.example") == [
        "a@x.example", "zw@x.example", "b@x.example", "c@x.example"]
    assert not sending.valid_address("bob@") and not sending.valid_address("a b@x.example")
    assert csrf_token  # imported for the form helpers
