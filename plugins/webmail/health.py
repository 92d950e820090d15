"""The mail system's health checks (MAIL-10): queue backlog, failed deliveries, spam and viruses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from plugins.webmail.tables import Delivery, Message
from portal.api import HealthCheck

# A message still waiting after this long is worth a look; one waiting a day means mail is stuck.
BACKLOG_WARNING = timedelta(hours=1)
RECENT = timedelta(days=7)


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def queue_check(portal) -> tuple[str, str]:
    """Deliveries not done yet (queued or deferred by the relay) and how long the oldest has waited."""
    waiting = Delivery.status.is_in(["queued", "deferred"])
    count = await Delivery.count().where(waiting)
    if not count:
        return "ok", portal.gettext("No message is waiting to be delivered.")
    row = await (Delivery.select(Delivery.outgoing.created_at.as_alias("oldest")).where(waiting)
                 .order_by(Delivery.outgoing.created_at).first())
    oldest = row["oldest"]
    hours = (_now() - oldest).total_seconds() / 3600
    status = "warning" if _now() - oldest >= BACKLOG_WARNING else "ok"
    return status, portal.ngettext("%(num)s delivery waiting; the oldest for %(hours)s hours.",
                                   "%(num)s deliveries waiting; the oldest for %(hours)s hours.", count, hours=round(hours, 1))


async def failures_check(portal) -> tuple[str, str]:
    """Deliveries that failed or bounced in the last seven days."""
    since = _now() - RECENT
    failed = await Delivery.count().where((Delivery.status == "failed") & (Delivery.updated_at >= since))
    bounced = await Delivery.count().where((Delivery.status == "bounced") & (Delivery.updated_at >= since))
    status = "warning" if failed or bounced else "ok"
    return status, portal.gettext("In the last 7 days: %(failed)s deliveries failed, %(bounced)s bounced.",
                                  failed=failed, bounced=bounced)


async def spam_check(portal) -> tuple[str, str]:
    """Honest about what is not done: incoming mail is not scanned yet (MAIL-22)."""
    reported = await Message.count().where(
        (Message.folder.kind == "spam") & (Message.received_at >= _now() - RECENT))
    return "warning", portal.gettext(
        "Incoming mail is not scanned for spam or viruses (no scanner is installed), so none were counted. "
        "Messages users put in their spam folders in the last 7 days: %(n)s.", n=reported)


def health_checks(portal) -> list[HealthCheck]:
    return [
        HealthCheck("webmail.queue", queue_check, portal.gettext("Mail queue")),
        HealthCheck("webmail.failures", failures_check, portal.gettext("Failed deliveries")),
        HealthCheck("webmail.spam", spam_check, portal.gettext("Spam and viruses")),
    ]
