"""Reading mail through HTTP (MAIL-1, MAIL-18): folders, the list, a message, its parts, the link page."""

import base64
import re
from email.message import EmailMessage
from urllib.parse import quote

import pytest

from plugins.webmail.mime import parse_message
from plugins.webmail.services import deliver_to_inboxes, ensure_mailbox, folder_id, get_message
from plugins.webmail.tables import Folder, Message, TrustedImageSender
from portal.accounts.services import UnitForm, create_unit
from portal.testing import csrf_token, login_as, post_form

DOMAIN = "reading.gov.example"
HX = {"hx-request": "true"}


@pytest.fixture
async def town(client):
    return await create_unit(None, UnitForm("阅读县人民政府", "reading", "county", None, DOMAIN, "阅办"))


@pytest.fixture
def reader(make_user, town):
    """``await reader(name)``: an account of the unit and its mailbox."""

    async def factory(name: str):
        user = await make_user(name, unit_id=town)
        return user, await ensure_mailbox(user.id)

    return factory


def mail(subject: str = "会议通知", body: str = "请于周五上午九点参加会议。", sender: str = "外部 <sender@example.org>",
         to: str = f"alice@{DOMAIN}", html: str | None = None, cc: str | None = None,
         attachments: list[tuple[str, str, bytes]] = ()) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = "Fri, 20 Nov 2026 09:30:00 +0800"
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


async def deliver(app, raw: bytes, *mailboxes: dict) -> list[int]:
    stored = await deliver_to_inboxes(app.state.portal, raw, [m["id"] for m in mailboxes])
    return [s.message_id for s in stored]


def rows_of(page: str) -> list[str]:
    """The subjects of the list, in order."""
    return re.findall(r'<td class="subject"><a href="/webmail/message/\d+">([^<]*)</a>', page)


# --------------------------------------------------------------------------- the list


async def test_inbox_lists_messages_with_unread_counts(app, client, reader):
    alice, box = await reader("alice")
    await deliver(app, mail("第一封"), box)
    await deliver(app, mail("第二封"), box)
    await login_as(client, alice)
    page = await client.get("/webmail")
    assert page.status_code == 200
    assert rows_of(page.text) == ["第二封", "第一封"]  # newest first
    assert re.search(r'<span class="badge" data-webmail-unread>2</span>', page.text)  # the menu badge, no JS
    assert box["address"] in page.text
    home = await client.get("/")
    assert re.search(r"data-webmail-unread>2<", home.text)  # on every page
    assert '<script src="/static/webmail/webmail.' in page.text and "<script>" not in page.text and " style=" not in page.text


async def test_sorting_by_subject_sender_and_size(app, client, reader):
    alice, box = await reader("alice")
    await deliver(app, mail("B 中", body="x" * 3000, sender="zed@example.org"), box)
    await deliver(app, mail("A 小", body="x", sender="amy@example.org"), box)
    await deliver(app, mail("C 大", body="x" * 9000, sender="bob@example.org"), box)
    await login_as(client, alice)
    assert rows_of((await client.get("/webmail?sort=subject&order=asc")).text) == ["A 小", "B 中", "C 大"]
    assert rows_of((await client.get("/webmail?sort=subject&order=desc")).text) == ["C 大", "B 中", "A 小"]
    assert rows_of((await client.get("/webmail?sort=sender&order=asc")).text) == ["A 小", "C 大", "B 中"]
    assert rows_of((await client.get("/webmail?sort=size&order=desc")).text) == ["C 大", "B 中", "A 小"]
    assert rows_of((await client.get("/webmail?sort=date&order=asc")).text) == ["B 中", "A 小", "C 大"]
    page = await client.get("/webmail?sort=nonsense&order=sideways")
    assert page.status_code == 200 and rows_of(page.text) == ["C 大", "A 小", "B 中"]
    # The header links keep the filters and toggle the order of the current sort.
    page = await client.get("/webmail?sort=subject&order=asc&unread=1")
    assert 'href="/webmail?sort=subject&amp;unread=1"' in page.text  # desc is the default order


async def test_filters_unread_flagged_and_attachments(app, client, reader):
    alice, box = await reader("alice")
    read_id, flagged_id, _ = [(await deliver(app, raw, box))[0] for raw in (
        mail("已读"), mail("加旗"), mail("附件", attachments=[("a.pdf", "application/pdf", b"%PDF-1.4")]))]
    await Message.update({Message.seen: True}).where(Message.id == read_id)
    await Message.update({Message.flagged: True, Message.seen: True}).where(Message.id == flagged_id)
    await login_as(client, alice)
    assert rows_of((await client.get("/webmail?unread=1")).text) == ["附件"]
    assert rows_of((await client.get("/webmail?flagged=1")).text) == ["加旗"]
    assert rows_of((await client.get("/webmail?attachments=1")).text) == ["附件"]
    assert rows_of((await client.get("/webmail?unread=1&flagged=1")).text) == []


async def test_search_in_subject_sender_and_body(app, client, reader):
    alice, box = await reader("alice")
    await deliver(app, mail("预算报告", body="无关"), box)
    await deliver(app, mail("会议", sender="财政局 <caizheng@example.org>", body="无关"), box)
    await deliver(app, mail("杂事", body="请审阅预算附表"), box)
    await login_as(client, alice)
    assert sorted(rows_of((await client.get("/webmail", params={"q": "预算"})).text)) == sorted(["预算报告", "杂事"])
    assert rows_of((await client.get("/webmail", params={"q": "caizheng"})).text) == ["会议"]
    assert rows_of((await client.get("/webmail", params={"q": "财政局"})).text) == ["会议"]
    assert rows_of((await client.get("/webmail", params={"q": "100%_"})).text) == []


async def test_paging_by_fifty(app, client, reader):
    alice, box = await reader("alice")
    for n in range(53):
        await deliver(app, mail(f"第{n:02d}封"), box)
    await login_as(client, alice)
    first = await client.get("/webmail")
    assert len(rows_of(first.text)) == 50 and rows_of(first.text)[0] == "第52封"
    assert 'href="/webmail?page=2" rel="next"' in first.text and 'rel="prev"' not in first.text
    second = await client.get("/webmail?page=2")
    assert rows_of(second.text) == ["第02封", "第01封", "第00封"]
    assert 'href="/webmail" rel="prev"' in second.text and 'rel="next"' not in second.text
    assert rows_of((await client.get("/webmail?page=99")).text) == []
    assert (await client.get("/webmail?page=-1")).status_code == 200


async def test_htmx_gets_only_the_list_fragment(app, client, reader):
    alice, box = await reader("alice")
    await deliver(app, mail("片段"), box)
    await login_as(client, alice)
    full = await client.get("/webmail?sort=subject")
    assert "<html" in full.text and 'id="message-list"' in full.text and "webmail-folders" in full.text
    fragment = await client.get("/webmail?sort=subject", headers=HX)
    assert fragment.text.lstrip().startswith('<div id="message-list">') and "<html" not in fragment.text
    assert rows_of(fragment.text) == ["片段"] and "webmail-folders" not in fragment.text
    assert 'name="_csrf_token"' in fragment.text  # the bulk form inside still posts
    restore = await client.get("/webmail", headers={**HX, "hx-history-restore-request": "true"})
    assert "<html" in restore.text  # htmx restoring history wants the whole page
    inbox = await folder_id(box["id"], "inbox")
    for url in (f"/webmail/folder/{await folder_id(box['id'], 'trash')}", "/webmail?q=片段&unread=1"):
        assert "<html" in (await client.get(url)).text
        assert (await client.get(url, headers=HX)).text.lstrip().startswith('<div id="message-list">')
    assert inbox


# --------------------------------------------------------------------------- folders and bulk actions


async def test_bulk_actions_mark_flag_move_and_delete(app, client, reader):
    alice, box = await reader("alice")
    ids = [(await deliver(app, mail(f"批量{n}"), box))[0] for n in range(3)]
    await login_as(client, alice)

    async def act(action, chosen, **extra):
        return await post_form(client, "/webmail/actions", {"ids": [str(i) for i in chosen], "action": action,
                                                           "back": "/webmail?sort=subject", **extra})

    response = await act("read", ids[:2])
    assert response.status_code == 303 and response.headers["location"] == "/webmail?sort=subject"
    assert [r["seen"] for r in await Message.select(Message.seen).order_by(Message.id)] == [True, True, False]
    assert "2" in (await client.get("/webmail")).text  # the flash message
    await act("unread", ids[:1])
    await act("flag", ids[1:])
    assert [(r["seen"], r["flagged"]) for r in await Message.select(Message.seen, Message.flagged).order_by(Message.id)] == [
        (False, False), (True, True), (False, True)]
    await act("unflag", ids[2:])
    assert not (await get_message(box["id"], ids[2]))["flagged"]

    created = await post_form(client, "/webmail/folders", {"name": "  项目 甲  "})
    assert created.status_code == 303
    project = await Folder.select().where((Folder.mailbox == box["id"]) & (Folder.kind == "custom")).first()
    assert project["name"] == "项目 甲" and created.headers["location"] == f"/webmail/folder/{project['id']}"
    await act("move", ids[:1], folder=str(project["id"]))
    folder_page = await client.get(f"/webmail/folder/{project['id']}")
    assert rows_of(folder_page.text) == ["批量0"] and "项目 甲" in folder_page.text
    assert rows_of((await client.get("/webmail")).text) == ["批量2", "批量1"]

    await act("delete", ids[1:2])
    trash = await folder_id(box["id"], "trash")
    assert (await get_message(box["id"], ids[1]))["folder"] == trash
    await act("delete", ids[1:2])  # deleting from the trash deletes for good
    assert await get_message(box["id"], ids[1]) is None

    bad = await act("move", ids[2:])  # no folder chosen
    assert bad.status_code == 303 and (await get_message(box["id"], ids[2]))["folder"] == await folder_id(box["id"], "inbox")
    evil = await post_form(client, "/webmail/actions", {"ids": str(ids[2]), "action": "read", "back": "https://evil.example/"})
    assert evil.headers["location"] == "/webmail"


async def test_folder_names_are_checked_and_system_folders_translated(app, client, reader):
    alice, box = await reader("alice")
    await login_as(client, alice)
    await post_form(client, "/webmail/folders", {"name": "归档"})
    again = await post_form(client, "/webmail/folders", {"name": "归档"})
    assert again.status_code == 303 and again.headers["location"] == "/webmail"
    flashed = (await client.get("/webmail")).text
    assert "exists" in flashed or "已存在" in flashed
    assert await Folder.count().where((Folder.mailbox == box["id"]) & (Folder.name == "归档")) == 1
    assert (await post_form(client, "/webmail/folders", {"name": "x" * 101})).status_code == 303
    assert (await post_form(client, "/webmail/folders", {"name": "   "})).status_code == 303
    assert await Folder.count().where(Folder.mailbox == box["id"]) == 6
    page = await client.get("/webmail")
    for label in ("收件箱", "草稿箱", "已发送", "归档"):
        assert label in page.text


# --------------------------------------------------------------------------- a message


async def test_reading_shows_headers_and_marks_seen(app, client, reader):
    alice, box = await reader("alice")
    (message_id,) = await deliver(app, mail("请阅", body="正文 <b>不是标签</b> 见 https://example.org/a?b=1",
                                            cc=f"乙 <bob@{DOMAIN}>", to=f"甲 <alice@{DOMAIN}>"), box)
    await login_as(client, alice)
    page = await client.get(f"/webmail/message/{message_id}")
    assert page.status_code == 200
    text = page.text
    assert "请阅" in text and "外部 &lt;sender@example.org&gt;" in text and f"bob@{DOMAIN}" in text and f"alice@{DOMAIN}" in text
    assert "2026-11-20" in text
    assert "&lt;b&gt;不是标签&lt;/b&gt;" in text  # plain text is escaped, not rendered
    assert f'href="/webmail/link?url={quote("https://example.org/a?b=1", safe="")}"' in text
    assert "<iframe" not in text
    assert (await get_message(box["id"], message_id))["seen"]
    assert re.search(r"data-webmail-unread hidden>0<", text)  # the badge counted after marking seen


HOSTILE = """<html><head><base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example/">
<style>body{background:url(https://evil.example/bg.png)}</style></head>
<body onload="alert(1)"><p>良性文字 benign text</p><script>alert('x')</script>
<img src="x" onerror="alert(2)"><img src="https://tracker.example/pixel.gif" alt="pixel">
<a href="javascript:alert(3)">js link</a> <a href="https://example.org/report">report</a>
<svg><script>alert(4)</script></svg><form action="https://evil.example/"><input name="p"></form>
<iframe src="https://evil.example/"></iframe></body></html>"""


async def test_html_mail_is_sanitized_in_a_sandboxed_iframe_with_its_own_csp(app, client, reader):
    alice, box = await reader("alice")
    (message_id,) = await deliver(app, mail("网页邮件", html=HOSTILE), box)
    await login_as(client, alice)
    page = await client.get(f"/webmail/message/{message_id}")
    iframe = re.search(r"<iframe[^>]*>", page.text).group(0)
    assert f'src="/webmail/message/{message_id}/body"' in iframe
    sandbox = re.search(r'sandbox="([^"]*)"', iframe).group(1)
    assert "allow-scripts" not in sandbox and "allow-same-origin" not in sandbox and "allow-forms" not in sandbox
    assert "良性文字" not in page.text  # the HTML is only in the iframe's own document

    body = await client.get(f"/webmail/message/{message_id}/body")
    assert body.status_code == 200 and body.headers["content-type"].startswith("text/html")
    csp = body.headers["content-security-policy"]
    assert csp.startswith("default-src 'none'; ") and "style-src 'unsafe-inline'" in csp
    assert "script-src" not in csp and "https:" not in csp and "sandbox" in csp
    assert re.search(rf"img-src data: http://127\.0\.0\.1/webmail/message/{message_id}/part/;", csp)
    assert body.headers["x-frame-options"] == "SAMEORIGIN"
    html = body.text.lower()
    assert "良性文字 benign text" in body.text
    for bad in ("<script", "onerror", "onload", "javascript:", "<svg", "<form", "<base", "http-equiv", "<iframe",
                "tracker.example", "evil.example"):
        assert bad not in html, bad
    assert f'href="/webmail/link?url={quote("https://example.org/report", safe="")}"' in body.text


async def test_remote_images_are_blocked_until_allowed(app, client, reader):
    alice, box = await reader("alice")
    html = '<p>图片</p><img src="https://images.example/logo.png" alt="logo">'
    first, second = (await deliver(app, mail("图一", html=html), box))[0], (await deliver(app, mail("图二", html=html), box))[0]
    other = (await deliver(app, mail("别人", html=html, sender="other@example.org"), box))[0]
    await login_as(client, alice)
    page = await client.get(f"/webmail/message/{first}")
    assert f'action="/webmail/message/{first}/images"' in page.text and f'action="/webmail/message/{first}/trust"' in page.text
    body = await client.get(f"/webmail/message/{first}/body")
    assert "images.example" not in body.text and "https:" not in body.headers["content-security-policy"]

    shown = await post_form(client, f"/webmail/message/{first}/images")
    assert shown.status_code == 303 and shown.headers["location"] == f"/webmail/message/{first}"
    body = await client.get(f"/webmail/message/{first}/body")
    assert 'src="https://images.example/logo.png"' in body.text
    assert "img-src data: " in body.headers["content-security-policy"] and " https: http:" in body.headers["content-security-policy"]
    assert "images.example" not in (await client.get(f"/webmail/message/{second}/body")).text  # this message only

    assert (await post_form(client, f"/webmail/message/{second}/trust")).status_code == 303
    assert await TrustedImageSender.count().where(TrustedImageSender.sender_address == "sender@example.org") == 1
    assert "images.example" in (await client.get(f"/webmail/message/{second}/body")).text
    page = await client.get(f"/webmail/message/{second}")
    assert f"/webmail/message/{second}/images" not in page.text  # nothing blocked any more
    assert "images.example" not in (await client.get(f"/webmail/message/{other}/body")).text  # another sender


async def test_attachments_download_with_a_safe_content_disposition(app, client, reader):
    alice, box = await reader("alice")
    raw = mail("附件", attachments=[("../../etc/passwd", "text/plain", b"root:x:0:0"),
                                    ("报告 2026.pdf", "application/pdf", b"%PDF-1.4 test"),
                                    ("page.html", "text/html", b"<script>alert(1)</script>"),
                                    ("logo.png", "image/png", b"\x89PNG\r\n\x1a\n fake")])
    raw = raw.replace(b'filename="page.html"', b'filename="a\r\n b.exe"')
    (message_id,) = await deliver(app, raw, box)
    await login_as(client, alice)
    page = await client.get(f"/webmail/message/{message_id}")
    links = re.findall(rf'<a href="(/webmail/message/{message_id}/part/\d+)" download>([^<]*)</a> <span class="muted">\(([^)]*)\)', page.text)
    assert [name for _, name, _ in links] == ["passwd", "报告 2026.pdf", "a b.exe", "logo.png"]
    assert links[0][2] == "10 B"
    for url, name, _ in links:
        response = await client.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["x-content-type-options"] == "nosniff"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment; filename=") and "\r" not in disposition and "\n" not in disposition
        assert "/" not in disposition.split("filename=")[1].split(";")[0]
    assert (await client.get(links[0][0])).content == b"root:x:0:0"
    assert "filename*=UTF-8''%E6%8A%A5%E5%91%8A%202026.pdf" in (await client.get(links[1][0])).headers["content-disposition"]
    assert 'filename="a b.exe"' in (await client.get(links[2][0])).headers["content-disposition"]
    # A PNG asked for inline is still a download unless the message shows it inline by Content-ID.
    assert (await client.get(links[3][0] + "?inline=1")).headers["content-type"] == "image/png"
    assert (await client.get(f"/webmail/message/{message_id}/part/999")).status_code == 404


async def test_inline_cid_image_is_shown_through_the_part_url(app, client, reader):
    alice, box = await reader("alice")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "sender@example.org", f"alice@{DOMAIN}", "内嵌图片"
    message.set_content("text")
    message.add_alternative('<p>看图</p><img src="cid:logo@x" alt="logo"><img src="cid:vector@x">', subtype="html")
    html_part = message.get_payload()[1]
    html_part.add_related(b"\x89PNG\r\n\x1a\n fake", maintype="image", subtype="png", cid="<logo@x>")
    html_part.add_related(b"<svg onload='alert(1)'/>", maintype="image", subtype="svg+xml", cid="<vector@x>")
    (message_id,) = await deliver(app, message.as_bytes(), box)
    await login_as(client, alice)
    body = await client.get(f"/webmail/message/{message_id}/body")
    # Embedded: the sandboxed document's own requests carry no session cookie.
    src = re.search(r'<img src="([^"]+)" alt="logo"', body.text).group(1)
    assert src == "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n fake").decode()
    assert "vector" not in body.text and body.text.count("<img") == 1  # no SVG inline
    page = await client.get(f"/webmail/message/{message_id}")
    assert "logo" not in re.search(r'<section class="webmail-attachments">.*?</section>', page.text, re.S).group(0)
    png_index = next(a.index for a in parse_message(message.as_bytes()).attachments if a.content_type == "image/png")
    image = await client.get(f"/webmail/message/{message_id}/part/{png_index}?inline=1")
    assert image.headers["content-type"] == "image/png" and image.headers["content-disposition"].startswith("inline;")
    svg_index = re.search(rf"/webmail/message/{message_id}/part/(\d+)\" download>", page.text).group(1)
    svg = await client.get(f"/webmail/message/{message_id}/part/{svg_index}?inline=1")
    assert svg.headers["content-type"] == "application/octet-stream" and svg.headers["content-disposition"].startswith("attachment;")


async def test_raw_source_is_plain_text(app, client, reader):
    alice, box = await reader("alice")
    raw = mail("原文", body="<script>alert(1)</script>") + b"\xff\xfe broken bytes"
    (message_id,) = await deliver(app, raw, box)
    await login_as(client, alice)
    response = await client.get(f"/webmail/message/{message_id}/raw")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-disposition"].startswith("inline;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "Subject: =?utf-8?b?" in response.text and "\ufffd\ufffd broken bytes" in response.text


async def test_link_warning_page(app, client, reader):
    alice, _ = await reader("alice")
    await login_as(client, alice)
    url = "https://example.org/path?a=1&b=<x>"
    page = await client.get("/webmail/link", params={"url": url})
    assert page.status_code == 200
    assert "https://example.org/path?a=1&amp;b=&lt;x&gt;" in page.text
    assert re.search(r'<a class="button primary" href="https://example\.org/path\?a=1&amp;b=&lt;x&gt;" rel="noreferrer noopener">', page.text)
    assert 'href="/webmail"' in page.text
    assert (await client.get("/webmail/link", params={"url": "mailto:someone@example.org"})).status_code == 200
    for bad in ("javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<b>x</b>", "/webmail", "//evil.example",
                "https://", "ftp://example.org/", " java\tscript:alert(1)", ""):
        response = await client.get("/webmail/link", params={"url": bad})
        assert response.status_code == 400, bad
        assert "alert(1)" not in response.text


# --------------------------------------------------------------------------- authorization and CSRF


async def test_another_users_ids_answer_404_everywhere(app, client, reader):
    alice, alice_box = await reader("alice")
    bob, bob_box = await reader("bob")
    raw = mail("鲍勃的秘密", html="<p>秘密内容</p>", attachments=[("secret.pdf", "application/pdf", b"%PDF secret")])
    (bob_message,) = await deliver(app, raw, bob_box)
    bob_folder = await folder_id(bob_box["id"], "trash")
    part_index = parse_message(raw).attachments[0].index
    assert (await attachment_bytes_of(raw, part_index))[1] == b"%PDF secret"
    await login_as(client, alice)
    for url in (f"/webmail/message/{bob_message}", f"/webmail/message/{bob_message}/body",
                f"/webmail/message/{bob_message}/part/{part_index}", f"/webmail/message/{bob_message}/raw",
                f"/webmail/folder/{bob_folder}"):
        response = await client.get(url)
        assert response.status_code == 404, url
        assert "秘密" not in response.text and "secret" not in response.text
    for url in (f"/webmail/message/{bob_message}/images", f"/webmail/message/{bob_message}/trust"):
        assert (await post_form(client, url)).status_code == 404, url
    assert await TrustedImageSender.count() == 0
    for action in ("read", "flag", "delete"):
        await post_form(client, "/webmail/actions", {"ids": str(bob_message), "action": action})
    await post_form(client, "/webmail/actions", {"ids": str(bob_message), "action": "move",
                                                 "folder": str(await folder_id(alice_box["id"], "trash"))})
    row = await get_message(bob_box["id"], bob_message)
    assert row is not None and not row["seen"] and not row["flagged"] and row["folder"] == await folder_id(bob_box["id"], "inbox")
    # Nor into his folder: moving her own message to bob's folder is refused.
    (own,) = await deliver(app, mail("我的"), alice_box)
    await post_form(client, "/webmail/actions", {"ids": str(own), "action": "move", "folder": str(bob_folder)})
    assert (await get_message(alice_box["id"], own))["folder"] == await folder_id(alice_box["id"], "inbox")


async def attachment_bytes_of(raw: bytes, index: int):
    from plugins.webmail.mime import attachment_bytes

    return attachment_bytes(raw, index)


async def test_post_forms_need_the_csrf_token(app, client, reader):
    alice, box = await reader("alice")
    (message_id,) = await deliver(app, mail("令牌", html='<img src="https://images.example/a.png">'), box)
    await login_as(client, alice)
    for url, data in (("/webmail/actions", {"ids": str(message_id), "action": "flag"}), ("/webmail/folders", {"name": "x"}),
                      (f"/webmail/message/{message_id}/images", {}), (f"/webmail/message/{message_id}/trust", {})):
        assert (await client.post(url, data=data)).status_code == 403, url
        assert (await client.post(url, data={**data, "_csrf_token": "0" * 64})).status_code == 403, url
    assert not (await get_message(box["id"], message_id))["flagged"]
    assert await Folder.count().where(Folder.kind == "custom") == 0 and await TrustedImageSender.count() == 0
    ok = await client.post("/webmail/actions", data={"ids": str(message_id), "action": "flag"},
                           headers={"x-csrftoken": csrf_token(client), **HX})
    assert ok.status_code == 303 and (await get_message(box["id"], message_id))["flagged"]


async def test_pages_need_the_mail_permission(app, client, make_user, town):
    outsider = await make_user("visitor", roles=["publisher"], unit_id=town)
    for url in ("/webmail", "/webmail/message/1", "/webmail/link?url=https://example.org/"):
        response = await client.get(url)
        assert response.status_code in (302, 303, 401), url
    await login_as(client, outsider)
    assert (await client.get("/webmail")).status_code == 403


async def test_live_script_is_static_and_asks_for_notifications_only_on_click(app, client, reader):
    alice, _ = await reader("alice")
    await login_as(client, alice)
    page = await client.get("/webmail")
    url = re.search(r'src="(/static/webmail/webmail\.[0-9a-f]{10}\.js)"', page.text).group(1)
    script = (await client.get(url)).text
    assert 'new EventSource("/events")' in script and '"mail"' in script
    assert script.index("requestPermission") > script.index('addEventListener("click"')
    assert 'role="status"' in page.text and "data-webmail-notify hidden" in page.text


async def test_message_page_offers_reply_reply_all_and_forward(client, make_user):
    unit = await create_unit(None, UnitForm("回复测试单位", "reply-unit", "county", None, "reply.gov.example", ""))
    user = await make_user("replier", unit_id=unit)
    mailbox = await ensure_mailbox(user.id)
    raw = b"From: a@example.org\r\nTo: replier@reply.gov.example\r\nSubject: hello\r\n\r\nbody\r\n"
    stored = await deliver_to_inboxes(client.app.state.portal, raw, [mailbox["id"]])
    await login_as(client, user)
    page = await client.get(f"/webmail/message/{stored[0].message_id}", headers={"accept-language": "en"})
    for action in ("reply", "reply-all", "forward"):
        href = f"/webmail/message/{stored[0].message_id}/{action}"
        assert f'href="{href}"' in page.text
        assert (await client.get(href)).status_code == 200
