"""What the mailbox gives the core's administration pages, through hooks:

- statistics (MAIL-14): mail sent and received per day, unit and user; delivery operations per
  day; space used per unit and user;
- account checks (MAIL-11): sudden mass sending, forwarding to outside addresses;

Counts come from the rows the mailbox keeps: a sent message is its ``webmail_outgoing`` row
(kept when the sender deletes his copy), each recipient a ``webmail_delivery`` row; a received
message is a message row outside Sent and Drafts that is no one's sent copy, so mail deleted
for good is no longer counted as received.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta

from plugins.webmail.tables import Message
from portal.api import AccountCheck, AccountFinding, Column, Link, Period, Statistic, StatisticTable
from portal.localtime import day_sql

NO_UNIT = 0
# Sudden mass sending: at least this many recipients in 24 hours, and this many times the
# user's usual day over the 30 days before.
MASS_SENDING_MIN = 50
MASS_SENDING_FACTOR = 5
BASELINE_DAYS = 30
# Forwarding to outside: this many forwarded messages with outside recipients within 7 days.
FORWARDS_MIN = 3
FORWARD_WINDOW = timedelta(days=7)
FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|fw|转发)\s*[:：]", re.I)
CHART_USERS = 20
NAMES_PER_QUERY = 500

# The rows counted, each with the moment it is counted at; ``b`` is the mailbox, ``u`` its owner.
SENT = ("FROM webmail_outgoing o JOIN webmail_mailbox b ON b.id = o.mailbox JOIN core_user u ON u.id = b.owner "
        "WHERE o.created_at >= {} AND o.created_at < {}", "o.created_at")
RECIPIENTS = ("FROM webmail_delivery d JOIN webmail_outgoing o ON o.id = d.outgoing "
              "JOIN webmail_mailbox b ON b.id = o.mailbox JOIN core_user u ON u.id = b.owner "
              "WHERE o.created_at >= {} AND o.created_at < {}", "o.created_at")
RECEIVED = ("FROM webmail_message m JOIN webmail_folder f ON f.id = m.folder "
            "JOIN webmail_mailbox b ON b.id = m.mailbox JOIN core_user u ON u.id = b.owner "
            "WHERE m.received_at >= {} AND m.received_at < {} AND f.kind NOT IN ('sent', 'drafts') "
            "AND NOT EXISTS (SELECT 1 FROM webmail_outgoing s WHERE s.sent_copy = m.id)", "m.received_at")


async def _counts(source: tuple[str, str], key: str, period: Period) -> dict:
    """COUNT(*) of ``source`` grouped by ``key``: ``day``, ``user`` or ``unit`` (0: none)."""
    where, moment = source
    expression = {"day": day_sql(moment), "user": "u.id", "unit": f"COALESCE(u.unit, {NO_UNIT})"}[key]
    rows = await Message.raw(f"SELECT {expression} AS key, COUNT(*) AS n {where} GROUP BY 1", period.start, period.end)
    return {r["key"]: r["n"] for r in rows}


async def _names(table: str, ids) -> dict[int, dict]:
    """Rows of ``core_unit`` or ``core_user`` by id, read a few hundred ids at a time (SQLite
    limits the parameters of one statement)."""
    ids = sorted(i for i in ids if i)
    columns = "id, name" if table == "core_unit" else "id, username, display_name, unit"
    found: dict[int, dict] = {}
    for start in range(0, len(ids), NAMES_PER_QUERY):
        chunk = ids[start:start + NAMES_PER_QUERY]
        marks = ", ".join("{}" for _ in chunk)
        found.update({r["id"]: r for r in await Message.raw(f"SELECT {columns} FROM {table} WHERE id IN ({marks})", *chunk)})
    return found


def _unit_name(portal, units: dict[int, dict], unit_id) -> str:
    return units[unit_id]["name"] if unit_id in units else portal.gettext("(no unit)")


def _mail_columns(portal, first: Column) -> tuple[Column, ...]:
    _ = portal.gettext
    return (first, Column(_("Messages sent")), Column(_("Recipients")), Column(_("Messages received")))


def _note(portal) -> str:
    return portal.gettext("Received counts the mail still kept (in any folder but Sent and Drafts); mail deleted from "
                          "the trash is no longer counted. Sent counts each message once, whatever its number of recipients.")


async def mail_per_day(portal, period: Period) -> StatisticTable:
    sent, recipients, received = [await _counts(s, "day", period) for s in (SENT, RECIPIENTS, RECEIVED)]
    rows = [(day, sent.get(key, 0), recipients.get(key, 0), received.get(key, 0))
            for day in period.days for key in [day.isoformat()]]
    return StatisticTable(_mail_columns(portal, Column(portal.gettext("Day"), "day")), rows, chart="line",
                          note=_note(portal))


async def mail_per_unit(portal, period: Period) -> StatisticTable:
    sent, recipients, received = [await _counts(s, "unit", period) for s in (SENT, RECIPIENTS, RECEIVED)]
    keys = set(sent) | set(received)
    units = await _names("core_unit", keys)
    rows = sorted(((_unit_name(portal, units, k), sent.get(k, 0), recipients.get(k, 0), received.get(k, 0)) for k in keys),
                  key=lambda r: (-(r[1] + r[3]), r[0]))
    return StatisticTable(_mail_columns(portal, Column(portal.gettext("Unit"), "text")), rows,
                          note=portal.gettext("Each account counts in its own unit, not in the units above it.") + " "
                          + _note(portal))


async def mail_per_user(portal, period: Period) -> StatisticTable:
    sent, recipients, received = [await _counts(s, "user", period) for s in (SENT, RECIPIENTS, RECEIVED)]
    keys = set(sent) | set(received)
    users = await _names("core_user", keys)
    units = await _names("core_unit", {u["unit"] for u in users.values()})
    rows = sorted(((Link(users[k]["username"], f"/admin/users/{k}"), users[k]["display_name"],
                    _unit_name(portal, units, users[k]["unit"]), sent.get(k, 0), recipients.get(k, 0), received.get(k, 0))
                   for k in keys if k in users), key=lambda r: (-(r[3] + r[5]), r[0].text))
    _ = portal.gettext
    columns = (Column(_("Username"), "text"), Column(_("Name"), "text"), Column(_("Unit"), "text"),
               *_mail_columns(portal, Column(""))[1:])
    return StatisticTable(columns, rows, chart_rows=CHART_USERS,
                          note=_("The chart shows the %(n)s most active users.", n=CHART_USERS) + " " + _note(portal))


async def operations_per_day(portal, period: Period) -> StatisticTable:
    where, moment = RECIPIENTS
    rows = await Message.raw(f"SELECT {day_sql(moment)} AS day, d.status AS status, d.internal AS internal, COUNT(*) AS n "
                             f"{where} GROUP BY 1, 2, 3", period.start, period.end)
    sent = await _counts(SENT, "day", period)
    tally: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        counts = tally[r["day"]]
        counts["internal" if r["internal"] else "external"] += r["n"]
        counts[r["status"]] += r["n"]
    table = []
    for day in period.days:
        c = tally.get(day.isoformat(), {})
        table.append((day, sent.get(day.isoformat(), 0), c.get("internal", 0), c.get("external", 0),
                      c.get("delivered", 0) + c.get("opened", 0), c.get("opened", 0),
                      c.get("queued", 0) + c.get("deferred", 0), c.get("failed", 0) + c.get("bounced", 0)))
    _ = portal.gettext
    columns = (Column(_("Day"), "day"), Column(_("Messages sent")), Column(_("Internal recipients")),
               Column(_("Outside recipients")), Column(_("Delivered")), Column(_("Opened")), Column(_("Pending")),
               Column(_("Failed or bounced")))
    return StatisticTable(columns, table, chart="bar",
                          note=_("Recipients of the messages sent that day, by where their delivery stands now."))


async def space_per_unit(portal, period: Period) -> StatisticTable:
    rows = await Message.raw(
        f"SELECT COALESCE(u.unit, {NO_UNIT}) AS key, COUNT(*) AS mailboxes, SUM(b.used_bytes) AS used, "
        "SUM(b.quota_bytes) AS quota FROM webmail_mailbox b JOIN core_user u ON u.id = b.owner GROUP BY 1")
    units = await _names("core_unit", {r["key"] for r in rows})
    _ = portal.gettext
    table = sorted(((_unit_name(portal, units, r["key"]), r["mailboxes"], int(r["used"] or 0), int(r["quota"] or 0))
                    for r in rows), key=lambda r: (-r[2], r[0]))
    return StatisticTable((Column(_("Unit"), "text"), Column(_("Mailboxes"), chart=False), Column(_("Space used"), "bytes"),
                           Column(_("Quota"), "bytes", chart=False)), table)


async def space_per_user(portal, period: Period) -> StatisticTable:
    rows = await Message.raw(
        "SELECT u.id AS id, u.username AS username, u.display_name AS display_name, u.unit AS unit, b.address AS address, "
        "b.used_bytes AS used, b.quota_bytes AS quota FROM webmail_mailbox b JOIN core_user u ON u.id = b.owner "
        "ORDER BY b.used_bytes DESC, u.username")
    units = await _names("core_unit", {r["unit"] for r in rows})
    _ = portal.gettext
    table = [(Link(r["username"], f"/admin/users/{r['id']}"), r["display_name"], _unit_name(portal, units, r["unit"]),
              r["address"], int(r["used"]), int(r["quota"]), f"{100 * r['used'] / r['quota']:.1f} %" if r["quota"] else "")
             for r in rows]
    return StatisticTable((Column(_("Username"), "text"), Column(_("Name"), "text"), Column(_("Unit"), "text"),
                           Column(_("Mail address"), "text"), Column(_("Space used"), "bytes"),
                           Column(_("Quota"), "bytes", chart=False), Column(_("Used"), "text")),
                          table, chart_rows=CHART_USERS,
                          note=_("The chart shows the %(n)s largest mailboxes.", n=CHART_USERS))


def statistics(portal) -> list[Statistic]:
    _ = portal.gettext
    return [
        Statistic("webmail.mail_per_day", _("Mail sent and received per day"), mail_per_day, order=10),
        Statistic("webmail.mail_per_unit", _("Mail sent and received per unit"), mail_per_unit, order=11),
        Statistic("webmail.mail_per_user", _("Mail sent and received per user"), mail_per_user, order=12),
        Statistic("webmail.operations", _("Mail deliveries per day"), operations_per_day, order=13),
        Statistic("webmail.space_per_unit", _("Mailbox space per unit"), space_per_unit, order=20, uses_period=False),
        Statistic("webmail.space_per_user", _("Mailbox space per user"), space_per_user, order=21, uses_period=False),
    ]


# Account checks (MAIL-11) --------------------------------------------------------------------


async def mass_sending(portal, now: datetime) -> list[AccountFinding]:
    """Recipients in the last 24 hours against the user's usual day over the 30 days before."""
    recent = now - timedelta(hours=24)
    rows = await Message.raw(
        "SELECT b.owner AS user_id, SUM(CASE WHEN o.created_at >= {} THEN 1 ELSE 0 END) AS recent, COUNT(*) AS total "
        "FROM webmail_delivery d JOIN webmail_outgoing o ON o.id = d.outgoing JOIN webmail_mailbox b ON b.id = o.mailbox "
        "WHERE o.created_at >= {} AND o.created_at < {} GROUP BY 1",
        recent, recent - timedelta(days=BASELINE_DAYS), now)
    findings = []
    for r in rows:
        latest, usual = int(r["recent"]), (int(r["total"]) - int(r["recent"])) / BASELINE_DAYS
        if latest >= MASS_SENDING_MIN and latest >= MASS_SENDING_FACTOR * usual:
            usual_text = f"{usual:.1f}"
            findings.append(AccountFinding(r["user_id"], portal.gettext(
                "%(n)s recipients in the last 24 hours; usually %(usual)s a day.", n=latest, usual=usual_text)))
    return findings


async def forwarding_outside(portal, now: datetime) -> list[AccountFinding]:
    """Forwarded messages (their subject says so) sent to outside addresses within 7 days."""
    rows = await Message.raw(
        "SELECT b.owner AS user_id, o.id AS outgoing, m.subject AS subject, d.recipient AS recipient "
        "FROM webmail_outgoing o JOIN webmail_mailbox b ON b.id = o.mailbox JOIN webmail_message m ON m.id = o.sent_copy "
        "JOIN webmail_delivery d ON d.outgoing = o.id WHERE o.created_at >= {} AND NOT d.internal",
        now - FORWARD_WINDOW)
    forwards: dict[int, set[int]] = defaultdict(set)
    recipients: dict[int, set[str]] = defaultdict(set)
    for r in rows:
        if FORWARD_SUBJECT.match(r["subject"] or ""):
            forwards[r["user_id"]].add(r["outgoing"])
            recipients[r["user_id"]].add(r["recipient"])
    findings = []
    for user_id, outgoing in forwards.items():
        if len(outgoing) >= FORWARDS_MIN:
            shown = sorted(recipients[user_id])
            findings.append(AccountFinding(user_id, portal.gettext(
                "Forwarded %(n)s messages to outside addresses in 7 days: %(list)s.", n=len(outgoing),
                list=", ".join(shown[:5]) + (" …" if len(shown) > 5 else ""))))
    return findings


def account_checks(portal) -> list[AccountCheck]:
    _ = portal.gettext
    return [AccountCheck("webmail.mass_sending", _("Sudden mass sending"), mass_sending),
            AccountCheck("webmail.forwarding_outside", _("Forwarding to outside addresses"), forwarding_outside)]
