"""Account health (账号体检, MAIL-11): accounts under attack, accounts behaving abnormally and
accounts not used for N days, each with the reasons; and what an administrator does about one:
lock it, make its user choose a new password at the next login, or notify him.

The core's rules read the login records; plugins add theirs through ``register_account_checks``
(the webmail plugin: sudden mass sending, forwarding to outside addresses).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from portal.accounts.tables import User
from portal.api import AccountCheck, AccountFinding, CurrentUser, SystemMessage
from portal.audit.services import write_audit
from portal.auth.lockout import FAILURES
from portal.auth.tables import LoginAttempt, UserSession
from portal.db import write_transaction
from portal.i18n import gettext as _
from portal.i18n import LOCALES, locale_context, ngettext
from portal.localtime import local
from portal.plugins import gather_hook

log = logging.getLogger("portal.reports")

KINDS = ("attack", "abnormal", "inactive")
# Someone is guessing: this many refused attempts on one account within the window.
ATTACK_FAILURES = 10
ATTACK_WINDOW = timedelta(hours=24)
# One account used from this many addresses, or places, within the window.
MANY_ADDRESSES = 4
MANY_PLACES = 3
ADDRESS_WINDOW = timedelta(hours=24)
DEFAULT_INACTIVE_DAYS = 90
MAX_INACTIVE_DAYS = 3650
SHOWN_PER_KIND = 200
MAX_REASON = 300
NOTICE_KIND = "account_notice"


def kind_labels() -> dict[str, str]:
    return {"attack": _("Under attack"), "abnormal": _("Behaving abnormally"), "inactive": _("Not logged in for a long time")}


def _list(values: list[str], limit: int = 5) -> str:
    shown = ", ".join(values[:limit])
    return shown + (" …" if len(values) > limit else "")


async def failed_logins(portal, now: datetime) -> list[AccountFinding]:
    """Accounts with ``ATTACK_FAILURES`` or more refused attempts in the last 24 hours."""
    rows = await LoginAttempt.raw(
        # "user" is a reserved word in PostgreSQL: quoted.
        'SELECT "user" AS user_id, COUNT(*) AS n, COUNT(DISTINCT ip) AS addresses FROM core_login_attempt '
        'WHERE "user" IS NOT NULL AND created_at >= {} '
        f"AND result IN ({', '.join(repr(r) for r in (*FAILURES, 'locked'))}) "
        'GROUP BY "user" HAVING COUNT(*) >= {}', now - ATTACK_WINDOW, ATTACK_FAILURES)
    return [AccountFinding(r["user_id"], _(
        "%(n)s failed logins from %(addresses)s addresses in the last 24 hours.", n=r["n"], addresses=r["addresses"]))
        for r in rows]


def _place_column() -> str | None:
    """The place of each login, once geolocation (MAIL-20) records it."""
    return "place" if any(c._meta.name == "place" for c in LoginAttempt._meta.columns) else None


async def many_addresses(portal, now: datetime) -> list[AccountFinding]:
    """Accounts that logged in from ``MANY_ADDRESSES`` addresses (or ``MANY_PLACES`` places) in 24 hours."""
    place = _place_column()
    select = [LoginAttempt.user, LoginAttempt.ip] + ([getattr(LoginAttempt, place)] if place else [])
    rows = await LoginAttempt.select(*select).where(
        LoginAttempt.user.is_not_null(), LoginAttempt.result == "ok", LoginAttempt.created_at >= now - ADDRESS_WINDOW)
    addresses: dict[int, set[str]] = {}
    places: dict[int, set[str]] = {}
    for row in rows:
        addresses.setdefault(row["user"], set()).add(row["ip"])
        if place and row[place]:
            places.setdefault(row["user"], set()).add(row[place])
    findings = []
    for user_id, seen in addresses.items():
        where = sorted(places.get(user_id, ()))
        if len(seen) >= MANY_ADDRESSES:
            findings.append(AccountFinding(user_id, _("Logged in from %(n)s addresses in 24 hours: %(list)s.",
                                                      n=len(seen), list=_list(sorted(seen)))))
        elif len(where) >= MANY_PLACES:
            findings.append(AccountFinding(user_id, _("Logged in from %(n)s places in 24 hours: %(list)s.",
                                                      n=len(where), list=_list(where))))
    return findings


def core_checks() -> list[AccountCheck]:
    return [
        AccountCheck("core.failed_logins", _("Many failed logins"), failed_logins, kind="attack"),
        AccountCheck("core.many_addresses", _("Logins from many addresses"), many_addresses, kind="abnormal"),
    ]


async def inactive_accounts(now: datetime, days: int) -> list[AccountFinding]:
    """Active accounts whose last login (or creation, if never) is more than ``days`` days ago."""
    cutoff = now - timedelta(days=days)
    rows = await User.select(User.id, User.last_login_at, User.created_at).where(
        User.active == True,  # noqa: E712
        (User.last_login_at < cutoff) | (User.last_login_at.is_null() & (User.created_at < cutoff)),
    )
    findings = []
    # Never used first, then the longest unused.
    for row in sorted(rows, key=lambda r: (r["last_login_at"] is not None, r["last_login_at"] or r["created_at"])):
        if row["last_login_at"]:
            reason = ngettext("Last login %(num)s day ago (%(day)s).", "Last login %(num)s days ago (%(day)s).",
                              (now - row["last_login_at"]).days, day=local(row["last_login_at"]).date().isoformat())
        else:
            reason = _("Never logged in; created %(day)s.", day=local(row["created_at"]).date().isoformat())
        findings.append(AccountFinding(row["id"], reason))
    return findings


@dataclass
class Flagged:
    """An account on the page, with every reason one kind of rule gave."""

    user: dict
    reasons: list[str] = field(default_factory=list)


@dataclass
class HealthReport:
    sections: dict[str, list[Flagged]]
    # Rules that failed, with their error: the page says so instead of hiding the section.
    errors: list[str]

    def total(self, kind: str) -> int:
        return len(self.sections[kind])


async def _users(ids: set[int]) -> dict[int, dict]:
    if not ids:
        return {}
    rows = await User.select(
        User.id, User.username, User.display_name, User.active, User.must_change_password, User.last_login_at,
        User.unit.name.as_alias("unit_name"),
    ).where(User.id.is_in(sorted(ids)))
    return {r["id"]: r for r in rows}


async def health_report(portal, now: datetime, inactive_days: int) -> HealthReport:
    checks = [*core_checks(), *await gather_hook(portal.pm, "register_account_checks", portal=portal)]
    findings: dict[str, list[AccountFinding]] = {kind: [] for kind in KINDS}
    errors = []
    for check in checks:
        try:
            found = await check.find(portal, now)
        except Exception as error:  # one broken rule must not hide the others
            log.exception("account check %s failed", check.name)
            errors.append(f"{check.label}: {type(error).__name__}: {error}")
            continue
        findings[check.kind if check.kind in findings else "abnormal"].extend(found)
    findings["inactive"] = await inactive_accounts(now, inactive_days)
    users = await _users({f.user_id for found in findings.values() for f in found})
    sections: dict[str, list[Flagged]] = {}
    for kind, found in findings.items():
        flagged: dict[int, Flagged] = {}
        for finding in found:
            user = users.get(finding.user_id)
            if user is None:
                continue
            flagged.setdefault(finding.user_id, Flagged(user)).reasons.append(finding.reason[:MAX_REASON])
        sections[kind] = list(flagged.values()) if kind == "inactive" else sorted(
            flagged.values(), key=lambda f: f.user["username"])
    return HealthReport(sections, errors)


def csv_rows(report: HealthReport) -> tuple[list[str], list[list]]:
    labels = kind_labels()
    header = [_("Finding"), _("Username"), _("Name"), _("Unit"), _("Status"), _("Last login"), _("Reason")]
    rows = [[labels[kind], f.user["username"], f.user["display_name"], f.user["unit_name"] or "",
             _("Active") if f.user["active"] else _("Disabled"), f.user["last_login_at"], reason]
            for kind, flagged in report.sections.items() for f in flagged for reason in f.reasons]
    return header, rows


# Actions -------------------------------------------------------------------------------------


class ActionRefused(ValueError):
    """The action cannot be done; the message says why."""


async def get_account(user_id: int) -> dict | None:
    return await User.select(User.id, User.username, User.display_name, User.active, User.must_change_password).where(
        User.id == user_id).first()


async def lock_account(actor: CurrentUser, user_id: int, reason: str, ip: str = "") -> None:
    """Disable the account and end its sessions at once; audited with the reason."""
    if actor.id == user_id:
        raise ActionRefused(_("You cannot lock your own account."))
    account = await get_account(user_id)
    async with write_transaction():
        await User.update({User.active: False}).where(User.id == user_id)
        await UserSession.delete().where(UserSession.user == user_id)
        await write_audit("core.user.lock", actor=actor, target_type="user", target_id=user_id,
                          summary=account["username"], ip=ip, details={"reason": reason[:MAX_REASON]})


async def require_password_change(actor: CurrentUser, user_id: int, reason: str, ip: str = "") -> None:
    """At his next login the user must choose a new password before anything else; his
    sessions end now, so that next login comes at once."""
    if actor.id == user_id:
        raise ActionRefused(_("Change your own password on your account page."))
    account = await get_account(user_id)
    async with write_transaction():
        await User.update({User.must_change_password: True}).where(User.id == user_id)
        await UserSession.delete().where(UserSession.user == user_id)
        await write_audit("core.user.require_password_change", actor=actor, target_type="user", target_id=user_id,
                          summary=account["username"], ip=ip, details={"reason": reason[:MAX_REASON]})


def notice_text(reason: str) -> tuple[str, str]:
    """Subject and body of the security notice, in the current locale."""
    subject = _("Security notice about your account")
    body = _("The portal administrator checked the security of your account and found:\n\n%(reason)s\n\n"
             "If this was not you, change your password at once and tell the administrator. "
             "If it was you, nothing needs to be done.", reason=reason)
    return subject, body


def notice_message(reason: str) -> SystemMessage:
    """The security notice in every language, for ``deliver_system_message``."""
    subject, text = {}, {}
    for locale in LOCALES:
        with locale_context(locale):
            subject[locale], text[locale] = notice_text(reason)
    return SystemMessage(subject=subject, text=text)


async def notify_account(portal, actor: CurrentUser, user_id: int, reason: str, ip: str = "") -> list[str]:
    """A live notification to the user's open pages and a system message through the plugins
    (a mail in his inbox); returns what carried it besides the notification. Audited."""
    account = await get_account(user_id)
    subject, body = notice_text(reason[:MAX_REASON])
    portal.notify(user_id, NOTICE_KIND, subject=subject, message=reason[:MAX_REASON])
    delivered, _undelivered = await portal.deliver_system_message([user_id], notice_message(reason[:MAX_REASON]))
    carriers = ["mail"] if delivered else []
    await write_audit("core.user.notify", actor=actor, target_type="user", target_id=user_id, summary=account["username"],
                      ip=ip, details={"reason": reason[:MAX_REASON], "carried_by": carriers})
    return carriers
