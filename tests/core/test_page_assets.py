"""Plugins' page assets (register_page_assets) are on every full page of the users who may use
them (CORE-2), which is how new mail is announced on any open page (MAIL-1)."""

from __future__ import annotations

import re
from types import ModuleType

import pytest

from portal.api import PageAsset, Permission
from portal.app import create_app
from portal.hookspecs import hookimpl
from portal.settings import Settings
from portal.testing import login_as

WEBMAIL_JS = re.compile(r'<script src="(/static/webmail/webmail\.[0-9a-f]{10}\.js)" defer></script>')
LIVE_CSS = re.compile(r'<link rel="stylesheet" href="(/static/webmail/live\.[0-9a-f]{10}\.css)">')


def _plugin(name: str, static_dir, assets) -> ModuleType:
    module = ModuleType(f"test_plugin_{name}")
    module.register_static = hookimpl(lambda portal: static_dir)
    module.register_permissions = hookimpl(lambda portal: [Permission(f"{name}.use", "Use", roles=("staff",))])
    module.register_page_assets = hookimpl(lambda portal: assets)
    return module


@pytest.mark.parametrize(("assets", "message"), [
    ([PageAsset("missing.js")], "page asset 'missing.js' is not in its static folder"),
    ([PageAsset("../outside.js")], "page asset '../outside.js' is not in its static folder"),
    ([PageAsset("live.html")], "register_page_assets must return PageAssets of .js or .css files"),
    (["live.js"], "register_page_assets must return PageAssets of .js or .css files"),
    ([PageAsset("live.js", permission="broken.uses")], "page asset 'live.js' needs the unknown permission 'broken.uses'"),
])
def test_a_wrong_page_asset_stops_the_start_up(tmp_path, assets, message):
    static = tmp_path / "static"
    static.mkdir()
    (static / "live.js").write_text("1;")
    (static / "live.html").write_text("<p>")
    (tmp_path / "outside.js").write_text("1;")
    settings = Settings(data_dir=tmp_path / "data", secret_key="test-secret-key")
    with pytest.raises(ValueError, match=re.escape(f"plugin 'broken': {message}")):
        create_app(settings, plugins=[], plugin_modules={"broken": _plugin("broken", static, assets)})


async def test_the_mailbox_script_is_on_every_page_of_its_users(client, make_user):
    user = await make_user(roles=["staff", "admin"])
    await login_as(client, user)
    for path in ["/", "/account", "/admin", "/catalog", "/webmail", "/webmail/message/999999"]:
        page = await client.get(path)
        assert page.status_code in (200, 404), path
        scripts = WEBMAIL_JS.findall(page.text)
        assert len(scripts) == 1, f"{path}: webmail.js is included {len(scripts)} times"
        assert len(LIVE_CSS.findall(page.text)) == 1, path
        # After htmx and the core's script, as a file (CSP script-src 'self'): no inline script.
        assert page.text.index("js/portal.") < page.text.index(scripts[0]), path
        assert "<script>" not in page.text, path
    script = await client.get(scripts[0])
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert 'new EventSource("/events")' in script.text
    assert "immutable" in script.headers["cache-control"]
    stylesheet = await client.get(LIVE_CSS.search(page.text).group(1))
    assert stylesheet.status_code == 200 and ".webmail-toast" in stylesheet.text


async def test_nobody_else_gets_the_mailbox_script(client, make_user):
    assert not WEBMAIL_JS.search((await client.get("/login")).text)  # anonymous visitors
    await login_as(client, await make_user(roles=["print_room"]))  # no webmail.use
    home = await client.get("/")
    assert home.status_code == 200
    assert not WEBMAIL_JS.search(home.text) and not LIVE_CSS.search(home.text)


async def test_htmx_fragments_carry_no_page_assets(client, make_user):
    await login_as(client, await make_user())
    fragment = await client.get("/webmail", headers={"hx-request": "true"})
    assert fragment.status_code == 200
    assert not WEBMAIL_JS.search(fragment.text)
