"""The plugin host: entry-point discovery, start-up validation, installed is not enabled (CORE-2).

Broken plugins must fail when the application is built, loudly and with the plugin's name,
instead of half-working at run time.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType

import pluggy
import pytest

from portal.api import Permission, TableSet
from portal.app import create_app
from portal.hookspecs import hookimpl
from portal.plugins import ENTRY_POINT_GROUP, UnknownPlugin, call_startup_hook, installed_plugins, make_plugin_manager
from portal.settings import BUILTIN_PLUGINS, Settings
from portal.testing import login_as


def plugin_module(name: str, **hooks) -> ModuleType:
    """A plugin module built on the fly: each keyword is a hookimpl under that attribute name."""
    module = ModuleType(f"test_plugin_{name}")
    for attribute, function in hooks.items():
        setattr(module, attribute, hookimpl(function))
    return module


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", secret_key="test-secret-key")


def test_a_misspelt_hook_fails_at_start_up(settings):
    typo = plugin_module("typo", register_rotues=lambda portal: [])
    with pytest.raises(pluggy.PluginValidationError, match="register_rotues"):
        create_app(settings, plugins=[], plugin_modules={"typo": typo})


def test_a_hook_with_a_misspelt_argument_fails_at_start_up(settings):
    def menu_items(portal, usr):
        return []

    typo = plugin_module("typo", menu_items=menu_items)
    with pytest.raises(pluggy.PluginValidationError, match="usr"):
        create_app(settings, plugins=[], plugin_modules={"typo": typo})


@pytest.mark.parametrize("permission", ["core.admin_everything", "roguex.use", "rogue"])
def test_a_permission_outside_the_plugins_own_name_is_refused(settings, permission):
    rogue = plugin_module("rogue", register_permissions=lambda portal: [Permission(permission, "Take over")])
    with pytest.raises(ValueError, match=re.escape(f"plugin 'rogue': permission {permission!r} must start with 'rogue'.")):
        create_app(settings, plugins=[], plugin_modules={"rogue": rogue})


def test_a_permission_under_the_plugins_own_name_is_registered(settings):
    honest = plugin_module("honest", register_permissions=lambda portal: [Permission("honest.use", "Use", roles=("staff",))])
    app = create_app(settings, plugins=[], plugin_modules={"honest": honest})
    registry = app.state.portal.permissions
    assert "honest.use" in registry.permissions
    assert "honest.use" in registry.for_roles(frozenset({"staff"}))


def test_tables_registered_under_another_name_are_refused(settings, tmp_path):
    from portal.accounts.tables import Unit

    thief = plugin_module("thief", register_tables=lambda portal: TableSet("core", [Unit], tmp_path))
    with pytest.raises(ValueError, match="register_tables must return a TableSet named 'thief'"):
        create_app(settings, plugins=[], plugin_modules={"thief": thief})


def test_an_async_hook_that_builds_the_application_is_refused_by_name(settings):
    async def register_routes(portal):
        return []

    eager = plugin_module("eager", register_routes=register_routes)
    with pytest.raises(TypeError, match="plugin 'eager': register_routes must return its value, not an awaitable"):
        create_app(settings, plugins=[], plugin_modules={"eager": eager})


def test_enabling_a_plugin_that_is_not_installed_fails_clearly(settings):
    with pytest.raises(UnknownPlugin, match="plugin 'no_such_plugin' is enabled but not installed"):
        create_app(settings, plugins=[*BUILTIN_PLUGINS, "no_such_plugin"])


def test_enabling_an_uninstalled_plugin_through_the_environment_fails_clearly(tmp_path):
    settings = Settings.from_env({"PORTAL_PLUGINS": "webmail, no_such_plugin", "PORTAL_DATA_DIR": str(tmp_path),
                                  "PORTAL_SECRET_KEY": "k"})
    assert settings.plugins == ("webmail", "no_such_plugin")
    with pytest.raises(UnknownPlugin, match="no_such_plugin"):
        create_app(settings)


def test_the_built_in_plugins_are_found_through_the_entry_point_group():
    found = installed_plugins()
    for name in BUILTIN_PLUGINS:
        assert found[name].module == f"plugins.{name}", f"{name} is not registered in {ENTRY_POINT_GROUP}"
        assert found[name].distribution == "portal"


def test_only_the_enabled_plugins_are_registered():
    pm = make_plugin_manager(["webmail", "disclosure"])
    assert [name for name, _ in pm.list_name_plugin()] == ["webmail", "disclosure"]
    assert pm.get_plugin("webmail") is importlib.import_module("plugins.webmail")
    assert pm.get_plugin("edoc") is None


async def test_each_built_in_plugin_contributes_a_menu_item(client, make_user):
    await login_as(client, await make_user(roles=["staff"]))
    home = await client.get("/")
    assert home.status_code == 200
    menu = re.search(r'<nav class="menu".*?</nav>', home.text, re.S).group(0)
    for name in BUILTIN_PLUGINS:
        assert f'href="/{name}"' in menu, f"{name} has no menu item for a staff user"


async def test_each_built_in_plugin_has_a_migrated_table_of_its_own(client):
    portal = client.app.state.portal
    table_sets = call_startup_hook(portal.pm, "register_tables", portal=portal)
    assert sorted(table_sets) == sorted(BUILTIN_PLUGINS)
    for name, table_set in table_sets.items():
        assert table_set.app_name == name
        assert list(table_set.migrations_dir.glob(f"{name}_*.py")), f"{name} ships no migration"
        assert table_set.tables, f"{name} registers no table"
        for table in table_set.tables:
            assert table._meta.tablename.startswith(f"{name}_")
            assert await table.table_exists(), f"{table._meta.tablename} was not created by the migrations"


def _site_plugin(name: str, prefix: str) -> ModuleType:
    from litestar import get

    @get("/{code:str}", sync_to_thread=False)
    def screen(code: str) -> str:
        return f"screen of {code}"

    return plugin_module(name, register_site_routes=lambda portal: {prefix: [screen]})


async def test_site_routes_answer_at_their_own_prefix(settings):
    from litestar.testing import AsyncTestClient

    app = create_app(settings, plugins=[], plugin_modules={"hall": _site_plugin("hall", "kiosk")})
    async with AsyncTestClient(app) as client:
        response = await client.get("/kiosk/dongzhen")
        assert response.status_code == 200 and response.text == "screen of dongzhen"
        assert (await client.get("/hall/dongzhen")).status_code == 404


@pytest.mark.parametrize(("prefix", "message"), [
    ("admin", "site prefix 'admin' is taken by the core"),
    ("login", "site prefix 'login' is taken by the core"),
    ("other", "site prefix 'other' is taken by plugin 'other'"),
    ("Kiosk", "site prefix 'Kiosk' must be one lowercase word"),
    ("kiosk/x", "site prefix 'kiosk/x' must be one lowercase word"),
])
def test_a_site_prefix_that_would_shadow_other_pages_is_refused(settings, prefix, message):
    other = plugin_module("other", menu_items=lambda portal, user: [])
    with pytest.raises(ValueError, match=re.escape(f"plugin 'rogue': {message}")):
        create_app(settings, plugins=[], plugin_modules={"other": other, "rogue": _site_plugin("rogue", prefix)})


def test_two_plugins_cannot_share_a_site_prefix(settings):
    first, second = _site_plugin("first", "kiosk"), _site_plugin("second", "kiosk")
    with pytest.raises(ValueError, match=re.escape("site prefix 'kiosk' is taken by plugin 'first'")):
        create_app(settings, plugins=[], plugin_modules={"first": first, "second": second})
