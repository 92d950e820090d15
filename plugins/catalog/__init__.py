"""Government data catalog (政务数据目录): compile, file, aggregate, share, export."""

from pathlib import Path

import migrations
from portal.api import MenuItem, Permission, TableSet
from portal.hookspecs import hookimpl

NAME = "catalog"
HERE = Path(__file__).parent


@hookimpl
def register_tables(portal):
    from plugins.catalog.duty_tables import DUTY_TABLES
    from plugins.catalog.tables import CATALOG_TABLES

    return TableSet(NAME, [*CATALOG_TABLES, *DUTY_TABLES], Path(migrations.__file__).parent / NAME)


@hookimpl
def register_routes(portal):
    from plugins.catalog.duty_routes import DUTY_ROUTES
    from plugins.catalog.editor_routes import EDITOR_ROUTES
    from plugins.catalog.filing_routes import FILING_ROUTES
    from plugins.catalog.interop_routes import ROUTES as INTEROP_ROUTES
    from plugins.catalog.routes import ROUTES
    from plugins.catalog.sharing_routes import SHARING_ROUTES

    return [*ROUTES, *EDITOR_ROUTES, *FILING_ROUTES, *INTEROP_ROUTES, *DUTY_ROUTES, *SHARING_ROUTES]


@hookimpl
def register_site_routes(portal):
    # The CKAN-compatible Action API (CAT-6) where CKAN clients look for it: /api/3/action/….
    from plugins.catalog.interop_routes import ckan_site_action

    return {"api": [ckan_site_action]}


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
        return [MenuItem(portal.gettext("Data catalog"), "/catalog", section=NAME, order=40), *duty_menu_items(portal, user)]


def duty_menu_items(portal, user) -> list[MenuItem]:
    """Data sharing for every reader (CAT-5); catalog updates for editors and bureau officers (CAT-4)."""
    items = [MenuItem(portal.gettext("Data sharing"), "/catalog/sharing", section=NAME, order=41)]
    if user.is_admin or {"catalog_editor", "catalog_reviewer"} & set(user.roles):
        items.append(MenuItem(portal.gettext("Catalog updates"), "/catalog/changes", section=NAME, order=42))
    return items


@hookimpl
async def dashboard_items(portal, user):
    from plugins.catalog.duty_home import home_items
    from plugins.catalog.home import home_widget

    # The catalog's card (filings to review, where each edited catalog stands) and the duties' cards.
    widget = await home_widget(user) if user.can("catalog.edit") or user.can("catalog.review") else None
    return [*([widget] if widget else []), *await home_items(portal, user)]


@hookimpl
def register_task_handlers(portal):
    from plugins.catalog.changes import task_handlers

    return task_handlers()


@hookimpl
async def on_startup(portal):
    from plugins.catalog.changes import ensure_reminder_schedule

    await ensure_reminder_schedule()


@hookimpl
def register_statistics(portal):
    from plugins.catalog.duty_statistics import statistics

    return statistics(portal)
