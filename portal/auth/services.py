"""Login rules as plain async functions: lockout, password and TOTP checks, sessions.

Handlers call these; tests call them without HTTP.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from portal.accounts.services import ROLES_JOIN, USER_WITH_ROLES, current_user_from
from portal.accounts.tables import User
from portal.api import CurrentUser
from portal.auth import passwords, totp
from portal.auth.lockout import LockState, lock_if_due, lock_state
from portal.auth.tables import LoginAttempt, RecoveryCode, UserSession
from portal.db import write_transaction
from portal.roles import PermissionRegistry
from portal.settings import Settings

SESSION_TOUCH_INTERVAL = timedelta(minutes=5)


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Client:
    ip: str
    user_agent: str


async def record_attempt(username: str, client: Client, result: str, user_id: int | None = None, reason: str = "") -> None:
    """One row per attempt, located in the IP library (MAIL-20); ``reason`` of a refusal (MAIL-13)."""
    from portal.auth.geo import locate

    await LoginAttempt.insert(
        LoginAttempt(
            username=username.lower()[:64],
            user=user_id,
            ip=client.ip,
            user_agent=client.user_agent[:300],
            result=result,
            reason=reason,
            place=(await locate(client.ip))[:100],
        )
    )


async def record_failure(settings: Settings, username: str, client: Client, result: str, user_id: int | None = None) -> None:
    """A failed attempt, which may lock the username and the address (MAIL-16)."""
    await record_attempt(username, client, result, user_id)
    await lock_if_due(settings, username, client.ip)


@dataclass(frozen=True)
class PasswordCheck:
    result: str
    user_id: int | None = None
    has_second_factor: bool = False
    lock: LockState | None = None


async def check_password(settings: Settings, username: str, password: str, client: Client) -> PasswordCheck:
    """First factor. Records the attempt; refuses while the username or address is locked."""
    username = username.strip().lower()
    lock = await lock_state(username, client.ip)
    if lock.locked:
        await record_attempt(username, client, "locked")
        return PasswordCheck("locked", lock=lock)
    user = await User.objects().get(User.username == username)
    # argon2 takes tens of milliseconds of CPU: off the event loop, so other requests go on.
    if not await asyncio.to_thread(passwords.verify_password, user.password_hash if user else None, password):
        result = "bad_password" if user else "unknown_user"
        await record_failure(settings, username, client, result, user.id if user else None)
        return PasswordCheck(result, lock=await lock_state(username, client.ip))
    if not user.active:
        await record_attempt(username, client, "inactive", user.id)
        return PasswordCheck("inactive", user.id)
    if passwords.needs_rehash(user.password_hash):
        await User.update({User.password_hash: passwords.hash_password(password)}).where(User.id == user.id)
    return PasswordCheck("ok", user.id, has_second_factor=bool(user.totp_secret))


async def check_totp(settings: Settings, user_id: int, code: str, client: Client) -> str:
    """Second factor: 'ok', 'bad_code' or 'locked'. A code whose time step was used before is refused."""
    async with write_transaction():
        user = await User.objects().get(User.id == user_id)
        lock = await lock_state(user.username, client.ip)
        if lock.locked:
            result = "locked"
        else:
            step = totp.matching_step(user.totp_secret or "", code)
            if step is None or step <= user.totp_last_step:
                result = "bad_code"
            else:
                await User.update({User.totp_last_step: step}).where(User.id == user_id)
                result = "ok"
        if result == "bad_code":
            await record_failure(settings, user.username, client, result, user_id)
        elif result != "ok":
            await record_attempt(user.username, client, result, user_id)
    return result


async def check_recovery_code(settings: Settings, user_id: int, code: str, client: Client) -> str:
    """Second factor by a one-time recovery code: 'ok', 'bad_code' or 'locked'."""
    async with write_transaction():
        user = await User.objects().get(User.id == user_id)
        if (await lock_state(user.username, client.ip)).locked:
            result = "locked"
        else:
            row = await RecoveryCode.objects().get(
                (RecoveryCode.user == user_id)
                & (RecoveryCode.code_hash == totp.hash_recovery_code(code))
                & RecoveryCode.used_at.is_null()
            )
            if row is None:
                result = "bad_code"
            else:
                await RecoveryCode.update({RecoveryCode.used_at: now()}).where(RecoveryCode.id == row.id)
                result = "ok"
        if result == "bad_code":
            await record_failure(settings, user.username, client, result, user_id)
        elif result != "ok":
            await record_attempt(user.username, client, result, user_id)
    return result


async def remaining_recovery_codes(user_id: int) -> int:
    return await RecoveryCode.count().where((RecoveryCode.user == user_id) & RecoveryCode.used_at.is_null())


async def enrol_totp(settings: Settings, user_id: int, secret: str, code: str, client: Client | None = None) -> list[str] | None:
    """Store the second factor once the user proved it with a code; return new recovery codes.

    A wrong code counts as a failed attempt towards the lockout, like any other."""
    step = totp.matching_step(secret, code)
    if step is None:
        if client is not None:
            row = await User.select(User.username).where(User.id == user_id).first()
            await record_failure(settings, row["username"], client, "bad_code", user_id)
        return None
    codes = totp.new_recovery_codes()
    async with write_transaction():
        await User.update({User.totp_secret: secret, User.totp_last_step: step}).where(User.id == user_id)
        await RecoveryCode.delete().where(RecoveryCode.user == user_id)
        await RecoveryCode.insert(*[RecoveryCode(user=user_id, code_hash=totp.hash_recovery_code(c)) for c in codes])
    return codes


async def start_session(user_id: int, client: Client) -> str:
    token = secrets.token_urlsafe(32)
    await UserSession.insert(
        UserSession(token=token, user=user_id, ip=client.ip, user_agent=client.user_agent[:300])
    )
    await User.update({User.last_login_at: now()}).where(User.id == user_id)
    username = await User.select(User.username).where(User.id == user_id).first()
    await record_attempt(username["username"], client, "ok", user_id)
    return token


async def session_user(token: str, registry: PermissionRegistry) -> CurrentUser | None:
    """The active user of a live session, with his roles, in one query (it runs on every
    request); touches the session's last-seen time now and then."""
    rows = await UserSession.raw(
        f"SELECT s.id AS session_id, s.last_seen_at, {USER_WITH_ROLES} FROM core_user_session s "
        f'JOIN core_user u ON u.id = s."user" {ROLES_JOIN} WHERE s.token = {{}} AND u.active', token)
    if rows and now() - rows[0]["last_seen_at"] > SESSION_TOUCH_INTERVAL:
        await UserSession.update({UserSession.last_seen_at: now()}).where(UserSession.id == rows[0]["session_id"])
    return current_user_from(rows, registry)


async def end_session(token: str) -> None:
    await UserSession.delete().where(UserSession.token == token)


async def end_user_session(user_id: int, session_id: int) -> bool:
    """End one of the user's own sessions; False when it is not his."""
    found = await UserSession.exists().where((UserSession.id == session_id) & (UserSession.user == user_id))
    if found:
        await UserSession.delete().where((UserSession.id == session_id) & (UserSession.user == user_id))
    return found


async def end_other_sessions(user_id: int, keep_token: str) -> None:
    await UserSession.delete().where((UserSession.user == user_id) & (UserSession.token != keep_token))


async def list_sessions(user_id: int) -> list[dict]:
    return (
        await UserSession.select()
        .where(UserSession.user == user_id)
        .order_by(UserSession.last_seen_at, ascending=False)
    )


async def login_records(user_id: int, limit: int = 100) -> list[dict]:
    return (
        await LoginAttempt.select()
        .where(LoginAttempt.user == user_id)
        .order_by(LoginAttempt.created_at, ascending=False)
        .limit(limit)
    )


class PasswordChangeError(ValueError):
    pass


async def change_password(settings: Settings, user_id: int, current: str, new: str, confirm: str) -> None:
    from portal.i18n import gettext as _

    user = await User.objects().get(User.id == user_id)
    if not await asyncio.to_thread(passwords.verify_password, user.password_hash, current):
        raise PasswordChangeError(_("The current password is wrong."))
    validate_new_password(settings, new, confirm, user.username)
    await User.update({User.password_hash: passwords.hash_password(new)}).where(User.id == user_id)


def validate_new_password(settings: Settings, new: str, confirm: str, username: str) -> None:
    from portal.i18n import gettext as _

    if new != confirm:
        raise PasswordChangeError(_("The two new passwords differ."))
    if len(new) < settings.password_min_length:
        raise PasswordChangeError(
            _("The password must have at least %(n)s characters.", n=settings.password_min_length)
        )
    if len(new) > 256:
        raise PasswordChangeError(_("The password is too long."))
    if new.lower() == username.lower():
        raise PasswordChangeError(_("The password must not be the username."))
