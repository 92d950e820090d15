"""The home page cards of the catalog's duties: the countdown of a department's catalog updates
and the bureau's overdue departments (CAT-4), the requests waiting for the owner (CAT-5)."""

from __future__ import annotations

from plugins.catalog import changes, sharing
from portal.api import CurrentUser, DashboardItem

SHOWN = 5


async def home_items(portal, user: CurrentUser) -> list[DashboardItem]:
    if not user.can("catalog.read"):
        return []
    _ = portal.gettext
    items = []
    duties = [s for s in await changes.duties_for_editor(user) if s.waiting or s.status == "under_review"]
    overdue = await changes.overdue_departments(user) if user.is_admin or "catalog_reviewer" in user.roles else []
    if duties or overdue:
        items.append(DashboardItem(_("Catalog updates due"), "catalog/changes/_home.html",
                                   {"duties": duties[:SHOWN], "more": len(duties) > SHOWN, "overdue": len(overdue)}, order=45))
    pending = await sharing.pending_count(user)
    if pending:
        items.append(DashboardItem(_("Sharing requests"), "catalog/sharing/_home.html", {"pending": pending}, order=46))
    return items
