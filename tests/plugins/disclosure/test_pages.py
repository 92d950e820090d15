"""The disclosure pages over HTTP (PUB-1, PUB-4): the public reads without logging in; a
publisher works on his own unit's catalog only; forms are CSRF-checked, validated and limited;
what must stay hidden (drafts, scheduled, withdrawn and classified items) cannot be reached by URL,
search or feed; whatever a title or text holds is shown as text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest

from plugins.disclosure import items, public
from portal.audit.tables import AuditEntry
from portal.localtime import ZONE
from portal.testing import login_as, post_form

ATOM = "{http://www.w3.org/2005/Atom}"


async def create(client, categories, unit="huanghe", key="notices", side="county", **fields):
    data = {"category": categories[side][key], "title": "关于做好防汛工作的通知", "issuer": "黄河县人民政府办公室",
            "document_number": "黄河办〔2026〕5号", "document_date": "2026-06-01", "body": "请各乡镇做好防汛准备。",
            "classification": "public", **fields}
    return await post_form(client, f"/disclosure/manage/units/{unit}/items", data)


def item_id_of(response) -> int:
    assert response.status_code == 303, response.text
    return int(re.search(r"/items/(\d+)", response.headers["location"]).group(1))


async def published(client, categories, **fields) -> int:
    item_id = item_id_of(await create(client, categories, **fields))
    assert (await post_form(client, f"/disclosure/manage/items/{item_id}/publish", {"when": "now"})).status_code == 303
    return item_id


async def test_a_publisher_writes_and_publishes_and_the_public_reads_it(client, units, categories, publisher):
    await login_as(client, publisher)
    response = await client.get("/disclosure/manage")
    assert response.status_code == 303 and response.headers["location"] == "/disclosure/manage/units/huanghe"
    item_id = item_id_of(await create(client, categories))
    page = await client.get(f"/disclosure/manage/items/{item_id}?done=created")
    assert "草稿已保存" in page.text or "The draft is saved." in page.text
    assert (await client.get(f"/disclosure/items/{item_id}")).status_code == 404  # a draft
    assert (await post_form(client, f"/disclosure/manage/items/{item_id}/publish", {"when": "now"})).status_code == 303
    await client.post("/logout", data={"_csrf_token": client.cookies.get("portal_csrf", "")})
    client.cookies.clear()

    index = await client.get("/disclosure")
    assert index.status_code == 200 and "/disclosure/units/huanghe" in index.text
    unit = await client.get("/disclosure/units/huanghe")
    assert "通知公告" in unit.text and "关于做好防汛工作的通知" in unit.text
    category = await client.get(f"/disclosure/categories/{categories['county']['notices']}")
    assert f'href="/disclosure/items/{item_id}"' in category.text
    assert 'type="application/atom+xml"' in category.text
    item = await client.get(f"/disclosure/items/{item_id}")
    assert item.status_code == 200
    for shown in ("关于做好防汛工作的通知", "黄河县人民政府办公室", "黄河办〔2026〕5号", "2026-06-01", "<p>请各乡镇做好防汛准备。</p>"):
        assert shown in item.text
    search = await client.get("/disclosure/search", params={"q": "防汛"})
    assert f"/disclosure/items/{item_id}" in search.text


async def test_the_feed_is_valid_atom_with_the_published_items(client, units, categories, publisher):
    await login_as(client, publisher)
    first = await published(client, categories, title="第一条通知")
    second = await published(client, categories, title="第二条 <b>通知</b> & 公告", body="<p>正文 <script>x()</script>内容</p>")
    draft = item_id_of(await create(client, categories, title="草稿通知"))
    response = await client.get(f"/disclosure/categories/{categories['county']['notices']}/feed.atom")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") and feed.findtext(f"{ATOM}title") == "黄河县人民政府 · 通知公告"
    datetime.fromisoformat(feed.findtext(f"{ATOM}updated"))
    assert feed.find(f"{ATOM}link[@rel='self']").get("href").endswith("/feed.atom")
    assert feed.find(f"{ATOM}author/{ATOM}name").text == "黄河县人民政府"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["第二条 <b>通知</b> & 公告", "第一条通知"]
    for entry, item_id in zip(entries, (second, first)):
        link = entry.find(f"{ATOM}link[@rel='alternate']").get("href")
        assert link.endswith(f"/disclosure/items/{item_id}") and entry.findtext(f"{ATOM}id") == link
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated"))
        datetime.fromisoformat(entry.findtext(f"{ATOM}published"))
    assert entries[0].findtext(f"{ATOM}summary") == "正文 内容"
    assert f"/items/{draft}" not in response.text
    assert (await client.get("/disclosure/categories/999999/feed.atom")).status_code == 404


async def test_anonymous_visitors_are_sent_to_login_and_other_people_are_refused(client, units, categories, publisher,
                                                                                 town_publisher, make_user):
    await login_as(client, publisher)
    item_id = item_id_of(await create(client, categories))
    attachment = await post_form(client, f"/disclosure/manage/items/{item_id}/attachments", {},
                                 files={"file": ("附件.txt", b"content", "text/plain")})
    assert attachment.status_code == 303
    attachment_id = (await public.attachments_of(item_id))[0]["id"]
    category = categories["county"]["notices"]
    gets = ["/disclosure/manage/units/huanghe", "/disclosure/manage/units/huanghe/new", f"/disclosure/manage/items/{item_id}",
            "/disclosure/manage/units/huanghe/categories", f"/disclosure/manage/attachments/{attachment_id}"]
    posts = [("/disclosure/manage/units/huanghe/items", {"category": category, "title": "x"}),
             (f"/disclosure/manage/items/{item_id}", {"category": category, "title": "改"}),
             (f"/disclosure/manage/items/{item_id}/publish", {"when": "now"}),
             (f"/disclosure/manage/items/{item_id}/withdraw", {"reason": "x"}),
             (f"/disclosure/manage/attachments/{attachment_id}/remove", {}),
             ("/disclosure/manage/units/huanghe/categories", {"name": "新栏目"}),
             ("/disclosure/manage/units/huanghe/categories/standard", {}),
             (f"/disclosure/manage/categories/{category}/rename", {"name": "改名"}),
             (f"/disclosure/manage/categories/{category}/move", {"direction": "up"}),
             (f"/disclosure/manage/categories/{category}/delete", {})]
    last = (await AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id, ascending=False).first())["id"]

    await login_as(client, town_publisher)  # a publisher, of another unit
    for path in gets:
        assert (await client.get(path)).status_code == 403, path
    for path, data in posts:
        assert (await post_form(client, path, data)).status_code == 403, path
    assert (await client.get("/disclosure/manage")).headers["location"] == "/disclosure/manage/units/dongzhen"

    await login_as(client, await make_user("clerk", roles=["staff"], unit_id=units["county"]))  # not a publisher
    for path in gets[:2]:
        assert (await client.get(path)).status_code == 403, path
    assert (await post_form(client, *posts[2])).status_code == 403

    client.cookies.clear()
    for path in gets:
        response = await client.get(path)
        assert response.status_code in (302, 303) and response.headers["location"].startswith("/login"), path
    changes = await AuditEntry.select(AuditEntry.action).where((AuditEntry.id > last) & AuditEntry.action.like("disclosure.%"))
    assert changes == []
    row = await items.item(item_id)
    assert row["status"] == "draft" and row["title"] == "关于做好防汛工作的通知"


async def test_forms_without_the_csrf_token_are_refused(client, units, categories, publisher):
    await login_as(client, publisher)
    item_id = item_id_of(await create(client, categories))
    for path, data in ((f"/disclosure/manage/items/{item_id}/publish", {"when": "now"}),
                       ("/disclosure/manage/units/huanghe/items", {"category": categories["county"]["notices"], "title": "x"})):
        assert (await client.post(path, data=data)).status_code == 403
    assert (await items.item(item_id))["status"] == "draft"
    assert (await items.staff_items(units["county"]))[1] == 1


async def test_bad_input_gets_400_with_the_message_and_keeps_what_was_typed(client, units, categories, publisher):
    await login_as(client, publisher)
    response = await create(client, categories, title="", body="我写了很长的正文，不能丢。", document_date="明天")
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.text and 'id="title-error"' in response.text
    assert 'id="document_date-error"' in response.text
    assert "我写了很长的正文，不能丢。" in response.text and 'value="明天"' in response.text
    too_long = await create(client, categories, title="长" * (items.MAX_TITLE + 1))
    assert too_long.status_code == 400 and 'id="title-error"' in too_long.text
    huge = await create(client, categories, body="字" * (items.MAX_BODY + 1))
    assert huge.status_code == 400 and 'id="body-error"' in huge.text
    beyond = await create(client, categories, body="x" * (3 * 1024 * 1024))
    assert beyond.status_code == 413
    assert (await items.staff_items(units["county"]))[1] == 0

    item_id = item_id_of(await create(client, categories))
    for data, message_id in (({"when": "later", "publish_at": "not a date"}, "publish_at-error"),
                             ({"when": "later", "publish_at": "2020-01-01T08:00"}, "publish_at-error")):
        response = await post_form(client, f"/disclosure/manage/items/{item_id}/publish", data)
        assert response.status_code == 400 and f'id="{message_id}"' in response.text
    await post_form(client, f"/disclosure/manage/items/{item_id}/publish", {"when": "now"})
    for reason in ("", "理" * (items.MAX_REASON + 1)):
        response = await post_form(client, f"/disclosure/manage/items/{item_id}/withdraw", {"reason": reason})
        assert response.status_code == 400 and 'id="reason-error"' in response.text
    assert (await items.item(item_id))["state"] == "published"
    long_query = await client.get("/disclosure/search", params={"q": "查" * (public.MAX_QUERY + 1)})
    assert long_query.status_code == 400 and 'role="alert"' in long_query.text


async def test_a_classified_item_is_refused_through_the_form_and_a_direct_post(client, units, categories, publisher):
    await login_as(client, publisher)
    item_id = item_id_of(await create(client, categories, title="涉密的通知", classification="secret"))
    page = await client.get(f"/disclosure/manage/items/{item_id}")
    assert 'id="publish-refusal"' in page.text and "涉密" in page.text
    assert f'action="/disclosure/manage/items/{item_id}/publish"' not in page.text
    for data in ({"when": "now"}, {"when": "later", "publish_at": (datetime.now(ZONE) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")}):
        response = await post_form(client, f"/disclosure/manage/items/{item_id}/publish", data)
        assert response.status_code == 400 and "涉密" in response.text
    # A status smuggled into the create form is ignored: a new item is a draft.
    smuggled = item_id_of(await create(client, categories, title="机密", classification="confidential", status="published",
                                       publish_at="2020-01-01T00:00"))
    for hidden in (item_id, smuggled):
        assert (await items.item(hidden))["status"] == "draft"
        assert (await client.get(f"/disclosure/items/{hidden}")).status_code == 404
    assert "涉密的通知" not in (await client.get("/disclosure/search", params={"q": "通知"})).text
    published_id = await published(client, categories, title="公开的通知")
    response = await post_form(client, f"/disclosure/manage/items/{published_id}", {
        "category": categories["county"]["notices"], "title": "公开的通知", "classification": "top_secret"})
    assert response.status_code == 400 and 'id="classification-error"' in response.text
    assert (await client.get(f"/disclosure/items/{published_id}")).status_code == 200


async def test_a_scheduled_item_is_hidden_until_its_moment(client, units, categories, publisher):
    await login_as(client, publisher)
    item_id = item_id_of(await create(client, categories, title="明天发布的公告"))
    moment = (datetime.now(ZONE) + timedelta(hours=3)).replace(second=0, microsecond=0)
    response = await post_form(client, f"/disclosure/manage/items/{item_id}/publish",
                               {"when": "later", "publish_at": moment.strftime("%Y-%m-%dT%H:%M")})
    assert response.headers["location"].endswith("done=scheduled")
    page = await client.get(response.headers["location"])
    assert moment.strftime("%Y-%m-%d %H:%M") in page.text
    row = await items.item(item_id)
    assert row["state"] == "scheduled" and row["publish_at"] == moment
    assert (await client.get(f"/disclosure/items/{item_id}")).status_code == 404
    assert "明天发布的公告" not in (await client.get(f"/disclosure/categories/{categories['county']['notices']}")).text
    assert "明天发布的公告" not in (await client.get(f"/disclosure/categories/{categories['county']['notices']}/feed.atom")).text
    assert await public.get_public_item(item_id, moment) is not None


async def test_a_withdrawn_item_and_its_attachment_cannot_be_reached(client, units, categories, publisher):
    await login_as(client, publisher)
    item_id = await published(client, categories, title="将被撤回的公告")
    assert (await post_form(client, f"/disclosure/manage/items/{item_id}/attachments", {},
                            files={"file": ("名单.xlsx", b"names", "application/vnd.ms-excel")})).status_code == 303
    attachment_id = (await public.attachments_of(item_id))[0]["id"]
    download = await client.get(f"/disclosure/attachments/{attachment_id}")
    assert download.status_code == 200 and download.content == b"names"
    assert download.headers["content-type"] == "application/octet-stream"
    assert "filename*=UTF-8''%E5%90%8D%E5%8D%95.xlsx" in download.headers["content-disposition"]
    response = await post_form(client, f"/disclosure/manage/items/{item_id}/withdraw", {"reason": "信息有误"})
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert "信息有误" in page.text
    client.cookies.clear()
    assert (await client.get(f"/disclosure/items/{item_id}")).status_code == 404
    assert (await client.get(f"/disclosure/attachments/{attachment_id}")).status_code == 404
    assert "将被撤回的公告" not in (await client.get("/disclosure/search", params={"q": "撤回"})).text
    assert "将被撤回的公告" not in (await client.get("/disclosure/units/huanghe")).text


@pytest.mark.parametrize("path", ["/disclosure/items/{n}", "/disclosure/categories/{n}", "/disclosure/categories/{n}/feed.atom",
                                  "/disclosure/attachments/{n}", "/disclosure/manage/items/{n}"])
@pytest.mark.parametrize("n", [0, 999999, 2**31, 10**20])
async def test_unknown_and_impossible_ids_are_404(client, units, publisher, path, n):
    await login_as(client, publisher)
    assert (await client.get(path.format(n=n))).status_code == 404
    assert (await client.get("/disclosure/units/nowhere")).status_code == 404


async def test_titles_and_texts_are_shown_as_text(client, units, categories, publisher):
    await login_as(client, publisher)
    hostile = "<script>alert(1)</script>"
    item_id = await published(client, categories, title=f"标题{hostile}", issuer=f"单位{hostile}",
                              body=f'<p onclick="alert(2)">正文</p>{hostile}<img src=x onerror=alert(3)><a href="javascript:alert(4)">链接</a>')
    client.cookies.clear()
    pages = [await client.get(f"/disclosure/items/{item_id}"), await client.get("/disclosure/units/huanghe"),
             await client.get(f"/disclosure/categories/{categories['county']['notices']}"),
             await client.get("/disclosure/search", params={"q": "标题"})]
    for page in pages:
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "onerror" not in page.text and "onclick" not in page.text
        assert "javascript:" not in page.text
        assert "标题&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<p>正文</p>" in pages[0].text and "单位&lt;script&gt;" in pages[0].text
    feed = await client.get(f"/disclosure/categories/{categories['county']['notices']}/feed.atom")
    assert ET.fromstring(feed.content).find(f"{ATOM}entry/{ATOM}title").text == f"标题{hostile}"


async def test_an_attachment_is_limited_in_size_and_never_empty(client, units, categories, publisher):
    await login_as(client, publisher)
    item_id = item_id_of(await create(client, categories))
    empty = await post_form(client, f"/disclosure/manage/items/{item_id}/attachments", {}, files={"file": ("空.txt", b"", "text/plain")})
    assert empty.status_code == 400 and 'id="file-error"' in empty.text
    big = await post_form(client, f"/disclosure/manage/items/{item_id}/attachments", {},
                          files={"file": ("大.bin", b"\0" * (items.MAX_ATTACHMENT_BYTES + 1), "application/octet-stream")})
    assert big.status_code == 400 and 'id="file-error"' in big.text
    assert await public.attachments_of(item_id) == []


async def test_publishers_manage_categories_through_the_page(client, units, categories, publisher):
    await login_as(client, publisher)
    base = "/disclosure/manage/units/huanghe/categories"
    assert (await post_form(client, base, {"name": "重点领域信息"})).status_code == 303
    duplicate = await post_form(client, base, {"name": "重点领域信息"})
    assert duplicate.status_code == 400 and 'role="alert"' in duplicate.text
    assert (await post_form(client, base, {"name": "名" * 101})).status_code == 400
    added = next(c["id"] for c in await public.catalog(units["county"]) if c["name"] == "重点领域信息")
    assert (await post_form(client, f"/disclosure/manage/categories/{added}/rename", {"name": "重点领域"})).status_code == 303
    assert (await post_form(client, f"/disclosure/manage/categories/{added}/move", {"direction": "up"})).status_code == 303
    names = [c["name"] for c in await public.catalog(units["county"])]
    assert names[-2:] == ["重点领域", "通知公告"]
    await published(client, categories)
    refused = await post_form(client, f"/disclosure/manage/categories/{categories['county']['notices']}/delete", {})
    assert refused.status_code == 400
    assert (await post_form(client, f"/disclosure/manage/categories/{added}/delete", {})).status_code == 303
    public_page = await client.get("/disclosure/units/huanghe")
    assert "重点领域" not in public_page.text and "通知公告" in public_page.text


async def test_the_menu_leads_publishers_to_their_catalog_and_others_to_the_public_pages(client, units, publisher, make_user):
    await login_as(client, publisher)
    assert 'href="/disclosure/manage"' in (await client.get("/")).text
    await login_as(client, await make_user("clerk", roles=["staff"], unit_id=units["county"]))
    home = (await client.get("/")).text
    assert 'href="/disclosure"' in home and 'href="/disclosure/manage"' not in home
