"""Login restrictions by network, terminal and time, for users and groups of users (MAIL-13),
and their administration pages (CSRF, audit, administrators only, validation)."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from portal.accounts.services import ValidationError, assign_role, create_department, create_unit, UnitForm
from portal.audit.tables import AuditEntry
from portal.auth import restrictions
from portal.auth.restrictions import Rule, RuleForm, classify_terminal
from portal.auth.security_tables import LoginRule
from portal.auth.lockout import lock_state
from portal.auth.tables import LoginAttempt
from portal.i18n import set_locale
from portal.testing import login_as, post_form

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHROME_DESKTOP = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/126.0.0.0 Safari/537.36")
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/17.5 Safari/605.1.15")
CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/126.0.0.0 Mobile Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.5 Mobile/15E148 Safari/604.1")
WECHAT_ANDROID = ("Mozilla/5.0 (Linux; Android 13; V2148A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0 "
                  "Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47")
HARMONY = "Mozilla/5.0 (Phone; OpenHarmony 4.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0 Safari/537.36 ArkWeb/4.1"
MAIL_CLIENT = "GovMailClient/3.2 (Windows NT 10.0)"


def shanghai(year, month, day, hour, minute=0, second=0) -> datetime:
    """A Beijing time as the aware UTC datetime a server holds."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI).astimezone(timezone.utc)


@pytest.fixture(autouse=True)
def english(request):
    """Messages and pages in English, so the tests read them as written in the code."""
    set_locale("en")
    if "client" in request.fixturenames:
        request.getfixturevalue("client").headers["accept-language"] = "en"
    yield
    set_locale("zh_CN")


# Terminal types ------------------------------------------------------------------------------


@pytest.mark.parametrize("agent, expected", [
    (CHROME_DESKTOP, "desktop"), (FIREFOX_LINUX, "desktop"), (SAFARI_MAC, "desktop"),
    (CHROME_ANDROID, "mobile"), (SAFARI_IPHONE, "mobile"), (WECHAT_ANDROID, "mobile"), (HARMONY, "mobile"),
    ("Mozilla/5.0 (iPad; CPU OS 12_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "mobile"),
    (MAIL_CLIENT, "other"), ("curl/8.5.0", "other"), ("", "other"),
])
def test_terminal_type_from_the_user_agent(agent, expected):
    assert classify_terminal(agent) == expected


def test_a_named_client_is_a_configured_user_agent_substring_whatever_else_it_says():
    assert classify_terminal(MAIL_CLIENT, ["GovMailClient"]) == "client"
    assert classify_terminal(MAIL_CLIENT.lower(), ["GovMailClient"]) == "client"
    assert classify_terminal(CHROME_ANDROID + " GovMailClient/1.0", ["GovMailClient"]) == "client"
    assert classify_terminal(MAIL_CLIENT, ["OtherClient"]) == "other"
    assert classify_terminal(CHROME_DESKTOP, ["GovMailClient"]) == "desktop"


# One rule, checked without the database ------------------------------------------------------

NOON_WEDNESDAY = shanghai(2026, 11, 25, 12)  # a Wednesday


def office_network() -> tuple:
    return (ipaddress.ip_network("10.20.0.0/16"), ipaddress.ip_network("2001:db8:20::/48"))


@pytest.mark.parametrize("ip, allowed", [
    ("10.20.0.1", True), ("10.20.255.254", True), ("10.21.0.1", False), ("192.168.1.10", False),
    ("2001:db8:20::1", True), ("2001:db8:20:ffff::9", True), ("2001:db8:21::1", False),
    ("::ffff:10.20.3.4", True), ("::ffff:10.21.3.4", False), ("unknown", False), ("", False),
])
def test_network_rule_ipv4_ipv6_and_mapped_addresses(ip, allowed):
    refusal = Rule(networks=office_network()).refusal(ip, CHROME_DESKTOP, NOON_WEDNESDAY)
    assert (refusal is None) == allowed
    if not allowed:
        assert refusal.code == "network"
        assert refusal.message == "Login is not allowed from your network address."


def test_terminal_rule_names_the_refused_terminal():
    rule = Rule(terminals=frozenset({"desktop"}))
    assert rule.refusal("10.0.0.1", CHROME_DESKTOP, NOON_WEDNESDAY) is None
    refusal = rule.refusal("10.0.0.1", SAFARI_IPHONE, NOON_WEDNESDAY)
    assert (refusal.code, refusal.message) == ("terminal", "Login is not allowed from mobile browsers.")
    assert rule.refusal("10.0.0.1", "curl/8.5.0", NOON_WEDNESDAY).message == \
        "Login is not allowed from this kind of device or program."
    clients = Rule(terminals=frozenset({"client", "mobile"}), client_names=("GovMailClient",))
    assert clients.refusal("10.0.0.1", MAIL_CLIENT, NOON_WEDNESDAY) is None
    assert clients.refusal("10.0.0.1", CHROME_ANDROID, NOON_WEDNESDAY) is None
    assert clients.refusal("10.0.0.1", CHROME_DESKTOP, NOON_WEDNESDAY).message == "Login is not allowed from desktop browsers."


WORKING_HOURS = Rule(weekdays=frozenset({1, 2, 3, 4, 5}), start_minute=8 * 60, end_minute=18 * 60)


@pytest.mark.parametrize("at, allowed", [
    (shanghai(2026, 11, 25, 7, 59, 59), False),
    (shanghai(2026, 11, 25, 8, 0, 0), True),
    (shanghai(2026, 11, 25, 17, 59, 59), True),
    (shanghai(2026, 11, 25, 18, 0, 0), False),
    (shanghai(2026, 11, 27, 17, 59), True),  # Friday
    (shanghai(2026, 11, 28, 10, 0), False),  # Saturday
    (shanghai(2026, 11, 23, 8, 0), True),  # Monday
    (shanghai(2026, 11, 22, 12, 0), False),  # Sunday
])
def test_time_window_boundaries_in_beijing_time(at, allowed):
    assert WORKING_HOURS.allows_time(at) == allowed
    refusal = WORKING_HOURS.refusal("10.0.0.1", CHROME_DESKTOP, at)
    assert (refusal is None) == allowed
    if not allowed:
        assert refusal.message == "Login is not allowed at this time: allowed Mon–Fri 08:00–18:00 (Beijing time)."


def test_time_window_uses_beijing_time_not_the_servers():
    # 01:30 UTC on a Monday is 09:30 in Beijing: inside the window, though UTC says 01:30.
    monday_morning_utc = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)
    assert WORKING_HOURS.allows_time(monday_morning_utc)
    # 23:00 UTC on a Friday is 07:00 on Saturday in Beijing: outside.
    assert not WORKING_HOURS.allows_time(datetime(2026, 11, 27, 23, 0, tzinfo=timezone.utc))


def test_window_descriptions():
    assert restrictions.describe_days({1, 2, 3, 4, 5}) == "Mon–Fri"
    assert restrictions.describe_days({1, 3, 5}) == "Mon, Wed, Fri"
    assert restrictions.describe_days({1, 2, 6}) == "Mon, Tue, Sat"
    assert restrictions.describe_days({1, 2, 3, 7}) == "Mon–Wed, Sun"
    assert restrictions.describe_days(set()) == restrictions.describe_days(set(range(1, 8))) == "every day"
    assert restrictions.describe_window(Rule(weekdays=frozenset({6, 7}))) == "Sat, Sun"
    assert restrictions.describe_window(Rule(start_minute=22 * 60)) == "every day 22:00–24:00"


def test_combined_rule_reports_the_first_condition_that_fails():
    rule = Rule(networks=office_network(), terminals=frozenset({"desktop"}), weekdays=WORKING_HOURS.weekdays,
                start_minute=WORKING_HOURS.start_minute, end_minute=WORKING_HOURS.end_minute)
    assert rule.refusal("10.20.1.1", CHROME_DESKTOP, NOON_WEDNESDAY) is None
    assert rule.refusal("8.8.8.8", SAFARI_IPHONE, shanghai(2026, 11, 28, 3)).code == "network"
    assert rule.refusal("10.20.1.1", SAFARI_IPHONE, shanghai(2026, 11, 28, 3)).code == "terminal"
    assert rule.refusal("10.20.1.1", CHROME_DESKTOP, shanghai(2026, 11, 28, 3)).code == "time"


# Validation ----------------------------------------------------------------------------------


async def _errors(form: RuleForm) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        await restrictions.validate_rule(form)
    return raised.value.errors


async def test_validation_names_each_bad_field(client, make_user):
    await make_user("valerie")
    base = dict(name="office", scope="user", username="valerie")
    assert "networks" in await _errors(RuleForm(**base, networks="10.0.0.0/33"))
    host_bits = await _errors(RuleForm(**base, networks="10.1.2.3/16"))
    assert "did you mean 10.1.0.0/16" in host_bits["networks"]
    assert "not a network" in (await _errors(RuleForm(**base, networks="office LAN")))["networks"]
    assert "At most 100" in (await _errors(RuleForm(**base, networks="\n".join(f"10.0.{n}.0/24" for n in range(101)))))["networks"]
    assert "restrict something" in (await _errors(RuleForm(**base)))["networks"]
    assert "username" in await _errors(RuleForm(name="x", scope="user", username="nobody", networks="10.0.0.0/8"))
    assert "scope" in await _errors(RuleForm(name="x", scope="planet", networks="10.0.0.0/8"))
    assert "unit_id" in await _errors(RuleForm(name="x", scope="unit", unit_id=999, networks="10.0.0.0/8"))
    assert "department_id" in await _errors(RuleForm(name="x", scope="department", networks="10.0.0.0/8"))
    assert "role" in await _errors(RuleForm(name="x", scope="role", role="emperor", networks="10.0.0.0/8"))
    assert "name" in await _errors(RuleForm(name=" ", scope="user", username="valerie", networks="10.0.0.0/8"))
    assert "client_names" in await _errors(RuleForm(**base, terminals=["client"]))
    assert "client_names" in await _errors(RuleForm(**base, terminals=["desktop"], client_names="GovMail"))
    assert "terminals" in await _errors(RuleForm(**base, terminals=["toaster"]))
    assert "weekdays" in await _errors(RuleForm(**base, weekdays=["8"]))
    assert "start" in await _errors(RuleForm(**base, start="8 o'clock"))
    assert "end" in await _errors(RuleForm(**base, start="18:00", end="08:00"))
    assert "end" in await _errors(RuleForm(**base, start="08:00", end="08:00"))
    ok = await restrictions.validate_rule(RuleForm(**base, networks="10.0.0.0/8, 2001:db8::/32 10.0.0.0/8\n192.168.1.7",
                                                   terminals=["desktop"], weekdays=["5", "1"], start="08:00", end="24:00"))
    assert ok["networks"] == "10.0.0.0/8\n2001:db8::/32\n192.168.1.7/32"
    assert (ok["weekdays"], ok["start_minute"], ok["end_minute"]) == ("1,5", 480, 1440)


# Logging in ----------------------------------------------------------------------------------


@pytest.fixture
def app(make_app, portal_plugins):
    # The test client's peer is "testclient": trusting it as a proxy lets a test choose the
    # client address with X-Forwarded-For, through the same client_ip() the lockout uses.
    return make_app(plugins=portal_plugins, trusted_proxies=("testclient",))




async def add_rule(**columns) -> int:
    defaults = dict(name="rule", scope="user", networks="", terminals="", client_names="", weekdays="")
    rows = await LoginRule.insert(LoginRule(**{**defaults, **columns})).returning(LoginRule.id)
    return rows[0]["id"]


async def password_step(client, user, ip="10.20.1.1", agent=CHROME_DESKTOP, password=None):
    return await post_form(client, "/login", {"username": user.username, "password": password or user.password},
                           headers={"x-forwarded-for": ip, "user-agent": agent})


def alert_text(response) -> str:
    import re

    return re.search(r'role="alert"[^>]*>([^<]+)<', response.text).group(1)


async def test_refused_by_network_with_the_reason_and_recorded(client, make_user):
    user = await make_user("nora")
    await add_rule(user=user.id, networks="10.20.0.0/16\n2001:db8:20::/48")
    refused = await password_step(client, user, ip="192.0.2.7")
    assert refused.status_code == 403
    assert alert_text(refused) == "Login is not allowed from your network address."
    assert "/login/verify" not in refused.headers.get("location", "")
    record = await LoginAttempt.select().where(LoginAttempt.user == user.id).first()
    assert (record["result"], record["reason"], record["ip"]) == ("restricted", "network", "192.0.2.7")
    assert (await password_step(client, user, ip="10.20.9.9")).headers["location"] == "/login/verify"
    assert (await password_step(client, user, ip="2001:db8:20::5")).headers["location"] == "/login/verify"
    assert (await password_step(client, user, ip="2001:db8:99::5")).status_code == 403


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(make_app, make_user):
    from litestar.testing import AsyncTestClient

    app = make_app(trusted_proxies=())
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as client:
        client.follow_redirects = False
        user = await make_user("ursula")
        await add_rule(user=user.id, networks="10.20.0.0/16")
        # The claimed office address is ignored: the peer ("testclient") is what counts.
        refused = await password_step(client, user, ip="10.20.1.1")
        assert refused.status_code == 403
        assert (await LoginAttempt.select(LoginAttempt.ip).first())["ip"] == "testclient"


async def test_refused_by_terminal(client, make_user):
    user = await make_user("tom")
    await add_rule(user=user.id, terminals="desktop,client", client_names="GovMailClient")
    refused = await password_step(client, user, agent=SAFARI_IPHONE)
    assert refused.status_code == 403
    assert alert_text(refused) == "Login is not allowed from mobile browsers."
    assert (await password_step(client, user, agent=CHROME_DESKTOP)).status_code == 303
    assert (await password_step(client, user, agent=MAIL_CLIENT)).status_code == 303


def days_but_today_and_tomorrow() -> str:
    today = datetime.now(SHANGHAI).isoweekday()
    excluded = {today, today % 7 + 1}
    return ",".join(str(d) for d in range(1, 8) if d not in excluded)


async def test_refused_by_time_says_when_login_is_allowed(client, make_user):
    user = await make_user("tina")
    await add_rule(user=user.id, weekdays=days_but_today_and_tomorrow(), start_minute=8 * 60, end_minute=18 * 60)
    refused = await password_step(client, user)
    assert refused.status_code == 403
    assert alert_text(refused).startswith("Login is not allowed at this time: allowed ")
    assert "08:00–18:00 (Beijing time)." in alert_text(refused)
    record = await LoginAttempt.select().where(LoginAttempt.user == user.id).first()
    assert record["reason"] == "time"


async def test_rules_are_never_revealed_without_the_right_password(client, make_user):
    user = await make_user("walt")
    await add_rule(user=user.id, networks="10.20.0.0/16")
    wrong = await password_step(client, user, ip="192.0.2.7", password="not-the-password")
    assert wrong.status_code == 401
    assert alert_text(wrong) == "Wrong username or password."
    assert [r["result"] for r in await LoginAttempt.select(LoginAttempt.result)] == ["bad_password"]


async def test_a_refused_login_does_not_count_towards_the_lockout(client, make_user, app):
    user = await make_user("ray")
    rule_id = await add_rule(user=user.id, networks="10.20.0.0/16")
    for _ in range(7):
        assert (await password_step(client, user, ip="192.0.2.7")).status_code == 403
    assert not (await lock_state("ray", "192.0.2.7")).locked
    await LoginRule.delete().where(LoginRule.id == rule_id)
    assert (await password_step(client, user, ip="192.0.2.7")).headers["location"] == "/login/verify"


async def test_every_rule_that_applies_must_allow_the_login(client, make_user):
    user = await make_user("carla")
    await add_rule(user=user.id, networks="10.20.0.0/16")
    await add_rule(scope="role", role="staff", terminals="desktop")
    assert (await password_step(client, user, ip="10.20.1.1", agent=CHROME_DESKTOP)).status_code == 303
    assert alert_text(await password_step(client, user, ip="10.20.1.1", agent=CHROME_ANDROID)) == \
        "Login is not allowed from mobile browsers."
    assert alert_text(await password_step(client, user, ip="192.0.2.1", agent=CHROME_DESKTOP)) == \
        "Login is not allowed from your network address."


async def test_disabled_rules_and_rules_of_others_do_not_apply(client, make_user):
    user = await make_user("dora")
    other = await make_user("otto")
    await add_rule(user=other.id, networks="10.20.0.0/16")
    await add_rule(user=user.id, networks="10.20.0.0/16", enabled=False)
    assert (await password_step(client, user, ip="192.0.2.1")).status_code == 303


async def test_group_rules_by_unit_below_it_by_department_and_by_role(client, make_user):
    county = await create_unit(None, UnitForm("黄河县", "hh", "county", None))
    township = await create_unit(None, UnitForm("东镇", "hh-dz", "township", county))
    office = await create_department(None, township, "党政办")
    in_township = await make_user("ivan", unit_id=township, department_id=office)
    elsewhere = await make_user("eve")
    secretary = await make_user("sam")
    await assign_role(None, secretary.id, "secretary", None, None)

    county_rule = await add_rule(scope="unit", unit=county, networks="10.20.0.0/16")
    assert (await password_step(client, in_township, ip="192.0.2.1")).status_code == 403  # a unit below the county
    assert (await password_step(client, elsewhere, ip="192.0.2.1")).status_code == 303
    await LoginRule.delete().where(LoginRule.id == county_rule)

    department_rule = await add_rule(scope="department", department=office, terminals="desktop")
    assert (await password_step(client, in_township, agent=CHROME_ANDROID)).status_code == 403
    assert (await password_step(client, elsewhere, agent=CHROME_ANDROID)).status_code == 303
    await LoginRule.delete().where(LoginRule.id == department_rule)

    await add_rule(scope="role", role="secretary", networks="10.20.0.0/16")
    assert (await password_step(client, secretary, ip="192.0.2.1")).status_code == 403
    assert (await password_step(client, in_township, ip="192.0.2.1")).status_code == 303


async def test_the_second_factor_follows_an_allowed_password_step(client, make_user):
    user = await make_user("fay")
    await add_rule(user=user.id, networks="10.20.0.0/16")
    assert (await password_step(client, user)).headers["location"] == "/login/verify"
    response = await post_form(client, "/login/verify", {"code": user.totp_code()}, headers={"x-forwarded-for": "10.20.1.1"})
    assert response.status_code == 303
    assert (await client.get("/")).status_code == 200


# Administration ------------------------------------------------------------------------------

RULE_FORM = {"name": "东镇 office network", "scope": "user", "username": "hank", "networks": "10.20.0.0/16\n2001:db8::/32",
             "terminals": ["desktop", "client"], "client_names": "GovMailClient", "weekdays": ["1", "2", "3", "4", "5"],
             "start": "08:00", "end": "18:00", "enabled": "on"}


async def test_administrator_creates_edits_and_deletes_a_rule_audited(client, make_user):
    admin = await make_user("root", roles=["admin", "staff"])
    hank = await make_user("hank")
    await login_as(client, admin)
    assert (await client.get("/admin/login-rules/new")).status_code == 200
    created = await post_form(client, "/admin/login-rules", RULE_FORM)
    assert created.status_code == 303, created.text
    row = await LoginRule.select().first()
    assert (row["user"], row["networks"], row["terminals"], row["weekdays"], row["start_minute"], row["end_minute"]) == \
        (hank.id, "10.20.0.0/16\n2001:db8::/32", "desktop,client", "1,2,3,4,5", 480, 1080)
    listing = await client.get("/admin/login-rules")
    assert "东镇 office network" in listing.text and "Mon–Fri 08:00–18:00" in listing.text and "hank" in listing.text

    edit = await client.get(f"/admin/login-rules/{row['id']}")
    assert 'value="08:00"' in edit.text and "10.20.0.0/16" in edit.text
    updated = await post_form(client, f"/admin/login-rules/{row['id']}", {**RULE_FORM, "end": "17:30", "enabled": ""})
    assert updated.status_code == 303
    row = await LoginRule.select().first()
    assert (row["end_minute"], row["enabled"]) == (17 * 60 + 30, False)

    deleted = await post_form(client, f"/admin/login-rules/{row['id']}/delete")
    assert deleted.status_code == 303
    assert await LoginRule.count() == 0
    actions = [e["action"] for e in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]
    assert actions[-3:] == ["core.login_rule.create", "core.login_rule.update", "core.login_rule.delete"]


async def test_bad_rule_form_is_shown_again_with_the_messages_and_keeps_the_input(client, make_user):
    admin = await make_user("root", roles=["admin", "staff"])
    await make_user("hank")
    await login_as(client, admin)
    response = await post_form(client, "/admin/login-rules", {**RULE_FORM, "networks": "10.20.1.1/16", "end": "07:00"})
    assert response.status_code == 400
    assert "did you mean 10.20.0.0/16?" in response.text
    assert "The end must be later than the start" in response.text
    assert "东镇 office network" in response.text and "GovMailClient" in response.text
    assert await LoginRule.count() == 0
    assert (await post_form(client, "/admin/login-rules", {**RULE_FORM, "unit_id": "x1"})).status_code == 400


async def test_rule_pages_are_for_administrators_only_and_need_csrf(client, make_user):
    staff = await make_user("plain")
    await make_user("hank")
    await login_as(client, staff)
    assert (await client.get("/admin/login-rules")).status_code == 403
    assert (await post_form(client, "/admin/login-rules", RULE_FORM)).status_code == 403
    rule_id = await add_rule(user=staff.id, networks="10.0.0.0/8")
    assert (await post_form(client, f"/admin/login-rules/{rule_id}/delete")).status_code == 403
    assert await LoginRule.count() == 1
    await post_form(client, "/logout")

    admin = await make_user("root", roles=["admin", "staff"])
    await login_as(client, admin)
    without_token = await client.post("/admin/login-rules", data=RULE_FORM)
    assert without_token.status_code == 403
    assert (await client.post(f"/admin/login-rules/{rule_id}/delete")).status_code == 403
    assert await LoginRule.count() == 1
    assert (await client.get("/admin/login-rules/999999")).status_code == 404
    assert (await post_form(client, "/admin/login-rules/999999/delete")).status_code == 404


async def test_records_show_the_refusal_reason_to_the_user_and_the_administrator(client, make_user):
    user = await make_user("rita")
    admin = await make_user("root", roles=["admin", "staff"])
    rule_id = await add_rule(user=user.id, terminals="desktop")
    await password_step(client, user, agent=SAFARI_IPHONE)
    await LoginRule.delete().where(LoginRule.id == rule_id)
    await login_as(client, user)
    own = await client.get("/account/logins")
    assert "Refused by a login rule: terminal not allowed" in own.text
    await post_form(client, "/logout")
    await login_as(client, admin)
    records = await client.get(f"/admin/users/{user.id}/logins")
    assert records.status_code == 200
    assert "Refused by a login rule: terminal not allowed" in records.text
    assert (await client.get("/admin/users/999999/logins")).status_code == 404

