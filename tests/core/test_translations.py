"""Translations: every user-facing message is translatable and translated to Chinese, the
catalog tooling, and the language a page is rendered in (zh_CN by default, English on request).

When a test here fails because of a new message: run ``python -m portal.i18n_catalog update``,
write the Chinese in the ``msgstr`` of the zh_CN catalog it names, then
``python -m portal.i18n_catalog check``.
"""

from __future__ import annotations

import re
import textwrap

import pytest
from babel.messages.pofile import write_po

from portal.i18n import DEFAULT_LOCALE, LOCALES
from portal.i18n_catalog import (
    Component,
    check_component,
    components,
    extract,
    load_mapping,
    placeholders,
    read_catalog,
    update_component,
)
from portal.testing import login_as, post_form

COMPONENTS = components()
COMPONENT_NAMES = [c.name for c in COMPONENTS]
HOW_TO_FIX = ("run `python -m portal.i18n_catalog update`, translate the messages in {path}, "
              "then `python -m portal.i18n_catalog check`")


@pytest.fixture(scope="module")
def extracted():
    mapping = load_mapping()
    return {c.name: extract(c, mapping) for c in COMPONENTS}


def _component(name: str) -> Component:
    return next(c for c in COMPONENTS if c.name == name)


def _strings(value) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


# Every message has a Chinese translation ----------------------------------------------------


@pytest.mark.parametrize("name", COMPONENT_NAMES)
def test_every_extracted_message_has_a_chinese_translation(name, extracted):
    component = _component(name)
    template = extracted[name]
    assert any(m.id for m in template), f"no messages found in {name}: is babel.cfg right?"
    problems = check_component(component, template, DEFAULT_LOCALE)
    assert not problems, (
        f"{len(problems)} message(s) of {name} lack a {DEFAULT_LOCALE} translation; "
        + HOW_TO_FIX.format(path=component.po_path(DEFAULT_LOCALE).relative_to(component.root))
        + ":\n" + "\n".join(f"  {p}" for p in problems)
    )


@pytest.mark.parametrize("name", COMPONENT_NAMES)
def test_every_locale_has_a_catalog_with_every_message(name, extracted):
    component = _component(name)
    wanted = {m.id if isinstance(m.id, str) else tuple(m.id) for m in extracted[name] if m.id}
    for locale in LOCALES:
        catalog = read_catalog(component.po_path(locale), locale)
        assert catalog is not None, f"{component.po_path(locale)} is missing; " + HOW_TO_FIX.format(path="it")
        present = {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}
        assert not wanted - present, f"{locale} catalog of {name} lacks {sorted(map(str, wanted - present))}"


@pytest.mark.parametrize("name", COMPONENT_NAMES)
def test_placeholders_of_each_translation_match_the_message(name):
    component = _component(name)
    wrong = []
    for locale in LOCALES:
        catalog = read_catalog(component.po_path(locale), locale)
        for message in catalog or []:
            if not message.id:
                continue
            ids = _strings(message.id)
            expected_named = frozenset().union(*(placeholders(i)[0] for i in ids))
            for string in _strings(message.string):
                if not string:
                    continue
                named, positional, percents = placeholders(string)
                if named != expected_named or (len(ids) == 1 and (positional, percents) != placeholders(ids[0])[1:]):
                    wrong.append(f"{locale}: {ids[0]!r} -> {string!r}")
    assert not wrong, "placeholders differ from the message's:\n" + "\n".join(wrong)


def test_a_message_shared_by_catalogs_has_one_translation():
    # The catalogs are merged into one per locale at start-up: a plugin's translation of a
    # message would replace the core's everywhere.
    seen: dict[str, tuple[str, str]] = {}
    differing = []
    for component in COMPONENTS:
        catalog = read_catalog(component.po_path(DEFAULT_LOCALE), DEFAULT_LOCALE)
        for message in catalog or []:
            if not message.id or not message.string:
                continue
            key = str(message.id)
            first = seen.setdefault(key, (component.name, str(message.string)))
            if first[1] != str(message.string):
                differing.append(f"{key!r}: {first[0]} {first[1]!r}, {component.name} {str(message.string)!r}")
    assert not differing, "\n".join(differing)


def test_chinese_translations_are_chinese():
    # An English msgstr copied over by mistake would pass the "not empty" check.
    latin_only = []
    for component in COMPONENTS:
        catalog = read_catalog(component.po_path(DEFAULT_LOCALE), DEFAULT_LOCALE)
        for message in catalog or []:
            for string in _strings(message.string) if message.id else ():
                if string and not re.search(r"[\u4e00-\u9fff]", string):
                    latin_only.append(f"{component.name}: {message.id!r} -> {string!r}")
    assert not latin_only, "\n".join(latin_only)


# The tooling ---------------------------------------------------------------------------------


def _sample_plugin(tmp_path, python: str, template: str = "") -> Component:
    folder = tmp_path / "plugins" / "sample"
    (folder / "templates" / "sample").mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text(textwrap.dedent(python), encoding="utf-8")
    (folder / "templates" / "sample" / "page.html").write_text(template, encoding="utf-8")
    return Component("sample", (folder,), folder / "locale", tmp_path)


def test_extraction_finds_calls_in_python_and_templates(tmp_path):
    component = _sample_plugin(
        tmp_path,
        '''
        from portal import i18n
        from portal.i18n import gettext as _


        def menu(portal, n):
            return [_("Underscore call"), i18n.gettext("Gettext call"), portal.gettext("Facade call"),
                    _("%(n)s left", n=n), portal.ngettext("%(num)s day", "%(num)s days", n), _(variable)]
        ''',
        '{% extends "base.html" %}\n{% block content %}\n<h1>{{ _("Double quoted") }}</h1>\n'
        '<nav aria-label="{{ _(\'Single quoted\') }}">{{ gettext("Template gettext") }}</nav>\n'
        '<p>{{ _("Welcome, %(name)s", name=user.name) }}</p>\n'
        '{% trans %}Trans block{% endtrans %}\n{% endblock %}\n',
    )
    template = extract(component)
    found = {m.id if isinstance(m.id, str) else tuple(m.id) for m in template if m.id}
    assert found == {
        "Underscore call", "Gettext call", "Facade call", "%(n)s left", ("%(num)s day", "%(num)s days"),
        "Double quoted", "Single quoted", "Template gettext", "Welcome, %(name)s", "Trans block",
    }
    assert template["%(n)s left"].python_format
    assert "python-format" in template["Welcome, %(name)s"].flags
    assert not template["Double quoted"].python_format
    assert template["Double quoted"].locations == [("plugins/sample/templates/sample/page.html", 3)]
    assert template["Facade call"].locations[0][0] == "plugins/sample/__init__.py"


def _translate(component: Component, strings: dict[str, str]) -> None:
    path = component.po_path("zh_CN")
    catalog = read_catalog(path, "zh_CN")
    for msgid, string in strings.items():
        catalog[msgid].string = string
    with path.open("wb") as handle:
        write_po(handle, catalog)


def test_update_keeps_translations_adds_new_messages_and_obsoletes_removed_ones(tmp_path):
    component = _sample_plugin(tmp_path, '_("One")\n_("Two")\n')
    first = update_component(component, extract(component))
    assert {(r.locale, r.written, r.added) for r in first} == {("zh_CN", True, 2), ("en", True, 2)}
    _translate(component, {"One": "一", "Two": "二"})
    assert check_component(component, extract(component)) == []

    _sample_plugin(tmp_path, '_("One")\n_("Three")\n')
    update_component(component, extract(component))
    zh = component.po_path("zh_CN")
    catalog = read_catalog(zh, "zh_CN")
    assert catalog["One"].string == "一"
    assert catalog["Three"].string == ""
    assert "Two" not in catalog and catalog.obsolete["Two"].string == "二"
    english = read_catalog(component.po_path("en"), "en")
    assert {m.id: m.string for m in english if m.id} == {"One": "", "Three": ""}
    assert [(p.msgid, p.reason) for p in check_component(component, extract(component))] == [("Three", "not translated")]

    # A message that comes back gets its translation back; an update with no change writes nothing.
    _sample_plugin(tmp_path, '_("One")\n_("Two")\n_("Three")\n')
    update_component(component, extract(component))
    assert read_catalog(zh, "zh_CN")["Two"].string == "二"
    assert not any(r.written for r in update_component(component, extract(component)))


def test_check_reports_missing_fuzzy_and_wrong_placeholders(tmp_path):
    component = _sample_plugin(tmp_path, '_("Hello %(name)s", name="x")\n_("Bye")\n')
    update_component(component, extract(component))
    _translate(component, {"Hello %(name)s": "你好，%(nom)s", "Bye": "再见"})
    catalog = read_catalog(component.po_path("zh_CN"), "zh_CN")
    catalog["Bye"].flags.add("fuzzy")
    with component.po_path("zh_CN").open("wb") as handle:
        write_po(handle, catalog)
    _sample_plugin(tmp_path, '_("Hello %(name)s", name="x")\n_("Bye")\n_("New")\n')
    problems = {p.msgid: p.reason for p in check_component(component, extract(component))}
    assert problems["New"].startswith("not in the catalog")
    assert problems["Bye"].startswith("fuzzy")
    assert problems["Hello %(name)s"].startswith("placeholders differ")


# The language of the pages ---------------------------------------------------------------------


async def test_login_page_is_in_chinese_by_default(client):
    response = await client.get("/login")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text
    assert "<h1>登录</h1>" in response.text
    assert "政务门户" in response.text
    assert "Log in" not in response.text
    refused = await post_form(client, "/login", {"username": "nobody", "password": "wrong-password"})
    assert "用户名或密码错误。" in refused.text


async def test_login_page_is_in_english_for_an_english_browser(client):
    response = await client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in response.text
    assert "<h1>Log in</h1>" in response.text
    assert "Government Portal" in response.text
    assert "登录" not in response.text


async def test_footer_form_switches_the_language_for_the_session(client):
    response = await post_form(client, "/preferences", {"locale": "en", "next": "/login"})
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login"
    page = await client.get("/login")
    assert '<html lang="en">' in page.text
    assert "<h1>Log in</h1>" in page.text
    # The choice beats the browser's language, and can be switched back.
    assert "<h1>Log in</h1>" in (await client.get("/login", headers={"Accept-Language": "zh-CN"})).text
    await post_form(client, "/preferences", {"locale": "zh_CN", "next": "/login"})
    page = await client.get("/login", headers={"Accept-Language": "en"})
    assert '<html lang="zh-CN">' in page.text
    assert "<h1>登录</h1>" in page.text


async def test_plugin_messages_follow_the_language_of_a_logged_in_user(client, make_user):
    user = await make_user("lin", roles=["staff"])
    await login_as(client, user)
    home = await client.get("/")
    assert '<html lang="zh-CN">' in home.text
    assert "政务邮箱" in home.text and "电子公文" in home.text
    await post_form(client, "/preferences", {"locale": "en", "next": "/"})
    home = await client.get("/")
    assert '<html lang="en">' in home.text
    assert "Mailbox" in home.text and "Documents" in home.text
    assert "政务邮箱" not in home.text
