"""Public data types that plugins return from hooks and receive in them.

Everything here is part of the plugin API (see ``docs/plugins.md``); the core's other modules
are not, except those the guide lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

from piccolo.table import Table

from portal.i18n import DEFAULT_LOCALE


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
    """``check(portal)`` returns (status, message): status ``"ok"``, ``"warning"`` (works, but
    needs attention) or ``"fail"``; True and False mean ``"ok"`` and ``"fail"``. The message is
    one sentence in the current language (``portal.gettext``). ``label`` names the check in
    reports (translated when the hook is called); ``name`` is its stable id."""

    name: str
    check: Callable[[Any], Awaitable[tuple[bool | str, str]]]
    label: str = ""


@dataclass(frozen=True)
class SystemMessage:
    """A message from the portal itself (a report, an alert), written in each language:
    ``subject``, ``text`` and ``html`` map a locale (``zh_CN``, ``en``) to its version; ``html``
    may be empty. ``in_locale`` gives one language, the default locale's when it lacks one."""

    subject: dict[str, str]
    text: dict[str, str]
    html: dict[str, str] = field(default_factory=dict)

    def in_locale(self, locale: str) -> tuple[str, str, str]:
        """(subject, text, html) in ``locale``, else in the default locale."""
        chosen = locale if locale in self.subject else DEFAULT_LOCALE
        return self.subject.get(chosen, ""), self.text.get(chosen, ""), self.html.get(chosen, "")


@dataclass(frozen=True)
class Period:
    """The days a statistic counts: ``first`` to ``last``, both included, in the portal's time
    zone (``portal.localtime.ZONE``); ``start`` and ``end`` are the aware moments bounding them
    (``start <= moment < end``)."""

    first: date
    last: date
    start: datetime
    end: datetime

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class Link:
    """A table cell that links somewhere: the page shows ``text`` as a link, CSV the text alone."""

    text: str
    url: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Column:
    """A column of a :class:`StatisticTable`. ``kind``: ``text``, ``count``, ``bytes`` or ``day``;
    ``chart=False`` keeps a measure out of the chart (a quota beside the space used)."""

    label: str
    kind: str = "count"
    chart: bool = True


@dataclass(frozen=True)
class StatisticTable:
    """What a statistic computes: rows of values (str, int, ``date`` or :class:`Link`) under
    ``columns``. The page charts the ``count``/``bytes`` columns against the first one as
    ``chart`` says (``bar``, ``line`` or ``""`` for none), at most ``chart_rows`` rows of it."""

    columns: tuple[Column, ...]
    rows: list[tuple]
    chart: str = "bar"
    chart_rows: int = 31
    # Shown under the table: what is counted and what is not.
    note: str = ""


@dataclass(frozen=True)
class Statistic:
    """A table on the statistics page (MAIL-14). ``compute(portal, period)`` returns a
    :class:`StatisticTable`; ``name`` is ``<plugin>.<thing>``. A statistic that ignores the
    period (a snapshot such as space used now) says so with ``uses_period=False``."""

    name: str
    label: str
    compute: Callable[[Any, Period], Awaitable[StatisticTable]]
    order: int = 100
    uses_period: bool = True


@dataclass(frozen=True)
class AccountFinding:
    """An account a health rule flags, with the reason shown to the administrator."""

    user_id: int
    reason: str


@dataclass(frozen=True)
class AccountCheck:
    """A rule of the account health page (MAIL-11). ``find(portal, now)`` returns a list of
    :class:`AccountFinding`; ``kind`` is ``attack`` (someone is trying to get in) or
    ``abnormal`` (the account behaves unlike itself)."""

    name: str
    label: str
    find: Callable[[Any, datetime], Awaitable[list[AccountFinding]]]
    kind: str = "abnormal"


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


@dataclass(frozen=True)
class LoginAlert:
    """Something about a login the user should know of, given to ``on_login_alert``.

    ``kind`` is ``new_place``: a login from a place the user had not logged in from before
    (MAIL-20). ``place`` and ``known_places`` are as a person reads them (``山东省 济南市``);
    ``at`` is an aware datetime (UTC).
    """

    kind: str
    place: str
    ip: str
    user_agent: str
    at: datetime
    known_places: tuple[str, ...] = ()
