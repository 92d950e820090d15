"""Service levels (用户服务等级, MAIL-12): quota, message limits and features per level.

A level sets a mailbox quota, the largest message, the most recipients of one message and the
features its users may use. Users are assigned a level through their mailbox; a mailbox
without one gets the default level, and without any level the built-in limits apply.

The quota is copied onto each mailbox (``Mailbox.quota_bytes``) whenever a level or an
assignment changes, so that listing and delivery read it with the mailbox row. The other
limits are read through a small cache of all levels (there are a handful), refreshed every
few seconds so that a change made in another process takes effect soon.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from plugins.webmail.tables import Mailbox, ServiceLevel
from portal.accounts.tables import User
from portal.db import write_transaction
from portal.i18n import gettext as _

MB = 1024 * 1024
# Features a level can allow. Those not built yet are stored with the level and enforced by
# the feature when it arrives (``Limits.allows``).
FEATURES = ("external_sending", "mass_send", "recall", "burn_after_reading", "delegation", "collect_send_for")
MAX_QUOTA_MB = 1024 * 1024  # 1 TB
MAX_RECIPIENTS_LIMIT = 2000  # sending.MAX_RECIPIENTS
CACHE_SECONDS = 5.0


def feature_labels() -> dict[str, str]:
    return {
        "external_sending": _("Sending outside the organisation"),
        "mass_send": _("Mass send with separate display"),
        "recall": _("Recall sent mail"),
        "burn_after_reading": _("Burn after reading"),
        "delegation": _("Delegation"),
        "collect_send_for": _("Collect and send for other mailboxes"),
    }


@dataclass(frozen=True)
class Limits:
    """What one mailbox may do; ``level_id`` None means the built-in limits."""

    level_id: int | None
    name: str
    quota_bytes: int
    max_message_bytes: int
    max_recipients: int
    features: frozenset[str]

    def allows(self, feature: str) -> bool:
        return feature in self.features


BUILT_IN = Limits(None, "", 2 * 1024 * MB, 25 * MB, MAX_RECIPIENTS_LIMIT, frozenset(FEATURES))


def _limits(row: dict) -> Limits:
    return Limits(row["id"], row["name"], row["quota_bytes"], row["max_message_bytes"], row["max_recipients"],
                  frozenset(f for f in (row["features"] or "").split() if f in FEATURES))


class _LevelCache:
    """Every level by id, and the default one, read again after ``CACHE_SECONDS``."""

    def __init__(self) -> None:
        self.loaded_at = float("-inf")
        self.by_id: dict[int, Limits] = {}
        self.default: Limits = BUILT_IN

    def clear(self) -> None:
        self.loaded_at = float("-inf")

    async def get(self) -> _LevelCache:
        if time.monotonic() - self.loaded_at > CACHE_SECONDS:
            rows = await ServiceLevel.select()
            self.by_id = {r["id"]: _limits(r) for r in rows}
            self.default = next((self.by_id[r["id"]] for r in rows if r["is_default"]), BUILT_IN)
            self.loaded_at = time.monotonic()
        return self


_cache = _LevelCache()


async def limits_for_mailbox(mailbox: dict) -> Limits:
    """The limits of a mailbox row (it needs ``level`` and ``quota_bytes``)."""
    levels = await _cache.get()
    found = levels.by_id.get(mailbox.get("level")) if mailbox.get("level") else None
    limits = found or levels.default
    if limits.level_id is None:
        # No level at all: the mailbox's own quota still counts.
        return Limits(None, "", mailbox.get("quota_bytes") or BUILT_IN.quota_bytes, BUILT_IN.max_message_bytes,
                      BUILT_IN.max_recipients, BUILT_IN.features)
    return limits


async def default_quota() -> int:
    return (await _cache.get()).default.quota_bytes


def room_for(mailbox: dict, size: int) -> bool:
    """Whether ``size`` more bytes fit in the mailbox's quota."""
    return mailbox["used_bytes"] + size <= mailbox["quota_bytes"]


# Administration --------------------------------------------------------------------------


class LevelError(ValueError):
    """Bad input: ``errors`` maps a form field to a message a person understands."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class LevelForm:
    name: str
    quota_mb: str
    max_message_mb: str
    max_recipients: str
    features: tuple[str, ...]
    is_default: bool = False


def _whole_number(raw: str, low: int, high: int) -> int | None:
    raw = (raw or "").strip()
    if not raw.isdigit() or len(raw) > 9:
        return None
    number = int(raw)
    return number if low <= number <= high else None


def validate(form: LevelForm, server_max_message_bytes: int) -> dict:
    """The level's columns from the form; raises LevelError with a message per field."""
    errors: dict[str, str] = {}
    name = " ".join((form.name or "").split())
    if not name or len(name) > 100:
        errors["name"] = _("Enter a name of at most 100 characters.")
    quota = _whole_number(form.quota_mb, 1, MAX_QUOTA_MB)
    if quota is None:
        errors["quota_mb"] = _("Enter the quota as a whole number of MB from 1 to %(max)s.", max=MAX_QUOTA_MB)
    largest = max(1, server_max_message_bytes // MB)
    size = _whole_number(form.max_message_mb, 1, largest)
    if size is None:
        errors["max_message_mb"] = _("Enter a whole number of MB from 1 to %(max)s (the server's limit).", max=largest)
    recipients = _whole_number(form.max_recipients, 1, MAX_RECIPIENTS_LIMIT)
    if recipients is None:
        errors["max_recipients"] = _("Enter a whole number from 1 to %(max)s.", max=MAX_RECIPIENTS_LIMIT)
    unknown = [f for f in form.features if f not in FEATURES]
    if unknown:
        errors["features"] = _("Choose features from the list.")
    if errors:
        raise LevelError(errors)
    return {"name": name, "quota_bytes": quota * MB, "max_message_bytes": size * MB, "max_recipients": recipients,
            "features": " ".join(f for f in FEATURES if f in form.features)}


async def list_levels() -> list[dict]:
    """Every level with how many mailboxes it has (the default also counts those with none)."""
    from piccolo.query.functions.aggregate import Count

    levels = await ServiceLevel.select().order_by(ServiceLevel.name)
    counts = {r["level"]: r["n"] for r in await Mailbox.select(Mailbox.level, Count(Mailbox.id, alias="n")).group_by(Mailbox.level)}
    for level in levels:
        level["members"] = counts.get(level["id"], 0) + (counts.get(None, 0) if level["is_default"] else 0)
        level["feature_list"] = [f for f in (level["features"] or "").split() if f in FEATURES]
    return levels


async def get_level(level_id: int) -> dict | None:
    return await ServiceLevel.select().where(ServiceLevel.id == level_id).first()


async def _name_taken(name: str, except_id: int | None = None) -> bool:
    rows = await ServiceLevel.select(ServiceLevel.id, ServiceLevel.name)
    return any(r["name"].lower() == name.lower() and r["id"] != except_id for r in rows)


async def _sync_quotas(level_id: int) -> None:
    """Copy the level's quota onto its mailboxes (and onto those without a level, for the default)."""
    level = await ServiceLevel.select().where(ServiceLevel.id == level_id).first()
    if level is None:
        return
    await Mailbox.update({Mailbox.quota_bytes: level["quota_bytes"]}).where(Mailbox.level == level_id)
    if level["is_default"]:
        await Mailbox.update({Mailbox.quota_bytes: level["quota_bytes"]}).where(Mailbox.level.is_null())


async def _make_default(level_id: int) -> None:
    await ServiceLevel.update({ServiceLevel.is_default: False}).where(ServiceLevel.id != level_id)
    await ServiceLevel.update({ServiceLevel.is_default: True}).where(ServiceLevel.id == level_id)


async def create_level(portal, actor, form: LevelForm, ip: str = "") -> int:
    values = validate(form, _server_limit(portal))
    async with write_transaction():
        if await _name_taken(values["name"]):
            raise LevelError({"name": _("A level with this name exists already.")})
        rows = await ServiceLevel.insert(ServiceLevel(**values, is_default=False)).returning(ServiceLevel.id)
        level_id = rows[0]["id"]
        if form.is_default:
            await _make_default(level_id)
        await _sync_quotas(level_id)
        await portal.audit("webmail.level.create", actor=actor, target_type="webmail_level", target_id=level_id,
                           summary=values["name"], ip=ip, details=values)
    _cache.clear()
    return level_id


async def update_level(portal, actor, level_id: int, form: LevelForm, ip: str = "") -> None:
    values = validate(form, _server_limit(portal))
    async with write_transaction():
        level = await get_level(level_id)
        if level is None:
            raise LevelError({"name": _("This level does not exist any more.")})
        if await _name_taken(values["name"], except_id=level_id):
            raise LevelError({"name": _("A level with this name exists already.")})
        await ServiceLevel.update(values).where(ServiceLevel.id == level_id)
        if form.is_default:
            await _make_default(level_id)
        await _sync_quotas(level_id)
        await portal.audit("webmail.level.update", actor=actor, target_type="webmail_level", target_id=level_id,
                           summary=values["name"], ip=ip, details=values)
    _cache.clear()


async def delete_level(portal, actor, level_id: int, ip: str = "") -> None:
    """Delete a level that is not the default; its users move to the default level."""
    async with write_transaction():
        level = await get_level(level_id)
        if level is None:
            return
        if level["is_default"]:
            raise LevelError({"level": _("The default level cannot be deleted: make another level the default first.")})
        await Mailbox.update({Mailbox.level: None}).where(Mailbox.level == level_id)
        await ServiceLevel.delete().where(ServiceLevel.id == level_id)
        default = await ServiceLevel.select(ServiceLevel.id).where(ServiceLevel.is_default == True).first()  # noqa: E712
        if default is not None:
            await _sync_quotas(default["id"])
        await portal.audit("webmail.level.delete", actor=actor, target_type="webmail_level", target_id=level_id,
                           summary=level["name"], ip=ip)
    _cache.clear()


MAX_ASSIGN = 5000


async def users_to_assign(usernames: list[str], unit_id: int | None, department_id: int | None) -> tuple[list[int], list[str]]:
    """The ids of the named active users and of everyone in the unit or department; and the
    usernames that matched nobody."""
    wanted = [u.strip().lower() for u in usernames if u.strip()][:MAX_ASSIGN]
    ids: list[int] = []
    unknown: list[str] = []
    if wanted:
        rows = await User.select(User.id, User.username).where(User.username.is_in(wanted))
        found = {r["username"].lower(): r["id"] for r in rows}
        ids += [found[u] for u in wanted if u in found]
        unknown = [u for u in wanted if u not in found]
    if unit_id is not None:
        ids += [r["id"] for r in await User.select(User.id).where(User.unit == unit_id).limit(MAX_ASSIGN)]
    if department_id is not None:
        ids += [r["id"] for r in await User.select(User.id).where(User.department == department_id).limit(MAX_ASSIGN)]
    return sorted(set(ids)), unknown


async def assign(portal, actor, level_id: int, user_ids: list[int], ip: str = "") -> int:
    """Put the users' mailboxes (created if need be) on the level; returns how many."""
    from plugins.webmail.services import ensure_mailbox

    if not user_ids:
        return 0
    for user_id in user_ids:
        await ensure_mailbox(user_id)
    async with write_transaction():
        level = await get_level(level_id)
        if level is None:
            raise LevelError({"level": _("This level does not exist any more.")})
        await Mailbox.update({Mailbox.level: level_id, Mailbox.quota_bytes: level["quota_bytes"]}).where(
            Mailbox.owner.is_in(user_ids))
        await portal.audit("webmail.level.assign", actor=actor, target_type="webmail_level", target_id=level_id,
                           summary=f"{level['name']}: {len(user_ids)}", ip=ip, details={"users": user_ids[:200]})
    return len(user_ids)


async def members(level: dict, limit: int = 200) -> list[dict]:
    """Users on the level (for the default also those without a level), by username."""
    condition = Mailbox.level == level["id"]
    if level["is_default"]:
        condition = condition | Mailbox.level.is_null()
    return await (Mailbox.select(Mailbox.address, Mailbox.used_bytes, Mailbox.owner.username.as_alias("username"),
                                 Mailbox.owner.display_name.as_alias("display_name"))
                  .where(condition).order_by(Mailbox.owner.username).limit(limit))


def _server_limit(portal) -> int:
    from plugins.webmail.sending import max_message_bytes

    return max_message_bytes(portal)
