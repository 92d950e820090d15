"""Shared views of the catalog (CAT-3): the start page, total catalogs with search and facets,
an approved resource, the classification trees. They read only approved, non-secret entries."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from litestar import Request, Response, get, post

from plugins.catalog import access, classification, filing, pages, total
from plugins.catalog.errors import CatalogError, Forbidden, Invalid, NotFound
from plugins.catalog.tables import Classification, FilingItem
from portal.i18n import gettext as _
from portal.web import current_user, permission_required, portal_of, redirect

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


async def _trees_page(request: Request, *, status_code: int = 200, form: classification.NodeForm | None = None,
                      errors: dict | None = None, message: str = "") -> Response:
    return await pages.page(request, "catalog/classifications.html", status_code=status_code, nodes=await pages.classification_choices(),
                            may_edit=await classification.can_classify(current_user(request)),
                            form=form or classification.NodeForm(), errors=errors or {}, message=message)


@get("/classifications", name="catalog:classifications", guards=GUARDS)
async def classifications(request: Request) -> Response:
    return await _trees_page(request)


@post("/classifications", name="catalog:classification_add", guards=GUARDS)
async def add_classification(request: Request) -> Response:
    data = await request.form()
    form = classification.NodeForm(str(data.get("parent_id", ""))[:12], str(data.get("segment", ""))[:12],
                                   str(data.get("name", ""))[:classification.MAX_NAME + 1])
    try:
        node_id = await classification.add_node(current_user(request), form, portal_of(request))
    except Invalid as error:
        return await _trees_page(request, status_code=400, form=form, errors=error.errors, message=error.message)
    except CatalogError as error:
        return await pages.refusal(request, error, back="/catalog/classifications")
    return redirect(f"/catalog/classifications#node-{node_id}")


async def _node_page(request: Request, node_id: int, *, status_code: int = 200, name: str | None = None,
                     errors: dict | None = None) -> Response:
    node = await Classification.select().where(Classification.id == node_id).first()
    if node is None:
        return await pages.refusal(request, NotFound(_("No such classification.")), back="/catalog/classifications")
    if not await classification.can_classify(current_user(request)):
        return await pages.refusal(request, Forbidden(_("Only the province's big-data bureau keeps the classification trees.")),
                                   back="/catalog/classifications")
    return await pages.page(request, "catalog/classification.html", status_code=status_code, node=node,
                            name=node["name"] if name is None else name, errors=errors or {})


@get("/classifications/{node_id:int}", name="catalog:classification", guards=GUARDS)
async def classification_page(request: Request, node_id: int) -> Response:
    return await _node_page(request, node_id)


@post("/classifications/{node_id:int}", name="catalog:classification_rename", guards=GUARDS)
async def rename_classification(request: Request, node_id: int) -> Response:
    name = str((await request.form()).get("name", ""))[:classification.MAX_NAME + 1]
    try:
        await classification.rename(current_user(request), node_id, name, portal_of(request))
    except Invalid as error:
        return await _node_page(request, node_id, status_code=400, name=name, errors=error.errors)
    except CatalogError as error:
        return await pages.refusal(request, error, back="/catalog/classifications")
    return redirect(f"/catalog/classifications#node-{node_id}")


@post("/classifications/{node_id:int}/retire", name="catalog:classification_retire", guards=GUARDS)
async def retire_classification(request: Request, node_id: int) -> Response:
    retired = (await request.form()).get("retired") == "1"
    try:
        await classification.set_retired(current_user(request), node_id, retired, portal_of(request))
    except CatalogError as error:
        return await pages.refusal(request, error, back="/catalog/classifications")
    return redirect(f"/catalog/classifications#node-{node_id}")


ROUTES = [index, total_page, entry, classifications, add_classification, classification_page, rename_classification,
          retire_classification]
