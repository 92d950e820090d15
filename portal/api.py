"""Public data types that plugins return from hooks and receive in them.

Everything here is part of the plugin API (see ``docs/plugins.md``); the core's other modules
are not, except those the guide lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

from piccolo.table import Table


@dataclass(frozen=True)
class TableSet:
    """A plugin's tables and the folder holding their Piccolo migrations.

    ``app_name`` must be the plugin's name: one name per plugin everywhere.
    """

    app_name: str
    tables: list[type[Table]]
    migrations_dir: Path


@dataclass(frozen=True)
class Permission:
    """A permission a plugin declares, named ``<plugin>.<action>``.

    ``roles`` are the roles that hold it unless an administrator changes that.
    """

    name: str
    label: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class MenuItem:
    label: str
    url: str
    # Plugin name, used to mark the menu entry of the current section.
    section: str = ""
    order: int = 100


@dataclass(frozen=True)
class PageAsset:
    """A script (``.js``) or stylesheet (``.css``) of the plugin's static folder that the core
    puts on every full page of logged-in users who hold ``permission`` (every logged-in user
    when it is None)."""

    path: str
    permission: str | None = None

    @property
    def kind(self) -> str:
        return "script" if self.path.endswith(".js") else "stylesheet"


@dataclass(frozen=True)
class DashboardItem:
    """A widget on the home page: a template rendered with ``context``."""

    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


@dataclass(frozen=True)
class SearchItem:
    title: str
    url: str
    snippet: str = ""
    section: str = ""


@dataclass(frozen=True)
class Job:
    """Periodic work: ``run(portal)`` is awaited every ``every_seconds``."""

    name: str
    every_seconds: int
    run: Callable[[Any], Awaitable[None]]


@dataclass(frozen=True)
class Service:
    """A long-running network service started with the web application (e.g. an SMTP listener).

    ``start(portal)`` returns an awaitable ``stop()``; it is not started when
    ``portal.settings.services`` is False (tests start services themselves).
    """

    name: str
    start: Callable[[Any], Awaitable[Callable[[], Awaitable[None]]]]


@dataclass(frozen=True)
class Command:
    """A ``portal <name>`` sub-command. ``arguments`` are argparse ``(flags, options)`` pairs;
    ``run(portal, args)`` is awaited after migrations and returns the exit code."""

    name: str
    help: str
    run: Callable[[Any, Any], Awaitable[int]]
    arguments: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = ()


@dataclass(frozen=True)
class HealthCheck:
    """``check(portal)`` returns (ok, message)."""

    name: str
    check: Callable[[Any], Awaitable[tuple[bool, str]]]


@dataclass(frozen=True)
class Statistic:
    """``compute(portal)`` returns a number or a table of rows for the statistics page."""

    name: str
    label: str
    compute: Callable[[Any], Awaitable[Any]]


@dataclass(frozen=True)
class CurrentUser:
    """The logged-in user as plugins see him."""

    id: int
    username: str
    display_name: str
    email: str
    unit_id: int | None
    department_id: int | None
    roles: frozenset[str]
    permissions: frozenset[str]
    locale: str
    theme: str

    def can(self, permission: str) -> bool:
        return "core.admin" in self.permissions or permission in self.permissions

    @property
    def is_admin(self) -> bool:
        return "core.admin" in self.permissions
