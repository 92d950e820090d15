"""Login restrictions (MAIL-13): allow a user, or a group of users, to log in only from some
networks, only with some terminals, only at some times.

Rules are checked right after the password (``login_refusal``), so nobody learns of them
without the password. Every rule that applies to the user must allow the login: adding a rule
never opens access. A refused login is recorded with result ``restricted`` and the reason; it
does not count towards the lockout (MAIL-16): the password was right, and counting it would let
a user at the wrong hour lock himself and everyone else behind the same address.

Times are Asia/Shanghai (Beijing time) whatever the server's time zone. A rule applies from the
next login on; sessions already open go on.
"""

from __future__ import annotations

import functools
import ipaddress
import operator
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from portal.accounts.services import ValidationError, ancestor_ids
from portal.accounts.tables import Department, RoleAssignment, Unit, User
from portal.api import CurrentUser
from portal.audit.services import write_audit
from portal.auth.security_tables import LoginRule
from portal.db import write_transaction
from portal.i18n import gettext as _
from portal.roles import ROLE_CODES

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCOPES = ("user", "unit", "department", "role")
TERMINALS = ("desktop", "mobile", "client")
DAY_MINUTES = 24 * 60
MAX_NETWORKS = 100
MAX_CLIENT_NAMES = 20
MAX_CLIENT_NAME = 100
MIN_CLIENT_NAME = 3

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Phones and tablets announce themselves with one of these (iPadOS Safari poses as a Mac and is
# counted as a desktop browser: nothing in its User-Agent tells them apart).
MOBILE_RE = re.compile(r"Mobi|Android|iPhone|iPad|iPod|Windows Phone|HarmonyOS|OpenHarmony|BlackBerry|Opera Mini", re.I)


def classify_terminal(user_agent: str, client_names: tuple[str, ...] | list[str] = ()) -> str:
    """``client`` when the User-Agent names one of ``client_names``, else ``mobile`` or
    ``desktop`` for browsers, else ``other`` (scripts and unknown programs)."""
    lowered = (user_agent or "").lower()
    if any(name.lower() in lowered for name in client_names if name):
        return "client"
    if MOBILE_RE.search(lowered):
        return "mobile"
    if lowered.startswith("mozilla/"):
        return "desktop"
    return "other"


def parse_address(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The client's address, an IPv4-mapped IPv6 address as the IPv4 one; None when not an address."""
    try:
        address = ipaddress.ip_address((raw or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class Refusal:
    code: str  # network, terminal, time
    message: str


@dataclass(frozen=True)
class Rule:
    """A rule as it is checked: parsed networks, terminal types, weekdays and minutes."""

    id: int = 0
    name: str = ""
    networks: tuple[Network, ...] = ()
    terminals: frozenset[str] = frozenset()
    client_names: tuple[str, ...] = ()
    weekdays: frozenset[int] = frozenset()
    start_minute: int | None = None
    end_minute: int | None = None

    @property
    def has_time(self) -> bool:
        return bool(self.weekdays) or self.start_minute is not None or self.end_minute is not None

    def refusal(self, ip: str, user_agent: str, at: datetime) -> Refusal | None:
        """Why this rule refuses a login from ``ip`` with ``user_agent`` at ``at``, or None."""
        if self.networks:
            address = parse_address(ip)
            if address is None or not any(address in network for network in self.networks):
                return Refusal("network", _("Login is not allowed from your network address."))
        if self.terminals:
            terminal = classify_terminal(user_agent, self.client_names)
            if terminal not in self.terminals:
                return Refusal("terminal", terminal_message(terminal))
        if self.has_time and not self.allows_time(at):
            return Refusal("time", _("Login is not allowed at this time: allowed %(windows)s (Beijing time).",
                                     windows=describe_window(self)))
        return None

    def allows_time(self, at: datetime) -> bool:
        local = at.astimezone(SHANGHAI)
        if self.weekdays and local.isoweekday() not in self.weekdays:
            return False
        minute = local.hour * 60 + local.minute
        start = self.start_minute if self.start_minute is not None else 0
        end = self.end_minute if self.end_minute is not None else DAY_MINUTES
        return start <= minute < end


def terminal_message(terminal: str) -> str:
    return {
        "mobile": _("Login is not allowed from mobile browsers."),
        "desktop": _("Login is not allowed from desktop browsers."),
        "client": _("Login is not allowed from this program."),
    }.get(terminal, _("Login is not allowed from this kind of device or program."))


def weekday_names() -> dict[int, str]:
    return {1: _("Mon"), 2: _("Tue"), 3: _("Wed"), 4: _("Thu"), 5: _("Fri"), 6: _("Sat"), 7: _("Sun")}


def _day_runs(days: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for day in days:
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def describe_days(weekdays: frozenset[int] | set[int]) -> str:
    """``Mon–Fri``, ``Mon, Wed, Fri``, ``Mon–Wed, Sat``; every day when all or none are chosen."""
    if not weekdays or len(weekdays) == 7:
        return _("every day")
    names = weekday_names()
    parts = []
    for first, last in _day_runs(sorted(weekdays)):
        if first == last:
            parts.append(names[first])
        elif last == first + 1:
            parts.append(f"{names[first]}, {names[last]}")
        else:
            parts.append(f"{names[first]}–{names[last]}")
    return ", ".join(parts)


def format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def describe_window(rule: Rule) -> str:
    """``Mon–Fri 08:00–18:00``: the days and hours a rule allows."""
    days = describe_days(rule.weekdays)
    if rule.start_minute is None and rule.end_minute is None:
        return days
    start = format_minute(rule.start_minute or 0)
    end = format_minute(rule.end_minute if rule.end_minute is not None else DAY_MINUTES)
    return f"{days} {start}–{end}"


# Stored rules --------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def rule_from_row(row: dict) -> Rule:
    return Rule(
        id=row["id"], name=row["name"],
        networks=tuple(ipaddress.ip_network(n) for n in _lines(row["networks"])),
        terminals=frozenset(t for t in row["terminals"].split(",") if t),
        client_names=tuple(_lines(row["client_names"])),
        weekdays=frozenset(int(d) for d in row["weekdays"].split(",") if d),
        start_minute=row["start_minute"], end_minute=row["end_minute"],
    )


async def rules_for(user_id: int) -> list[Rule]:
    """The enabled rules that apply to a user: his own, his unit's and those of the units above
    it, his department's and his roles'."""
    user = await User.select(User.unit, User.department).where(User.id == user_id).first()
    if user is None:
        return []
    conditions = [(LoginRule.scope == "user") & (LoginRule.user == user_id)]
    if user["unit"] is not None:
        units = list(await ancestor_ids(user["unit"]) | {user["unit"]})
        conditions.append((LoginRule.scope == "unit") & LoginRule.unit.is_in(units))
    if user["department"] is not None:
        conditions.append((LoginRule.scope == "department") & (LoginRule.department == user["department"]))
    roles = sorted({r["role"] for r in await RoleAssignment.select(RoleAssignment.role).where(RoleAssignment.user == user_id)})
    if roles:
        conditions.append((LoginRule.scope == "role") & LoginRule.role.is_in(roles))
    rows = await LoginRule.select().where(
        (LoginRule.enabled == True) & functools.reduce(operator.or_, conditions)  # noqa: E712
    ).order_by(LoginRule.id)
    return [rule_from_row(row) for row in rows]


async def login_refusal(username: str, user_id: int, client, at: datetime | None = None) -> str | None:
    """Called once the password is right: the reason, in plain words, why the rules refuse this
    login (recorded as a ``restricted`` attempt), or None when they allow it."""
    from portal.auth.services import record_attempt

    at = at or datetime.now(timezone.utc)
    for rule in await rules_for(user_id):
        refusal = rule.refusal(client.ip, client.user_agent, at)
        if refusal is not None:
            await record_attempt(username, client, "restricted", user_id, reason=refusal.code)
            return refusal.message
    return None


# Administration ------------------------------------------------------------------------------


@dataclass
class RuleForm:
    """What the administrator typed: raw text, validated by ``validate_rule``."""

    name: str = ""
    scope: str = ""
    username: str = ""
    unit_id: int | None = None
    department_id: int | None = None
    role: str = ""
    networks: str = ""
    terminals: list[str] = field(default_factory=list)
    client_names: str = ""
    weekdays: list[str] = field(default_factory=list)
    start: str = ""
    end: str = ""
    enabled: bool = True


TIME_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def parse_time(raw: str) -> int | None:
    """``HH:MM`` as minutes after midnight; ``24:00`` is the end of the day. Raises ValueError."""
    raw = raw.strip()
    if raw == "24:00":
        return DAY_MINUTES
    match = TIME_RE.fullmatch(raw)
    if not match:
        raise ValueError(raw)
    return int(match.group(1)) * 60 + int(match.group(2))


def parse_networks(text: str, errors: dict[str, str]) -> list[str]:
    """CIDR networks, one a line (commas and spaces separate too); a bare address is a /32 or /128."""
    items = [item for item in re.split(r"[\s,;]+", text or "") if item]
    if len(items) > MAX_NETWORKS:
        errors["networks"] = _("At most %(n)s networks.", n=MAX_NETWORKS)
        return []
    networks: list[str] = []
    for item in items:
        try:
            network = ipaddress.ip_network(item, strict=True)
        except ValueError:
            try:
                loose = ipaddress.ip_network(item, strict=False)
            except ValueError:
                errors["networks"] = _("%(item)s is not a network: write it like 192.168.1.0/24 or 2001:db8::/32.", item=item[:60])
            else:
                errors["networks"] = _("%(item)s has bits set after the prefix: did you mean %(network)s?",
                                       item=item[:60], network=str(loose))
            return []
        if str(network) not in networks:
            networks.append(str(network))
    return networks


async def validate_rule(form: RuleForm) -> dict:
    """The columns of a rule, or ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    name = form.name.strip()
    if not name or len(name) > 100:
        errors["name"] = _("Enter a name of at most 100 characters.")
    values: dict = {"user": None, "unit": None, "department": None, "role": ""}
    if form.scope not in SCOPES:
        errors["scope"] = _("Choose whom the rule applies to.")
    elif form.scope == "user":
        user = await User.select(User.id).where(User.username == form.username.strip().lower()).first()
        if user is None:
            errors["username"] = _("There is no user with this username.")
        else:
            values["user"] = user["id"]
    elif form.scope == "unit":
        if form.unit_id is None or not await Unit.exists().where(Unit.id == form.unit_id):
            errors["unit_id"] = _("Choose a unit.")
        values["unit"] = form.unit_id
    elif form.scope == "department":
        if form.department_id is None or not await Department.exists().where(Department.id == form.department_id):
            errors["department_id"] = _("Choose a department.")
        values["department"] = form.department_id
    elif form.scope == "role":
        if form.role not in ROLE_CODES:
            errors["role"] = _("Choose a role.")
        values["role"] = form.role
    networks = parse_networks(form.networks, errors)
    terminals = [t for t in TERMINALS if t in form.terminals]
    if set(form.terminals) - set(TERMINALS):
        errors["terminals"] = _("Choose from the list.")
    client_names = list(dict.fromkeys(_lines(form.client_names)))
    if len(client_names) > MAX_CLIENT_NAMES or any(not MIN_CLIENT_NAME <= len(n) <= MAX_CLIENT_NAME for n in client_names):
        errors["client_names"] = _("At most %(n)s client names, each of %(min)s to %(max)s characters.",
                                   n=MAX_CLIENT_NAMES, min=MIN_CLIENT_NAME, max=MAX_CLIENT_NAME)
    elif "client" in terminals and not client_names:
        errors["client_names"] = _("Name at least one client: a part of its User-Agent, such as GovMailClient.")
    elif client_names and "client" not in terminals:
        errors["client_names"] = _("Tick “named clients” too, or leave the names empty.")
    try:
        weekdays = sorted({int(d) for d in form.weekdays})
        if any(not 1 <= d <= 7 for d in weekdays):
            raise ValueError(weekdays)
    except ValueError:
        errors["weekdays"] = _("Choose from the list.")
        weekdays = []
    start = end = None
    try:
        start = parse_time(form.start) if form.start.strip() else None
        if start == DAY_MINUTES:
            raise ValueError(form.start)
    except ValueError:
        errors["start"] = _("Enter a time as HH:MM, for example 08:00.")
    try:
        end = parse_time(form.end) if form.end.strip() else None
    except ValueError:
        errors["end"] = _("Enter a time as HH:MM, for example 18:00.")
    if "start" not in errors and "end" not in errors and (start or 0) >= (end if end is not None else DAY_MINUTES):
        errors["end"] = _("The end must be later than the start; a window ends at midnight (24:00) at the latest.")
    if not errors and not (networks or terminals or weekdays or start is not None or end is not None):
        errors["networks"] = _("A rule must restrict something: network addresses, terminals or times.")
    if errors:
        raise ValidationError(errors)
    return {
        "name": name, "scope": form.scope, **values, "networks": "\n".join(networks), "terminals": ",".join(terminals),
        "client_names": "\n".join(client_names), "weekdays": ",".join(str(d) for d in weekdays),
        "start_minute": start, "end_minute": end, "enabled": form.enabled,
    }


def _summary(values: dict) -> str:
    return f"{values['name']} ({values['scope']})"


async def create_rule(actor: CurrentUser, form: RuleForm, ip: str = "") -> int:
    values = await validate_rule(form)
    async with write_transaction():
        rows = await LoginRule.insert(LoginRule(**values)).returning(LoginRule.id)
        rule_id = rows[0]["id"]
        await write_audit("core.login_rule.create", actor=actor, target_type="login_rule", target_id=rule_id,
                          summary=_summary(values), ip=ip, details=_details(values))
    return rule_id


async def update_rule(actor: CurrentUser, rule_id: int, form: RuleForm, ip: str = "") -> None:
    values = await validate_rule(form)
    async with write_transaction():
        await LoginRule.update({**{getattr(LoginRule, k): v for k, v in values.items()},
                                LoginRule.updated_at: datetime.now(timezone.utc)}).where(LoginRule.id == rule_id)
        await write_audit("core.login_rule.update", actor=actor, target_type="login_rule", target_id=rule_id,
                          summary=_summary(values), ip=ip, details=_details(values))


async def delete_rule(actor: CurrentUser, rule_id: int, ip: str = "") -> None:
    async with write_transaction():
        row = await LoginRule.select(LoginRule.name, LoginRule.scope).where(LoginRule.id == rule_id).first()
        if row is None:
            return
        await LoginRule.delete().where(LoginRule.id == rule_id)
        await write_audit("core.login_rule.delete", actor=actor, target_type="login_rule", target_id=rule_id,
                          summary=_summary(row), ip=ip)


def _details(values: dict) -> dict:
    return {k: v for k, v in values.items() if k not in {"name", "scope"} and v not in (None, "")}


async def get_rule(rule_id: int) -> dict | None:
    return await LoginRule.select().where(LoginRule.id == rule_id).first()


async def list_rules() -> list[dict]:
    """Every rule with the name of whom it applies to, newest last."""
    return await LoginRule.select(
        LoginRule.all_columns(), LoginRule.user.username.as_alias("username"),
        LoginRule.unit.name.as_alias("unit_name"), LoginRule.department.name.as_alias("department_name"),
        LoginRule.department.unit.name.as_alias("department_unit_name"),
    ).order_by(LoginRule.id)
