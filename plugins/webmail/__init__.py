"""Government mailbox (电子政务邮箱): mailboxes, folders, SMTP in and out."""

import argparse
from pathlib import Path

import migrations
from portal.api import Command, DashboardItem, MenuItem, PageAsset, Permission, Service, TableSet
from portal.hookspecs import hookimpl

NAME = "webmail"
HERE = Path(__file__).parent


@hookimpl
def register_tables(portal):
    from plugins.webmail.tables import Blob, Delivery, Folder, Mailbox, Message, Outgoing, ServiceLevel, TrustedImageSender

    return TableSet(NAME, [ServiceLevel, Mailbox, Folder, Message, Outgoing, Delivery, TrustedImageSender, Blob],
                    Path(migrations.__file__).parent / NAME)


@hookimpl
def register_routes(portal):
    from plugins.webmail.admin import ADMIN_ROUTES
    from plugins.webmail.compose import compose_routes
    from plugins.webmail.routes import ROUTES

    return [*ROUTES, *compose_routes(portal), *ADMIN_ROUTES]


@hookimpl
def register_templates(portal):
    return HERE / "templates"


@hookimpl
def register_static(portal):
    return HERE / "static"


@hookimpl
def register_page_assets(portal):
    # New mail is announced on every open page (MAIL-1), not only on the mailbox's own pages.
    return [PageAsset("webmail.js", permission="webmail.use"), PageAsset("live.css", permission="webmail.use")]


@hookimpl
def register_locales(portal):
    return HERE / "locale"


@hookimpl
def register_permissions(portal):
    return [Permission("webmail.use", portal.gettext("Use the mailbox"), roles=("staff",)),
            Permission("webmail.admin", portal.gettext("Administer the mail system"), roles=("admin",))]


@hookimpl
def menu_items(portal, user):
    if user.can("webmail.use"):
        return _menu_item(portal, user)


async def _menu_item(portal, user):
    """The menu entry with the inbox's unread count; webmail.js keeps the badge current."""
    from markupsafe import Markup, escape

    from plugins.webmail.services import menu_unread

    unread = await menu_unread(user)
    badge = Markup(' <span class="badge" data-webmail-unread{}>{}</span>').format(Markup("" if unread else " hidden"), unread)
    return [MenuItem(escape(portal.gettext("Mailbox")) + badge, "/webmail", section=NAME, order=10)]


@hookimpl
def admin_items(portal, user):
    if user.can("webmail.admin"):
        return [MenuItem(portal.gettext("Service levels"), "/webmail/admin/levels", section=NAME, order=10)]


@hookimpl
def dashboard_items(portal, user):
    if user.can("webmail.use"):
        return DashboardItem(portal.gettext("Mailbox"), "webmail/_widget.html", {"address": user.email}, order=10)


@hookimpl
async def on_login_alert(portal, user, alert):
    if user.can("webmail.use"):
        from plugins.webmail.alerts import deliver_login_alert

        await deliver_login_alert(portal, user, alert)


@hookimpl
def register_services(portal):
    from plugins.webmail.smtp import start_service

    return [Service("smtp", start_service)]


@hookimpl
def register_commands(portal):
    from plugins.webmail.smtp import smtpd_command

    return [Command("smtpd", "run the SMTP server for mail from outside", smtpd_command,
                    ((("--host",), {"default": "127.0.0.1"}), (("--port",), {"type": int, "default": 2525}),
                     (("--workers",), {"type": int, "default": 0,
                                       "help": "processes sharing the port (default: one per CPU)"}),
                     (("--worker",), {"action": "store_true", "help": argparse.SUPPRESS})))]


@hookimpl
def register_task_handlers(portal):
    from plugins.webmail.relay import HANDLER

    return {"webmail.relay": HANDLER}


@hookimpl
def register_health_checks(portal):
    from plugins.webmail.health import health_checks

    return health_checks(portal)


@hookimpl
def deliver_system_message(portal, recipients, message):
    from plugins.webmail.system_mail import deliver_system_message as deliver

    return deliver(portal, recipients, message)


@hookimpl
def register_statistics(portal):
    from plugins.webmail.administration import statistics

    return statistics(portal)


@hookimpl
def register_account_checks(portal):
    from plugins.webmail.administration import account_checks

    return account_checks(portal)
