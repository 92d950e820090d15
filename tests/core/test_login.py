"""Login with password and TOTP, enrolment, recovery codes, replay and lockout (CORE-3, MAIL-16)."""

import re

import pyotp

from portal.auth.tables import LoginAttempt, UserSession
from portal.testing import login_as, post_form


async def test_login_with_password_and_totp_reaches_dashboard(client, make_user):
    user = await make_user("alice")
    response = await post_form(client, "/login", {"username": "alice", "password": user.password})
    assert response.status_code == 303
    assert response.headers["location"] == "/login/verify"
    response = await post_form(client, "/login/verify", {"code": user.totp_code()})
    assert response.status_code == 303
    home = await client.get("/")
    assert home.status_code == 200
    assert "Alice" in home.text


async def test_wrong_password_is_refused_and_recorded(client, make_user):
    await make_user("bob")
    response = await post_form(client, "/login", {"username": "bob", "password": "wrong password"})
    assert response.status_code == 401
    assert 'role="alert"' in response.text
    attempts = await LoginAttempt.select().where(LoginAttempt.username == "bob")
    assert [a["result"] for a in attempts] == ["bad_password"]
    assert (await client.get("/")).status_code == 303


async def test_unknown_user_gets_the_same_message_as_a_wrong_password(client, make_user):
    await make_user("carol")
    wrong_password = await post_form(client, "/login", {"username": "carol", "password": "nope-nope-nope"})
    unknown = await post_form(client, "/login", {"username": "nobody", "password": "nope-nope-nope"})
    assert unknown.status_code == wrong_password.status_code == 401
    message = re.search(r'role="alert"[^>]*>([^<]+)<', unknown.text).group(1)
    assert message in wrong_password.text


async def test_used_totp_code_cannot_be_replayed(client, make_user):
    user = await make_user("dave")
    code = user.totp_code()
    await post_form(client, "/login", {"username": "dave", "password": user.password})
    assert (await post_form(client, "/login/verify", {"code": code})).status_code == 303
    await post_form(client, "/logout")
    await post_form(client, "/login", {"username": "dave", "password": user.password})
    replay = await post_form(client, "/login/verify", {"code": code})
    assert replay.status_code == 401
    assert (await client.get("/")).status_code == 303


async def test_second_step_needs_the_first(client, make_user):
    user = await make_user("erin")
    response = await post_form(client, "/login/verify", {"code": user.totp_code()})
    assert response.status_code == 401
    assert (await client.get("/")).status_code == 303


async def test_lockout_after_too_many_failures_even_with_right_password(client, make_user):
    user = await make_user("frank")
    for _ in range(5):
        await post_form(client, "/login", {"username": "frank", "password": "wrong-password"})
    response = await post_form(client, "/login", {"username": "frank", "password": user.password})
    assert response.status_code == 429
    assert (await client.get("/")).status_code == 303


async def test_lockout_by_address_covers_other_usernames(client, make_user):
    user = await make_user("grace")
    for n in range(5):
        await post_form(client, "/login", {"username": f"guess{n}", "password": "wrong-password"})
    response = await post_form(client, "/login", {"username": "grace", "password": user.password})
    assert response.status_code == 429


async def test_enrolment_shows_qr_then_ten_recovery_codes_once(client, make_user):
    user = await make_user("heidi", enrolled=False)
    response = await post_form(client, "/login", {"username": "heidi", "password": user.password})
    assert response.headers["location"] == "/login/enrol"
    page = await client.get("/login/enrol")
    assert "<svg" in page.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    bad = await post_form(client, "/login/enrol", {"code": "000000"})
    assert bad.status_code == 400
    done = await post_form(client, "/login/enrol", {"code": pyotp.TOTP(secret).now()})
    assert done.headers["location"] == "/account/recovery-codes"
    codes_page = await client.get("/account/recovery-codes")
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", codes_page.text)
    assert len(codes) == 10
    again = await client.get("/account/recovery-codes")
    assert again.status_code == 303


async def test_recovery_code_works_once(client, make_user):
    user = await make_user("ivan", enrolled=False)
    await post_form(client, "/login", {"username": "ivan", "password": user.password})
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', (await client.get("/login/enrol")).text).group(1)
    await post_form(client, "/login/enrol", {"code": pyotp.TOTP(secret).now()})
    code = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", (await client.get("/account/recovery-codes")).text)[0]
    await post_form(client, "/logout")
    await post_form(client, "/login", {"username": "ivan", "password": user.password})
    assert (await post_form(client, "/login/recovery", {"code": code})).status_code == 303
    assert (await client.get("/")).status_code == 200
    await post_form(client, "/logout")
    await post_form(client, "/login", {"username": "ivan", "password": user.password})
    assert (await post_form(client, "/login/recovery", {"code": code})).status_code == 401


async def test_logout_ends_the_session(client, make_user):
    user = await make_user("judy")
    await login_as(client, user)
    assert await UserSession.count().where(UserSession.user == user.id) == 1
    await post_form(client, "/logout")
    assert await UserSession.count().where(UserSession.user == user.id) == 0
    assert (await client.get("/")).status_code == 303


async def test_next_parameter_only_redirects_within_the_site(client, make_user):
    user = await make_user("ken")
    await post_form(client, "/login", {"username": "ken", "password": user.password, "next": "//evil.example/x"})
    response = await post_form(client, "/login/verify", {"code": user.totp_code()})
    assert response.headers["location"] == "/"


async def test_wrong_enrolment_codes_count_towards_the_lockout(client, make_user):
    user = await make_user("lena", enrolled=False)
    await post_form(client, "/login", {"username": "lena", "password": user.password})
    await client.get("/login/enrol")
    for _ in range(5):
        assert (await post_form(client, "/login/enrol", {"code": "000000"})).status_code == 400
    assert (await post_form(client, "/login/enrol", {"code": "000000"})).status_code == 429
    attempts = await LoginAttempt.select().where((LoginAttempt.username == "lena") & (LoginAttempt.result == "bad_code"))
    assert len(attempts) == 5
