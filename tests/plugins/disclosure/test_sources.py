"""Where the catalog's items come from besides the publishers: official documents published in
the edoc plugin, through the on_document_published hook, when that plugin runs — and the
catalog works the same without it (PUB-1); and the demo data of ``portal serve --demo``."""

from __future__ import annotations

import pytest

from plugins.disclosure import public
from portal.api import CurrentUser
from portal.demo import UNITS, seed_demo


def _secretary(user, unit_id) -> CurrentUser:
    return CurrentUser(user.id, user.username, user.username, "", unit_id, None, frozenset(user.roles),
                       frozenset({"edoc.publish"}), "zh_CN", "")


@pytest.mark.parametrize("portal_plugins", [["edoc", "disclosure"]])
async def test_a_document_published_in_edoc_is_on_the_public_pages(app, client, units, make_user):
    from plugins.edoc.publishing import PublishRefused, publish
    from plugins.edoc.tables import Document

    secretary = await make_user("secretary", roles=["secretary", "staff"], unit_id=units["county"])
    actor = _secretary(secretary, units["county"])
    rows = await Document.insert(Document(title="关于做好秋季防汛工作的通知", direction="incoming", drafter=secretary.id,
                                          unit=units["county"])).returning(Document.id)
    document = {"id": rows[0]["id"], "title": "关于做好秋季防汛工作的通知", "number": "黄河办〔2026〕3号",
                "unit": units["county"], "classification": "public", "body": "内部正文"}
    await publish(app.state.portal, actor, document)
    listed = await public.published_items(units["county"])
    assert [i["title"] for i in listed.items] == ["关于做好秋季防汛工作的通知"]
    page = await client.get(f"/disclosure/items/{listed.items[0]['id']}")
    assert page.status_code == 200 and "黄河办〔2026〕3号" in page.text and "内部正文" not in page.text
    assert "关于做好秋季防汛工作的通知" in (await client.get("/disclosure/search", params={"q": "秋季防汛"})).text
    # A classified document is refused by edoc and never reaches the catalog.
    secret = await Document.insert(Document(title="涉密文件", direction="incoming", drafter=secretary.id, unit=units["county"],
                                            classification="secret")).returning(Document.id)
    with pytest.raises(PublishRefused):
        await publish(app.state.portal, actor, {"id": secret[0]["id"], "title": "涉密文件", "unit": units["county"],
                                                "classification": "secret"})
    assert (await public.search("涉密文件")).total == 0


async def test_without_the_edoc_plugin_the_catalog_works_alone(app, client, units):
    assert "edoc" not in app.state.portal.plugin_names
    assert (await client.get("/edoc")).status_code == 404
    for path in ("/disclosure", "/disclosure/units/huanghe", "/disclosure/search?q=通知"):
        assert (await client.get(path)).status_code == 200


async def test_the_demo_gives_every_unit_a_catalog_with_published_items(app, client):
    assert await seed_demo(app.state.portal)
    units = await public.public_units()
    assert {u["code"] for u in units} == {code for code, *_ in UNITS}
    for unit in units:
        counts = {c["key"]: c["count"] for c in await public.catalog(unit["id"])}
        assert set(counts) >= {"functions", "policies", "plans", "budgets", "permits", "services", "personnel", "news", "notices"}
        assert all(n >= 2 for n in counts.values()), counts
    assert (await public.search("政务公开专区")).total >= len(units)
    assert "黄河县人民政府" in (await client.get("/disclosure")).text
    assert not await seed_demo(app.state.portal)  # once only
