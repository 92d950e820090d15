"""What every page's template can use: translations, themes, locales, the static helper and the
plugins' page assets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal import i18n, localtime
from portal.api import PageAsset
from portal.plugins import call_startup_hook
from portal.templating import StaticFiles, Theme


@dataclass(frozen=True)
class ShellAsset:
    """A plugin's page asset with the static root it is served from."""

    root: str
    path: str
    kind: str
    permission: str | None


def template_globals(portal, themes: dict[str, Theme], static: StaticFiles) -> dict[str, Any]:
    assets = collect_page_assets(portal, static)
    return {
        "_": i18n.gettext,
        "get_locale": i18n.get_locale,
        "locales": i18n.LOCALES,
        "themes": themes,
        "portal": portal,
        "role_label": lambda code: _role_labels().get(code, code),
        # A moment as Beijing time, the portal's time zone (portal.localtime).
        "local_time": localtime.local,
        "page_assets": lambda user: page_assets_for(assets, user),
    }


def collect_page_assets(portal, static: StaticFiles) -> list[ShellAsset]:
    """The ``register_page_assets`` answers, checked once: a wrong name stops the start-up."""
    found = []
    for name, declared in call_startup_hook(portal.pm, "register_page_assets", portal=portal).items():
        for asset in declared if isinstance(declared, (list, tuple)) else [declared]:
            if not isinstance(asset, PageAsset) or not asset.path.endswith((".js", ".css")):
                raise ValueError(f"plugin {name!r}: register_page_assets must return PageAssets of .js or .css files")
            if static.resolve(name, asset.path) is None:
                raise ValueError(f"plugin {name!r}: page asset {asset.path!r} is not in its static folder")
            if asset.permission is not None and asset.permission not in portal.permissions.permissions:
                raise ValueError(f"plugin {name!r}: page asset {asset.path!r} needs the unknown permission {asset.permission!r}")
            found.append(ShellAsset(name, asset.path, asset.kind, asset.permission))
    return found


def page_assets_for(assets: list[ShellAsset], user) -> list[ShellAsset]:
    """What the page of ``user`` includes: nothing for an anonymous visitor."""
    if not user:
        return []
    return [a for a in assets if a.permission is None or user.can(a.permission)]


def _role_labels() -> dict[str, str]:
    from portal.roles import role_labels

    return role_labels()
