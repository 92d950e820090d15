"""Brute-force protection (MAIL-16): too many failures within a window lock the username and the address.

The rule (threshold, window, lock time) is the administrator's (``core_lockout_policy``), else the
settings ``lockout_*``. A lock is a row of ``core_login_lock``, made when a failure reaches the
threshold, so that administrators can list the locks and end one early. Failures made before a
lock (or before its end by an administrator) never count towards the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from portal.accounts.services import ValidationError
from portal.api import CurrentUser
from portal.audit.services import write_audit
from portal.auth.tables import LockoutPolicy, LoginAttempt, LoginLock
from portal.db import write_transaction
from portal.i18n import gettext as _
from portal.settings import Settings

FAILURES = ("bad_password", "bad_code", "unknown_user")
# What an administrator may choose: at least one failure and one minute; at most 100 failures,
# a window of a day and a lock of a week.
LIMITS = {"threshold": (1, 100), "window_minutes": (1, 24 * 60), "lock_minutes": (1, 7 * 24 * 60)}


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Policy:
    threshold: int
    window_minutes: int
    lock_minutes: int
    # True when an administrator chose it, False when it comes from the settings.
    stored: bool = False


@dataclass(frozen=True)
class LockState:
    locked: bool
    until: datetime | None = None


def default_policy(settings: Settings) -> Policy:
    return Policy(settings.lockout_threshold, settings.lockout_window_minutes, settings.lockout_minutes)


async def lockout_policy(settings: Settings) -> Policy:
    row = await LockoutPolicy.select().order_by(LockoutPolicy.id, ascending=False).first()
    if row is None:
        return default_policy(settings)
    return Policy(row["threshold"], row["window_minutes"], row["lock_minutes"], stored=True)


def parse_policy(values: dict[str, str]) -> Policy:
    """The rule from a form; raises ValidationError naming each bad field."""
    numbers: dict[str, int] = {}
    errors: dict[str, str] = {}
    for name, (low, high) in LIMITS.items():
        raw = values.get(name, "").strip()
        if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
            errors[name] = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
        else:
            numbers[name] = int(raw)
    if errors:
        raise ValidationError(errors)
    return Policy(**numbers, stored=True)


async def save_policy(actor: CurrentUser, settings: Settings, policy: Policy, ip: str = "") -> None:
    """Store the administrator's rule (it applies to failures from now on) and audit the change."""
    before = await lockout_policy(settings)
    async with write_transaction():
        await LockoutPolicy.delete(force=True)
        await LockoutPolicy.insert(LockoutPolicy(threshold=policy.threshold, window_minutes=policy.window_minutes,
                                                 lock_minutes=policy.lock_minutes))
        await write_audit(
            "core.lockout.policy", actor=actor, target_type="lockout", summary=(
                f"{policy.threshold} / {policy.window_minutes} min / {policy.lock_minutes} min"),
            ip=ip, details={"before": [before.threshold, before.window_minutes, before.lock_minutes],
                            "after": [policy.threshold, policy.window_minutes, policy.lock_minutes]},
        )


def _targets(username: str, ip: str) -> list[tuple[str, str]]:
    """What a failure counts against, as ``record_attempt`` stores it (lower case, at most 64 characters)."""
    return [(kind, value) for kind, value in (("username", username.strip().lower()[:64]), ("ip", ip[:45])) if value]


async def lock_state(username: str, ip: str) -> LockState:
    """Locked while a lock of the username or of the address runs and no administrator ended it."""
    condition = None
    for kind, value in _targets(username, ip):
        match = (LoginLock.kind == kind) & (LoginLock.value == value)
        condition = match if condition is None else condition | match
    if condition is None:
        return LockState(False)
    row = await LoginLock.select(LoginLock.until).where(
        condition, LoginLock.until > now(), LoginLock.unlocked_at.is_null()
    ).order_by(LoginLock.until, ascending=False).first()
    return LockState(True, row["until"]) if row else LockState(False)


async def lock_if_due(settings: Settings, username: str, ip: str) -> None:
    """After a failure: lock the username and the address that reached the threshold."""
    policy = await lockout_policy(settings)
    moment = now()
    for kind, value in _targets(username, ip):
        since = moment - timedelta(minutes=policy.window_minutes)
        last = await LoginLock.select(LoginLock.created_at, LoginLock.unlocked_at).where(
            (LoginLock.kind == kind) & (LoginLock.value == value)
        ).order_by(LoginLock.created_at, ascending=False).first()
        if last:
            since = max(since, last["created_at"], last["unlocked_at"] or since)
        column = LoginAttempt.username if kind == "username" else LoginAttempt.ip
        failures = await LoginAttempt.count().where(
            column == value, LoginAttempt.created_at > since, LoginAttempt.result.is_in(list(FAILURES))
        )
        if failures >= policy.threshold:
            await LoginLock.insert(LoginLock(kind=kind, value=value, failures=failures, created_at=moment,
                                             until=moment + timedelta(minutes=policy.lock_minutes)))


async def active_locks() -> list[dict]:
    """Locks running now, the latest end first, with the attempts refused while locked."""
    rows = await LoginLock.select().where(
        LoginLock.until > now(), LoginLock.unlocked_at.is_null()
    ).order_by(LoginLock.until, ascending=False)
    for row in rows:
        column = LoginAttempt.username if row["kind"] == "username" else LoginAttempt.ip
        row["refused"] = await LoginAttempt.count().where(
            column == row["value"], LoginAttempt.created_at >= row["created_at"], LoginAttempt.result == "locked"
        )
    return rows


async def unlock(actor: CurrentUser, lock_id: int, ip: str = "") -> dict | None:
    """End a lock early and audit it. The lock's row, with ``ended`` True when it had ended already;
    None when there is no such lock."""
    async with write_transaction():
        row = await LoginLock.select().where(LoginLock.id == lock_id).first()
        if row is None:
            return None
        row["ended"] = row["until"] <= now() or row["unlocked_at"] is not None
        if row["ended"]:
            return row
        # Every running lock of that username or address: two failures at the same instant may have made two.
        await LoginLock.update({LoginLock.unlocked_at: now()}).where(
            (LoginLock.kind == row["kind"]) & (LoginLock.value == row["value"]) & (LoginLock.until > now())
            & LoginLock.unlocked_at.is_null()
        )
        await write_audit("core.lockout.unlock", actor=actor, target_type="lockout", target_id=lock_id,
                          summary=f"{row['kind']} {row['value']}", ip=ip,
                          details={"kind": row["kind"], "value": row["value"], "until": row["until"].isoformat()})
    return row
