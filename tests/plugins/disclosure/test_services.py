"""The catalog's rules as services (PUB-1, PUB-4): drafts, publishing now or later, withdrawing,
the classified refusal, search of Chinese text, documents from the edoc plugin."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plugins.disclosure import categories as cats
from plugins.disclosure import items, public
from plugins.disclosure.documents import receive_document
from plugins.disclosure.items import ItemForm, ItemRefused, NotAllowed, PublishRefused
from portal.audit.tables import AuditEntry
from portal.jobs import now

from .conftest import as_current


def form(category: int, title: str = "关于做好防汛工作的通知", **fields) -> ItemForm:
    return ItemForm(category=str(category), title=title, **fields)


async def actions() -> list[str]:
    return [r["action"] for r in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]


async def test_a_draft_is_not_public_until_published(app, units, categories, publisher):
    portal, user = app.state.portal, as_current(publisher, units["county"])
    item_id = await items.create_item(portal, user, units["county"], form(categories["county"]["notices"], body="<p>请各部门做好准备。</p>"))
    assert await public.get_public_item(item_id) is None
    assert (await public.published_items(units["county"])).total == 0
    await items.publish_item(portal, user, item_id)
    shown = await public.get_public_item(item_id)
    assert shown["title"] == "关于做好防汛工作的通知" and shown["category_name"] == "通知公告"
    page = await public.published_items(units["county"], categories["county"]["notices"])
    assert [i["id"] for i in page.items] == [item_id]
    assert {c["key"]: c["count"] for c in await public.catalog(units["county"])}["notices"] == 1
    assert (await actions())[-2:] == ["disclosure.item_create", "disclosure.item_publish"]
