"""A third-party plugin, installed with a plain ``pip install``, works through the hooks alone (CORE-2).

``tests/sample_plugin`` is an ordinary distribution (``portal-sample-plugin``) with an entry
point in ``portal.plugins``; the session fixture installs it (not editable) into this
interpreter's environment when it is missing or older than its source, so its templates,
static file, locale and migration are read from the installed package as an administrator's
``pip install`` would, and a file left out of the package data fails the tests.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from portal.plugins import installed_plugins
from portal.settings import BUILTIN_PLUGINS
from portal.testing import login_as, post_form

SAMPLE_SOURCE = Path(__file__).resolve().parent.parent / "sample_plugin"
ENABLED = [*BUILTIN_PLUGINS, "sample"]
STYLESHEET = re.compile(r'href="(/static/sample/sample\.[0-9a-f]{10}\.css)"')


def _import_sample():
    try:
        return importlib.import_module("portal_sample")
    except ImportError:
        return None


def _differences(package) -> list[str]:
    """The files of the source package that the installed one lacks or holds in another version."""
    source = SAMPLE_SOURCE / "portal_sample"
    installed = Path(package.__file__).parent
    different = []
    for file in sorted(source.rglob("*")):
        if not file.is_file() or "__pycache__" in file.parts:
            continue
        copy = installed / file.relative_to(source)
        if not copy.is_file() or copy.read_bytes() != file.read_bytes():
            different.append(str(file.relative_to(source)))
    return different


@pytest.fixture(scope="session")
def sample_plugin(tmp_path_factory):
    """Install ``tests/sample_plugin`` with pip unless it is installed and up to date; return its package."""
    package = _import_sample()
    if package is None or "sample" not in installed_plugins() or _differences(package):
        # Build from a copy, so the build leaves no build/ or egg-info in the source tree.
        source = tmp_path_factory.mktemp("sample-plugin-src") / "sample_plugin"
        shutil.copytree(SAMPLE_SOURCE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--force-reinstall", "-q", str(source)],
                       check=True)
        importlib.invalidate_caches()
        for name in [n for n in sys.modules if n == "portal_sample" or n.startswith("portal_sample.")]:
            del sys.modules[name]
        package = _import_sample()
    assert package is not None and "sample" in installed_plugins(), "the sample plugin is not installed after pip install"
    missing = _differences(package)
    assert not missing, f"pip install of tests/sample_plugin left out or changed: {missing} (package data?)"
    return package


pytestmark = pytest.mark.usefixtures("sample_plugin")


@pytest.fixture
def portal_plugins():
    """The ``app`` (and so ``client``) of these tests: the built-ins and the sample plugin."""
    return list(ENABLED)


async def _staff(client, make_user, **kwargs):
    user = await make_user(**kwargs)
    await login_as(client, user)
    return user


def test_the_plugin_is_found_through_its_entry_point(sample_plugin):
    plugin = installed_plugins()["sample"]
    assert plugin.module == "portal_sample"
    assert plugin.distribution == "portal-sample-plugin"
    assert plugin.version == "0.1.0"
    # A regular install: the package lives in site-packages, not in this checkout.
    assert SAMPLE_SOURCE not in Path(sample_plugin.__file__).resolve().parents, (
        "portal_sample is imported from the checkout (an editable install?); these tests need a regular "
        "install: pip uninstall portal-sample-plugin, and the fixture installs it again"
    )


def test_make_app_registers_it_with_every_part(make_app):
    portal = make_app(plugins=ENABLED).state.portal
    assert "sample" in portal.plugin_names
    assert portal.permissions.permissions["sample.use"].roles == ("staff",)
    assert "sample" in portal.templates.static.roots


async def test_page_renders_its_template_inside_the_core_layout(client, make_user):
    await _staff(client, make_user)
    page = await client.get("/sample")
    assert page.status_code == 200
    assert '<h1 class="sample-title">示例便笺</h1>' in page.text  # its template, its zh_CN catalog
    assert 'class="brand"' in page.text  # extends the core's base.html
    assert STYLESHEET.search(page.text)
    assert 'name="_csrf_token"' in page.text


async def test_static_file_is_served_fingerprinted_and_cached_for_a_year(client, make_user, sample_plugin):
    await _staff(client, make_user)
    url = STYLESHEET.search((await client.get("/sample")).text).group(1)
    response = await client.get(url)
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["cache-control"]
    assert "immutable" in response.headers["cache-control"]
    expected = (Path(sample_plugin.__file__).parent / "static" / "sample.css").read_text()
    assert response.text == expected
    assert (await client.get("/static/sample/sample.css")).status_code == 404
    assert (await client.get("/static/sample/sample.0000000000.css")).status_code == 404


async def test_a_note_is_written_to_its_table_and_read_back(client, make_user):
    from portal_sample.tables import Note

    user = await _staff(client, make_user)
    response = await post_form(client, "/sample/notes", {"text": "Plugin notes survive a round trip"})
    assert response.status_code == 303
    assert response.headers["location"] == "/sample"
    assert "Plugin notes survive a round trip" in (await client.get("/sample")).text
    rows = await Note.select(Note.author, Note.text)
    assert rows == [{"author": user.id, "text": "Plugin notes survive a round trip"}]


async def test_an_empty_note_is_refused_with_a_message(client, make_user):
    from portal_sample.tables import Note

    await _staff(client, make_user)
    response = await post_form(client, "/sample/notes", {"text": "   "})
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert await Note.count() == 0


async def test_a_note_without_the_csrf_token_is_refused(client, make_user):
    from portal_sample.tables import Note

    await _staff(client, make_user)
    response = await client.post("/sample/notes", data={"text": "forged"})
    assert response.status_code == 403
    assert await Note.count() == 0


async def test_the_migration_shipped_in_the_package_created_the_table(client, sample_plugin):
    from portal_sample.tables import Note

    migrations = Path(sample_plugin.__file__).parent / "migrations"
    assert [p.name for p in migrations.glob("sample_*.py")], "the migration is not in the installed package"
    assert await Note.table_exists()


async def test_a_user_without_the_permission_gets_403_and_no_menu_item(client, make_user):
    # sample.use is held by the roles in its Permission's roles tuple: ("staff",).
    await _staff(client, make_user, roles=["print_room"])
    assert (await client.get("/sample")).status_code == 403
    assert (await post_form(client, "/sample/notes", {"text": "not mine to write"})).status_code == 403
    home = await client.get("/")
    assert home.status_code == 200
    assert 'href="/sample"' not in home.text
    assert "sample-count" not in home.text


async def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    response = await client.get("/sample")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/sample")


async def test_menu_item_and_dashboard_widget_appear_on_the_home_page(client, make_user):
    await _staff(client, make_user)
    await post_form(client, "/sample/notes", {"text": "one"})
    await post_form(client, "/sample/notes", {"text": "two"})
    home = await client.get("/")
    assert home.status_code == 200
    menu = re.search(r'<nav class="menu".*?</nav>', home.text, re.S).group(0)
    assert '<a href="/sample">示例便笺</a>' in menu
    assert '<p class="sample-count">2 条便笺</p>' in home.text


async def test_services_work_without_http(client, make_user):
    from portal_sample import services

    created = await make_user()
    user = type("U", (), {"id": created.id})()
    note_id = await services.add_note(user, "  trimmed  ")
    assert [n["text"] for n in await services.notes_of(user)] == ["trimmed"]
    assert await services.count_notes(user) == 1
    assert isinstance(note_id, int)
    with pytest.raises(services.InvalidNote):
        await services.add_note(user, "x" * 501)


@pytest.mark.parametrize("portal_plugins", [list(BUILTIN_PLUGINS)])
async def test_installed_but_not_enabled_the_plugin_is_inert(client, make_user, portal_plugins):
    assert "sample" in installed_plugins()
    portal = client.app.state.portal
    assert "sample" not in portal.plugin_names
    assert "sample.use" not in portal.permissions.permissions
    await _staff(client, make_user)
    assert (await client.get("/sample")).status_code == 404
    assert (await post_form(client, "/sample/notes", {"text": "nobody listens"})).status_code == 404
    home = await client.get("/")
    assert 'href="/sample"' not in home.text
    assert "sample-count" not in home.text


SAMPLE_JS = re.compile(r'<script src="(/static/sample/sample\.[0-9a-f]{10}\.js)" defer></script>')


async def test_its_page_script_is_on_every_page_of_those_who_keep_notes(client, make_user, sample_plugin):
    await _staff(client, make_user, roles=["staff", "admin"])
    for path in ["/", "/account", "/admin", "/webmail", "/sample"]:
        page = await client.get(path)
        assert page.status_code == 200, path
        assert len(SAMPLE_JS.findall(page.text)) == 1, path
    script = await client.get(SAMPLE_JS.search(page.text).group(1))
    assert script.status_code == 200
    assert script.text == (Path(sample_plugin.__file__).parent / "static" / "sample.js").read_text()


async def test_its_page_script_is_not_given_to_others(client, make_user):
    assert not SAMPLE_JS.search((await client.get("/login")).text)
    await _staff(client, make_user, roles=["print_room"])
    assert not SAMPLE_JS.search((await client.get("/")).text)
