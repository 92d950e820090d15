"""Requests for shared data between departments (CAT-5): unconditional resources granted at once,
conditional ones decided by the owner department, not-shared and secret ones never requestable;
who sees and decides what, through the services and over HTTP with changed ids."""

import asyncio

import pytest

from plugins.catalog import filing, resources, sharing
from plugins.catalog.duty_tables import ShareRequest
from plugins.catalog.errors import Conflict, Forbidden, Invalid, NotFound
from plugins.catalog.tables import CatalogEntry, Resource
from plugins.webmail.services import ensure_mailbox, folder_id
from plugins.webmail.tables import Message
from portal.audit.tables import AuditEntry
from portal.testing import login_as, post_form

PURPOSE = "核验种粮农民一次性补贴的发放对象"


@pytest.fixture
async def org(org):
    """Every account of the organisation made at once: reminders and lists go to all who hold a role."""
    for name in org.specs:
        await org.test_user(name)
    return org


@pytest.fixture
async def shared(org, make_form, make_user):
    """The county agriculture bureau's approved catalog: one resource of each kind of sharing and
    a secret one; a second member of the city market bureau."""
    editor = await org.user("agri_editor")
    made = {
        "conditional": await make_form("土地承包经营权登记信息"),
        "unconditional": await make_form("农机购置补贴目录", share_type="unconditional", share_conditions=""),
        "none": await make_form("农户家庭成员信息", share_type="none", share_conditions="《个人信息保护法》第十三条"),
        "secret": await make_form("耕地保护督察线索", secrecy="secret"),
    }
    ids = {kind: await resources.create(editor, org.agri, form, org.portal) for kind, form in made.items()}
    await filing.decide(await org.user("county_reviewer"), await filing.submit(editor, org.agri, "", org.portal), "approve", "", org.portal)
    org.users["market_staff"] = await make_user("market_staff", ["staff"], unit_id=org.city, department_id=org.market)
    return ids


async def inbox_subjects(user_id: int) -> list[str]:
    mailbox = await ensure_mailbox(user_id)
    rows = await Message.select(Message.subject).where(
        (Message.mailbox == mailbox["id"]) & (Message.folder == await folder_id(mailbox["id"], "inbox"))).order_by(Message.id)
    return [r["subject"] for r in rows]


async def ask(org, shared, kind="conditional", who="city_staff", purpose=PURPOSE, accepted=True) -> int:
    return await sharing.request(await org.user(who), shared[kind], purpose, accepted, org.portal)


async def actions() -> list[str]:
    return [r["action"] for r in await AuditEntry.select(AuditEntry.action).where(AuditEntry.action.like("catalog.share.%"))
            .order_by(AuditEntry.id)]


# The flows -------------------------------------------------------------------------------------


async def test_an_unconditional_resource_is_granted_at_once_and_recorded(org, shared):
    request_id = await ask(org, shared, "unconditional", accepted=False)
    row = await ShareRequest.select().where(ShareRequest.id == request_id).first()
    assert (row["status"], row["owner_department"], row["requester_department"], row["decided_by"]) == \
        ("granted", org.agri, org.market, None)
    assert row["decided_at"] is not None and row["name"] == "农机购置补贴目录"
    assert await actions() == ["catalog.share.grant"]
    for who in ("agri_editor", "county_reviewer", "city_reviewer"):
        assert [r["id"] for r in (await sharing.grants(await org.user(who))).rows] == [request_id], who
    assert (await sharing.grants(await org.user("market_editor"))).rows == []
    assert await sharing.grants(await org.user("city_staff")) is None


async def test_a_conditional_resource_waits_for_the_owner_who_approves(org, shared):
    request_id = await ask(org, shared)
    row = await ShareRequest.select().where(ShareRequest.id == request_id).first()
    assert (row["status"], row["purpose"], row["conditions"]) == ("pending", PURPOSE, "仅用于农业补贴核验")
    assert len(await inbox_subjects(org.users["agri_editor"].id)) == 1
    assert [r["id"] for r in await sharing.incoming(await org.user("agri_editor2"))] == [request_id]
    assert await sharing.pending_count(await org.user("agri_editor")) == 1
    assert (await sharing.grants(await org.user("county_reviewer"))).rows == []

    await sharing.decide(await org.user("agri_editor"), request_id, "grant", "接口账号另行发送", org.portal)
    view = await sharing.request_for(await org.user("city_staff"), request_id)
    assert (view.request["status"], view.request["answer"], view.decided_by_name) == ("granted", "接口账号另行发送", "Agri_Editor")
    assert len(await inbox_subjects(org.users["city_staff"].id)) == 1
    assert [r["id"] for r in (await sharing.grants(await org.user("city_reviewer"))).rows] == [request_id]
    assert await actions() == ["catalog.share.request", "catalog.share.approve"]
    with pytest.raises(Conflict):
        await sharing.decide(await org.user("agri_editor2"), request_id, "refuse", "晚到的决定", org.portal)


async def test_a_refusal_needs_its_reason_and_the_department_may_ask_again(org, shared):
    request_id = await ask(org, shared)
    with pytest.raises(Invalid) as refused:
        await sharing.decide(await org.user("agri_editor"), request_id, "refuse", "  ", org.portal)
    assert "answer" in refused.value.errors
    assert (await ShareRequest.select(ShareRequest.status).first())["status"] == "pending"
    await sharing.decide(await org.user("agri_editor"), request_id, "refuse", "用途与共享条件不符", org.portal)
    row = await ShareRequest.select().where(ShareRequest.id == request_id).first()
    assert (row["status"], row["answer"]) == ("refused", "用途与共享条件不符")
    assert await actions() == ["catalog.share.request", "catalog.share.refuse"]
    again = await ask(org, shared, purpose="仅核验补贴发放对象,不留存")
    assert again != request_id


async def test_the_purpose_and_the_acceptance_of_the_conditions_are_required(org, shared):
    with pytest.raises(Invalid) as refused:
        await ask(org, shared, purpose=" ", accepted=False)
    assert set(refused.value.errors) == {"purpose", "accept"}
    with pytest.raises(Invalid):
        await ask(org, shared, purpose="x" * (sharing.MAX_PURPOSE + 1))
    assert await ShareRequest.count() == 0


async def test_not_shared_and_secret_resources_cannot_be_requested(org, shared):
    with pytest.raises(Forbidden) as refused:
        await ask(org, shared, "none")
    assert "《个人信息保护法》第十三条" in refused.value.message
    assert not await CatalogEntry.exists().where(CatalogEntry.resource_id == shared["secret"])
    with pytest.raises(NotFound):
        await ask(org, shared, "secret")
    # Even if an approved entry of a secret resource were written by mistake, it stays unrequestable.
    await CatalogEntry.update({CatalogEntry.secrecy: "secret"}).where(CatalogEntry.resource_id == shared["conditional"])
    with pytest.raises(NotFound):
        await ask(org, shared, "conditional")
    with pytest.raises(NotFound):
        await sharing.offer(await org.user("city_staff"), shared["conditional"])
    assert await ShareRequest.count() == 0


async def test_a_department_does_not_request_its_own_data_nor_the_same_twice(org, shared):
    with pytest.raises(Forbidden):
        await ask(org, shared, who="agri_staff")
    results = await asyncio.gather(ask(org, shared, who="city_staff"), ask(org, shared, who="market_staff"), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "int"]
    assert await ShareRequest.count() == 1
    offer = await sharing.offer(await org.user("market_editor"), shared["conditional"])
    assert offer.existing["status"] == "pending" and offer.refusal == ""


async def test_only_the_owner_department_s_editors_decide(org, shared):
    request_id = await ask(org, shared)
    for outsider in ("market_editor", "market_staff", "agri_staff"):
        with pytest.raises(NotFound):
            await sharing.decide(await org.user(outsider), request_id, "grant", "", org.portal)
    for onlooker in ("city_staff", "county_reviewer", "city_reviewer"):
        with pytest.raises(Forbidden):
            await sharing.decide(await org.user(onlooker), request_id, "grant", "", org.portal)
    assert (await ShareRequest.select(ShareRequest.status).first())["status"] == "pending"


async def test_a_requester_sees_only_his_own_requests(org, shared):
    request_id = await ask(org, shared)
    assert [r["id"] for r in await sharing.mine(await org.user("city_staff"))] == [request_id]
    assert await sharing.mine(await org.user("market_staff")) == []
    with pytest.raises(NotFound):
        await sharing.request_for(await org.user("market_staff"), request_id)
    with pytest.raises(NotFound):
        await sharing.withdraw(await org.user("market_staff"), request_id, org.portal)
    view = await sharing.request_for(await org.user("agri_editor"), request_id)
    assert view.may_decide and not view.may_withdraw


async def test_the_requester_withdraws_a_pending_request_only(org, shared):
    request_id = await ask(org, shared)
    with pytest.raises(Forbidden):
        await sharing.withdraw(await org.user("agri_editor"), request_id, org.portal)
    await sharing.withdraw(await org.user("city_staff"), request_id, org.portal)
    assert (await ShareRequest.select(ShareRequest.status).first())["status"] == "withdrawn"
    with pytest.raises(Conflict):
        await sharing.decide(await org.user("agri_editor"), request_id, "grant", "", org.portal)
    with pytest.raises(Conflict):
        await sharing.withdraw(await org.user("city_staff"), request_id, org.portal)
    assert await actions() == ["catalog.share.request", "catalog.share.withdraw"]


async def test_finding_shared_resources_searches_every_level_and_never_shows_the_secret(org, shared):
    found = await sharing.find(await org.user("city_staff"), "补贴")
    assert sorted(r["name"] for r in found.rows) == ["农机购置补贴目录"]
    # Every resource has the same abstract: all approved ones are found, the secret one never.
    everything = await sharing.find(await org.user("city_staff"), "登记信息")
    assert sorted(r["name"] for r in everything.rows) == ["农户家庭成员信息", "农机购置补贴目录", "土地承包经营权登记信息"]
    assert "耕地保护督察线索" not in {r["name"] for r in (await sharing.find(await org.user("city_staff"), "督察")).rows}


# Over HTTP ---------------------------------------------------------------------------------------


async def as_user(client, org, name: str):
    client.cookies.clear()
    client.headers["accept-language"] = "en"
    await login_as(client, org.users[name])


async def test_over_http_a_conditional_request_is_approved_and_the_requester_sees_the_grant(client, org, shared):
    await as_user(client, org, "city_staff")
    entry = await client.get(f"/catalog/entries/{shared['conditional']}")
    assert f'href="/catalog/sharing/resources/{shared["conditional"]}"' in entry.text
    assert "/catalog/sharing/resources/" not in (await client.get(f"/catalog/entries/{shared['none']}")).text
    page = await client.get(f"/catalog/sharing/resources/{shared['conditional']}")
    assert page.status_code == 200 and "仅用于农业补贴核验" in page.text and 'name="accept"' in page.text
    refused = await post_form(client, f"/catalog/sharing/resources/{shared['conditional']}", {"purpose": PURPOSE})
    assert refused.status_code == 400 and "accepting the conditions of use" in refused.text and PURPOSE in refused.text
    sent = await post_form(client, f"/catalog/sharing/resources/{shared['conditional']}", {"purpose": PURPOSE, "accept": "yes"})
    assert sent.status_code == 303
    location = sent.headers["location"]
    assert "Awaiting the owner" in (await client.get(location)).text

    await as_user(client, org, "agri_editor")
    incoming = await client.get("/catalog/sharing/incoming")
    assert location in incoming.text and PURPOSE in incoming.text
    no_reason = await post_form(client, f"{location}/decide", {"decision": "refuse", "answer": ""})
    assert no_reason.status_code == 400 and "A refusal needs its reason." in no_reason.text
    assert (await post_form(client, f"{location}/decide", {"decision": "grant", "answer": "接口账号另行发送"})).status_code == 303

    await as_user(client, org, "city_staff")
    granted = await client.get(location)
    assert "Granted" in granted.text and "接口账号另行发送" in granted.text
    assert "Granted" in (await client.get("/catalog/sharing")).text

    await as_user(client, org, "county_reviewer")
    grants = await client.get("/catalog/sharing/grants")
    assert grants.status_code == 200 and location in grants.text


async def test_over_http_changed_ids_and_other_departments_are_refused(client, org, shared):
    request_id = await ask(org, shared)
    await as_user(client, org, "market_staff")
    assert (await client.get(f"/catalog/sharing/{request_id}")).status_code == 404
    assert (await client.get(f"/catalog/sharing/{request_id + 1}")).status_code == 404
    assert (await post_form(client, f"/catalog/sharing/{request_id}/withdraw")).status_code == 404
    assert (await client.get(f"/catalog/sharing/resources/{shared['secret']}")).status_code == 404
    assert (await client.get("/catalog/sharing/resources/999999")).status_code == 404
    not_shared = await post_form(client, f"/catalog/sharing/resources/{shared['none']}", {"purpose": PURPOSE, "accept": "yes"})
    assert not_shared.status_code == 403 and "not shared" in not_shared.text
    assert (await client.get("/catalog/sharing/incoming")).status_code == 403
    assert (await client.get("/catalog/sharing/grants")).status_code == 403

    await as_user(client, org, "market_editor")
    assert (await post_form(client, f"/catalog/sharing/{request_id}/decide", {"decision": "grant"})).status_code == 404
    await as_user(client, org, "city_staff")
    page = await client.get(f"/catalog/sharing/{request_id}")
    assert page.status_code == 200 and "/decide" not in page.text
    assert (await post_form(client, f"/catalog/sharing/{request_id}/decide", {"decision": "grant"})).status_code == 403
    # Without the CSRF token nothing is decided either.
    await as_user(client, org, "agri_editor")
    assert (await client.post(f"/catalog/sharing/{request_id}/decide", data={"decision": "grant"})).status_code == 403
    assert (await ShareRequest.select(ShareRequest.status).first())["status"] == "pending"
    assert await Resource.count() == 4
