"""The health self-check report (MAIL-10): run every check, keep the report, mail it to the
administrators' mailboxes.

The administrator chooses the cycle (daily, weekly, monthly, or none), the hour and the
receiving mailboxes; they are the durable schedule ``core.health_report``
(``portal.jobs.schedule``), which queues a ``core.health_report`` job once per cycle. "Run now"
queues the same job at once. The job runs the core's checks and the plugins'
(``register_health_checks``) once per language, so each recipient reads checks and messages in
his own, stores the report under its cycle's key (unique: a retried job neither repeats nor
re-mails a report) and hands the mail to the plugins that deliver mail
(``deliver_system_message``).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone

from portal.accounts.services import ValidationError
from portal.accounts.tables import User
from portal.api import CurrentUser, SystemMessage
from portal.audit.services import write_audit
from portal.db import write_transaction
from portal.health.checks import core_checks, run_checks, worst
from portal.health.tables import HealthReport
from portal.i18n import DEFAULT_LOCALE, LOCALES, locale_context
from portal.i18n import gettext as _
from portal.jobs import TaskHandler, enqueue
from portal.jobs.schedule import CYCLES, TIMEZONE, get_schedule, set_schedule
from portal.jobs.tables import QueuedJob
from portal.plugins import gather_hook

SCHEDULE = KIND = "core.health_report"
DEFAULT_HOUR = 7
MAX_RECIPIENTS = 20
MAX_RECIPIENTS_TEXT = 5000
RECENT = 20
ADDRESS_RE = re.compile(r"[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})+")


def cycle_labels() -> dict[str, str]:
    return {"": _("Never (no periodic report)"), "daily": _("Every day"), "weekly": _("Every week (Monday)"),
            "monthly": _("Every month (the 1st)")}


def status_labels() -> dict[str, str]:
    return {"ok": _("OK"), "warning": _("Warning"), "fail": _("Failure")}


# Settings ------------------------------------------------------------------------------------


async def report_settings() -> dict:
    """{cycle, hour, recipients, next_run} as stored; no periodic report until an administrator sets one."""
    row = await get_schedule(SCHEDULE)
    if row is None:
        return {"cycle": "", "hour": DEFAULT_HOUR, "recipients": [], "next_run": None}
    payload = row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"] or "{}")
    return {"cycle": row["cycle"], "hour": row["hour"], "recipients": list(payload.get("recipients", [])),
            "next_run": row["due_at"]}


def parse_recipients(text: str) -> list[str]:
    """Addresses, one per line (commas and spaces also separate them); ValidationError naming the bad ones."""
    if len(text) > MAX_RECIPIENTS_TEXT:
        raise ValidationError({"recipients": _("Enter at most %(n)s addresses.", n=MAX_RECIPIENTS)})
    addresses: list[str] = []
    for raw in re.split(r"[\s,;]+", text.strip().lower()):
        if raw and raw not in addresses:
            addresses.append(raw)
    bad = [a for a in addresses if len(a) > 254 or not ADDRESS_RE.fullmatch(a)]
    if bad:
        raise ValidationError({"recipients": _("These are not mail addresses: %(bad)s", bad=", ".join(bad[:5]))})
    if len(addresses) > MAX_RECIPIENTS:
        raise ValidationError({"recipients": _("Enter at most %(n)s addresses.", n=MAX_RECIPIENTS)})
    return addresses


async def save_settings(actor: CurrentUser, cycle: str, hour: str, recipients_text: str, ip: str = "") -> dict:
    """Validate and store the cycle, hour and recipients; ValidationError with a message per field."""
    errors: dict[str, str] = {}
    if cycle not in ("", *CYCLES):
        errors["cycle"] = _("Choose from the list.")
    if not re.fullmatch(r"[0-9]{1,2}", hour.strip()) or not 0 <= int(hour) <= 23:
        errors["hour"] = _("Enter an hour from 0 to 23.")
    try:
        recipients = parse_recipients(recipients_text)
    except ValidationError as error:
        errors.update(error.errors)
        recipients = []
    if cycle and not recipients and "recipients" not in errors:
        errors["recipients"] = _("Enter at least one mailbox to send the periodic report to.")
    if errors:
        raise ValidationError(errors)
    await set_schedule(SCHEDULE, KIND, cycle, int(hour), {"recipients": recipients})
    await write_audit("core.health.settings", actor=actor, target_type="health", target_id="report",
                      summary=f"{cycle or 'off'} {int(hour):02d}:00 → {', '.join(recipients)}", ip=ip)
    return await report_settings()


async def request_report(actor: CurrentUser, ip: str = "") -> str:
    """"Run now": queue a report for the configured recipients; returns its key."""
    key = f"manual:{uuid.uuid4().hex}"
    settings = await report_settings()
    async with write_transaction():
        await enqueue(KIND, {"cycle": key, "recipients": settings["recipients"], "requested_by": actor.id})
        await write_audit("core.health.run", actor=actor, target_type="health", target_id="report", summary=key, ip=ip)
    return key


async def reports_in_preparation() -> int:
    return await QueuedJob.count().where((QueuedJob.kind == KIND) & QueuedJob.status.is_in(["queued", "running"]))


# Running the checks --------------------------------------------------------------------------


async def collect_checks(portal) -> list[dict]:
    """Every check, run once per language: [{name, status, label: {locale: …}, message: {locale: …}}].

    A check's status is the worse of its runs (one that flaps shows its bad side)."""
    merged: dict[str, dict] = {}
    for locale in LOCALES:
        with locale_context(locale):
            checks = [*core_checks(), *await gather_hook(portal.pm, "register_health_checks", portal=portal)]
            for result in await run_checks(portal, checks):
                entry = merged.setdefault(result.name, {"name": result.name, "status": "ok", "label": {}, "message": {}})
                entry["status"] = worst([entry["status"], result.status])
                entry["label"][locale] = result.label
                entry["message"][locale] = result.message
    return list(merged.values())


def in_locale(texts: dict, locale: str) -> str:
    return texts.get(locale) or texts.get(DEFAULT_LOCALE) or next(iter(texts.values()), "")


def localized_checks(report: dict, locale: str) -> list[dict]:
    return [{"name": c["name"], "status": c["status"], "label": in_locale(c["label"], locale),
             "message": in_locale(c["message"], locale)} for c in report["checks"]]


# The mail ------------------------------------------------------------------------------------


def _local(moment: datetime) -> datetime:
    return moment.astimezone(TIMEZONE)


def report_message(portal, report: dict) -> SystemMessage:
    """The report as a mail in every language: a subject with the overall result, text and HTML."""
    subject, text, html = {}, {}, {}
    for locale in LOCALES:
        with locale_context(locale):
            checks = localized_checks(report, locale)
            labels = status_labels()
            created = f"{_local(report['created_at']):%Y-%m-%d %H:%M}"
            subject[locale] = _("Health self-check report: %(status)s (%(date)s)", status=labels[report["status"]],
                                date=created)
            counts = {status: sum(1 for c in checks if c["status"] == status) for status in labels}
            summary = _("%(ok)s OK, %(warning)s warnings, %(fail)s failures.", **counts)
            lines = [subject[locale], "", summary, ""]
            for check in checks:
                lines.append(f"[{labels[check['status']]}] {check['label']}: {check['message']}")
            lines += ["", _("Report made at %(time)s (Beijing time).", time=created)]
            text[locale] = "\n".join(lines) + "\n"
            html[locale] = portal.render("health/report_mail.html", title=subject[locale], summary=summary,
                                         checks=checks, labels=labels, created=created, status=report["status"])
    return SystemMessage(subject=subject, text=text, html=html)


# The job -------------------------------------------------------------------------------------


async def _report_of(cycle: str) -> dict | None:
    return await HealthReport.select().where(HealthReport.cycle == cycle).output(load_json=True).first()


async def run_report(portal, payload: dict) -> None:
    """The ``core.health_report`` job: check, store (once per cycle), mail (once)."""
    cycle = str(payload["cycle"])
    report = await _report_of(cycle)
    if report is None:
        checks = await collect_checks(portal)
        requester = payload.get("requested_by")
        async with write_transaction():
            if requester is not None and not await User.exists().where(User.id == requester):
                requester = None  # the account was deleted since it asked
            if not await HealthReport.exists().where(HealthReport.cycle == cycle):
                await HealthReport.insert(HealthReport(
                    cycle=cycle, status=worst(c["status"] for c in checks), checks=checks,
                    recipients=list(payload.get("recipients", [])), requested_by=requester,
                ))
        report = await _report_of(cycle)
    if report["mailed_at"] is not None or not report["recipients"]:
        return
    _delivered, undelivered = await portal.deliver_system_message(report["recipients"], report_message(portal, report))
    await HealthReport.update({HealthReport.mailed_at: datetime.now(timezone.utc), HealthReport.undelivered: undelivered}).where(
        HealthReport.id == report["id"])


HANDLER = TaskHandler(run=run_report, max_attempts=5)


# The pages' reads ----------------------------------------------------------------------------


async def recent_reports(limit: int = RECENT) -> list[dict]:
    return await (HealthReport.select(*HealthReport.all_columns(), HealthReport.requested_by.username.as_alias("requested_by_name"))
                  .order_by(HealthReport.created_at, ascending=False).order_by(HealthReport.id, ascending=False)
                  .limit(limit).output(load_json=True))


async def get_report(report_id: int) -> dict | None:
    return await (HealthReport.select(*HealthReport.all_columns(), HealthReport.requested_by.username.as_alias("requested_by_name"))
                  .where(HealthReport.id == report_id).output(load_json=True).first())
