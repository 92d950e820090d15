"""The administrator's IP library, each login's place, and the new-place alert (MAIL-20)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from pathlib import Path
from types import ModuleType

import pytest
from litestar.testing import AsyncTestClient

from portal.api import CurrentUser
from portal.audit.tables import AuditEntry
from portal.auth import geo
from portal.auth.security_tables import IpLibrary
from portal.auth.tables import LoginAttempt
from portal.hookspecs import hookimpl
from portal.i18n import set_locale
from portal.notify import user_channel
from portal.testing import login_as, post_form

LIBRARY = """cidr,province,city
# the test network
10.0.0.0/8,山东省,
10.1.0.0/16,山东省,济南市
10.1.2.0/24,山东省,济南市历下区
2001:db8::/32,北京市,北京市
2001:db8:5::/48,上海市,
"""


def write_mmdb(path: Path, networks: dict[str, dict]) -> Path:
    """A small MaxMind DB (GeoIP2-City layout) written with mmdb-writer, as MaxMind's own files are."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, database_type="GeoIP2-City", languages=["zh-CN", "en"], ipv4_compatible=True)
    for network, record in networks.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


def city(country_iso: str, country: str, province: str, city_name: str) -> dict:
    return {"country": {"iso_code": country_iso, "names": {"zh-CN": country, "en": country}},
            "subdivisions": [{"names": {"zh-CN": province}}], "city": {"names": {"zh-CN": city_name, "en": "x"}}}


@pytest.fixture(autouse=True)
def english():
    """Messages in English, as written in the code."""
    set_locale("en")
    yield
    set_locale("zh_CN")


# Parsing the CSV -----------------------------------------------------------------------------


def test_csv_with_header_comments_and_optional_city():
    ranges = geo.parse_csv(LIBRARY.encode())
    assert ranges[:2] == [("10.0.0.0/8", "山东省"), ("10.1.0.0/16", "山东省 济南市")]
    assert ("2001:db8::/32", "北京市 北京市") in ranges
    assert len(ranges) == 5


def test_csv_in_utf8_with_bom_or_gb18030_as_spreadsheets_save_it():
    assert geo.parse_csv(("\ufeff" + LIBRARY).encode("utf-8")) == geo.parse_csv(LIBRARY.encode("gb18030"))
    with pytest.raises(geo.LibraryError) as raised:
        geo.parse_csv(b"\x00\xff\xfe\x81" * 10)
    assert raised.value.errors  # never a crash, always a message


def test_every_bad_line_is_named_by_its_number():
    bad = "\n".join([
        "cidr,province,city",
        "10.0.0.0/8,山东省,济南市",
        "10.0.0.1/8,山东省,济南市",
        "not-an-address,山东省,",
        "10.0.0.0/8,山东省,青岛市",
        "10.2.0.0/16,,济南市",
        "10.3.0.0/16",
        "10.4.0.0/16,a,b,c",
        "10.5.0.0/16,@local,",
        "10.6.0.0/16," + "长" * 41 + ",",
        "10.7.0.0/16,山东省,济南\x07市",
    ])
    with pytest.raises(geo.LibraryError) as raised:
        geo.parse_csv(bad.encode())
    errors = raised.value.errors
    assert errors[0] == "Line 3: 10.0.0.1/8 has bits set after the prefix: did you mean 10.0.0.0/8?"
    assert errors[1].startswith("Line 4: not-an-address is not a network")
    assert errors[2] == "Line 5: 10.0.0.0/8 is listed again (first on line 2)."
    assert errors[3] == "Line 6: the province is empty."
    assert errors[4].startswith("Line 7: expected cidr,province,city") and errors[5].startswith("Line 8: expected")
    assert errors[6].startswith("Line 9:") and errors[7].startswith("Line 10:") and errors[8].startswith("Line 11:")
    assert len(errors) == 9


def test_limits_on_size_ranges_and_errors(monkeypatch):
    with pytest.raises(geo.LibraryError, match="holds no ranges"):
        geo.parse_csv(b"cidr,province,city\n\n# nothing\n")
    monkeypatch.setattr(geo, "MAX_CSV_BYTES", 100)
    with pytest.raises(geo.LibraryError, match="larger than"):
        geo.parse_csv(b"x" * 101)
    monkeypatch.setattr(geo, "MAX_CSV_BYTES", 10**7)
    monkeypatch.setattr(geo, "MAX_CSV_RANGES", 3)
    with pytest.raises(geo.LibraryError, match="more than 3 ranges"):
        geo.parse_csv("".join(f"10.{n}.0.0/16,山东省,\n" for n in range(4)).encode())
    many_bad = "".join(f"bad{n},x,\n" for n in range(100)).encode()
    with pytest.raises(geo.LibraryError) as raised:
        geo.parse_csv(many_bad)
    assert len(raised.value.errors) == geo.MAX_ERRORS + 1
    assert raised.value.errors[-1] == f"Checking stopped after {geo.MAX_ERRORS} errors."


@pytest.mark.parametrize("ip, place", [
    ("10.1.2.3", "山东省 济南市历下区"), ("10.1.3.3", "山东省 济南市"), ("10.200.0.1", "山东省"),
    ("11.0.0.1", ""), ("2001:db8:5::1", "上海市"), ("2001:db8:6::1", "北京市 北京市"), ("2001:db9::1", ""),
])
def test_the_longest_prefix_wins(ip, place):
    index = geo.PrefixIndex(geo.csv_content(geo.parse_csv(LIBRARY.encode())))
    assert index.lookup(ipaddress.ip_address(ip)) == place


def test_a_default_route_and_single_hosts():
    index = geo.PrefixIndex("0.0.0.0/0\t别处\n192.0.2.7/32\t一台主机\n")
    assert index.lookup(ipaddress.ip_address("192.0.2.7")) == "一台主机"
    assert index.lookup(ipaddress.ip_address("192.0.2.8")) == "别处"
    assert index.lookup(ipaddress.ip_address("2001:db8::1")) == ""


# Locating with the stored library ------------------------------------------------------------


# The administrator as the services see him (the pages pass the logged-in one).
Admin = CurrentUser(id=None, username="root", display_name="Root", email="", unit_id=None, department_id=None,
                    roles=frozenset({"admin"}), permissions=frozenset({"core.admin"}), locale="", theme="")


async def test_without_a_library_only_the_local_network_is_known(client):
    assert await geo.locate("127.0.0.1") == geo.LOCAL
    assert await geo.locate("192.168.3.4") == geo.LOCAL
    assert await geo.locate("::1") == geo.LOCAL
    assert await geo.locate("fe80::1") == geo.LOCAL
    assert await geo.locate("::ffff:10.9.9.9") == geo.LOCAL
    assert await geo.locate("8.8.8.8") == ""
    assert await geo.locate("testclient") == ""


def test_the_local_network_is_named_in_the_readers_language():
    set_locale("en")
    assert geo.place_label(geo.LOCAL) == "Local network"
    set_locale("zh_CN")
    assert geo.place_label(geo.LOCAL) == "局域网"
    assert geo.place_label("山东省 济南市") == "山东省 济南市"


async def test_csv_ranges_come_before_the_local_network_and_the_mmdb(client, tmp_path):
    await geo.upload_csv(Admin, "lib.csv", LIBRARY.encode() + "127.0.0.0/8,山东省,济南市\n".encode())
    assert await geo.locate("127.0.0.1") == "山东省 济南市"
    assert await geo.locate("10.1.2.3") == "山东省 济南市历下区"
    assert await geo.locate("::ffff:10.1.2.3") == "山东省 济南市历下区"
    assert await geo.locate("192.168.1.1") == geo.LOCAL
    data = write_mmdb(tmp_path / "city.mmdb", {
        "10.1.0.0/16": city("CN", "中国", "河北省", "石家庄市"),
        "203.0.113.0/24": city("CN", "中国", "广东省", "深圳市"),
        "198.51.100.0/24": city("US", "美国", "加利福尼亚州", "洛杉矶"),
        "2400:4000::/48": {"country": {"iso_code": "JP", "names": {"en": "Japan"}}},
    }).read_bytes()
    assert await geo.upload_mmdb(Admin, tmp_path / "data", "city.mmdb", data) == "GeoIP2-City"
    assert await geo.locate("10.1.9.9") == "山东省 济南市"  # the CSV first
    assert await geo.locate("203.0.113.5") == "广东省 深圳市"
    assert await geo.locate("198.51.100.5") == "美国 加利福尼亚州 洛杉矶"
    assert await geo.locate("2400:4000::1") == "Japan"
    assert await geo.locate("192.0.2.1") == ""


async def test_a_new_csv_replaces_the_old_one_and_every_process_sees_it(client):
    await geo.upload_csv(Admin, "a.csv", "127.0.0.0/8,山东省,济南市\n".encode())
    assert await geo.locate("127.0.0.1") == "山东省 济南市"
    await geo.upload_csv(Admin, "b.csv", "127.0.0.0/8,北京市,\n".encode())
    assert await geo.locate("127.0.0.1") == "北京市"
    # Another process with the old library cached: the stored content's hash tells it to reload.
    geo._loaded["csv"] = geo._Loaded("stale", geo.PrefixIndex("127.0.0.0/8\t旧地\n"))
    assert await geo.locate("127.0.0.1") == "北京市"


async def test_a_broken_mmdb_never_fails_a_login(client, tmp_path):
    data = write_mmdb(tmp_path / "city.mmdb", {"203.0.113.0/24": city("CN", "中国", "广东省", "深圳市")}).read_bytes()
    await geo.upload_mmdb(Admin, tmp_path / "data", "city.mmdb", data)
    path = Path((await IpLibrary.select(IpLibrary.path).first())["path"])
    geo._loaded.pop("mmdb", None)
    path.unlink()
    assert await geo.locate("203.0.113.5") == ""


async def test_a_damaged_mmdb_is_refused_and_the_previous_one_kept(client, tmp_path):
    good = write_mmdb(tmp_path / "city.mmdb", {"203.0.113.0/24": city("CN", "中国", "广东省", "深圳市")}).read_bytes()
    await geo.upload_mmdb(Admin, tmp_path / "data", "good.mmdb", good)
    for garbage in (b"not a database at all", good[: len(good) // 2], b"\x00" * 4096):
        with pytest.raises(geo.LibraryError, match="not a MaxMind DB file"):
            await geo.upload_mmdb(Admin, tmp_path / "data", "bad.mmdb", garbage)
    assert (await geo.library_state())["mmdb"]["filename"] == "good.mmdb"
    assert await geo.locate("203.0.113.5") == "广东省 深圳市"
    assert [p.name for p in (tmp_path / "data" / "geoip").iterdir()] == [f"{(await geo.library_state())['mmdb']['sha256']}.mmdb"]


# The administration page ---------------------------------------------------------------------


@pytest.fixture
async def admin_client(client, make_user):
    admin = await make_user("root", roles=["admin", "staff"])
    client.headers["accept-language"] = "en"
    await login_as(client, admin)
    return client


async def upload(client, kind: str, name: str, data: bytes, token: bool = True):
    fields = {"_csrf_token": client.cookies.get("portal_csrf", "")} if token else {}
    return await client.post(f"/admin/ip-library/{kind}", data=fields, files={"file": (name, data, "application/octet-stream")})


async def test_administrator_uploads_a_csv_and_looks_an_address_up(admin_client):
    response = await upload(admin_client, "csv", "library.csv", LIBRARY.encode())
    assert response.status_code == 303, response.text
    page = await admin_client.get("/admin/ip-library")
    assert "The IP library now holds 5 ranges from library.csv." in page.text
    assert "library.csv, 5 ranges, uploaded by root" in page.text
    looked_up = await admin_client.get("/admin/ip-library", params={"ip": "10.1.2.3"})
    assert "10.1.2.3 is in 山东省 济南市历下区." in looked_up.text
    assert "is not an IP address" in (await admin_client.get("/admin/ip-library", params={"ip": "<b>x"})).text
    assert "&lt;b&gt;x" in (await admin_client.get("/admin/ip-library", params={"ip": "<b>x"})).text
    assert (await AuditEntry.select(AuditEntry.action).where(AuditEntry.action == "core.ip_library.csv").first())


async def test_a_bad_csv_is_refused_with_line_numbers_and_the_previous_library_kept(admin_client):
    await upload(admin_client, "csv", "good.csv", LIBRARY.encode())
    response = await upload(admin_client, "csv", "bad.csv", b"cidr,province,city\n10.0.0.0/8,a,\n10.0.0.300/8,b,\n")
    assert response.status_code == 400
    assert "The file was refused; the library in use did not change." in response.text
    assert "Line 3: 10.0.0.300/8 is not a network" in response.text
    assert "good.csv, 5 ranges" in response.text
    assert await geo.locate("10.1.2.3") == "山东省 济南市历下区"
    assert (await upload(admin_client, "csv", "", b"")).status_code == 400


async def test_an_oversized_upload_is_refused(admin_client, monkeypatch):
    monkeypatch.setattr(geo, "MAX_CSV_BYTES", 1000)
    response = await upload(admin_client, "csv", "big.csv", b"10.0.0.0/8,a,\n" * 200)
    assert response.status_code == 400
    assert "larger than" in response.text
    assert await IpLibrary.count() == 0


async def test_administrator_uploads_and_removes_a_maxmind_db(admin_client, tmp_path):
    data = write_mmdb(tmp_path / "city.mmdb", {"203.0.113.0/24": city("CN", "中国", "广东省", "深圳市")}).read_bytes()
    assert (await upload(admin_client, "mmdb", "GeoLite2-City.mmdb", data)).status_code == 303
    page = await admin_client.get("/admin/ip-library")
    assert "The MaxMind DB GeoLite2-City.mmdb (GeoIP2-City) is in use." in page.text
    assert await geo.locate("203.0.113.9") == "广东省 深圳市"
    refused = await upload(admin_client, "mmdb", "junk.mmdb", b"PK\x03\x04 a zip file")
    assert refused.status_code == 400 and "not a MaxMind DB file" in refused.text
    assert (await post_form(admin_client, "/admin/ip-library/mmdb/remove")).status_code == 303
    assert await geo.locate("203.0.113.9") == ""
    assert (await post_form(admin_client, "/admin/ip-library/other/remove")).status_code == 404


async def test_library_pages_are_for_administrators_with_csrf(client, make_user):
    staff = await make_user("plain")
    await login_as(client, staff)
    assert (await client.get("/admin/ip-library")).status_code == 403
    assert (await upload(client, "csv", "x.csv", LIBRARY.encode())).status_code == 403
    await post_form(client, "/logout")
    admin = await make_user("root", roles=["admin", "staff"])
    await login_as(client, admin)
    assert (await upload(client, "csv", "x.csv", LIBRARY.encode(), token=False)).status_code == 403
    assert await IpLibrary.count() == 0


# The new-place alert -------------------------------------------------------------------------


def alert_recorder(calls: list) -> ModuleType:
    module = ModuleType("recorder")

    @hookimpl
    def on_login_alert(portal, user, alert):
        calls.append((user.username, alert))

    module.on_login_alert = on_login_alert
    return module


@pytest.fixture
def calls() -> list:
    return []


@pytest.fixture
def app(make_app, calls):
    return make_app(plugins=[], plugin_modules={"recorder": alert_recorder(calls)}, trusted_proxies=("testclient",))


async def log_in_from(client, user, ip: str):
    client.headers["x-forwarded-for"] = ip
    await login_as(client, user)
    await post_form(client, "/logout")


async def test_a_login_from_a_new_place_alerts_the_user(client, make_user, app, calls):
    user = await make_user("luke")
    portal = app.state.portal
    client.headers["accept-language"] = "en"
    await geo.upload_csv(Admin, "a.csv", "10.0.0.0/8,山东省,济南市\n".encode())
    await log_in_from(client, user, "10.1.1.1")  # the first located login: nothing to compare with
    await log_in_from(client, user, "10.1.1.2")  # the same place
    assert calls == []
    await geo.upload_csv(Admin, "b.csv", "10.0.0.0/8,北京市,\n".encode())
    async with portal.channels.start_subscription([user_channel(user.id)]) as subscriber:
        client.headers["x-forwarded-for"] = "10.1.1.3"
        await login_as(client, user)
        event = json.loads(await asyncio.wait_for(subscriber.iter_events().__anext__(), 5))
    assert (event["kind"], event["place"], event["ip"]) == ("login_alert", "北京市", "10.1.1.3")
    [(username, alert)] = calls
    assert (username, alert.kind, alert.place, alert.ip, alert.known_places) == ("luke", "new_place", "北京市", "10.1.1.3", ("山东省 济南市",))
    assert "not logged in from before" in (await client.get("/")).text
    records = await LoginAttempt.select().where(LoginAttempt.result == "ok").order_by(LoginAttempt.id)
    assert [(r["place"], r["new_place"]) for r in records] == [("山东省 济南市", False), ("山东省 济南市", False), ("北京市", True)]
    page = await client.get("/account/logins")
    assert page.text.count("New place</strong>") == 1 and "北京市" in page.text
    await post_form(client, "/logout")
    await log_in_from(client, user, "10.1.1.4")  # Beijing is known now
    assert len(calls) == 1


async def test_no_alert_before_any_located_login_or_from_an_unknown_place(client, make_user, calls):
    user = await make_user("lara")
    await log_in_from(client, user, "203.0.113.1")  # not in the library: no place
    await geo.upload_csv(Admin, "a.csv", "10.0.0.0/8,山东省,济南市\n".encode())
    await log_in_from(client, user, "10.1.1.1")  # the first known place; earlier logins had none
    await log_in_from(client, user, "203.0.113.2")  # unknown again
    await log_in_from(client, user, "127.0.0.1")  # the local network is a place, and a new one
    assert [alert.place for _, alert in calls] == ["局域网"]


async def test_the_admin_sees_the_places_of_a_users_logins(client, make_user):
    user = await make_user("lena")
    await geo.upload_csv(Admin, "a.csv", "10.0.0.0/8,山东省,济南市\n".encode())
    await log_in_from(client, user, "10.1.1.1")
    admin = await make_user("root", roles=["admin", "staff"])
    client.headers["x-forwarded-for"] = "192.168.1.1"
    await login_as(client, admin)
    page = await client.get(f"/admin/users/{user.id}/logins")
    assert "山东省 济南市" in page.text and "10.1.1.1" in page.text
