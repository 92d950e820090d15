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
    from plugins.edoc.tables import Document, Flow, FlowStep, Task

    return TableSet(NAME, [Flow, FlowStep, Document, Task, *PARTS_TABLES], Path(migrations.__file__).parent / NAME)


@hookimpl
def register_routes(portal):
    from plugins.edoc.attachment_routes import attachment_routes
    from plugins.edoc.bulletin_routes import BULLETIN_ROUTES
    from plugins.edoc.handling_routes import HANDLING_ROUTES
    from plugins.edoc.routes import ROUTES
    from plugins.edoc.services import ATTACHMENT_RULES

    return [*ROUTES, *attachment_routes(ATTACHMENT_RULES), *BULLETIN_ROUTES, *HANDLING_ROUTES]


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
    _ = portal.gettext
    return [
        Permission("edoc.draft", _("Draft official documents"), roles=("staff",)),
        Permission("edoc.flows", _("Adjust the document flows"), roles=("admin",)),
        Permission("edoc.notices", _("Post the unit's notices and announcements"), roles=("office_head", "secretary")),
        Permission("edoc.news", _("Post and edit the work news of one's department"), roles=("staff",)),
        Permission("edoc.publish", _("Publish documents on the home page"), roles=("office_head", "secretary")),
        Permission("edoc.timeliness", _("See the handling timeliness of departments"), roles=("office_head", "secretary")),
    ]


@hookimpl
def menu_items(portal, user):
    if user.can("edoc.draft"):
        return [MenuItem(portal.gettext("Documents"), "/edoc", section=NAME, order=20)]


@hookimpl
async def dashboard_items(portal, user):
    from plugins.edoc.home import home_widgets

    return await home_widgets(portal, user)


@hookimpl
def register_task_handlers(portal):
    from plugins.edoc.handling import REMINDER_KIND, reminder_handler

    return {REMINDER_KIND: reminder_handler()}


@hookimpl
async def on_startup(portal):
    from plugins.edoc.handling import ensure_reminder_schedule

    await ensure_reminder_schedule()

