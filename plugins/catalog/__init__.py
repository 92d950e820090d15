"""Government data catalog (政务数据目录): compile, file, aggregate, share, export."""

from pathlib import Path

import migrations
from portal.api import MenuItem, Permission, TableSet
from portal.hookspecs import hookimpl

NAME = "catalog"
HERE = Path(__file__).parent


@hookimpl
def register_tables(portal):
    from plugins.catalog.tables import CATALOG_TABLES

    return TableSet(NAME, CATALOG_TABLES, Path(migrations.__file__).parent / NAME)


@hookimpl
def register_routes(portal):
    from plugins.catalog.editor_routes import EDITOR_ROUTES
    from plugins.catalog.filing_routes import FILING_ROUTES
    from plugins.catalog.interop_routes import ROUTES as INTEROP_ROUTES
    from plugins.catalog.routes import ROUTES

    return [*ROUTES, *EDITOR_ROUTES, *FILING_ROUTES, *INTEROP_ROUTES]


@hookimpl
def register_templates(portal):
    return HERE / "templates"


@hookimpl
def register_static(portal):
    return HERE / "static"


@hookimpl
def register_locales(portal):
    return HERE / "locale"


@hookimpl
def register_permissions(portal):
    return [
        Permission("catalog.read", portal.gettext("Read the data catalog"), roles=("staff", "catalog_editor", "catalog_reviewer")),
        Permission("catalog.edit", portal.gettext("Edit the department's data catalog"), roles=("catalog_editor",)),
        Permission("catalog.review", portal.gettext("Review the catalogs filed with the big-data bureau"), roles=("catalog_reviewer",)),
    ]


@hookimpl
def menu_items(portal, user):
    if user.can("catalog.read"):
        return [MenuItem(portal.gettext("Data catalog"), "/catalog", section=NAME, order=40)]


@hookimpl
async def dashboard_items(portal, user):
    if not (user.can("catalog.edit") or user.can("catalog.review")):
        return None
    from plugins.catalog.home import home_widget

    return await home_widget(user)
