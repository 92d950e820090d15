"""Electronic official documents (电子公文): drafting, approval and receiving flows."""

from pathlib import Path

import migrations
from portal.api import MenuItem, Permission, TableSet
from portal.hookspecs import hookimpl

NAME = "edoc"
HERE = Path(__file__).parent


@hookimpl
def register_tables(portal):
    from plugins.edoc.parts_tables import PARTS_TABLES
    from plugins.edoc.tables import Document

    return TableSet(NAME, [Document, *PARTS_TABLES], Path(migrations.__file__).parent / NAME)


@hookimpl
def register_routes(portal):
    from plugins.edoc.attachment_routes import DRAFTER_RULES, attachment_routes
    from plugins.edoc.routes import ROUTES

    return [*ROUTES, *attachment_routes(DRAFTER_RULES)]


@hookimpl
def register_templates(portal):
    return HERE / "templates"


@hookimpl
def register_locales(portal):
    return HERE / "locale"


@hookimpl
def register_permissions(portal):
    return [Permission("edoc.draft", portal.gettext("Draft official documents"), roles=("staff",))]


@hookimpl
def menu_items(portal, user):
    if user.can("edoc.draft"):
        return [MenuItem(portal.gettext("Documents"), "/edoc", section=NAME, order=20)]
