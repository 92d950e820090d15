"""Public disclosure (政务公开): public pages, requests for disclosure, the township kiosk."""

from pathlib import Path

import migrations
from portal.api import MenuItem, Permission, TableSet
from portal.hookspecs import hookimpl

NAME = "disclosure"
HERE = Path(__file__).parent


@hookimpl
def register_tables(portal):
    from plugins.disclosure.request_tables import REQUEST_TABLES
    from plugins.disclosure.tables import TABLES

    return TableSet(NAME, [*TABLES, *REQUEST_TABLES], Path(migrations.__file__).parent / NAME)


@hookimpl
def register_routes(portal):
    from plugins.disclosure.request_routes import REQUEST_ROUTES
    from plugins.disclosure.routes import ROUTES

    return [*ROUTES, *REQUEST_ROUTES]


@hookimpl
def register_site_routes(portal):
    # The township kiosk (PUB-2) at /kiosk/<unit>: a short address to set on a screen once, and
    # a scope of its own for its service worker.
    from plugins.disclosure.kiosk_routes import KIOSK_ROUTES

    return {"kiosk": KIOSK_ROUTES}


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
    return [Permission("disclosure.publish", portal.gettext("Publish disclosure items"), roles=("publisher",)),
            Permission("disclosure.requests", portal.gettext("Answer the unit's requests for disclosure"), roles=("publisher",))]


@hookimpl
def menu_items(portal, user):
    # Publishers land on their catalog's pages, which link to the public ones.
    url = "/disclosure/manage" if user.can("disclosure.publish") else "/disclosure"
    items = [MenuItem(portal.gettext("Public disclosure"), url, section=NAME, order=30)]
    if user.can("disclosure.requests"):
        items.append(MenuItem(portal.gettext("Requests for disclosure"), "/disclosure/requests/manage", section=NAME, order=31))
    return items


@hookimpl
def register_statistics(portal):
    from plugins.disclosure.request_reports import statistics

    return statistics(portal)


@hookimpl
async def on_document_published(portal, document):
    from plugins.disclosure.documents import receive_document

    await receive_document(portal, document)


@hookimpl
async def on_demo_seeded(portal, units):
    from plugins.disclosure.demo import seed_demo_catalog

    await seed_demo_catalog(portal, units)
