"""Brute-force protection (MAIL-16): the administrator's rule, the list of locks, unlocking."""

import html
import re
from datetime import datetime, timedelta, timezone

import pytest

from portal.audit.tables import AuditEntry
from portal.auth import lockout
from portal.auth.tables import LockoutPolicy, LoginAttempt, LoginLock
from portal.testing import login_as, post_form


@pytest.fixture
async def admin(client, make_user):
    user = await make_user("root", roles=["admin", "staff"])
    client.headers["accept-language"] = "en"
    await login_as(client, user)
    return user


async def fail_logins(app, username: str, times: int) -> None:
    """Wrong passwords from another browser on the same address (the admin's session stays as it is)."""
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app, base_url="http://127.0.0.1") as other:
        other.follow_redirects = False
        for _ in range(times):
            await post_form(other, "/login", {"username": username, "password": "wrong-password"})


async def try_login(app, user) -> int:
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app, base_url="http://127.0.0.1") as other:
        other.follow_redirects = False
        response = await post_form(other, "/login", {"username": user.username, "password": user.password})
        return response.status_code


def notice(page_html: str) -> str:
    return html.unescape(re.search(r'role="status">([^<]+)<', page_html).group(1))


def field_error(page_html: str, name: str) -> str:
    return html.unescape(re.search(rf'class="field-error" id="{name}-error">([^<]+)<', page_html).group(1))


def lock_rows(page_html: str) -> dict[str, str]:
    """Row id -> its text, of the table of locks."""
    table = re.search(r'<table id="locks">(.*?)</table>', page_html, re.S).group(1)
    return {m.group(1): re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(2))).strip()
            for m in re.finditer(r'<tr id="(lock-[0-9]+)">(.*?)</tr>', table, re.S)}


# The rule ------------------------------------------------------------------------------------


async def test_the_settings_apply_until_an_administrator_saves_a_rule(app, client, admin):
    settings = app.state.portal.settings
    assert await lockout.lockout_policy(settings) == lockout.Policy(5, 15, 15)
    page = await client.get("/admin/lockout")
    assert page.status_code == 200
    assert "The configuration&#39;s defaults apply" in page.text or "The configuration's defaults apply" in page.text
    assert 'id="threshold" name="threshold" type="number" min="1" max="100" step="1" required value="5"' in page.text

    response = await post_form(client, "/admin/lockout", {"threshold": "3", "window_minutes": "10", "lock_minutes": "60"})
    assert response.status_code == 303
    assert await lockout.lockout_policy(settings) == lockout.Policy(3, 10, 60, stored=True)
    page = await client.get("/admin/lockout")
    assert notice(page.text) == "The lockout rule was saved. It applies to failed logins from now on."
    assert 'required value="3"' in page.text and 'required value="60"' in page.text
    entry = await AuditEntry.select().where(AuditEntry.action == "core.lockout.policy").first()
    assert entry["actor_name"] == "root" and entry["summary"] == "3 / 10 min / 60 min"

    # Saving again replaces the rule; there is one.
    await post_form(client, "/admin/lockout", {"threshold": "4", "window_minutes": "10", "lock_minutes": "60"})
    assert await LockoutPolicy.count() == 1
    assert (await lockout.lockout_policy(settings)).threshold == 4


async def test_the_administrators_rule_decides_when_and_how_long_to_lock(app, client, admin, make_user):
    victim = await make_user("victim")
    await post_form(client, "/admin/lockout", {"threshold": "3", "window_minutes": "10", "lock_minutes": "60"})
    await fail_logins(app, "victim", 2)
    assert await try_login(app, victim) == 303  # two failures: not locked yet
    await fail_logins(app, "victim", 1)
    assert await try_login(app, victim) == 429
    lock = await LoginLock.select().where(LoginLock.kind == "username").first()
    assert lock["value"] == "victim" and lock["failures"] == 3
    assert abs(lock["until"] - lock["created_at"] - timedelta(minutes=60)) < timedelta(seconds=1)

    # The lock lasts its hour even when its failures have left the ten-minute window.
    for row in await LoginAttempt.select(LoginAttempt.id, LoginAttempt.created_at):
        await LoginAttempt.update({LoginAttempt.created_at: row["created_at"] - timedelta(minutes=30)}).where(
            LoginAttempt.id == row["id"])
    assert (await lockout.lock_state("victim", "")).locked


@pytest.mark.parametrize("values, bad", [
    ({"threshold": "", "window_minutes": "15", "lock_minutes": "15"}, ["threshold"]),
    ({"threshold": "0", "window_minutes": "0", "lock_minutes": "15"}, ["threshold", "window_minutes"]),
    ({"threshold": "101", "window_minutes": "1441", "lock_minutes": "10081"}, ["threshold", "window_minutes", "lock_minutes"]),
    ({"threshold": "-1", "window_minutes": "1.5", "lock_minutes": "abc"}, ["threshold", "window_minutes", "lock_minutes"]),
    ({"threshold": "５", "window_minutes": "٣", "lock_minutes": "9" * 400}, ["threshold", "window_minutes", "lock_minutes"]),
])
async def test_a_bad_rule_is_refused_with_a_message_per_field(app, client, admin, values, bad):
    response = await post_form(client, "/admin/lockout", values)
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    for name in bad:
        low, high = lockout.LIMITS[name]
        assert field_error(response.text, name) == f"Enter a whole number from {low} to {high}."
        assert f'id="{name}"' in response.text and 'aria-invalid="true"' in response.text
    for name in set(lockout.LIMITS) - set(bad):
        assert f'id="{name}-error"' not in response.text
    assert f'value="{html.escape(values["threshold"])[:100]}' in response.text  # what was typed stays
    assert await LockoutPolicy.count() == 0
    assert await AuditEntry.count().where(AuditEntry.action == "core.lockout.policy") == 0


# Locks and unlocking -------------------------------------------------------------------------


async def test_locks_are_listed_and_the_administrator_unlocks_them(app, client, admin, make_user):
    victim = await make_user("victim")
    await fail_logins(app, "victim", 5)
    await try_login(app, victim)  # refused while locked: counted apart
    ip = (await LoginAttempt.select(LoginAttempt.ip).first())["ip"]

    page = await client.get("/admin/lockout")
    rows = lock_rows(page.text)
    assert len(rows) == 2
    username_lock = await LoginLock.select().where(LoginLock.kind == "username").first()
    ip_lock = await LoginLock.select().where(LoginLock.kind == "ip").first()
    until = username_lock["until"].astimezone().strftime("%Y-%m-%d %H:%M")
    assert rows[f"lock-{username_lock['id']}"].startswith(f"Username victim 5 1 ")
    assert until in rows[f"lock-{username_lock['id']}"]
    assert rows[f"lock-{ip_lock['id']}"].startswith(f"IP address {ip} 5 1 ")
    assert f'action="/admin/lockout/{username_lock["id"]}/unlock"' in page.text

    response = await post_form(client, f"/admin/lockout/{username_lock['id']}/unlock")
    assert response.status_code == 303
    assert notice((await client.get("/admin/lockout")).text) == "Username victim is unlocked."
    assert await try_login(app, victim) == 429  # the address is still locked
    await post_form(client, f"/admin/lockout/{ip_lock['id']}/unlock")
    assert await try_login(app, victim) == 303
    assert lock_rows((await client.get("/admin/lockout")).text) == {}
    assert "Nothing is locked now." in (await client.get("/admin/lockout")).text

    entries = await AuditEntry.select().where(AuditEntry.action == "core.lockout.unlock").order_by(AuditEntry.id)
    assert [(e["actor_name"], e["summary"]) for e in entries] == [("root", "username victim"), ("root", f"ip {ip}")]

    # The failures before the unlock are forgiven: one more does not lock again.
    await fail_logins(app, "victim", 1)
    assert await try_login(app, victim) == 303


async def test_unlocking_an_ended_or_unknown_lock(app, client, admin, make_user):
    await make_user("victim")
    await fail_logins(app, "victim", 5)
    lock = await LoginLock.select().where(LoginLock.kind == "username").first()
    await LoginLock.update({LoginLock.until: datetime.now(timezone.utc) - timedelta(minutes=1)}).where(LoginLock.id == lock["id"])
    response = await post_form(client, f"/admin/lockout/{lock['id']}/unlock")
    assert response.status_code == 303
    assert notice((await client.get("/admin/lockout")).text) == "The lock of Username victim had already ended."
    assert await AuditEntry.count().where(AuditEntry.action == "core.lockout.unlock") == 0
    for lock_id in ("999999", "99999999999999999999", "0"):
        assert (await post_form(client, f"/admin/lockout/{lock_id}/unlock")).status_code == 404


async def test_after_a_lock_ends_its_failures_do_not_count_again(app, make_user):
    user = await make_user("victim")
    await fail_logins(app, "victim", 5)
    await LoginLock.update({LoginLock.until: datetime.now(timezone.utc) - timedelta(seconds=1)}).where(LoginLock.id > 0)
    assert await try_login(app, user) == 303
    await fail_logins(app, "victim", 4)
    assert await try_login(app, user) == 303
    assert await LoginLock.count() == 2


async def test_only_administrators_see_and_change_the_lockout(app, client, make_user):
    clerk = await make_user("clerk", roles=["staff"])
    await make_user("victim")
    await login_as(client, clerk)
    await fail_logins(app, "victim", 5)
    lock = await LoginLock.select().first()
    assert (await client.get("/admin/lockout")).status_code == 403
    response = await post_form(client, "/admin/lockout", {"threshold": "100", "window_minutes": "1", "lock_minutes": "1"})
    assert response.status_code == 403
    assert (await post_form(client, f"/admin/lockout/{lock['id']}/unlock")).status_code == 403
    assert (await client.get("/admin")).status_code == 403
    assert await LockoutPolicy.count() == 0
    assert await LoginLock.count().where(LoginLock.unlocked_at.is_null()) == 2
    assert await AuditEntry.count().where(AuditEntry.action.like("core.lockout%")) == 0


async def test_anonymous_visitors_and_forms_without_csrf_token_change_nothing(app, client, admin, make_user):
    await make_user("victim")
    await fail_logins(app, "victim", 5)
    lock = await LoginLock.select().first()
    assert (await client.post("/admin/lockout", data={"threshold": "9", "window_minutes": "9", "lock_minutes": "9"})).status_code == 403
    assert (await client.post(f"/admin/lockout/{lock['id']}/unlock")).status_code == 403
    await post_form(client, "/logout")
    assert (await client.get("/admin/lockout")).status_code == 303  # to the login page
    assert (await post_form(client, f"/admin/lockout/{lock['id']}/unlock")).status_code == 401
    assert await LockoutPolicy.count() == 0
    assert await LoginLock.count().where(LoginLock.unlocked_at.is_null()) == 2


async def test_the_lockout_page_is_linked_from_the_administration(client, admin):
    page = await client.get("/admin")
    assert 'href="/admin/lockout"' in page.text


async def test_unlocking_ends_every_running_lock_of_that_username(app, client, admin, make_user):
    """Two failures at the same instant may both reach the threshold and make two locks."""
    user = await make_user("victim")
    until = datetime.now(timezone.utc) + timedelta(minutes=15)
    await LoginLock.insert(LoginLock(kind="username", value="victim", failures=5, until=until),
                           LoginLock(kind="username", value="victim", failures=5, until=until))
    first = await LoginLock.select().first()
    await post_form(client, f"/admin/lockout/{first['id']}/unlock")
    assert not (await lockout.lock_state("victim", "")).locked
    assert await try_login(app, user) == 303


async def test_an_overlong_username_is_locked_as_it_is_recorded(app):
    long_name = "guess" + "x" * 200
    await fail_logins(app, long_name, 5)
    lock = await LoginLock.select().where(LoginLock.kind == "username").first()
    assert lock["value"] == long_name[:64]
    assert (await lockout.lock_state(long_name, "")).locked
