"""What the mailbox gives the administration (MAIL-11, MAIL-14): mail statistics per day, unit
and user, deliveries, space used; the mass-sending and forwarding rules; system messages."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from plugins.webmail import administration, sending
from plugins.webmail.services import apply_action, ensure_mailbox, folder_id
from plugins.webmail.tables import Delivery, Mailbox, Message, Outgoing
from portal.accounts.services import UnitForm, create_unit
from portal.reports.forms import period_of
from portal.accounts.tables import User
from portal.testing import login_as, post_form

DOMAIN = "huanghe.gov.example"
TOWN_DOMAIN = "dongzhen.gov.example"
# 2026-03-02 in Beijing runs from 03-01 16:00 to 03-02 16:00 UTC.
LATE_ON_THE_FIRST = datetime(2026, 3, 1, 15, 30, tzinfo=timezone.utc)
EARLY_ON_THE_SECOND = datetime(2026, 3, 1, 16, 30, tzinfo=timezone.utc)
MARCH = period_of(date(2026, 3, 1), date(2026, 3, 3))


@pytest.fixture(autouse=True)
def english():
    from portal import i18n

    i18n.set_locale("en")


@pytest.fixture
async def units(client):
    county = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, DOMAIN, "黄河办"))
    town = await create_unit(None, UnitForm("东镇人民政府", "dongzhen", "township", county, TOWN_DOMAIN, "东镇"))
    return {"county": county, "town": town}


@pytest.fixture
async def people(units, make_user):
    return {"alice": await make_user("alice", unit_id=units["county"]), "bob": await make_user("bob", unit_id=units["county"]),
            "carol": await make_user("carol", unit_id=units["town"])}


def who(user) -> SimpleNamespace:
    return SimpleNamespace(id=user.id, display_name=user.username.title())


def addr(user, domain: str = DOMAIN) -> str:
    return f"{user.username}@{domain}"


async def send(app, sender, to: list[str], at: datetime, subject: str = "通知") -> int:
    """Send as ``sender``, then date the send (and its stored copies) ``at``."""
    outgoing_id = await sending.send(app.state.portal, who(sender), sending.Draft(to=to, subject=subject, body="正文"))
    await Outgoing.update({Outgoing.created_at: at}).where(Outgoing.id == outgoing_id)
    deliveries = [d["id"] for d in await Delivery.select(Delivery.id).where(Delivery.outgoing == outgoing_id)]
    sent_copy = (await Outgoing.select(Outgoing.sent_copy).where(Outgoing.id == outgoing_id).first())["sent_copy"]
    await Message.update({Message.received_at: at}).where(Message.delivery_id.is_in(deliveries or [0]) | (Message.id == sent_copy))
    return outgoing_id


@pytest.fixture
async def traffic(app, people):
    """alice sends two messages on 3-1 (late evening) and one on 3-2; bob and carol receive."""
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    await send(app, alice, [addr(bob)], LATE_ON_THE_FIRST)
    await send(app, alice, [addr(bob), addr(carol, TOWN_DOMAIN)], LATE_ON_THE_FIRST)
    await send(app, alice, [addr(bob), "someone@example.org"], EARLY_ON_THE_SECOND)
    await send(app, carol, [addr(alice)], EARLY_ON_THE_SECOND + timedelta(hours=1))
    return people


async def test_mail_per_day_counts_sent_recipients_and_received_by_beijing_day(app, traffic):
    table = await administration.mail_per_day(app.state.portal, MARCH)
    assert [c.label for c in table.columns] == ["Day", "Messages sent", "Recipients", "Messages received"]
    assert table.rows == [(date(2026, 3, 1), 2, 3, 3), (date(2026, 3, 2), 2, 3, 2), (date(2026, 3, 3), 0, 0, 0)]
    assert table.chart == "line"


async def test_mail_per_unit_and_per_user(app, traffic):
    per_unit = await administration.mail_per_unit(app.state.portal, MARCH)
    assert per_unit.rows == [("黄河县人民政府", 3, 5, 4), ("东镇人民政府", 1, 1, 1)]
    per_user = await administration.mail_per_user(app.state.portal, MARCH)
    assert [(str(r[0]), r[2], r[3], r[4], r[5]) for r in per_user.rows] == [
        ("alice", "黄河县人民政府", 3, 5, 1), ("bob", "黄河县人民政府", 0, 0, 3), ("carol", "东镇人民政府", 1, 1, 1)]
    alice_link = per_user.rows[0][0]
    assert alice_link.url == f"/admin/users/{traffic['alice'].id}"
    only_the_second = await administration.mail_per_user(app.state.portal, period_of(date(2026, 3, 2), date(2026, 3, 2)))
    assert {str(r[0]): (r[3], r[5]) for r in only_the_second.rows} == {"alice": (1, 1), "bob": (0, 1), "carol": (1, 0)}


async def test_a_deleted_sent_copy_still_counts_as_sent(app, traffic):
    alice = traffic["alice"]
    mailbox = await ensure_mailbox(alice.id)
    sent = [r["id"] for r in await Message.select(Message.id).where(
        (Message.mailbox == mailbox["id"]) & (Message.folder == await folder_id(mailbox["id"], "sent")))]
    await apply_action(mailbox["id"], sent, "delete")
    await apply_action(mailbox["id"], sent, "delete")  # from the trash too: gone for good
    assert await Message.count().where(Message.id.is_in(sent)) == 0
    table = await administration.mail_per_day(app.state.portal, MARCH)
    assert [r[1] for r in table.rows] == [2, 2, 0]


async def test_deliveries_per_day_by_status(app, traffic):
    table = await administration.operations_per_day(app.state.portal, MARCH)
    first, second, third = table.rows
    # day, sent, internal, outside, delivered, opened, waiting, failed
    assert first == (date(2026, 3, 1), 2, 3, 0, 3, 0, 0, 0)
    assert second == (date(2026, 3, 2), 2, 2, 1, 2, 0, 1, 0)
    assert third[1:] == (0,) * 7
    await Delivery.update({Delivery.status: "bounced"}).where(Delivery.recipient == "someone@example.org")
    await Delivery.update({Delivery.status: "opened"}).where(Delivery.recipient == addr(traffic["alice"]))
    second = (await administration.operations_per_day(app.state.portal, MARCH)).rows[1]
    assert second == (date(2026, 3, 2), 2, 2, 1, 2, 1, 0, 1)


async def test_space_per_unit_and_per_user(app, traffic):
    await Mailbox.update({Mailbox.quota_bytes: 10_000_000}).where(Mailbox.id > 0)
    mailboxes = {r["owner"]: r for r in await Mailbox.select()}
    used = {name: mailboxes[user.id]["used_bytes"] for name, user in traffic.items()}
    assert all(used.values())
    per_unit = await administration.space_per_unit(app.state.portal, MARCH)
    assert per_unit.rows == sorted([("黄河县人民政府", 2, used["alice"] + used["bob"], 20_000_000),
                                    ("东镇人民政府", 1, used["carol"], 10_000_000)], key=lambda r: -r[2])
    per_user = await administration.space_per_user(app.state.portal, MARCH)
    assert [str(r[0]) for r in per_user.rows] == sorted(used, key=lambda n: (-used[n], n))
    alice = next(r for r in per_user.rows if str(r[0]) == "alice")
    assert alice[3:6] == (addr(traffic["alice"]), used["alice"], 10_000_000)
    assert alice[6] == f"{100 * used['alice'] / 10_000_000:.1f} %"
    assert [c.chart for c in per_user.columns if c.kind == "bytes"] == [True, False]


async def test_sudden_mass_sending_against_the_usual_day(app, people, make_user):
    alice, bob = people["alice"], people["bob"]
    now = datetime.now(timezone.utc)
    crowd = [f"r{n}@example.org" for n in range(administration.MASS_SENDING_MIN)]
    await send(app, alice, crowd, now - timedelta(hours=2))
    # bob sends as many every day: usual for him.
    for days in range(0, 31, 3):
        await send(app, bob, crowd, now - timedelta(days=days, hours=1))
    findings = await administration.mass_sending(app.state.portal, now)
    assert [f.user_id for f in findings] == [alice.id]
    assert findings[0].reason == "50 recipients in the last 24 hours; usually 0.0 a day."
    fewer = await administration.mass_sending(app.state.portal, now + timedelta(days=2))
    assert fewer == []


async def test_forwarding_to_outside_addresses(app, people):
    alice, bob = people["alice"], people["bob"]
    now = datetime.now(timezone.utc)
    for n, subject in enumerate(("Fwd: 会议纪要", "转发：预算", "FW: 名单")):
        await send(app, alice, [f"friend{n}@example.org"], now - timedelta(days=n), subject=subject)
    await send(app, bob, ["friend@example.org"], now, subject="Fwd: 一封")
    await send(app, bob, ["friend@example.org"], now, subject="Fwd: 两封")
    await send(app, bob, [addr(alice)], now, subject="Fwd: 内部的不算")
    await send(app, bob, ["friend@example.org"], now - timedelta(days=8), subject="Fwd: 太早")
    await send(app, bob, ["friend@example.org"], now, subject="不是转发")
    findings = await administration.forwarding_outside(app.state.portal, now)
    assert [f.user_id for f in findings] == [alice.id]
    assert findings[0].reason == ("Forwarded 3 messages to outside addresses in 7 days: friend0@example.org, "
                                  "friend1@example.org, friend2@example.org.")


async def test_the_health_page_shows_the_mail_rules(client, app, people, make_user):
    alice = people["alice"]
    now = datetime.now(timezone.utc)
    await send(app, alice, [f"r{n}@example.org" for n in range(60)], now - timedelta(hours=1))
    admin = await make_user("root", roles=["admin"])
    client.headers["accept-language"] = "en"
    await login_as(client, admin)
    page = await client.get("/admin/account-health")
    section = page.text.split('id="health-abnormal"', 1)[1].split("</section>", 1)[0]
    assert 'data-username="alice"' in section and "60 recipients in the last 24 hours" in section


async def test_notify_from_the_health_page_sends_a_mail(client, app, people, make_user):
    bob = people["bob"]
    await User.update({User.locale: "en"}).where(User.id == bob.id)  # the mail is written in bob's language
    admin = await make_user("root", roles=["admin"])
    client.headers["accept-language"] = "en"
    await login_as(client, admin)
    response = await post_form(client, f"/admin/account-health/{bob.id}/notify", {"reason": "Logged in from 5 addresses."})
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert "bob was notified (also by: mail)." in page.text
    mailbox = await ensure_mailbox(bob.id)
    (row,) = await Message.select().where(Message.mailbox == mailbox["id"])
    assert row["subject"] == "Security notice about your account" and "Logged in from 5 addresses." in row["body_text"]


async def test_the_statistics_page_offers_the_mail_statistics_as_chart_and_csv(client, app, traffic, make_user):
    admin = await make_user("root", roles=["admin"])
    client.headers["accept-language"] = "en"
    await login_as(client, admin)
    page = await client.get("/admin/statistics")  # the first statistic is mail per day
    assert page.status_code == 200 and "Mail sent and received per day" in page.text and "<svg" in page.text
    for name in ("webmail.mail_per_unit", "webmail.mail_per_user", "webmail.operations", "webmail.space_per_unit",
                 "webmail.space_per_user"):
        shown = await client.get("/admin/statistics", params={"stat": name, "since": "2026-03-01", "until": "2026-03-03"})
        assert shown.status_code == 200 and "<svg" in shown.text, name
    space = await client.get("/admin/statistics", params={"stat": "webmail.space_per_unit"})
    assert "As it is now; the period does not apply." in space.text
    response = await client.get("/admin/statistics.csv", params={"stat": "webmail.mail_per_user", "since": "2026-03-01",
                                                                "until": "2026-03-03"})
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="webmail-mail_per_user-20260301-20260303.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8").lstrip("\ufeff"))))
    assert rows[0] == ["Username", "Name", "Unit", "Messages sent", "Recipients", "Messages received"]
    assert rows[1] == ["alice", "Alice", "黄河县人民政府", "3", "5", "1"]
