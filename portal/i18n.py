"""Translations: Babel catalogs of the core and of each plugin, chosen per request.

Message ids are English; ``zh_CN`` is the default locale. The current locale lives in a
context variable set by the request middleware, so ``gettext`` works the same in handlers,
templates and hooks.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = {"zh_CN": "简体中文", "en": "English"}
DEFAULT_LOCALE = "zh_CN"
CORE_LOCALE_DIR = Path(__file__).parent / "locale"

_current_locale: ContextVar[str] = ContextVar("portal_locale", default=DEFAULT_LOCALE)
_catalogs: dict[str, NullTranslations] = {}


def _load_po(path: Path) -> Translations:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def load_catalogs(locale_dirs: list[Path]) -> None:
    """Load every locale's messages from the core and the given plugin folders."""
    _catalogs.clear()
    for locale in LOCALES:
        merged: NullTranslations = NullTranslations()
        for folder in [CORE_LOCALE_DIR, *locale_dirs]:
            po = Path(folder) / locale / "LC_MESSAGES" / "messages.po"
            if po.exists():
                translations = _load_po(po)
                if isinstance(merged, Translations):
                    merged.merge(translations)
                else:
                    merged = translations
        _catalogs[locale] = merged


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def get_locale() -> str:
    return _current_locale.get()


@contextmanager
def locale_context(locale: str) -> Iterator[None]:
    """Translate into ``locale`` inside the block (a message written for someone else)."""
    token = _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current_locale.reset(token)


def _translations() -> NullTranslations:
    catalog = _catalogs.get(get_locale())
    if catalog is None:
        if not _catalogs:
            load_catalogs([])
        catalog = _catalogs.get(get_locale(), NullTranslations())
    return catalog


def gettext(message: str, **variables) -> str:
    text = _translations().gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    text = _translations().ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def raw_gettext(message: str) -> str:
    """The translation without formatting (Jinja's newstyle gettext formats it itself)."""
    return _translations().gettext(message)


def raw_ngettext(singular: str, plural: str, n: int) -> str:
    return _translations().ngettext(singular, plural, n)


def negotiate(accept_language: str | None) -> str | None:
    """The best supported locale for an Accept-Language header, or None."""
    if not accept_language:
        return None
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().replace("-", "_").lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return None
