"""THE plugin API: every hook a plugin may implement.

Each hook receives ``portal``, the facade (:class:`portal.facade.Portal`) with the few things
plugins may use: settings, url building, rendering, auditing and notification. Hook families:

- ``register_*``: called once at start-up, return data;
- ``*_items``: called per request, return items for the current user;
- ``on_*``: events, return nothing.

Any hook may return an awaitable and the core awaits it, except the ``register_*`` hooks that
build the application (routes, site routes, tables, templates, static, page assets, locales,
permissions), which must return their value. The reference in ``docs/plugin-hooks.md`` is
checked against this file by the test suite.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("portal")
hookimpl = pluggy.HookimplMarker("portal")

HOOKS_VERSION = 1


# Start-up: called once, return data ---------------------------------------------------------


@hookspec
def register_routes(portal):
    """Return a list of Litestar route handlers or routers.

    Mount them under the plugin's own prefix (``/<plugin name>``). Handlers are guarded by
    ``portal.web.login_required`` / ``portal.web.permission_required`` as they need.
    """


@hookspec
def register_site_routes(portal):
    """Return a dict {prefix: list of route handlers}: public addresses outside ``/<plugin name>``.

    Each list is mounted at ``/<prefix>``, for short addresses people type or configure once
    (the disclosure kiosk's ``/kiosk/<unit>``). A prefix is one lowercase word that is neither
    the first segment of a core route, nor an enabled plugin's name, nor another plugin's site
    prefix: a clash stops the start-up, naming the plugin.
    """


@hookspec
def register_tables(portal):
    """Return a :class:`portal.api.TableSet`: the plugin's Piccolo tables and migrations folder.

    ``portal migrate`` (and ``portal serve``) apply the migrations of every enabled plugin
    after the core's.
    """


@hookspec
def register_templates(portal):
    """Return the path of a templates folder holding a folder named after the plugin.

    Templates are looked up theme, then plugins, then core; ``default:name.html`` always
    names the core or plugin original so an override can extend it.
    """


@hookspec
def register_static(portal):
    """Return the path of a folder served at ``/static/<plugin name>/``, fingerprinted."""


@hookspec
def register_page_assets(portal):
    """Return a list of :class:`portal.api.PageAsset`: scripts and stylesheets of the plugin's
    static folder that every full page includes for the logged-in users who may use them."""


@hookspec
def register_locales(portal):
    """Return the path of a folder of Babel catalogs (``<locale>/LC_MESSAGES/messages.po``)."""


@hookspec
def register_permissions(portal):
    """Return a list of :class:`portal.api.Permission`, each named ``<plugin>.<action>``."""


@hookspec
def register_jobs(portal):
    """Return a list of :class:`portal.api.Job`: periodic work run by the worker."""


@hookspec
def register_task_handlers(portal):
    """Return a dict {kind: :class:`portal.jobs.TaskHandler`} for jobs queued with
    ``portal.jobs.enqueue(kind, payload)``; each kind starts with ``<plugin name>.``."""


@hookspec
def register_services(portal):
    """Return a list of :class:`portal.api.Service`: network services (listeners) started and
    stopped with the web application."""


@hookspec
def register_commands(portal):
    """Return a list of :class:`portal.api.Command`: sub-commands of the ``portal`` command."""


@hookspec
def register_health_checks(portal):
    """Return a list of :class:`portal.api.HealthCheck`, run by ``/health`` and the health
    self-check report (MAIL-10)."""


@hookspec
def register_statistics(portal):
    """Return a list of :class:`portal.api.Statistic` for the statistics pages: each computes a
    :class:`portal.api.StatisticTable` for a :class:`portal.api.Period` of days. Called each time
    the pages are built (labels come out in the administrator's language), so compute nothing here."""


@hookspec
def register_account_checks(portal):
    """Return a list of :class:`portal.api.AccountCheck`: rules of the account health page that
    flag accounts under attack or behaving abnormally. Called each time the page is built."""


# Services the core asks of plugins ---------------------------------------------------------


@hookspec
def deliver_system_message(portal, recipients, message):
    """Deliver ``message`` (a :class:`portal.api.SystemMessage`) from the portal itself.

    ``recipients`` are mail addresses (str) and account ids (int); each gets the message in his
    own language. Return the recipients delivered to (as given); those no plugin delivered to
    are reported as undelivered by ``portal.deliver_system_message``.
    """


# Per request: return items for the current user ---------------------------------------------


@hookspec
def menu_items(portal, user):
    """Return a list of :class:`portal.api.MenuItem` for ``user`` (a ``CurrentUser``)."""


@hookspec
def admin_items(portal, user):
    """Return a list of :class:`portal.api.MenuItem`: links to the plugin's administration
    pages for ``user``, shown in the navigation of every administration page."""


@hookspec
def dashboard_items(portal, user):
    """Return a list of :class:`portal.api.DashboardItem` for the home page of ``user``."""


@hookspec
def search_items(portal, user, query):
    """Return a list of :class:`portal.api.SearchItem` matching ``query`` that ``user`` may see."""


@hookspec
def notification_items(portal, user):
    """Return a list of short strings: things waiting for ``user`` (shown in the header)."""


# Deliveries: the core asks plugins to carry something --------------------------------------


# Events --------------------------------------------------------------------------------------


@hookspec
def on_startup(portal):
    """The application has started and the database is migrated."""


@hookspec
def on_user_created(portal, user):
    """An account was created; ``user`` is a ``CurrentUser``."""


@hookspec
def on_user_login(portal, user, ip):
    """``user`` completed login (both factors) from address ``ip``."""


@hookspec
def on_login_alert(portal, user, alert):
    """A login of ``user`` needs his attention; ``alert`` is a :class:`portal.api.LoginAlert`
    (a login from a place he had not used before). Tell him, e.g. by mail."""


@hookspec
def on_mail_received(portal, message, verdicts):
    """A mail was received; ``verdicts`` is a dict a scanner adds its verdict to.

    Keys used by the core: ``spam``, ``virus``, ``phishing``.
    """


@hookspec
def on_document_published(portal, document):
    """An official document was published; ``document`` is a dict of its public fields."""


@hookspec
def on_demo_seeded(portal, units):
    """The demo organisation was just created (``portal serve --demo`` on an empty database);
    ``units`` maps each demo unit's code (``huanghe``) to its id. Add the plugin's demo data."""
