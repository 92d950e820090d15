"""Folder counts kept by database triggers (MAIL-1 unread counts, issue B inbox speed).

The folder list, the menu badge and the paging read ``webmail_folder.total`` and ``.unread``
instead of counting a folder's rows; these tests hold them to the real counts after every kind
of change, on SQLite and PostgreSQL.
"""

import importlib
import random
import re
from email.message import EmailMessage

import pytest

from plugins.webmail.services import (ActionError, apply_action, create_folder, deliver_to_inboxes, ensure_mailbox,
                                      folder_id, folders_of, mark_seen, store_message, unread_count)
from plugins.webmail.tables import Folder, Mailbox, Message
from portal.accounts.services import UnitForm, create_unit
from portal.testing import login_as

DOMAIN = "counts.gov.example"


@pytest.fixture
async def owner(client, make_user):
    """An account of a unit with a mail domain, and its mailbox."""
    unit = await create_unit(None, UnitForm("计数县人民政府", "counts", "county", None, DOMAIN, "计办"))
    user = await make_user("counter", unit_id=unit)
    return user, await ensure_mailbox(user.id)


def mail(subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = "外部 <sender@example.org>"
    message["To"] = f"counter@{DOMAIN}"
    message["Subject"] = subject
    message.set_content("正文")
    return message.as_bytes()


async def deliver(app, box: dict, count: int = 1) -> list[int]:
    ids = []
    for n in range(count):
        stored = await deliver_to_inboxes(app.state.portal, mail(f"第{n}封"), [box["id"]])
        ids.append(stored[0].message_id)
    return ids


async def kept(mailbox_id: int) -> dict[int, tuple[int, int]]:
    """What the folders say: {folder id: (total, unread)}."""
    return {f["id"]: (f["total"], f["unread"]) for f in await folders_of(mailbox_id)}


async def real(mailbox_id: int) -> dict[int, tuple[int, int]]:
    """What counting the rows says."""
    counts = {}
    for folder in await folders_of(mailbox_id):
        in_folder = Message.folder == folder["id"]
        counts[folder["id"]] = (await Message.count().where(in_folder),
                                await Message.count().where(in_folder & (Message.seen == False)))  # noqa: E712
    return counts


async def test_counts_follow_delivery_reading_actions_and_deletion(app, owner):
    _, box = owner
    inbox, sent, trash = [await folder_id(box["id"], kind) for kind in ("inbox", "sent", "trash")]
    ids = await deliver(app, box, 4)
    assert (await kept(box["id"]))[inbox] == (4, 4)
    await store_message(mail("已发送"), [(box["id"], "sent")], seen=True)  # a Sent copy is read
    assert (await kept(box["id"]))[sent] == (1, 0)

    await mark_seen(box["id"], ids[0])
    await mark_seen(box["id"], ids[0])  # reading twice counts once
    assert (await kept(box["id"]))[inbox] == (4, 3) and await unread_count(box["id"]) == 3
    await apply_action(box["id"], ids[:3], "read")
    assert (await kept(box["id"]))[inbox] == (4, 1)
    await apply_action(box["id"], ids[1:2], "unread")
    await apply_action(box["id"], ids, "flag")  # flags leave the counts alone
    assert (await kept(box["id"]))[inbox] == (4, 2)

    project = await create_folder(box["id"], "项目")
    await apply_action(box["id"], ids[:2], "move", project)
    assert (await kept(box["id"]))[inbox] == (2, 1) and (await kept(box["id"]))[project] == (2, 1)
    await apply_action(box["id"], ids[1:3], "delete")  # to the trash, one of them from the project
    assert (await kept(box["id"]))[trash] == (2, 1)
    assert (await kept(box["id"]))[project] == (1, 0) and (await kept(box["id"]))[inbox] == (1, 1)
    await apply_action(box["id"], ids[1:3], "delete")  # from the trash: gone for good
    assert (await kept(box["id"]))[trash] == (0, 0)

    # Writes that bypass the services are counted too.
    await Message.update({Message.seen: True}).where(Message.mailbox == box["id"])
    await Message.update({Message.folder: trash}).where(Message.id == ids[3])
    assert await kept(box["id"]) == await real(box["id"])
    assert (await kept(box["id"]))[trash] == (1, 0) and (await kept(box["id"]))[inbox] == (0, 0)
    await Message.delete().where(Message.id == ids[3])
    assert (await kept(box["id"]))[trash] == (0, 0)


async def test_counts_stay_exact_through_a_random_mix_of_changes(app, owner):
    _, box = owner
    folders = [await folder_id(box["id"], kind) for kind in ("inbox", "trash", "spam")]
    folders.append(await create_folder(box["id"], "归档"))
    ids = await deliver(app, box, 12)
    chance = random.Random(20261126)
    for _ in range(60):
        action = chance.choice(("read", "unread", "flag", "move", "delete", "deliver", "seen"))
        chosen = chance.sample(ids, min(len(ids), chance.randint(1, 4)))
        if action == "deliver" or not ids:
            ids += await deliver(app, box, chance.randint(1, 2))
        elif action == "seen":
            await mark_seen(box["id"], chosen[0])
        else:
            await apply_action(box["id"], chosen, action, chance.choice(folders))
        ids = [r["id"] for r in await Message.select(Message.id).where(Message.mailbox == box["id"])]
        assert await kept(box["id"]) == await real(box["id"]), action


async def test_deleting_a_mailbox_or_folder_row_with_messages_is_not_hindered(app, owner):
    _, box = owner
    ids = await deliver(app, box, 2)
    custom = await create_folder(box["id"], "临时")
    await apply_action(box["id"], ids[:1], "move", custom)
    await Folder.delete().where(Folder.id == custom)  # the cascade deletes its message
    assert await Message.count().where(Message.id == ids[0]) == 0
    assert await kept(box["id"]) == await real(box["id"])
    await Mailbox.delete().where(Mailbox.id == box["id"])
    assert await Message.count() == 0 and await Folder.count() == 0


async def test_the_migration_counts_the_messages_already_there(app, owner):
    """Backwards drops the triggers; forwards creates them and fills the counts from the rows."""
    _, box = owner
    migration = importlib.import_module("migrations.webmail.webmail_2026_11_26t11_12_26_000000")
    manager = await migration.forwards()
    await deliver(app, box, 3)
    try:
        for step in manager.raw_backwards:
            await step()
        await deliver(app, box, 2)  # not counted without the triggers
        inbox = await folder_id(box["id"], "inbox")
        assert (await kept(box["id"]))[inbox] == (3, 3)
    finally:
        for step in manager.raw:
            await step()
    assert (await kept(box["id"]))[inbox] == (5, 5)
    await deliver(app, box, 1)
    assert (await kept(box["id"]))[inbox] == (6, 6) == (await real(box["id"]))[inbox]


def caption(page: str) -> str:
    return re.search(r'<caption class="muted">([^<]*)</caption>', page).group(1)


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


async def test_pages_show_the_counts(app, client, owner):
    user, box = owner
    ids = await deliver(app, box, 53)
    await apply_action(box["id"], ids[:10], "read")
    await apply_action(box["id"], ids[:2], "flag")
    await login_as(client, user)
    page = (await client.get("/webmail")).text
    assert numbers(caption(page)) == [53]
    assert numbers(re.search(r'<nav class="pager"[^>]*>.*?<span>([^<]*)</span>', page, re.S).group(1)) == [1, 2]
    assert re.search(r'<span class="count" title="[^"]+">43</span>', page)  # the inbox in the folder list
    assert re.search(r'<span class="badge" data-webmail-unread>43</span>', page)  # the menu badge
    assert numbers(caption((await client.get("/webmail?unread=1")).text)) == [43]
    flagged = (await client.get("/webmail?flagged=1")).text  # counted, as filters other than unread are
    assert numbers(caption(flagged)) == [2] and 'rel="next"' not in flagged
    await deliver(app, box)
    home = (await client.get("/")).text  # the badge on a page that did not read the folders
    assert re.search(r'<span class="badge" data-webmail-unread>44</span>', home)


async def test_moving_to_another_users_folder_changes_no_count(app, client, owner, make_user):
    _, box = owner
    other = await ensure_mailbox((await make_user("other")).id)
    ids = await deliver(app, box, 1)
    theirs = await folder_id(other["id"], "inbox")
    before = await kept(other["id"])
    with pytest.raises(ActionError):
        await apply_action(box["id"], ids, "move", theirs)
    assert await kept(other["id"]) == before and await kept(box["id"]) == await real(box["id"])
