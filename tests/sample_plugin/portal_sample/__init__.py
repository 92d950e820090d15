"""A sample third-party plugin: notes a user keeps for himself.

Everything carries the one name ``sample``: the entry point, the URL prefix ``/sample``, the
template folder ``templates/sample/``, the static prefix ``/static/sample/``, the Piccolo app
``sample``, the permission ``sample.use`` and the settings section ``[sample]``.
"""

from pathlib import Path

from portal.api import DashboardItem, MenuItem, PageAsset, Permission, TableSet
from portal.hookspecs import hookimpl

NAME = "sample"
HERE = Path(__file__).parent


@hookimpl
def register_tables(portal):
    from portal_sample.tables import Note

    return TableSet(NAME, [Note], HERE / "migrations")


@hookimpl
def register_routes(portal):
    from portal_sample.routes import ROUTES

    return ROUTES


@hookimpl
def register_templates(portal):
    return HERE / "templates"


@hookimpl
def register_static(portal):
    return HERE / "static"


@hookimpl
def register_page_assets(portal):
    # A script on every page of the portal for those who keep notes: Alt+Shift+N opens them.
    return [PageAsset("sample.js", permission="sample.use")]


@hookimpl
def register_locales(portal):
    return HERE / "locale"


@hookimpl
def register_permissions(portal):
    return [Permission("sample.use", portal.gettext("Keep sample notes"), roles=("staff",))]


@hookimpl
def menu_items(portal, user):
    if user.can("sample.use"):
        return [MenuItem(portal.gettext("Sample notes"), "/sample", section=NAME, order=90)]


@hookimpl
async def dashboard_items(portal, user):
    if not user.can("sample.use"):
        return None
    from portal_sample.services import count_notes

    return DashboardItem(portal.gettext("Sample notes"), "sample/_widget.html", {"count": await count_notes(user)}, order=90)
