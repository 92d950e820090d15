"""The web shell: CSRF, security headers, request limits, static files, sessions, preferences."""

import re
import time

import pytest

from portal.accounts.tables import User
from portal.auth.tables import UserSession
from portal.testing import csrf_token, login_as, post_form


async def test_form_without_csrf_token_is_refused(client, make_user):
    user = await make_user("mallory")
    await client.get("/login")
    response = await client.post("/login", data={"username": "mallory", "password": user.password})
    assert response.status_code == 403
    assert "form" in response.text.lower() or "表单" in response.text
    assert await UserSession.count() == 0


async def test_form_with_a_wrong_csrf_token_is_refused(client, make_user):
    user = await make_user("oscar")
    await client.get("/login")
    response = await client.post("/login", data={"username": "oscar", "password": user.password, "_csrf_token": "0" * 64})
    assert response.status_code == 403


async def test_htmx_request_carries_the_token_in_a_header(client, make_user):
    user = await make_user("peggy")
    await login_as(client, user)
    response = await client.post("/account/sessions/end-others", headers={"x-csrftoken": csrf_token(client), "hx-request": "true"})
    assert response.status_code == 303


async def test_pages_carry_a_strict_content_security_policy(client):
    response = await client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in response.text and " style=" not in response.text


async def test_session_cookie_is_httponly_and_samesite(client, make_user):
    user = await make_user("trent")
    response = await post_form(client, "/login", {"username": "trent", "password": user.password})
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("portal_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


async def test_oversized_request_body_is_refused_with_413(client):
    await client.get("/login")
    response = await client.post("/login", data={"username": "x", "password": "y" * (3 * 1024 * 1024), "_csrf_token": csrf_token(client)})
    assert response.status_code == 413
    assert "超过了此处允许的 2 MB" in response.text  # says the limit (MAIL-17)


async def test_static_files_are_fingerprinted_and_cached_for_long(client):
    page = await client.get("/login")
    url = re.search(r'href="(/static/core/css/portal\.[0-9a-f]{10}\.css)"', page.text).group(1)
    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "immutable" in response.headers["cache-control"]
    stale = url.replace(url.split(".")[-2], "0000000000")
    assert (await client.get(stale)).status_code == 404


async def test_static_path_traversal_is_refused(client):
    for path in ["/static/core/..%2F..%2Fsettings.abcdef0123.py", "/static/core/../app.0123456789.py", "/static/nope/x.0123456789.css"]:
        assert (await client.get(path)).status_code == 404


async def test_htmx_is_vendored_with_its_licence(client):
    page = await client.get("/login")
    url = re.search(r'src="(/static/core/vendor/htmx\.min\.[0-9a-f]{10}\.js)"', page.text).group(1)
    response = await client.get(url)
    assert response.status_code == 200 and "htmx" in response.text[:2000]
    assert "javascript" in response.headers["content-type"]


async def test_user_sees_and_ends_his_other_sessions(app, client, make_user):
    from litestar.testing import AsyncTestClient

    victor = await make_user("victor")
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as other_browser:
        other_browser.follow_redirects = False
        await login_as(client, victor)
        await login_as(other_browser, victor)
        page = await client.get("/account/sessions")
        assert page.text.count("<tr>") == 3  # the header and two sessions
        fragment = await client.get("/account/sessions", headers={"hx-request": "true"})
        assert fragment.text.lstrip().startswith('<div id="sessions">') and "<html" not in fragment.text
        await post_form(client, "/account/sessions/end-others")
        assert (await other_browser.get("/")).status_code == 303
        assert (await client.get("/")).status_code == 200


async def test_user_cannot_end_someone_elses_session(client, make_user):
    alice, bob = await make_user("alice2"), await make_user("bob2")
    await login_as(client, alice)
    await UserSession.insert(UserSession(token="bob-token", user=bob.id, ip="10.0.0.1"))
    bob_session = await UserSession.select(UserSession.id).where(UserSession.token == "bob-token").first()
    await post_form(client, f"/account/sessions/{bob_session['id']}/end")
    assert await UserSession.exists().where(UserSession.token == "bob-token")


async def test_change_password(client, make_user):
    user = await make_user("walter")
    await login_as(client, user)
    wrong = await post_form(client, "/account/password", {"current": "nope", "new": "new-password-456", "confirm": "new-password-456"})
    assert wrong.status_code == 400
    short = await post_form(client, "/account/password", {"current": user.password, "new": "short", "confirm": "short"})
    assert short.status_code == 400
    done = await post_form(client, "/account/password", {"current": user.password, "new": "new-password-456", "confirm": "new-password-456"})
    assert done.status_code == 303
    await post_form(client, "/logout")
    old = await post_form(client, "/login", {"username": "walter", "password": user.password})
    assert old.status_code == 401
    new = await post_form(client, "/login", {"username": "walter", "password": "new-password-456"})
    assert new.status_code == 303


async def test_user_sees_his_login_records(client, make_user):
    user = await make_user("xena")
    await post_form(client, "/login", {"username": "xena", "password": "wrong-password"})
    await login_as(client, user)
    page = await client.get("/account/logins", headers={"user-agent": "RecordsTest/1.0"})
    assert page.status_code == 200
    assert page.text.count('class="result-ok"') == 1
    assert page.text.count('class="result-bad_password"') == 1


async def test_theme_and_language_are_kept_on_the_account(client, make_user):
    user = await make_user("yves")
    await login_as(client, user)
    await post_form(client, "/preferences", {"locale": "en", "theme": "large", "next": "/account"})
    row = await User.select(User.locale, User.theme).where(User.id == user.id).first()
    assert row == {"locale": "en", "theme": "large"}
    page = await client.get("/account")
    assert '<html lang="en">' in page.text
    assert "/static/theme-large/core/css/portal." in page.text


async def test_unknown_theme_or_locale_is_ignored(client):
    await post_form(client, "/preferences", {"locale": "xx", "theme": "../../etc", "next": "/login"})
    page = await client.get("/login")
    assert '<html lang="zh-CN">' in page.text and "theme-default" in page.text


async def test_kiosk_theme_extends_the_core_template(client):
    await post_form(client, "/preferences", {"theme": "kiosk"})
    page = await client.get("/login")
    assert "/static/theme-kiosk/kiosk." in page.text
    assert "/static/core/css/portal." in page.text


async def test_health_reports_the_database(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"]["database"]["ok"] is True


async def test_unknown_page_is_a_friendly_404(client):
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert "<h1>" in response.text


async def test_pages_need_login(client):
    for path in ["/", "/account", "/account/sessions", "/webmail/", "/edoc/"]:
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


async def test_static_files_set_no_cookies(make_app):
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(make_app(), base_url="http://127.0.0.1") as fresh:
        page = await fresh.get("/login")
        url = re.search(r'href="(/static/core/favicon\.[0-9a-f]{10}\.svg)"', page.text).group(1)
        fresh.cookies.clear()
        response = await fresh.get(url)
    assert response.status_code == 200 and "set-cookie" not in response.headers


async def test_every_request_reads_the_session_its_user_and_his_roles_afresh(client, make_user):
    """The session, the account and its roles are one query per request (CORE-3, issue B speed):
    a withdrawn role, a deactivated account or an ended session stop working at the next request."""
    from datetime import timedelta

    from portal.accounts.tables import RoleAssignment
    from portal.auth.services import now

    wendy = await make_user("wendy", roles=["staff", "admin"])
    await login_as(client, wendy)
    assert (await client.get("/admin")).status_code == 200 and (await client.get("/webmail")).status_code == 200
    await RoleAssignment.delete().where((RoleAssignment.user == wendy.id) & (RoleAssignment.role == "admin"))
    assert (await client.get("/admin")).status_code == 403
    assert (await client.get("/webmail")).status_code == 200  # the other role still counts
    await RoleAssignment.delete().where(RoleAssignment.user == wendy.id)
    assert (await client.get("/account")).status_code == 200  # logged in without any role

    long_ago = now() - timedelta(minutes=30)
    await UserSession.update({UserSession.last_seen_at: long_ago}).where(UserSession.user == wendy.id)
    assert (await client.get("/account")).status_code == 200
    seen = (await UserSession.select(UserSession.last_seen_at).where(UserSession.user == wendy.id).first())["last_seen_at"]
    assert seen > long_ago + timedelta(minutes=25)  # touched

    await User.update({User.active: False}).where(User.id == wendy.id)
    assert (await client.get("/account")).status_code == 303  # to the login page
    await User.update({User.active: True}).where(User.id == wendy.id)
    assert (await client.get("/account")).status_code == 200
    await UserSession.delete().where(UserSession.user == wendy.id)
    assert (await client.get("/account")).status_code == 303


async def test_a_session_is_written_back_when_it_changes_or_to_renew_it(app, client, make_user):
    """Requests that leave the session alone neither rewrite it nor set its cookie (issue B
    speed), yet it is renewed every few minutes of use, and a change (preferences, logging out)
    is stored at once."""
    from portal.web.sessions import RENEW_AFTER, stamp, unstamp

    def session_cookie(response) -> bool:
        return any(k == "set-cookie" and v.startswith("portal_session=") for k, v in response.headers.multi_items())

    store = app.stores.get("sessions")
    max_age = 12 * 3600
    await login_as(client, await make_user("zoe"))
    session_id = client.cookies["portal_session"]
    stored = await store.get(session_id)
    written, data = unstamp(stored)
    assert abs(written - time.time()) < 60 and data.startswith(b"{")
    response = await client.get("/account")
    assert response.status_code == 200 and not session_cookie(response)
    assert await store.get(session_id) == stored

    aged = stamp(data, written - RENEW_AFTER - 1)  # written too long ago: renewed at the next request
    await store.set(session_id, aged, expires_in=max_age - RENEW_AFTER - 1)
    response = await client.get("/account")
    assert response.status_code == 200 and session_cookie(response)
    rewritten, same = unstamp(await store.get(session_id))
    assert abs(rewritten - time.time()) < 60 and same == data
    assert await store.expires_in(session_id) > max_age - 60

    await store.set(session_id, data, expires_in=max_age)  # stored before sessions had a stamp
    response = await client.get("/account")
    assert response.status_code == 200 and session_cookie(response) and unstamp(await store.get(session_id))[0] > 0

    await post_form(client, "/preferences", {"locale": "en", "next": "/account"})
    assert b'"locale":"en"' in await store.get(session_id)
    assert b'"token"' in await store.get(session_id)
    await post_form(client, "/logout")
    assert b'"token"' not in (await store.get(session_id) or b"")  # only the preferences are kept
    assert (await client.get("/account")).status_code == 303


@pytest.mark.parametrize("path", ["/", "/webmail", "/admin/statistics", "/admin/account-health"])
async def test_a_theme_stylesheet_stays_on_pages_that_add_their_own(client, make_user, path):
    """Templates that fill the head block keep the theme's (``super()``): the kiosk theme on every page."""
    await login_as(client, await make_user("kiosk", roles=["admin", "staff"]))
    await post_form(client, "/preferences", {"theme": "kiosk"})
    page = await client.get(path)
    assert page.status_code == 200 and "/static/theme-kiosk/kiosk." in page.text


@pytest.mark.parametrize(
    ("path", "marked"),
    [
        ("/disclosure", "/disclosure"),
        ("/disclosure/units/3", "/disclosure"),
        ("/disclosure/requests/manage", "/disclosure/requests/manage"),
        ("/disclosure/requests/manage/report", "/disclosure/requests/manage"),
        ("/edocs", None),
        ("/", None),
    ],
)
def test_the_menu_marks_only_the_entry_a_page_belongs_to(path, marked):
    from portal.api import MenuItem
    from portal.web import current_menu_url

    items = [MenuItem("Disclosure", "/disclosure"), MenuItem("Requests", "/disclosure/requests/manage"), MenuItem("Documents", "/edoc")]
    assert current_menu_url(items, path) == marked


async def test_an_anonymous_visit_stores_no_session(client, app):
    """A visitor who never used the session (login page, public pages) costs no session file
    and gets no session cookie; the first change to it stores it as before."""
    store = app.state.portal.settings.data_dir / "sessions"
    before = set(store.iterdir())
    for path in ["/login", "/disclosure", "/no-such-page"]:
        response = await client.get(path)
        assert "portal_session=" not in response.headers.get("set-cookie", ""), path
    assert set(store.iterdir()) == before
    await post_form(client, "/preferences", {"locale": "en", "next": "/login"})
    assert "portal_session" in client.cookies and set(store.iterdir()) != before


async def test_a_visitors_theme_is_kept_in_a_cookie_not_a_session(client, app):
    """Large type (PUB-4) chosen by a visitor outlives his session: a year-long cookie."""
    await client.get("/disclosure")
    response = await post_form(client, "/preferences", {"theme": "large", "next": "/disclosure"})
    assert response.status_code == 303 and response.headers["location"] == "/disclosure"
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("portal_theme="))
    assert cookie.startswith("portal_theme=large;") and "HttpOnly" in cookie and "Max-Age=31536000" in cookie
    assert "portal_session" not in client.cookies
    page = await client.get("/disclosure")
    assert "theme-large" in page.text and "/static/theme-large/core/css/portal." in page.text
    assert 'name="theme" value="default"' in page.text  # the switch now leads back
    client.cookies.clear()
    client.cookies.set("portal_theme", "../../etc")
    assert "theme-default" in (await client.get("/disclosure")).text
