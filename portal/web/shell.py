"""What every page's template can use: translations, themes, locales, the static helper."""

from __future__ import annotations

from typing import Any

from portal import i18n, localtime
from portal.templating import Theme


def template_globals(portal, themes: dict[str, Theme]) -> dict[str, Any]:
    return {
        "_": i18n.gettext,
        "get_locale": i18n.get_locale,
        "locales": i18n.LOCALES,
        "themes": themes,
        "portal": portal,
        "role_label": lambda code: _role_labels().get(code, code),
        # A moment as Beijing time, the portal's time zone (portal.localtime).
        "local_time": localtime.local,
    }


def _role_labels() -> dict[str, str]:
    from portal.roles import role_labels

    return role_labels()
