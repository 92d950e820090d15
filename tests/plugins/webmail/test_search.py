"""Searching a folder (MAIL-1): substrings of subject, sender and body, Chinese included, every
character taken literally, only ever in the user's own folder; indexed by trigrams (FTS5 on
SQLite, pg_trgm on PostgreSQL) with a folder scan for texts shorter than three characters."""

from __future__ import annotations

import importlib
from email.message import EmailMessage

import pytest

from plugins.webmail.services import ListQuery, apply_action, create_folder, deliver_to_inboxes, ensure_mailbox, folder_id, list_messages
from plugins.webmail.tables import Message
from portal.accounts.services import UnitForm, create_unit
from portal.testing import login_as

DOMAIN = "sousuo.gov.example"
SEARCH_MIGRATION = importlib.import_module("migrations.webmail.webmail_2026_11_26t12_30_00_000000")

MEETING = ("关于召开全县安全生产工作会议的通知", "请各乡镇负责同志准时参加。", "县应急管理局 <yingji@county.example>")
BUDGET = ("月度报表", "附件是十一月的财政预算执行情况表，请审阅。", "财政局 <caizheng@county.example>")
SYNTAX = ("Quarterly Report 100% done",
          'see a_b.txt and c:\\temp\\x; "quoted" text; NEAR(x y) *star* -minus (paren) {col}: ^caret AND OR NOT',
          "Tom O'Brien <tom.obrien@example.org>")
LOOKALIKE = ("100 percent", "ab and aXb and 50 percent", "someone <someone@example.org>")


def mail(subject: str, body: str, sender: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"alice@{DOMAIN}"
    message["Subject"] = subject
    message["Date"] = "Fri, 20 Nov 2026 09:30:00 +0800"
    message.set_content(body)
    return message.as_bytes()


@pytest.fixture
async def town(client):
    return await create_unit(None, UnitForm("搜索县人民政府", "sousuo", "county", None, DOMAIN, "搜办"))


@pytest.fixture
async def mailboxes(app, town, make_user):
    """alice's inbox holds the four messages above; bob's holds the same words and more."""
    alice, bob = await make_user("alice", unit_id=town), await make_user("bob", unit_id=town)
    boxes = {"alice": await ensure_mailbox(alice.id), "bob": await ensure_mailbox(bob.id)}
    ids = {}
    for name, message in (("meeting", MEETING), ("budget", BUDGET), ("syntax", SYNTAX), ("lookalike", LOOKALIKE)):
        (stored,) = await deliver_to_inboxes(app.state.portal, mail(*message), [boxes["alice"]["id"]])
        ids[name] = stored.message_id
    await deliver_to_inboxes(app.state.portal, mail("会议纪要 bob-secret 安全生产", "财政预算 Quarterly 100% a_b", "财政局 <caizheng@county.example>"),
                             [boxes["bob"]["id"]])
    return {"alice": alice, "bob": bob, "boxes": boxes, "ids": ids}


async def found(mailbox: dict, text: str, kind: str = "inbox", folder: int | None = None) -> set[int]:
    folder = folder or await folder_id(mailbox["id"], kind)
    rows, total = await list_messages(mailbox["id"], ListQuery(folder_id=folder, search=text))
    assert total == len(rows)
    return {r["id"] for r in rows}


async def test_chinese_words_of_two_three_and_more_characters(mailboxes):
    box, ids = mailboxes["boxes"]["alice"], mailboxes["ids"]
    assert await found(box, "会议") == {ids["meeting"]}  # two characters: shorter than a trigram
    assert await found(box, "会议的") == {ids["meeting"]}
    assert await found(box, "安全生产工作") == {ids["meeting"]}
    assert await found(box, "乡镇") == {ids["meeting"]}  # in the body
    assert await found(box, "负责同志准时") == {ids["meeting"]}
    assert await found(box, "预算") == {ids["budget"]}
    assert await found(box, "财政预算执行") == {ids["budget"]}
    assert await found(box, "会议纪要") == set()  # only bob has it
    assert await found(box, "会") == {ids["meeting"]}
    assert await found(box, "  安全生产  ") == {ids["meeting"]}  # surrounding spaces are not searched for


async def test_one_or_two_characters_at_the_very_end_of_a_field(mailboxes):
    box, ids = mailboxes["boxes"]["alice"], mailboxes["ids"]
    assert await found(box, "通知") == {ids["meeting"]}  # the subject's last two characters
    assert await found(box, "知") == {ids["meeting"]}
    assert await found(box, "理局") == {ids["meeting"]}  # the sender name's
    assert await found(box, "局") == {ids["meeting"], ids["budget"]}
    assert await found(box, "。") == {ids["meeting"], ids["budget"]}  # the body's
    assert await found(box, "RG") == {ids["syntax"], ids["lookalike"]}  # the address's, case aside


async def test_sender_name_and_address_case_aside(mailboxes):
    box, ids = mailboxes["boxes"]["alice"], mailboxes["ids"]
    assert await found(box, "财政局") == {ids["budget"]}
    assert await found(box, "应急") == {ids["meeting"]}
    assert await found(box, "caizheng") == {ids["budget"]}
    assert await found(box, "CaiZheng@County") == {ids["budget"]}
    assert await found(box, "O'Brien") == {ids["syntax"]}
    assert await found(box, "quarterly report") == {ids["syntax"]}
    assert await found(box, "county.example") == {ids["meeting"], ids["budget"]}


LITERALS = ['100%', '%', '_', 'a_b', '"quoted"', '"', 'NEAR(x y)', 'NEAR(', '*star*', '*', '-minus', '-', '{col}:', ':',
            '(paren)', '(', ')', 'c:\\temp\\x', '\\', '^caret', 'AND OR NOT', "; \"quoted\" text;"]


@pytest.mark.parametrize("text", LITERALS)
async def test_wildcards_quotes_and_fts_syntax_are_literal_text(mailboxes, text):
    box, ids = mailboxes["boxes"]["alice"], mailboxes["ids"]
    assert await found(box, text) == {ids["syntax"]}


async def test_a_nul_character_is_dropped_not_an_error(mailboxes):
    # PostgreSQL refuses NUL in text: it would be a server error, not a search.
    assert await found(mailboxes["boxes"]["alice"], "100\x00%") == {mailboxes["ids"]["syntax"]}


@pytest.mark.parametrize("text", ['NEAR(x  y)', 'x OR y', '"*"', '""', "100%_", "a%b", "' OR 1=1 --", "quoted\" OR \"",
                                  "{subject}:会议", "会议 NOT 通知", "^月度"])
async def test_what_only_looks_like_syntax_finds_nothing(mailboxes, text):
    assert await found(mailboxes["boxes"]["alice"], text) == set()


async def test_another_users_mail_is_never_found(mailboxes):
    alice, bob = mailboxes["boxes"]["alice"], mailboxes["boxes"]["bob"]
    assert await found(alice, "bob-secret") == set()
    assert await found(bob, "bob-secret") != set()
    # His folder's id with her mailbox: nothing, for short and long texts alike.
    bob_inbox = await folder_id(bob["id"], "inbox")
    for text in ("会议", "会议纪要", "bob-secret", "a"):
        assert await found(alice, text, folder=bob_inbox) == set()


async def test_moved_deleted_and_edited_messages_are_found_where_they_are(mailboxes):
    box, ids = mailboxes["boxes"]["alice"], mailboxes["ids"]
    archive = await create_folder(box["id"], "归档")
    await apply_action(box["id"], [ids["syntax"]], "move", archive)
    assert await found(box, "Quarterly") == set() and await found(box, "%") == set()
    assert await found(box, "Quarterly", folder=archive) == {ids["syntax"]}
    assert await found(box, "%", folder=archive) == {ids["syntax"]}

    await apply_action(box["id"], [ids["meeting"]], "delete")
    for text in ("会议", "安全生产"):
        assert await found(box, text) == set()
        assert await found(box, text, "trash") == {ids["meeting"]}
    await apply_action(box["id"], [ids["meeting"]], "delete")  # from the trash: gone for good
    for text in ("会议", "安全生产"):
        assert await found(box, text, "trash") == set()

    await Message.update({Message.subject: "改过的标题", Message.body_text: "新的正文"}).where(Message.id == ids["budget"])
    assert await found(box, "月度报表") == set() and await found(box, "财政预算") == set()
    assert await found(box, "改过的标题") == {ids["budget"]} and await found(box, "新的正文") == {ids["budget"]}
    assert await found(box, "财政局") == {ids["budget"]}  # the sender was not changed
    if Message._meta.db.engine_type == "sqlite":
        # The index agrees with its rows: an external-content FTS5 table checks itself.
        await Message.raw("INSERT INTO webmail_message_fts (webmail_message_fts, rank) VALUES ('integrity-check', 1)")


async def test_the_migration_indexes_messages_stored_before_it(app, mailboxes):
    box = mailboxes["boxes"]["alice"]
    manager = await SEARCH_MIGRATION.forwards()
    await manager.run(backwards=True)
    (stored,) = await deliver_to_inboxes(app.state.portal, mail("迁移之前的邮件", "旧的正文内容", "旧 <old@example.org>"), [box["id"]])
    await manager.run()
    assert await found(box, "迁移之前") == {stored.message_id}
    assert await found(box, "旧的正文") == {stored.message_id}
    assert await found(box, "安全生产工作") == {mailboxes["ids"]["meeting"]}


async def test_search_page_takes_any_text(client, mailboxes):
    await login_as(client, mailboxes["alice"])
    for text in LITERALS + ["会议", "NEAR(x  y)", '"*"', "\x00", "'" * 100, "会" * 500]:
        page = await client.get("/webmail", params={"q": text})
        assert page.status_code == 200, text
    page = await client.get("/webmail", params={"q": "NEAR("}, headers={"hx-request": "true"})
    assert page.status_code == 200 and "Quarterly Report 100% done" in page.text and "<html" not in page.text
