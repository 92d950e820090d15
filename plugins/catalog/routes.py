"""Shared views of the catalog (CAT-3): the start page, total catalogs with search and facets,
an approved resource, the classification trees. They read only approved, non-secret entries."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from litestar import Request, Response, get

from plugins.catalog import access, filing, pages, total
from plugins.catalog.errors import NotFound
from plugins.catalog.tables import FilingItem
from portal.i18n import gettext as _
from portal.web import current_user, permission_required

GUARDS = [permission_required(pages.READ)]


def _query(request: Request) -> total.Query:
    params = request.query_params
    share_type = str(params.get("share_type", ""))
    return total.Query(
        text=str(params.get("q", ""))[:total.MAX_QUERY * 2],
        class_item=str(params.get("class_item", ""))[:3] if str(params.get("class_item", "")).isdigit() else "",
        department=pages.as_int(params.get("department")),
        share_type=share_type if share_type in total.SHARE_TYPES else "",
        unit=pages.as_int(params.get("unit")),
        page=pages.as_int(params.get("page")) or 1,
    )


@get("/", name="catalog:index", guards=GUARDS)
async def index(request: Request) -> Response:
    user = current_user(request)
    units = await access.units()
    summary = await total.total_catalog(user.unit_id) if user.unit_id else None
    editable = await access.departments_named(await access.editable_departments(user))
    return await pages.page(request, "catalog/index.html", units=_tree_order(units), summary=summary,
                            editable=editable, awaiting=len(await filing.awaiting_review(user)) if user.can("catalog.review") else 0,
                            class_names=await pages.classification_names(),
                            department_names=await access.departments_named(d for d, _count in summary.per_department) if summary else {})


def _tree_order(units: list[dict]) -> list[dict]:
    children: dict[int | None, list[dict]] = {}
    known = {u["id"] for u in units}
    for unit in units:
        children.setdefault(unit["parent"] if unit["parent"] in known else None, []).append(unit)
    ordered: list[dict] = []

    def walk(parent, depth):
        for unit in children.get(parent, []):
            if len(ordered) < len(units):
                ordered.append({**unit, "depth": min(depth, 3)})
                walk(unit["id"], depth + 1)

    walk(None, 0)
    return ordered


@get("/total/{unit_id:int}", name="catalog:total", guards=GUARDS)
async def total_page(request: Request, unit_id: int) -> Response:
    units = await access.units()
    unit = next((u for u in units if u["id"] == unit_id), None)
    if unit is None:
        return await pages.refusal(request, NotFound(_("No such unit.")))
    query = _query(request)
    result = await total.visible_resources(current_user(request), unit_id, query)
    return await pages.page(
        request, "catalog/total.html", fragment="catalog/_results.html", unit=unit, query=query, result=result,
        class_names=await pages.classification_names(),
        department_names=await access.departments_named(d for d, _count in result.facets["department"]),
        unit_names={u["id"]: u["name"] for u in units}, link=_linker(unit_id, query),
    )


def _linker(unit_id: int, query: total.Query):
    """``link(changes)``: the URL of this search with some parameters changed (a facet chosen or
    cleared, another page); a change of filter starts again at page one."""
    current = {"q": query.text, "class_item": query.class_item, "department": query.department,
               "share_type": query.share_type, "unit": query.unit}

    def link(changes: dict) -> str:
        values = {**current, **changes}
        return f"/catalog/total/{unit_id}?" + urlencode({k: v for k, v in values.items() if v not in (None, "")})

    return link


@get("/entries/{resource_id:int}", name="catalog:entry", guards=GUARDS)
async def entry(request: Request, resource_id: int) -> Response:
    row = await total.entry_of_resource(current_user(request), resource_id)
    if row is None:
        return await pages.refusal(request, NotFound(_("No such resource in an approved catalog.")))
    filed = await FilingItem.select(FilingItem.snapshot).where(
        (FilingItem.filing == row["filing"]) & (FilingItem.resource_id == resource_id)).first()
    snapshot = filed["snapshot"] if filed else {}
    snapshot = json.loads(snapshot) if isinstance(snapshot, str) else snapshot
    department = await access.department_info(row["department"])
    return await pages.page(request, "catalog/entry.html", entry=row, snapshot=snapshot, department=department)


@get("/classifications", name="catalog:classifications", guards=GUARDS)
async def classifications(request: Request) -> Response:
    return await pages.page(request, "catalog/classifications.html", nodes=await pages.classification_choices())


ROUTES = [index, total_page, entry, classifications]
