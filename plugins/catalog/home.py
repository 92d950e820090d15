"""The catalog's card on the portal home page: the filings a bureau officer has to review, and
for an editor where each of his catalogs stands (under review, returned, changed since approval)."""

from __future__ import annotations

from plugins.catalog import access, filing
from plugins.catalog.tables import Filing
from portal.api import CurrentUser, DashboardItem
from portal.i18n import gettext as _

MAX_ROWS = 6


async def home_widget(user: CurrentUser) -> DashboardItem | None:
    rows = []
    if user.can("catalog.review"):
        for row in (await filing.awaiting_review(user))[:MAX_ROWS]:
            rows.append({"url": f"/catalog/filings/{row['id']}", "title": row["department_name"],
                         "note": _("version %(version)d to review", version=row["version"])})
    departments = await access.departments_named(await access.editable_departments(user))
    for department_id, name in list(departments.items())[:MAX_ROWS]:
        latest = await Filing.select(Filing.version, Filing.status).where(Filing.department == department_id) \
            .order_by(Filing.version, ascending=False).first()
        rows.append({"url": f"/catalog/departments/{department_id}", "title": name, "note": _status(latest)})
    if not rows:
        return None
    return DashboardItem(_("Data catalog"), "catalog/_home_widget.html", {"rows": rows}, order=40)


def _status(latest: dict | None) -> str:
    if latest is None:
        return _("never filed")
    return {"submitted": _("version %(version)d under review"), "approved": _("version %(version)d approved"),
            "returned": _("version %(version)d returned"), "withdrawn": _("version %(version)d withdrawn")}[latest["status"]] \
        % {"version": latest["version"]}
