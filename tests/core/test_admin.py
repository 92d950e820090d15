"""Administration pages: units, departments, users, roles, plugins and the audit log (CORE-3, issue A)."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from portal.accounts.services import UnitForm, create_department, create_unit
from portal.accounts.tables import Department, RoleAssignment, Unit, User
from portal.audit.services import write_audit
from portal.audit.tables import AuditEntry
from portal.auth.tables import RecoveryCode
from portal.core_tables import PluginState
from portal.settings import BUILTIN_PLUGINS
from portal.testing import login_as, post_form


@pytest.fixture
async def admin(client, make_user):
    user = await make_user("root", roles=["admin", "staff"])
    client.headers["accept-language"] = "en"  # the messages asserted below are the English msgids
    await login_as(client, user)
    return user


async def audit_actions(action: str) -> list[dict]:
    return await AuditEntry.select().where(AuditEntry.action == action)


async def make_unit(name: str, code: str, level: str = "province", parent_id: int | None = None) -> int:
    return await create_unit(None, UnitForm(name, code, level, parent_id))


def field_error(html: str, field: str) -> str:
    match = re.search(rf'class="field-error" id="{field}-error">([^<]+)<', html)
    assert match, f"no message for {field}"
    return match.group(1)


# Overview and access -------------------------------------------------------------------------


async def test_overview_links_every_section(client, admin):
    page = await client.get("/admin")
    assert page.status_code == 200
    for link in ("/admin/units", "/admin/users", "/admin/plugins", "/admin/audit"):
        assert f'href="{link}"' in page.text


async def test_anonymous_visitor_is_sent_to_login(client):
    response = await client.get("/admin/users")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/admin/users")


async def test_staff_gets_403_on_every_admin_route(client, make_user):
    unit_id = await make_unit("Province", "prov")
    staff = await make_user("clerk", roles=["staff"], unit_id=unit_id)
    await login_as(client, staff)
    assignment = await RoleAssignment.select(RoleAssignment.id).where(RoleAssignment.user == staff.id).first()
    gets = ["/admin", "/admin/units", "/admin/units/new", f"/admin/units/{unit_id}", f"/admin/units/{unit_id}/departments",
            "/admin/users", "/admin/users/new", f"/admin/users/{staff.id}", f"/admin/users/{staff.id}/password",
            f"/admin/users/{staff.id}/roles", "/admin/plugins", "/admin/audit"]
    posts = ["/admin/units", f"/admin/units/{unit_id}", f"/admin/units/{unit_id}/departments", "/admin/users",
             f"/admin/users/{staff.id}", f"/admin/users/{staff.id}/password", f"/admin/users/{staff.id}/roles",
             f"/admin/users/{staff.id}/roles/{assignment['id']}/revoke", "/admin/plugins/webmail/enable",
             "/admin/plugins/webmail/disable"]
    audit_count = await AuditEntry.count()
    for path in gets:
        assert (await client.get(path)).status_code == 403, path
    data = {"name": "X", "code": "x", "level": "city", "username": "mallory", "display_name": "M",
            "password": "long-enough-password", "role": "admin", "scope": "", "roles": "admin"}
    for path in posts:
        assert (await post_form(client, path, data)).status_code == 403, path
    # The staff user also gets 403 (not 404) on an id that does not exist.
    assert (await client.get("/admin/users/999999")).status_code == 403
    assert await Unit.count() == 1
    assert await User.count() == 1
    assert await RoleAssignment.count().where(RoleAssignment.role == "admin") == 0
    assert await PluginState.count() == 0
    assert await AuditEntry.count() == audit_count


async def test_post_without_csrf_token_is_refused_and_changes_nothing(client, admin):
    await client.get("/admin/units/new")
    audit_count = await AuditEntry.count()
    response = await client.post("/admin/units", data={"name": "Province", "code": "prov", "level": "province"})
    assert response.status_code == 403
    response = await client.post("/admin/plugins/webmail/disable")
    assert response.status_code == 403
    assert await Unit.count() == 0
    assert await PluginState.count() == 0
    assert await AuditEntry.count() == audit_count


async def test_bad_or_oversize_ids_give_404(client, admin):
    unit_id = await make_unit("Province", "prov")
    for path in ["/admin/units/999999", "/admin/units/99999999999999999999", "/admin/units/0",
                 "/admin/units/abc", "/admin/units/999999/departments", "/admin/users/999999",
                 "/admin/users/99999999999999999999", "/admin/users/999999/roles", "/admin/users/999999/password"]:
        assert (await client.get(path)).status_code == 404, path
    assert (await post_form(client, "/admin/units/99999999999999999999", {"name": "X"})).status_code == 404
    assert (await post_form(client, f"/admin/users/{admin.id}/roles/999999/revoke")).status_code == 404
    assert (await post_form(client, "/admin/plugins/no-such-plugin/enable")).status_code == 404
    # A bad id inside a form is a field error, not a crash.
    response = await post_form(client, "/admin/units", {"name": "City", "code": "city", "level": "city",
                                                        "parent_id": "99999999999999999999"})
    assert response.status_code == 400
    assert field_error(response.text, "parent_id")
    assert await Unit.count() == 1
    assert (await client.get(f"/admin/units/{unit_id}")).status_code == 200


# Units and departments -----------------------------------------------------------------------


async def test_admin_creates_and_edits_units_as_a_tree(client, admin):
    response = await post_form(client, "/admin/units", {"name": "Zhejiang", "code": "zj", "level": "province",
                                                        "mail_domain": "zj.gov.example", "document_prefix": "浙"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/units"
    province = await Unit.select().where(Unit.code == "zj").first()
    assert province["mail_domain"] == "zj.gov.example"

    response = await post_form(client, "/admin/units", {"name": "Hangzhou", "code": "hz", "level": "city",
                                                        "parent_id": str(province["id"])})
    assert response.status_code == 303
    city = await Unit.select().where(Unit.code == "hz").first()
    assert city["parent"] == province["id"]

    page = await client.get("/admin/units")
    assert "The unit Hangzhou was created." in page.text
    table = page.text[page.text.index('<table id="units">'):]
    assert table.index("Zhejiang") < table.index("Hangzhou")
    assert re.search(r'class="indent-1">.*Hangzhou', table)

    form = await client.get(f"/admin/units/{city['id']}")
    assert 'value="Hangzhou"' in form.text
    response = await post_form(client, f"/admin/units/{city['id']}", {"name": "Hangzhou City", "code": "hz",
                                                                      "level": "city", "parent_id": str(province["id"]),
                                                                      "document_prefix": "杭"})
    assert response.status_code == 303
    assert (await Unit.select(Unit.name).where(Unit.id == city["id"]).first())["name"] == "Hangzhou City"
    assert "Hangzhou City" in (await client.get("/admin/units")).text

    created = await audit_actions("core.unit.create")
    assert [e["summary"] for e in created] == ["Zhejiang", "Hangzhou"]
    assert all(e["actor_name"] == "root" and e["ip"] for e in created)
    updated = await audit_actions("core.unit.update")
    assert updated[0]["target_id"] == str(city["id"])


async def test_unit_validation_errors_keep_the_input_and_create_nothing(client, admin):
    response = await post_form(client, "/admin/units", {"name": "Somewhere", "code": "Not A Code!", "level": "galaxy"})
    assert response.status_code == 400
    assert field_error(response.text, "code")
    assert field_error(response.text, "level")
    assert 'value="Somewhere"' in response.text
    assert 'value="Not A Code!"' in response.text
    assert await Unit.count() == 0
    assert await audit_actions("core.unit.create") == []


async def test_unit_cannot_be_placed_under_a_lower_level(client, admin):
    county = await make_unit("County", "county", "county")
    response = await post_form(client, "/admin/units", {"name": "Big city", "code": "big", "level": "city",
                                                        "parent_id": str(county)})
    assert response.status_code == 400
    assert field_error(response.text, "parent_id") == "The parent must be of a higher level."
    assert await Unit.count() == 1


async def test_admin_creates_departments_of_a_unit(client, admin):
    unit_id = await make_unit("County", "county", "county")
    response = await post_form(client, f"/admin/units/{unit_id}/departments", {"name": "General office", "is_office": "on"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/units/{unit_id}/departments"
    await post_form(client, f"/admin/units/{unit_id}/departments", {"name": "Finance"})
    page = await client.get(f"/admin/units/{unit_id}/departments")
    assert "The department Finance was created." in page.text
    assert "General office" in page.text and "Finance" in page.text
    rows = {d["name"]: d["is_office"] for d in await Department.select().where(Department.unit == unit_id)}
    assert rows == {"General office": True, "Finance": False}
    assert [e["summary"] for e in await audit_actions("core.department.create")] == ["General office", "Finance"]

    empty = await post_form(client, f"/admin/units/{unit_id}/departments", {"name": "   "})
    assert empty.status_code == 400
    assert field_error(empty.text, "name")
    assert await Department.count() == 2


# Users ---------------------------------------------------------------------------------------


async def test_admin_creates_a_user_with_roles_who_can_then_log_in(client, admin):
    unit_id = await make_unit("County", "county", "county")
    department_id = await create_department(None, unit_id, "Office", True)
    page = await client.get("/admin/users/new")
    assert 'name="roles" value="secretary"' in page.text
    response = await post_form(client, "/admin/users", {
        "username": "Wang.Fang", "display_name": "王芳", "email": "wang@county.example", "unit_id": str(unit_id),
        "department_id": str(department_id), "password": "initial-password-1", "roles": ["staff", "secretary"],
    })
    assert response.status_code == 303
    new = await User.select().where(User.username == "wang.fang").first()
    assert response.headers["location"] == f"/admin/users/{new['id']}"
    assert (new["unit"], new["department"], new["totp_secret"]) == (unit_id, department_id, None)
    roles = await RoleAssignment.select().where(RoleAssignment.user == new["id"])
    assert sorted(r["role"] for r in roles) == ["secretary", "staff"]
    assert {r["unit"] for r in roles} == {unit_id}

    page = await client.get(f"/admin/users/{new['id']}")
    assert "The user wang.fang was created." in page.text
    assert "王芳" in page.text and "Secretary" in page.text and "Not set up yet" in page.text
    entry = (await audit_actions("core.user.create"))[-1]
    assert (entry["summary"], entry["actor_name"], entry["target_id"]) == ("wang.fang", "root", str(new["id"]))

    await post_form(client, "/logout")
    response = await post_form(client, "/login", {"username": "wang.fang", "password": "initial-password-1"})
    assert response.headers["location"] == "/login/enrol"


async def test_user_validation_errors_show_messages_and_create_nothing(client, admin, make_user):
    await make_user("taken")
    unit_a = await make_unit("A", "a", "county")
    unit_b = await make_unit("B", "b", "county")
    department_b = await create_department(None, unit_b, "B office")
    count = await User.count()
    response = await post_form(client, "/admin/users", {
        "username": "taken", "display_name": "Typed name", "email": "not-an-address", "unit_id": str(unit_a),
        "department_id": str(department_b), "password": "short", "roles": ["staff", "emperor"],
    })
    assert response.status_code == 400
    assert field_error(response.text, "username") == "This username is taken."
    assert field_error(response.text, "password")
    assert field_error(response.text, "email")
    assert field_error(response.text, "department_id")
    assert field_error(response.text, "roles")
    assert 'value="Typed name"' in response.text
    assert 'value="short"' not in response.text
    assert re.search(rf'<option value="{unit_a}" selected>', response.text)
    assert await User.count() == count
    assert [e for e in await audit_actions("core.user.create") if e["actor_name"] == "root"] == []


async def test_admin_edits_and_disables_a_user(client, admin, make_user):
    unit_id = await make_unit("County", "county", "county")
    other = await make_user("li", roles=["staff"])
    response = await post_form(client, f"/admin/users/{other.id}", {
        "display_name": "Li Lei", "email": "li@county.example", "unit_id": str(unit_id), "department_id": "",
    })
    assert response.status_code == 303
    row = await User.select().where(User.id == other.id).first()
    assert (row["display_name"], row["email"], row["unit"], row["active"]) == ("Li Lei", "li@county.example", unit_id, False)
    page = await client.get(f"/admin/users/{other.id}")
    assert "The user li was saved." in page.text
    listing = await client.get("/admin/users?q=li")
    assert "Li Lei" in listing.text and "Disabled" in listing.text
    entry = (await audit_actions("core.user.update"))[-1]
    assert entry["target_id"] == str(other.id) and entry["actor_name"] == "root"

    # Deactivating oneself is refused with a message.
    response = await post_form(client, f"/admin/users/{admin.id}", {"display_name": "Root", "email": ""})
    assert response.status_code == 400
    assert field_error(response.text, "active")
    assert (await User.select(User.active).where(User.id == admin.id).first())["active"] is True


async def test_admin_resets_password_and_second_factor(client, admin, make_user):
    other = await make_user("zhao")
    await RecoveryCode.insert(RecoveryCode(user=other.id, code_hash="x"))
    short = await post_form(client, f"/admin/users/{other.id}/password", {"password": "short"})
    assert short.status_code == 400
    assert field_error(short.text, "password")

    response = await post_form(client, f"/admin/users/{other.id}/password",
                               {"password": "a-brand-new-password", "reset_second_factor": "on"})
    assert response.status_code == 303
    page = await client.get(f"/admin/users/{other.id}")
    assert "The password of zhao was reset" in page.text
    row = await User.select(User.totp_secret).where(User.id == other.id).first()
    assert row["totp_secret"] is None
    assert await RecoveryCode.count().where(RecoveryCode.user == other.id) == 0
    entry = (await audit_actions("core.user.reset_password"))[-1]
    assert entry["target_id"] == str(other.id)
    assert entry["details"] in ({"second_factor_reset": True}, '{"second_factor_reset": true}')

    await post_form(client, "/logout")
    old = await post_form(client, "/login", {"username": "zhao", "password": other.password})
    assert old.status_code == 401
    new = await post_form(client, "/login", {"username": "zhao", "password": "a-brand-new-password"})
    assert new.headers["location"] == "/login/enrol"


async def test_admin_resets_password_only(client, admin, make_user):
    other = await make_user("qian")
    response = await post_form(client, f"/admin/users/{other.id}/password", {"password": "another-password-9"})
    assert response.status_code == 303
    assert (await User.select(User.totp_secret).where(User.id == other.id).first())["totp_secret"] == other.totp_secret
    assert len(await audit_actions("core.user.reset_password")) == 1


async def test_admin_assigns_and_revokes_a_role(client, admin, make_user):
    unit_id = await make_unit("County", "county", "county")
    department_id = await create_department(None, unit_id, "Finance")
    other = await make_user("sun", unit_id=unit_id)
    page = await client.get(f"/admin/users/{other.id}/roles")
    assert f'value="department-{department_id}"' in page.text

    response = await post_form(client, f"/admin/users/{other.id}/roles",
                               {"role": "department_head", "scope": f"department-{department_id}"})
    assert response.status_code == 303
    assignment = await RoleAssignment.select().where(
        (RoleAssignment.user == other.id) & (RoleAssignment.role == "department_head")).first()
    assert (assignment["unit"], assignment["department"]) == (unit_id, department_id)
    page = await client.get(f"/admin/users/{other.id}/roles")
    assert "The role Department head was assigned." in page.text
    assert re.search(r"<td>Department head</td>\s*<td>County</td>\s*<td>Finance</td>", page.text)
    assert (await audit_actions("core.role.assign"))[-1]["summary"] == "department_head"

    again = await post_form(client, f"/admin/users/{other.id}/roles",
                            {"role": "department_head", "scope": f"department-{department_id}"})
    assert again.status_code == 400
    assert field_error(again.text, "role") == "The user already holds this role in this scope."

    response = await post_form(client, f"/admin/users/{other.id}/roles/{assignment['id']}/revoke")
    assert response.status_code == 303
    assert not await RoleAssignment.exists().where(RoleAssignment.id == assignment["id"])
    page = await client.get(f"/admin/users/{other.id}/roles")
    assert "The role Department head was revoked." in page.text
    assert (await audit_actions("core.role.revoke"))[-1]["target_id"] == str(other.id)


async def test_role_assignment_errors(client, admin, make_user):
    other = await make_user("zhou")
    count = await RoleAssignment.count()
    for data, field in [({"role": "emperor", "scope": ""}, "role"), ({"role": "leader", "scope": "unit-999999"}, "scope"),
                        ({"role": "leader", "scope": "planet-1"}, "scope"), ({"role": "leader", "scope": "unit-x"}, "scope")]:
        response = await post_form(client, f"/admin/users/{other.id}/roles", data)
        assert response.status_code == 400, data
        assert field_error(response.text, field)
    assert await RoleAssignment.count() == count

    own_admin = await RoleAssignment.select().where((RoleAssignment.user == admin.id) & (RoleAssignment.role == "admin")).first()
    response = await post_form(client, f"/admin/users/{admin.id}/roles/{own_admin['id']}/revoke")
    assert response.status_code == 400
    assert "You cannot remove your own administrator role." in response.text
    assert await RoleAssignment.exists().where(RoleAssignment.id == own_admin["id"])
    # Someone else's assignment id under this user's address is unknown here.
    others = await RoleAssignment.select().where(RoleAssignment.user == other.id).first()
    assert (await post_form(client, f"/admin/users/{admin.id}/roles/{others['id']}/revoke")).status_code == 404
    assert await audit_actions("core.role.revoke") == []


async def test_user_search_full_page_and_htmx_fragment(client, admin, make_user):
    unit_id = await make_unit("County", "county", "county")
    await make_user("alice", unit_id=unit_id)
    await make_user("bob")
    page = await client.get("/admin/users", params={"q": "ali"})
    assert page.status_code == 200
    assert "<html" in page.text and 'hx-get="/admin/users"' in page.text
    assert ">alice<" in page.text and ">bob<" not in page.text
    assert 'value="ali"' in page.text
    assert "HX-Request" in page.headers["vary"]

    fragment = await client.get("/admin/users", params={"q": "ali"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="user-rows">')
    assert "<html" not in fragment.text
    assert ">alice<" in fragment.text and ">bob<" not in fragment.text

    by_unit = await client.get("/admin/users", params={"unit": str(unit_id)}, headers={"HX-Request": "true"})
    assert ">alice<" in by_unit.text and ">bob<" not in by_unit.text and ">root<" not in by_unit.text

    restore = await client.get("/admin/users", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


async def test_user_list_pages(client, admin, make_user, monkeypatch):
    from portal.admin import routes

    monkeypatch.setattr(routes, "USERS_PAGE_SIZE", 2)
    for name in ("ua", "ub", "uc"):
        await make_user(name)
    first = await client.get("/admin/users")
    names = re.findall(r'<a href="/admin/users/\d+">([a-z]+)</a>', first.text)
    assert names == ["root", "ua"]
    assert 'href="/admin/users?page=2"' in first.text
    second = await client.get("/admin/users?page=2")
    assert re.findall(r'<a href="/admin/users/\d+">([a-z]+)</a>', second.text) == ["ub", "uc"]
    assert 'href="/admin/users?page=1"' in second.text and "page=3" not in second.text
    assert (await client.get("/admin/users?page=nonsense")).status_code == 200


# Plugins -------------------------------------------------------------------------------------


async def test_admin_disables_and_enables_a_plugin_from_the_next_start(client, admin):
    page = await client.get("/admin/plugins")
    assert page.status_code == 200
    assert "next start" in page.text
    for name in BUILTIN_PLUGINS:
        assert f'action="/admin/plugins/{name}/disable"' in page.text

    response = await post_form(client, "/admin/plugins/webmail/disable")
    assert response.status_code == 303
    states = {r["name"]: r["enabled"] for r in await PluginState.select()}
    # The other built-ins stay enabled once a choice is stored.
    assert states == {**{n: True for n in BUILTIN_PLUGINS}, "webmail": False}
    page = await client.get("/admin/plugins")
    assert "The plugin webmail will be disabled at the next start of the portal." in page.text
    row = re.search(r'<tr id="plugin-webmail">(.*?)</tr>', page.text, re.S).group(1)
    assert "Disabled" in row and "Running" in row and "changes at the next start" in row
    assert 'action="/admin/plugins/webmail/enable"' in row
    entry = (await audit_actions("core.plugin.disable"))[-1]
    assert (entry["target_id"], entry["actor_name"]) == ("webmail", "root")

    response = await post_form(client, "/admin/plugins/webmail/enable")
    assert response.status_code == 303
    assert (await PluginState.select().where(PluginState.name == "webmail").first())["enabled"] is True
    assert len(await audit_actions("core.plugin.enable")) == 1


# Audit log -----------------------------------------------------------------------------------


async def test_audit_log_filters_and_pages(client, admin, monkeypatch):
    from portal.audit import services as audit_services

    await write_audit("core.user.create", summary="first")
    await write_audit("webmail.quota.change", summary="second")
    await write_audit("core.unit.create", summary="third")
    old = (await AuditEntry.select(AuditEntry.id).where(AuditEntry.summary == "first").first())["id"]
    long_ago = datetime(2020, 5, 17, 12, 0, tzinfo=timezone.utc)
    await AuditEntry.update({AuditEntry.created_at: long_ago}).where(AuditEntry.id == old)
    await AuditEntry.update({AuditEntry.actor_name: "root"}).where(AuditEntry.summary == "third")

    def summaries(html: str) -> list[str]:
        return re.findall(r"<td>(first|second|third)</td>", html)

    page = await client.get("/admin/audit")
    assert page.status_code == 200
    assert summaries(page.text) == ["third", "second", "first"]  # newest first
    assert summaries((await client.get("/admin/audit", params={"actor": "root"})).text) == ["third"]
    assert summaries((await client.get("/admin/audit", params={"action": "core."})).text) == ["third", "first"]
    assert summaries((await client.get("/admin/audit", params={"until": "2020-05-17"})).text) == ["first"]
    assert summaries((await client.get("/admin/audit", params={"since": "2020-05-18"})).text) == ["third", "second"]
    today = datetime.now().astimezone().date()
    assert summaries((await client.get("/admin/audit", params={"since": str(today - timedelta(days=1)),
                                                               "action": "webmail"})).text) == ["second"]

    bad = await client.get("/admin/audit", params={"since": "17.05.2020"})
    assert bad.status_code == 400
    assert field_error(bad.text, "since") == "Enter a date as YYYY-MM-DD."
    assert 'value="17.05.2020"' in bad.text

    monkeypatch.setattr(audit_services, "PAGE_SIZE", 2)
    first = await client.get("/admin/audit", params={"action": "core."})
    assert 'href="/admin/audit?action=core.&amp;page=2"' in first.text
    first = await client.get("/admin/audit")
    assert summaries(first.text) == ["third", "second"]
    second = await client.get("/admin/audit", params={"page": "2"})
    assert summaries(second.text) == ["first"]
    assert "Page 2 of 2" in second.text
