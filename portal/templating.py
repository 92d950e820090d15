"""Jinja2 templates looked up theme ▸ plugins ▸ core, and fingerprinted static files.

Each theme gets its own Environment (the loader chain differs); ``default:name.html`` always
names the plugin or core original, so a theme override can ``{% extends "default:base.html" %}``.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import jinja2
from markupsafe import Markup

import themes as themes_package
from portal import i18n

CORE_TEMPLATES = Path(__file__).parent / "templates"
CORE_STATIC = Path(__file__).parent / "static"
THEMES_DIR = Path(themes_package.__file__).parent
STATIC_PREFIX = "/static"


@dataclass(frozen=True)
class Theme:
    name: str
    label: str
    label_en: str
    path: Path

    @property
    def templates(self) -> Path:
        return self.path / "templates"

    @property
    def static(self) -> Path:
        return self.path / "static"


def discover_themes(folder: Path = THEMES_DIR) -> dict[str, Theme]:
    found = {}
    for toml in sorted(folder.glob("*/theme.toml")):
        data = tomllib.loads(toml.read_text(encoding="utf-8"))
        name = toml.parent.name
        found[name] = Theme(name, data.get("label", name), data.get("label_en", name), toml.parent)
    return found


class StaticFiles:
    """Static roots by name ("core", each plugin, "theme-<name>") with content fingerprints."""

    def __init__(self, roots: dict[str, Path], themes: dict[str, Theme]):
        self.roots = dict(roots)
        for theme in themes.values():
            if theme.static.is_dir():
                self.roots[f"theme-{theme.name}"] = theme.static
        self._hashes: dict[Path, str] = {}
        self._urls: dict[tuple[str, str, str | None], str] = {}

    def fingerprint(self, path: Path) -> str:
        digest = self._hashes.get(path)
        if digest is None:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            self._hashes[path] = digest
        return digest

    def resolve(self, root: str, path: str, theme: str | None = None) -> tuple[str, Path] | None:
        """The root and file that serve ``root``/``path`` for ``theme`` (a theme may override it)."""
        if theme:
            themed = self._file(f"theme-{theme}", f"{root}/{path}")
            if themed:
                return f"theme-{theme}", themed
        found = self._file(root, path)
        return (root, found) if found else None

    def _file(self, root: str, path: str) -> Path | None:
        base = self.roots.get(root)
        if base is None:
            return None
        candidate = (base / path).resolve()
        if not candidate.is_relative_to(base.resolve()) or not candidate.is_file():
            return None
        return candidate

    def url(self, root: str, path: str, theme: str | None = None) -> str:
        """The fingerprinted URL, worked out once per file like its fingerprint (every page asks
        for a handful, and resolving the paths cost more than rendering them)."""
        url = self._urls.get((root, path, theme))
        if url is None:
            url = self._urls[(root, path, theme)] = self._url(root, path, theme)
        return url

    def _url(self, root: str, path: str, theme: str | None) -> str:
        resolved = self.resolve(root, path, theme)
        if resolved is None:
            raise FileNotFoundError(f"no static file {root}/{path}")
        served_root, file = resolved
        served_path = path if served_root == root else f"{root}/{path}"
        stem, dot, suffix = served_path.rpartition(".")
        return f"{STATIC_PREFIX}/{served_root}/{stem}.{self.fingerprint(file)}.{suffix}" if dot else f"{STATIC_PREFIX}/{served_root}/{served_path}"

    def lookup_fingerprinted(self, root: str, path: str) -> Path | None:
        """The file behind a fingerprinted URL path, or None if the name or fingerprint is wrong."""
        stem, _, suffix = path.rpartition(".")
        name, _, digest = stem.rpartition(".")
        if not name or not digest:
            return None
        file = self._file(root, f"{name}.{suffix}")
        if file is None or self.fingerprint(file) != digest:
            return None
        return file


class Templates:
    def __init__(self, plugin_template_dirs: list[Path], static: StaticFiles, themes: dict[str, Theme], globals_: dict[str, Any]):
        self.static = static
        self.themes = themes
        self.plugin_dirs = plugin_template_dirs
        self.globals = globals_
        self._environments: dict[str, jinja2.Environment] = {}

    def environment(self, theme: str) -> jinja2.Environment:
        env = self._environments.get(theme)
        if env is None:
            env = self._make_environment(theme)
            self._environments[theme] = env
        return env

    def _make_environment(self, theme_name: str) -> jinja2.Environment:
        originals = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in [*self.plugin_dirs, CORE_TEMPLATES]])
        loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({"default": originals}, delimiter=":")]
        theme = self.themes.get(theme_name)
        if theme and theme.templates.is_dir():
            loaders.append(jinja2.FileSystemLoader(str(theme.templates)))
        loaders.append(originals)
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=True,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        env.install_gettext_callables(i18n.raw_gettext, i18n.raw_ngettext, newstyle=True)
        env.globals.update(self.globals)
        env.globals["theme_name"] = theme_name
        env.globals["static"] = lambda root, path: self.static.url(root, path, theme_name)
        return env

    def render(self, template: str, context: dict[str, Any], theme: str = "default") -> str:
        return self.environment(theme).get_template(template).render(context)

    def static_url(self, root: str, path: str, theme: str | None = None) -> str:
        return self.static.url(root, path, theme)


def inline_svg(svg: str) -> Markup:
    """Mark an SVG produced by our own code (never user input) as safe to embed."""
    return Markup(svg)


GlobalFactory = Callable[[], Any]
