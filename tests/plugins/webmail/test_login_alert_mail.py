"""The new-place alert as a mail in the user's inbox (MAIL-20): the core raises on_login_alert,
the mailbox delivers a system mail from the unit's domain."""

from email import message_from_bytes, policy

import pytest

from plugins.webmail.blobs import read_blob
from plugins.webmail.tables import Message
from portal.accounts.services import UnitForm, create_unit
from portal.api import CurrentUser
from portal.auth import geo
from portal.auth.tables import LoginAttempt
from portal.testing import login_as, post_form

DOMAIN = "dongzhen.gov.example"
ACTOR = CurrentUser(id=None, username="root", display_name="Root", email="", unit_id=None, department_id=None,
                    roles=frozenset({"admin"}), permissions=frozenset({"core.admin"}), locale="", theme="")


@pytest.fixture
def app(make_app):
    return make_app(plugins=["webmail"], trusted_proxies=("testclient",))


async def log_in_from(client, user, ip: str) -> None:
    client.headers["x-forwarded-for"] = ip
    await login_as(client, user)


async def test_a_login_from_a_new_place_puts_an_alert_mail_in_the_inbox(client, make_user, app):
    town = await create_unit(None, UnitForm("东镇人民政府", "dongzhen", "township", None, DOMAIN, "东政"))
    user = await make_user("luohui", unit_id=town)
    client.headers["accept-language"] = "en"
    await geo.upload_csv(ACTOR, "a.csv", "127.0.0.0/8,山东省,济南市\n".encode())
    await log_in_from(client, user, "127.0.0.1")
    await post_form(client, "/logout")
    assert await Message.count() == 0

    await geo.upload_csv(ACTOR, "b.csv", "127.0.0.0/8,北京市,海淀区\n".encode())
    await log_in_from(client, user, "127.0.0.2")
    [row] = await Message.select()
    assert row["subject"] == "Login from a new place: 北京市 海淀区"
    assert row["sender_address"] == f"system@{DOMAIN}"
    raw = await read_blob(app.state.portal, row["blob_sha"])
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["To"] == f"luohui@{DOMAIN}"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Message-ID"].endswith(f"@{DOMAIN}>")
    body = mail.get_content()
    assert "luohui" in body and "北京市 海淀区" in body and "127.0.0.2" in body and "山东省 济南市" in body
    assert "change your password" in body

    inbox = await client.get("/webmail")
    assert "Login from a new place: 北京市 海淀区" in inbox.text
    records = await client.get("/account/logins")
    assert "New place</strong>" in records.text
    assert (await LoginAttempt.select(LoginAttempt.new_place).order_by(LoginAttempt.id, ascending=False).first())["new_place"]
