"""The plugin's widgets on the portal home page (DOC-13): notices and announcements, work news
of the unit's departments, and published documents."""

from __future__ import annotations

from portal.api import CurrentUser, DashboardItem
from portal.localtime import local

WIDGET_ROWS = 6


def _day(moment) -> str:
    return local(moment).strftime("%m-%d")


async def home_widgets(portal, user: CurrentUser) -> list[DashboardItem]:
    from plugins.edoc import bulletins
    from plugins.edoc.publishing import recent_publications

    _ = portal.gettext
    items = []
    for kind, title, more, post_label, may_post, order in (
        ("notice", _("Notices and announcements"), "/edoc/notices", _("Post a notice"), bulletins.may_post_notices(user), 1),
        ("news", _("Work news"), "/edoc/news", _("Post work news"), bulletins.may_post_news(user), 2),
    ):
        rows = [{"url": f"/edoc/bulletins/{r['id']}", "title": r["title"], "note": r["department_name"] or "",
                 "day": _day(r["created_at"])} for r in await bulletins.latest(user.unit_id, kind, limit=WIDGET_ROWS)]
        items.append(DashboardItem(title, "edoc/_home_widget.html", {
            "rows": rows, "more_url": more, "post_url": f"/edoc/bulletins/new?kind={kind}" if may_post else "",
            "post_label": post_label}, order=order))
    published = [{"url": f"/edoc/published/{p['id']}", "title": p["title"], "note": p["number"],
                  "day": _day(p["published_at"])} for p in await recent_publications(WIDGET_ROWS)]
    items.append(DashboardItem(_("Published documents"), "edoc/_home_widget.html",
                               {"rows": published, "more_url": "/edoc/published"}, order=3))
    return items
