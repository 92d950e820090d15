"""Maintain the Babel catalogs of the core and of the built-in plugins.

Usage (from a source checkout)::

    python -m portal.i18n_catalog update [--drop-obsolete] [COMPONENT ...]
    python -m portal.i18n_catalog check [COMPONENT ...]

A component is ``core`` (``portal/`` and ``themes/``, catalogs in ``portal/locale``) or a built-in
plugin (``plugins/<name>/``, catalogs in ``plugins/<name>/locale``); the default is all of them.
Messages are found as ``babel.cfg`` says: ``_()``, ``gettext()``, ``ngettext()`` and
``portal.gettext()`` calls with literal strings in Python, ``_()``/``gettext()`` calls and
``{% trans %}`` blocks in Jinja2 templates.

``update`` merges what it extracts into ``<locale>/LC_MESSAGES/messages.po`` for every locale:
translations are kept, new messages are added untranslated, messages gone from the code are kept
as obsolete (``#~``, and revived with their translation if the message comes back) unless
``--drop-obsolete``. A file is rewritten only when its messages change.

``check`` extracts again and lists every message that has no usable ``zh_CN`` translation
(missing from the catalog, empty or fuzzy) or whose translation's placeholders (``%(name)s``)
differ from the message's; it exits with status 1 if there is any.

English is the source language: the ``en`` catalogs keep empty translations, so the message id
is shown. Write the Chinese translation in the ``zh_CN`` catalog's ``msgstr`` and run ``check``.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from babel.messages.catalog import PYTHON_FORMAT, Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from portal.i18n import DEFAULT_LOCALE, LOCALES
from portal.settings import BUILTIN_PLUGINS

ROOT = Path(__file__).resolve().parent.parent
MAPPING_FILE = ROOT / "babel.cfg"
DOMAIN = "messages"
SOURCE_LOCALE = "en"
COMMENT_TAGS = ("TRANSLATORS:",)
HEADER_COMMENT = (
    "# Translations of the portal ({component}), locale {locale}.\n"
    "# Maintained with `python -m portal.i18n_catalog update`: edit the msgstr lines only.\n"
    "# Message ids are English; the en catalog keeps empty translations (the id is shown)."
)

Mapping = tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class Component:
    """A set of source folders sharing one catalog folder."""

    name: str
    sources: tuple[Path, ...]
    locale_dir: Path
    # Locations in the catalogs are written relative to this folder.
    root: Path = ROOT

    def po_path(self, locale: str) -> Path:
        return self.locale_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@dataclass(frozen=True)
class Problem:
    component: str
    msgid: str
    reason: str
    locations: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"  ({', '.join(self.locations)})" if self.locations else ""
        return f"{self.component}: {self.msgid!r}: {self.reason}{where}"


@dataclass(frozen=True)
class UpdateResult:
    component: str
    locale: str
    path: Path
    written: bool
    messages: int
    added: int
    obsoleted: int
    untranslated: int


def components(root: Path = ROOT, plugins: Iterable[str] = BUILTIN_PLUGINS) -> list[Component]:
    """The core and each built-in plugin."""
    found = [Component("core", (root / "portal", root / "themes"), root / "portal" / "locale", root)]
    for name in plugins:
        folder = root / "plugins" / name
        found.append(Component(name, (folder,), folder / "locale", root))
    return found


def load_mapping(path: Path = MAPPING_FILE) -> Mapping:
    """The extraction method map and options from ``babel.cfg``."""
    if not path.is_file():
        raise SystemExit(f"{path} not found: run this from a source checkout of the portal.")
    with path.open(encoding="utf-8") as handle:
        return parse_mapping_cfg(handle, str(path))


def _directory_filter(path: str) -> bool:
    name = os.path.basename(path)
    return not (name.startswith((".", "_")) or name in {"locale", "node_modules", "static"})


def extract(component: Component, mapping: Mapping | None = None) -> Catalog:
    """Every translatable message in the component's sources, as a template catalog."""
    method_map, options_map = mapping or load_mapping()
    template = Catalog(domain=DOMAIN, fuzzy=False)
    for source in component.sources:
        if not source.is_dir():
            continue
        for filename, lineno, message, comments, context in extract_from_dir(
            source, method_map, options_map, comment_tags=COMMENT_TAGS, strip_comment_tags=True,
            directory_filter=_directory_filter,
        ):
            location = (source / filename).resolve().relative_to(component.root.resolve()).as_posix()
            template.add(message, None, [(location, lineno)], auto_comments=comments, context=context)
    return template


def _new_catalog(component: Component, locale: str) -> Catalog:
    try:
        from importlib.metadata import version

        portal_version = version("portal")
    except Exception:  # not installed: the catalogs do not depend on it
        portal_version = "0"
    return Catalog(
        locale=locale,
        domain=DOMAIN,
        header_comment=HEADER_COMMENT.format(component=component.name, locale=locale),
        project=f"portal-{component.name}" if component.name != "core" else "portal",
        version=portal_version,
        msgid_bugs_address="Portal maintainers",
        last_translator="Portal contributors",
        language_team=f"{LOCALES.get(locale, locale)}",
        fuzzy=False,
    )


def read_catalog(path: Path, locale: str) -> Catalog | None:
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


def _render(catalog: Catalog, drop_obsolete: bool) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, include_lineno=False, ignore_obsolete=drop_obsolete, include_previous=True)
    return buffer.getvalue()


def _strings(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value or "",)


def _is_translated(message: Message) -> bool:
    return all(s and s.strip() for s in _strings(message.string)) and not message.fuzzy


def update_component(component: Component, template: Catalog, locales: Iterable[str] = LOCALES,
                     drop_obsolete: bool = False) -> list[UpdateResult]:
    """Merge ``template`` into the component's catalog of each locale; write those that changed."""
    results = []
    for locale in locales:
        path = component.po_path(locale)
        old_bytes = path.read_bytes() if path.is_file() else None
        catalog = read_catalog(path, locale) or _new_catalog(component, locale)
        before = {m.id for m in catalog if m.id}
        # Obsolete messages come back, translation included, if the code uses them again.
        for message in catalog.obsolete.values():
            if message.id not in catalog:
                catalog[message.id] = message
        catalog.obsolete.clear()
        catalog.update(template, update_creation_date=False)
        # Keep only obsolete messages worth reviving: those with a translation.
        for key, message in list(catalog.obsolete.items()):
            if not any(_strings(message.string)):
                del catalog.obsolete[key]
        after = {m.id for m in catalog if m.id}
        rendered = _render(catalog, drop_obsolete)
        written = rendered != old_bytes
        if written:
            catalog.revision_date = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
            rendered = _render(catalog, drop_obsolete)
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".po.tmp")
            temporary.write_bytes(rendered)
            temporary.replace(path)
        untranslated = 0 if locale == SOURCE_LOCALE else sum(1 for m in catalog if m.id and not _is_translated(m))
        results.append(UpdateResult(component.name, locale, path, written, len(after), len(after - before),
                                    len(before - after), untranslated))
    return results


def placeholders(text: str) -> tuple[frozenset[str], tuple[str, ...], int]:
    """The ``%(name)s`` names, the positional conversions (``%s``, ``%d``) and the ``%%`` count."""
    named, positional, percents = set(), [], 0
    for match in PYTHON_FORMAT.finditer(text):
        name, _flags, conversion = match.groups()
        if conversion == "%" and name is None:
            percents += 1
        elif name is not None:
            named.add(name)
        else:
            positional.append(conversion)
    return frozenset(named), tuple(positional), percents


def _placeholder_problem(message: Message) -> str | None:
    ids, strings = _strings(message.id), _strings(message.string)
    if not (message.python_format or "python-format" in message.flags):
        return None
    expected_named = frozenset().union(*(placeholders(i)[0] for i in ids))
    expected = placeholders(ids[0])
    for string in strings:
        if not string:
            continue
        named, positional, percents = placeholders(string)
        if named != expected_named:
            return f"placeholders differ: {sorted(named)} instead of {sorted(expected_named)}"
        if len(ids) == 1 and (positional, percents) != expected[1:]:
            return f"placeholders differ: {string!r}"
    return None


def check_component(component: Component, template: Catalog, locale: str = DEFAULT_LOCALE) -> list[Problem]:
    """Messages of ``template`` without a usable translation in the component's ``locale`` catalog."""
    catalog = read_catalog(component.po_path(locale), locale)
    problems = []
    for message in template:
        if not message.id:
            continue
        where = tuple(dict.fromkeys(f for f, _ in message.locations))
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        translated = catalog.get(message.id, message.context) if catalog is not None else None
        if translated is None:
            reason = "not in the catalog (run `python -m portal.i18n_catalog update`)"
        elif translated.fuzzy:
            reason = "fuzzy translation (review it, then remove the fuzzy flag)"
        elif not _is_translated(translated):
            reason = "not translated"
        else:
            reason = _placeholder_problem(translated)
        if reason:
            problems.append(Problem(component.name, msgid, reason, where))
    return problems


def _select(names: list[str], root: Path = ROOT) -> list[Component]:
    available = components(root)
    if not names:
        return available
    by_name = {c.name: c for c in available}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown component(s) {', '.join(unknown)}; choose from {', '.join(by_name)}")
    return [by_name[n] for n in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal.i18n_catalog", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    update = commands.add_parser("update", help="extract messages and merge them into every catalog")
    update.add_argument("--drop-obsolete", action="store_true", help="remove messages the code no longer uses")
    update.add_argument("components", nargs="*", help="core and/or plugin names (default: all)")
    check = commands.add_parser("check", help=f"list messages without a {DEFAULT_LOCALE} translation")
    check.add_argument("components", nargs="*", help="core and/or plugin names (default: all)")
    args = parser.parse_args(argv)

    mapping = load_mapping()
    selected = _select(args.components)
    if args.command == "update":
        for component in selected:
            for r in update_component(component, extract(component, mapping), drop_obsolete=args.drop_obsolete):
                state = "updated" if r.written else "unchanged"
                todo = f", {r.untranslated} untranslated" if r.untranslated else ""
                print(f"{r.path.relative_to(ROOT) if r.path.is_relative_to(ROOT) else r.path}: {state}, "
                      f"{r.messages} messages (+{r.added}, -{r.obsoleted}){todo}")
        return 0

    problems: list[Problem] = []
    counts: Counter[str] = Counter()
    for component in selected:
        template = extract(component, mapping)
        counts[component.name] = sum(1 for m in template if m.id)
        problems += check_component(component, template)
    total = sum(counts.values())
    if problems:
        print(f"{len(problems)} of {total} messages lack a {DEFAULT_LOCALE} translation:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"All {total} messages have a {DEFAULT_LOCALE} translation "
          f"({', '.join(f'{name} {n}' for name, n in counts.items())}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
