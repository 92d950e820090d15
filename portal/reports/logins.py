"""Login records of every account for administrators (MAIL-13): a search over the
``core_login_attempt`` rows the login flow writes, by username, address, days and outcome."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from piccolo.columns import Column

from portal.api import Period
from portal.auth.geo import LOCAL
from portal.auth.tables import LoginAttempt
from portal.i18n import gettext as _

PAGE_SIZE = 50
CSV_MAX_ROWS = 100_000
# The columns every page shows in its own way; ``extra_columns`` are the others.
BASE_COLUMNS = {"id", "username", "user", "ip", "user_agent", "result", "created_at", "reason", "place", "new_place"}
IP_FILTER_RE = re.compile(r"[0-9a-fA-F.:]{1,45}")
USERNAME_FILTER_RE = re.compile(r"[^\s]{1,64}")


def outcome_labels() -> dict[str, str]:
    """Every result the login flow records, by code, with what it means."""
    return {
        "ok": _("Login succeeded"),
        "bad_password": _("Wrong password"),
        "bad_code": _("Wrong code"),
        "unknown_user": _("Unknown username"),
        "locked": _("Refused: locked"),
        "inactive": _("Refused: account disabled"),
        "restricted": _("Refused by a login rule"),
    }


def reason_labels() -> dict[str, str]:
    """Why a login rule refused a login (MAIL-13), by the code stored with it."""
    return {"network": _("network address not allowed"), "terminal": _("terminal not allowed"), "time": _("time not allowed")}


def outcome_text(record: dict) -> str:
    """The outcome as a person reads it, with the rule's reason for a refused login."""
    text = outcome_labels().get(record["result"], record["result"])
    if record.get("reason"):
        text += ": " + reason_labels().get(record["reason"], record["reason"])
    return text


def place_text(record: dict) -> str:
    """Where the address is (MAIL-20): the IP library's place, private addresses as local network."""
    return _("Local network") if record.get("place") == LOCAL else record.get("place") or ""


def outcome_choices() -> dict[str, str]:
    """The outcome filter: the two groups, then each result."""
    return {"success": _("Successful"), "failure": _("Not successful"), **outcome_labels()}


def extra_columns() -> list[tuple[str, str]]:
    """Columns other features added to login records, as (column name, label); shown and
    exported after the others."""
    return [(c._meta.name, c._meta.name.replace("_", " ").capitalize())
            for c in LoginAttempt._meta.columns if c._meta.name not in BASE_COLUMNS]


@dataclass(frozen=True)
class LoginQuery:
    username: str = ""
    ip: str = ""
    period: Period | None = None
    outcome: str = ""


def validate(values: dict[str, str], errors: dict[str, str]) -> tuple[str, str, str]:
    """The username, address and outcome filters, cleaned; messages in ``errors``."""
    username = values.get("username", "").strip().lower()
    ip = values.get("ip", "").strip()
    outcome = values.get("outcome", "").strip()
    if username and not USERNAME_FILTER_RE.fullmatch(username):
        errors["username"] = _("Enter a username of at most 64 characters, without spaces.")
    if ip and not IP_FILTER_RE.fullmatch(ip):
        errors["ip"] = _("Enter an address or its beginning, such as 10.1.2.")
    if outcome and outcome not in outcome_choices():
        errors["outcome"] = _("Choose from the list.")
    return username, ip, outcome


def _conditions(query: LoginQuery) -> list:
    conditions = []
    if query.username:
        conditions.append(LoginAttempt.username == query.username)
    if query.ip and _is_address(query.ip):
        # A whole address (as the links of the page give) means that address, not every one it begins.
        conditions.append(LoginAttempt.ip == query.ip)
    elif query.ip:
        # IP_FILTER_RE admits no LIKE wildcard, so this is a plain prefix match.
        conditions.append(LoginAttempt.ip.like(f"{query.ip}%"))
    if query.period:
        conditions.append(LoginAttempt.created_at >= query.period.start)
        conditions.append(LoginAttempt.created_at < query.period.end)
    if query.outcome == "success":
        conditions.append(LoginAttempt.result == "ok")
    elif query.outcome == "failure":
        conditions.append(LoginAttempt.result != "ok")
    elif query.outcome:
        conditions.append(LoginAttempt.result == query.outcome)
    return conditions


def _is_address(text: str) -> bool:
    """A whole address; "2001:db8::" parses as one too, but a person typing it means a beginning."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return not text.endswith(":")


def _columns() -> list[Column]:
    return [LoginAttempt.id, LoginAttempt.created_at, LoginAttempt.username, LoginAttempt.user, LoginAttempt.ip,
            LoginAttempt.result, LoginAttempt.reason, LoginAttempt.user_agent, LoginAttempt.place, LoginAttempt.new_place,
            *[getattr(LoginAttempt, name) for name, _label in extra_columns()]]


async def search(query: LoginQuery, page: int = 1) -> tuple[list[dict], int]:
    """One page of records, newest first, and how many match."""
    conditions = _conditions(query)
    select = (LoginAttempt.select(*_columns()).order_by(LoginAttempt.id, ascending=False)
              .limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE))
    count = LoginAttempt.count()
    if conditions:
        select = select.where(*conditions)
        count = count.where(*conditions)
    return await select, await count


async def export_rows(query: LoginQuery) -> tuple[list[str], list[list]]:
    """Header and rows of every matching record (at most ``CSV_MAX_ROWS``, newest first)."""
    select = LoginAttempt.select(*_columns()).order_by(LoginAttempt.id, ascending=False).limit(CSV_MAX_ROWS)
    conditions = _conditions(query)
    if conditions:
        select = select.where(*conditions)
    extras = extra_columns()
    header = [_("Time"), _("Username"), _("Address"), _("Outcome"), _("Result code"), _("Browser"), _("Place"), _("New place"),
              *[label for _name, label in extras]]
    rows = [[r["created_at"], r["username"], r["ip"], outcome_text(r), r["result"], r["user_agent"], place_text(r),
             _("Yes") if r["new_place"] else "", *[r[name] for name, _label in extras]] for r in await select]
    return header, rows
