"""Government mailbox (电子政务邮箱): mailboxes, folders, SMTP in and out."""

from pathlib import Path

import migrations
from portal.api import DashboardItem, MenuItem, Permission, TableSet
from portal.hookspecs import hookimpl

NAME = "webmail"
HERE = Path(__file__).parent


@hookimpl
def register_tables(portal):
    from plugins.webmail.tables import Mailbox

    return TableSet(NAME, [Mailbox], Path(migrations.__file__).parent / NAME)


@hookimpl
def register_routes(portal):
    from plugins.webmail.routes import ROUTES

    return ROUTES


@hookimpl
def register_templates(portal):
    return HERE / "templates"


@hookimpl
def register_locales(portal):
    return HERE / "locale"


@hookimpl
def register_permissions(portal):
    return [Permission("webmail.use", portal.gettext("Use the mailbox"), roles=("staff",))]


@hookimpl
def menu_items(portal, user):
    if user.can("webmail.use"):
        return [MenuItem(portal.gettext("Mailbox"), "/webmail", section=NAME, order=10)]


@hookimpl
def dashboard_items(portal, user):
    if user.can("webmail.use"):
        return DashboardItem(portal.gettext("Mailbox"), "webmail/_widget.html", {"address": user.email}, order=10)
