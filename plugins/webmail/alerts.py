"""Login alerts as mail (MAIL-20): the core raises ``on_login_alert``; the user finds a system
mail in his inbox, from ``system@`` the mail domain of his unit."""

from __future__ import annotations

import email.utils
import logging
from zoneinfo import ZoneInfo

from plugins.webmail.sending import build_message
from plugins.webmail.services import _unit_domain, deliver_to_inboxes, ensure_mailbox

log = logging.getLogger("portal.webmail")
SHANGHAI = ZoneInfo("Asia/Shanghai")
SYSTEM_LOCAL_PART = "system"


def alert_text(portal, user, alert) -> tuple[str, str]:
    """Subject and body of the mail, in the language of the request that logged in."""
    _ = portal.gettext
    when = alert.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    subject = _("Login from a new place: %(place)s", place=alert.place)
    lines = [
        _("Dear %(name)s,", name=user.display_name),
        "",
        _("your account %(username)s logged in at %(time)s (Beijing time) from %(place)s, address %(ip)s.",
          username=user.username, time=when, place=alert.place, ip=alert.ip),
        _("Browser or program: %(agent)s", agent=alert.user_agent or "-"),
    ]
    if alert.known_places:
        lines.append(_("Your earlier logins came from: %(places)s.", places="、".join(alert.known_places)))
    lines += [
        "",
        _("If this was you, nothing needs to be done."),
        _("If it was not you, change your password at once on the “My account” page, end the sessions "
          "you do not know there, and tell your administrator."),
    ]
    return subject, "\n".join(lines) + "\n"


async def deliver_login_alert(portal, user, alert) -> None:
    """Put the alert mail into the user's inbox. A failure is logged: the login has happened."""
    try:
        mailbox = await ensure_mailbox(user.id)
        domain = await _unit_domain(user.unit_id) or "localhost"
        sender = f"{SYSTEM_LOCAL_PART}@{domain}"
        subject, body = alert_text(portal, user, alert)
        raw = build_message(sender_name=portal.gettext("Portal security"), sender_address=sender,
                            to=[mailbox["address"]], cc=[], subject=subject, body=body, files=[],
                            message_id=email.utils.make_msgid(domain=domain), date=alert.at,
                            extra_headers={"Auto-Submitted": "auto-generated"})
        await deliver_to_inboxes(portal, raw, [mailbox["id"]])
    except Exception:
        log.exception("could not deliver the login alert of user %s", user.id)
