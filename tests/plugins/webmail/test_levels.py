"""Service levels (MAIL-12): administered by administrators, enforced on sending and on SMTP."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from types import SimpleNamespace

import pytest

from plugins.webmail import levels, sending
from plugins.webmail.services import ensure_mailbox
from plugins.webmail.smtp import start_smtp_server
from plugins.webmail.tables import Delivery, Mailbox, ServiceLevel
from portal.accounts.services import UnitForm, create_unit
from portal.audit.tables import AuditEntry
from portal.i18n import set_locale
from portal.testing import login_as, post_form

DOMAIN = "huanghe.gov.example"
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def english(client):
    """The messages asserted below are the English msgids: in pages and in service calls."""
    client.headers["accept-language"] = "en"
    set_locale("en")


@pytest.fixture
async def town(client):
    return await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, DOMAIN, "黄河办"))


@pytest.fixture
async def people(town, make_user):
    return {name: await make_user(name, unit_id=town) for name in ("alice", "bob")}


@pytest.fixture
async def admin(make_user, town):
    return await make_user("root", roles=["admin", "staff"], unit_id=town)


def who(user) -> SimpleNamespace:
    return SimpleNamespace(id=user.id, display_name=user.username.title())


def form(name="基本", quota="10", size="5", recipients="3", features=("external_sending",), default=False) -> dict:
    data = {"name": name, "quota_mb": quota, "max_message_mb": size, "max_recipients": recipients}
    if default:
        data["is_default"] = "on"
    return {**data, "features": list(features)}


async def make_level(app, **kwargs) -> int:
    values = form(**kwargs)
    level_form = levels.LevelForm(values["name"], values["quota_mb"], values["max_message_mb"], values["max_recipients"],
                                  tuple(values["features"]), "is_default" in values)
    return await levels.create_level(app.state.portal, None, level_form)


async def test_without_levels_the_built_in_limits_apply(client, people):
    mailbox = await ensure_mailbox(people["alice"].id)
    limits = await levels.limits_for_mailbox(mailbox)
    assert limits.level_id is None and limits.max_recipients == sending.MAX_RECIPIENTS
    assert limits.allows("external_sending") and limits.allows("mass_send")


async def test_administrator_creates_a_level_and_assigns_users(client, app, admin, people):
    await login_as(client, admin)
    assert 'href="/webmail/admin/levels"' in (await client.get("/admin")).text, "the admin_items hook adds the link"
    page = await client.get("/webmail/admin/levels")
    assert page.status_code == 200 and "/webmail/admin/levels" in page.text
    response = await post_form(client, "/webmail/admin/levels", form(name="基层标准", quota="100", size="10", recipients="20",
                                                                     features=("external_sending",)))
    assert response.status_code == 303, response.text
    level = await ServiceLevel.select().where(ServiceLevel.name == "基层标准").first()
    assert level["quota_bytes"] == 100 * MB and level["max_recipients"] == 20 and level["features"] == "external_sending"
    assert not level["is_default"], "only when asked: a new level must not change everybody's limits"

    response = await post_form(client, f"/webmail/admin/levels/{level['id']}/assign", {"usernames": "alice, BOB"})
    assert response.status_code == 303, response.text
    for user in people.values():
        mailbox = await Mailbox.select().where(Mailbox.owner == user.id).first()
        assert mailbox["level"] == level["id"] and mailbox["quota_bytes"] == 100 * MB
    page = await client.get(f"/webmail/admin/levels/{level['id']}")
    assert "alice@" + DOMAIN in page.text and "bob@" + DOMAIN in page.text
    actions = {r["action"] for r in await AuditEntry.select(AuditEntry.action)}
    assert {"webmail.level.create", "webmail.level.assign"} <= actions

    # Editing the level moves every member's quota along.
    response = await post_form(client, f"/webmail/admin/levels/{level['id']}",
                               form(name="基层标准", quota="200", size="10", recipients="20", default=True))
    assert response.status_code == 303, response.text
    assert {m["quota_bytes"] for m in await Mailbox.select(Mailbox.quota_bytes)} == {200 * MB}


async def test_bad_level_input_is_refused_with_reasons(client, admin):
    await login_as(client, admin)
    response = await post_form(client, "/webmail/admin/levels", form(name="", quota="-1", size="99999", recipients="abc",
                                                                     features=("teleport",)))
    assert response.status_code == 400
    for message in ("Enter a name", "quota as a whole number", "the server", "whole number from 1", "Choose features"):
        assert message in response.text
    assert await ServiceLevel.count() == 0
    await post_form(client, "/webmail/admin/levels", form(name="基本"))
    response = await post_form(client, "/webmail/admin/levels", form(name="基本"))
    assert response.status_code == 400 and "exists already" in response.text
    response = await post_form(client, "/webmail/admin/levels/1/assign", {"usernames": "nobody-here"})
    assert response.status_code == 400 and "nobody-here" in response.text


async def test_the_default_level_cannot_be_deleted_and_members_fall_back(client, app, admin, people):
    default = await make_level(app, name="标准", quota="500", default=True)
    small = await make_level(app, name="小", quota="10")
    await levels.assign(app.state.portal, None, small, [people["alice"].id])
    await login_as(client, admin)
    response = await post_form(client, f"/webmail/admin/levels/{default}/delete")
    assert response.status_code == 400 and await ServiceLevel.count() == 2
    response = await post_form(client, f"/webmail/admin/levels/{small}/delete")
    assert response.status_code == 303
    mailbox = await Mailbox.select().where(Mailbox.owner == people["alice"].id).first()
    assert mailbox["level"] is None and mailbox["quota_bytes"] == 500 * MB


async def test_only_administrators_reach_the_level_pages(client, app, people):
    level = await make_level(app)
    await login_as(client, people["alice"])
    assert (await client.get("/webmail/admin/levels")).status_code == 403
    assert (await client.get(f"/webmail/admin/levels/{level}")).status_code == 403
    response = await post_form(client, f"/webmail/admin/levels/{level}/assign", {"usernames": "alice"})
    assert response.status_code == 403
    response = await post_form(client, "/webmail/admin/levels", form(name="自封"))
    assert response.status_code == 403 and await ServiceLevel.count() == 1
    # The administration link is not in her navigation either.
    assert "/webmail/admin/levels" not in (await client.get("/webmail")).text


async def test_level_forms_need_the_csrf_token(client, admin):
    await login_as(client, admin)
    response = await client.post("/webmail/admin/levels", data=form())
    assert response.status_code == 403 and await ServiceLevel.count() == 0


async def test_a_level_without_external_sending_refuses_outside_recipients(client, app, people):
    level = await make_level(app, features=())
    await levels.assign(app.state.portal, None, level, [people["alice"].id])
    alice = who(people["alice"])
    with pytest.raises(sending.ValidationError) as refused:
        await sending.send(app.state.portal, alice, sending.Draft(to=[f"bob@{DOMAIN}", "friend@example.org"], subject="x"))
    assert "friend@example.org" in refused.value.errors["to"]
    assert await Delivery.count() == 0, "nothing is half-sent"
    # Inside the organisation she still sends.
    await sending.send(app.state.portal, alice, sending.Draft(to=[f"bob@{DOMAIN}"], subject="内部"))
    # The compose page tells her, and has no mass-send choice for her level.
    await login_as(client, people["alice"])
    page = await client.get("/webmail/compose")
    assert 'id="internal-only"' in page.text and 'name="separate_display"' not in page.text


async def test_a_level_without_mass_send_refuses_it_on_the_server(client, app, people):
    level = await make_level(app, features=("external_sending",))
    await levels.assign(app.state.portal, None, level, [people["alice"].id])
    await login_as(client, people["alice"])
    response = await post_form(client, "/webmail/compose", {"to": f"bob@{DOMAIN}", "subject": "群发", "body": "x",
                                                            "separate_display": "1", "action": "send"})
    assert response.status_code == 400 and "separate display" in response.text
    assert await Delivery.count() == 0


async def test_the_level_limits_recipients_and_message_size(client, app, people, make_user, town):
    level = await make_level(app, recipients="2", size="1")
    await levels.assign(app.state.portal, None, level, [people["alice"].id])
    for name in ("carol", "dan"):
        await make_user(name, unit_id=town)
    alice = who(people["alice"])
    with pytest.raises(sending.ValidationError) as refused:
        await sending.send(app.state.portal, alice, sending.Draft(to=[f"{n}@{DOMAIN}" for n in ("bob", "carol", "dan")], subject="x"))
    assert "At most 2 recipients" in refused.value.errors["to"]
    big = ("a.bin", "application/octet-stream", b"x" * (MB + 10))
    with pytest.raises(sending.ValidationError) as refused:
        await sending.send(app.state.portal, alice, sending.Draft(to=[f"bob@{DOMAIN}"], subject="x", attachments=[big]))
    assert "at most 1.0 MB" in refused.value.errors["attachments"]


async def test_a_full_mailbox_refuses_sending_and_internal_delivery(client, app, people):
    level = await make_level(app, quota="1")
    await levels.assign(app.state.portal, None, level, [people["alice"].id, people["bob"].id])
    await Mailbox.update({Mailbox.used_bytes: MB}).where(Mailbox.owner == people["bob"].id)
    alice = who(people["alice"])
    outgoing = await sending.send(app.state.portal, alice, sending.Draft(to=[f"bob@{DOMAIN}"], subject="满了吗"))
    delivery = await Delivery.select().where(Delivery.outgoing == outgoing).first()
    assert delivery["status"] == "failed" and delivery["detail"] == "mailbox full"
    await login_as(client, people["alice"])
    status = await client.get(f"/webmail/sent/{outgoing}/status")
    assert "The recipient&#39;s mailbox is full" in status.text or "The recipient's mailbox is full" in status.text

    await Mailbox.update({Mailbox.used_bytes: MB}).where(Mailbox.owner == people["alice"].id)
    with pytest.raises(sending.ValidationError) as refused:
        await sending.send(app.state.portal, alice, sending.Draft(to=[f"bob@{DOMAIN}"], subject="x"))
    assert "Your mailbox is full" in refused.value.errors["attachments"]


@pytest.fixture
async def smtp(app, client):
    server = await start_smtp_server(app.state.portal, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


def _deliver(port: int, to: str, body: str, size: int | None = None) -> None:
    message = EmailMessage()
    message["From"] = "sender@example.org"
    message["To"] = to
    message["Subject"] = "来信"
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        # Step by step: sendmail() would always declare the size.
        client.ehlo()
        client.mail("sender@example.org", [f"SIZE={size}"] if size else [])
        code, text = client.rcpt(to)
        if code != 250:
            raise smtplib.SMTPRecipientsRefused({to: (code, text)})
        code, text = client.data(message.as_bytes(policy=SMTP_POLICY))
        if code != 250:
            raise smtplib.SMTPDataError(code, text)


async def test_smtp_answers_552_for_a_full_mailbox_or_a_message_over_the_level_limit(client, app, people, smtp):
    level = await make_level(app, quota="1", size="1")
    await levels.assign(app.state.portal, None, level, [people["bob"].id])
    await Mailbox.update({Mailbox.used_bytes: MB - 100}).where(Mailbox.owner == people["bob"].id)
    to = f"bob@{DOMAIN}"
    # Declared too large for what is left: refused at RCPT.
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(_deliver, smtp, to, "short", 5000)
    code, text = refused.value.recipients[to]
    assert code == 552 and b"full" in text
    # Not declared: found after DATA, and nothing is kept.
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await asyncio.to_thread(_deliver, smtp, to, ("x" * 70 + "\n") * 80)
    assert refused.value.smtp_code == 552
    mailbox = await Mailbox.select().where(Mailbox.owner == people["bob"].id).first()
    assert mailbox["used_bytes"] == MB - 100
    # Room made: mail arrives again.
    await Mailbox.update({Mailbox.used_bytes: 0}).where(Mailbox.owner == people["bob"].id)
    await asyncio.to_thread(_deliver, smtp, to, "short")
    # Over the level's largest message, however empty the mailbox.
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await asyncio.to_thread(_deliver, smtp, to, ("y" * 70 + "\n") * (MB // 70 + 100))
    assert refused.value.smtp_code == 552 and b"too big" in refused.value.smtp_error
