"""Rate limits per address and per account on login, sending mail and search, and on anonymous
requests (MAIL-17): the one who overdoes it gets a 429 page with Retry-After, everybody else
works on. Counted in memory, and in Redis when PORTAL_TEST_REDIS_URL is set.

Addresses are told apart as behind a trusted proxy: the test client's peer ("testclient") is
trusted, so its X-Forwarded-For is believed, exactly as the lockout believes it.
"""

from __future__ import annotations

import os
import re
import uuid

import httpx
import pytest
from litestar.testing import AsyncTestClient

from plugins.webmail.tables import Message, Outgoing
from portal.accounts.services import UnitForm, create_unit
from portal.testing import login_as, post_form
from portal.web import RATE_LIMITED_ACTIONS

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL")
DOMAIN = "huanghe.gov.example"
ALL_OFF = {f"rate_limit_{action}_{per}": "off" for action in RATE_LIMITED_ACTIONS for per in ("ip", "account")}


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.skipif(
    not REDIS_URL, reason="set PORTAL_TEST_REDIS_URL to count in Redis (CI does)"))])
def counter_store(request) -> dict:
    """Settings for the counters' store; a fresh secret key is a fresh Redis namespace."""
    if request.param == "redis":
        return {"redis_url": REDIS_URL, "secret_key": f"rate-limit-test-{uuid.uuid4().hex}"}
    return {}


@pytest.fixture
def limited_app(make_app, counter_store):
    """An application with only the limits given on (others off), behind a trusted proxy."""

    def factory(**limits):
        settings = {**ALL_OFF, "rate_limit_anonymous_ip": "off", **limits}
        return make_app(trusted_proxies=("testclient",), **counter_store, **settings)

    return factory


class Browser:
    """One person's browser: cookies and address of its own, over the application's one test
    client (one event loop, as in a server process: a Redis client belongs to one loop)."""

    def __init__(self, client: AsyncTestClient, headers: dict[str, str]):
        self.client = client
        self.headers = headers
        self.cookies = httpx.Cookies()

    async def request(self, method: str, url: str, *, headers: dict | None = None, **kwargs) -> httpx.Response:
        self.client.cookies = self.cookies
        try:
            return await self.client.request(method, url, headers={**self.headers, **(headers or {})}, **kwargs)
        finally:
            self.cookies = httpx.Cookies(self.client.cookies)

    async def get(self, url: str, **kwargs) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs) -> httpx.Response:
        return await self.request("POST", url, **kwargs)


class Browsers:
    """``await browsers(address, **headers)``: a new browser on the application at that address."""

    def __init__(self, app):
        self.client = AsyncTestClient(app, base_url="http://127.0.0.1")
        self.client.follow_redirects = False
        self.opened = False

    async def __call__(self, address: str, **headers) -> Browser:
        if not self.opened:
            await self.client.__aenter__()
            self.opened = True
        return Browser(self.client, {"x-forwarded-for": address, **headers})

    async def close(self) -> None:
        if self.opened:
            await self.client.__aexit__(None, None, None)


@pytest.fixture
async def browsers():
    made: list[Browsers] = []

    def factory(app) -> Browsers:
        made.append(Browsers(app))
        return made[-1]

    yield factory
    for each in reversed(made):
        await each.close()


def assert_limited(response, locale: str = "zh_CN") -> int:
    """A 429 page that says how long to wait, and the Retry-After header saying the same."""
    assert response.status_code == 429, response.text
    seconds = int(response.headers["retry-after"])
    assert 1 <= seconds <= 60
    if locale == "en":
        assert re.search(rf"Please wait {seconds} seconds and try again", response.text)
    else:
        assert f"请等待 {seconds} 秒后再试" in response.text
    assert 'role="alert"' in response.text
    return seconds


async def wrong_password(browser, username: str = "nobody"):
    return await post_form(browser, "/login", {"username": username, "password": "wrong-password"})


async def test_login_attempts_are_limited_per_address(limited_app, browsers, make_user):
    app = limited_app(rate_limit_login_ip="3/minute")
    open_browser = browsers(app)
    mallory = await open_browser("203.0.113.5")
    for _ in range(3):
        assert (await wrong_password(mallory)).status_code == 401
    assert_limited(await wrong_password(mallory))
    # Even the right password waits: the limit counts attempts, not failures.
    user = await make_user("erika")
    assert_limited(await post_form(mallory, "/login", {"username": "erika", "password": user.password}))
    english = await open_browser("203.0.113.5", **{"accept-language": "en"})
    assert_limited(await wrong_password(english), "en")

    colleague = await open_browser("198.51.100.7")  # another address logs in as always
    await login_as(colleague, user)
    assert (await colleague.get("/")).status_code == 200


async def test_x_forwarded_for_is_not_believed_from_an_untrusted_peer(make_app, counter_store):
    app = make_app(**counter_store, **{**ALL_OFF, "rate_limit_login_ip": "2/minute"})  # no trusted proxy
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as client:
        client.follow_redirects = False
        for n in range(2):
            client.headers["x-forwarded-for"] = f"192.0.2.{n}"
            assert (await wrong_password(client)).status_code == 401
        client.headers["x-forwarded-for"] = "192.0.2.99"
        assert_limited(await wrong_password(client))  # a new forged address changes nothing


async def test_second_factor_steps_are_limited_per_account(limited_app, browsers, make_user):
    app = limited_app(rate_limit_login_account="2/minute")
    open_browser = browsers(app)
    victim, other = await make_user("vera"), await make_user("otto")
    attacker = await open_browser("203.0.113.9")
    assert (await post_form(attacker, "/login", {"username": "vera", "password": victim.password})).status_code == 303
    for _ in range(2):
        assert (await post_form(attacker, "/login/verify", {"code": "000000"})).status_code == 401
    assert_limited(await post_form(attacker, "/login/verify", {"code": victim.totp_code()}))
    # The limit follows the account, from any address...
    elsewhere = await open_browser("198.51.100.20")
    assert (await post_form(elsewhere, "/login", {"username": "vera", "password": victim.password})).status_code == 303
    assert_limited(await post_form(elsewhere, "/login/verify", {"code": victim.totp_code()}))
    # ...and no other account is touched, on the same address.
    same_address = await open_browser("203.0.113.9")
    await login_as(same_address, other)
    assert (await same_address.get("/")).status_code == 200


@pytest.fixture
async def colleagues(limited_app, make_user, browsers):
    """An application with the limits given, the browsers on it, and three colleagues of one county."""

    async def factory(**limits):
        app = limited_app(**limits)  # built first: the database the accounts go into is its own
        unit = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, DOMAIN, "黄河办"))
        people = [await make_user(name, unit_id=unit) for name in ("alice", "bob", "carol")]
        return browsers(app), people

    return factory


async def send(browser, to, subject: str, action: str = "send"):
    return await post_form(browser, "/webmail/compose", {"to": f"{to.username}@{DOMAIN}", "subject": subject,
                                                         "body": "正文", "action": action})


async def test_sending_is_limited_per_account(colleagues):
    open_browser, (alice, bob, carol) = await colleagues(rate_limit_send_account="2/minute")
    alice_browser, bob_browser = await open_browser("10.0.0.1"), await open_browser("10.0.0.1")
    await login_as(alice_browser, alice)
    await login_as(bob_browser, bob)
    for n in range(2):
        assert (await send(alice_browser, carol, f"第{n}封")).status_code == 303
    limited = await send(alice_browser, carol, "第三封")
    assert_limited(limited)
    assert await Outgoing.count() == 2
    assert await Message.count().where(Message.subject == "第三封") == 0
    # Saving a draft is not sending; a colleague on the same address sends as always.
    assert (await send(alice_browser, carol, "草稿", action="draft")).status_code == 303
    assert (await send(bob_browser, carol, "鲍勃的信")).status_code == 303


async def test_sending_is_limited_per_address(colleagues):
    open_browser, (alice, bob, carol) = await colleagues(rate_limit_send_ip="2/minute")
    alice_browser, bob_browser = await open_browser("10.0.0.1"), await open_browser("10.0.0.1")
    carol_browser = await open_browser("10.0.0.2")
    for browser, person in ((alice_browser, alice), (bob_browser, bob), (carol_browser, carol)):
        await login_as(browser, person)
    assert (await send(alice_browser, carol, "一")).status_code == 303
    assert (await send(bob_browser, carol, "二")).status_code == 303
    assert_limited(await send(bob_browser, carol, "三"))
    assert (await send(carol_browser, alice, "四")).status_code == 303  # another address


@pytest.mark.parametrize("limit", ["rate_limit_search_account", "rate_limit_search_ip"])
async def test_searching_is_limited_but_not_the_plain_list(colleagues, limit):
    open_browser, (alice, bob, _carol) = await colleagues(**{limit: "2/minute"})
    alice_browser = await open_browser("10.0.0.1")
    bob_browser = await open_browser("10.0.0.1" if limit.endswith("account") else "10.0.0.2")
    await login_as(alice_browser, alice)
    await login_as(bob_browser, bob)
    for word in ("会议", "通知"):
        assert (await alice_browser.get("/webmail", params={"q": word})).status_code == 200
    assert_limited(await alice_browser.get("/webmail", params={"q": "预算"}))
    fragment = await alice_browser.get("/webmail", params={"q": "预算"}, headers={"hx-request": "true"})
    assert fragment.status_code == 429 and "<html" not in fragment.text and 'role="alert"' in fragment.text
    assert (await alice_browser.get("/webmail")).status_code == 200  # no search text: not a search
    assert (await alice_browser.get("/webmail", params={"q": " "})).status_code == 200
    assert (await bob_browser.get("/webmail", params={"q": "会议"})).status_code == 200


async def test_an_anonymous_flood_is_limited_while_logged_in_users_work_on(limited_app, browsers, make_user):
    app = limited_app(rate_limit_anonymous_ip="6/minute")
    open_browser = browsers(app)
    worker = await open_browser("10.0.0.1")
    await login_as(worker, await make_user("wendy"))  # three anonymous requests: GET /login and two POSTs
    flooder = await open_browser("10.0.0.1")  # the same address
    statuses = [(await flooder.get("/login")).status_code for _ in range(6)]
    assert statuses == [200, 200, 200, 429, 429, 429]
    limited = await flooder.get("/login", headers={"accept": "application/json"})
    assert limited.status_code == 429 and limited.json()["status"] == 429 and limited.headers["retry-after"].isdigit()
    stylesheet = re.search(r'href="(/static/core/css/portal\.[0-9a-f]{10}\.css)"', (await worker.get("/")).text).group(1)
    assert (await flooder.get(stylesheet)).status_code == 200  # static files are not counted
    for path in ("/", "/account", "/webmail"):
        assert (await worker.get(path)).status_code == 200, path


@pytest.mark.skipif(not REDIS_URL, reason="set PORTAL_TEST_REDIS_URL to count in Redis (CI does)")
async def test_processes_sharing_redis_count_together(make_app, browsers):
    """Two applications (two server processes) of one deployment share their counters."""
    shared = {**ALL_OFF, "redis_url": REDIS_URL, "secret_key": f"rate-limit-test-{uuid.uuid4().hex}",
              "trusted_proxies": ("testclient",), "rate_limit_login_ip": "3/minute"}
    first, second = browsers(make_app(**shared)), browsers(make_app(**shared))
    one, two = await first("203.0.113.77"), await second("203.0.113.77")
    assert (await wrong_password(one)).status_code == 401
    assert (await wrong_password(two)).status_code == 401
    assert (await wrong_password(one)).status_code == 401
    assert_limited(await wrong_password(two))
    other_deployment = await browsers(make_app(**{**shared, "secret_key": f"other-{uuid.uuid4().hex}"}))("203.0.113.77")
    assert (await wrong_password(other_deployment)).status_code == 401


@pytest.mark.parametrize("value", ["20", "20/fortnight", "many/minute", "-1/minute"])
def test_a_wrong_limit_setting_stops_the_start_up(make_app, value):
    with pytest.raises(ValueError, match=re.escape(f"setting rate_limit_send_ip: {value!r} is not a rate limit")):
        make_app(rate_limit_send_ip=value)


def test_the_settings_read_limits_from_the_environment():
    from portal.settings import Settings

    settings = Settings.from_env({"PORTAL_RATE_LIMIT_LOGIN_IP": "100/hour", "PORTAL_RATE_LIMIT_SEARCH_ACCOUNT": "off"})
    assert settings.rate_limit_login_ip == "100/hour" and settings.rate_limit_search_account == "off"


@pytest.mark.parametrize(("address", "key"), [
    ("203.0.113.5", "203.0.113.5"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.5", "203.0.113.5"),
    ("unknown", "unknown"),
])
def test_an_ipv6_address_counts_for_its_64_network(address, key):
    from types import SimpleNamespace

    from portal.web import ratelimit

    request = SimpleNamespace(client=SimpleNamespace(host=address), headers={},
                              app=SimpleNamespace(state=SimpleNamespace(portal=SimpleNamespace(settings=SimpleNamespace(trusted_proxies=())))))
    assert ratelimit.address_key(request) == key
