"""Filing pages (CAT-2): the bureau's review queue, a filed version with the verdict and opinion
on each resource, the decision, the department's versions and the comparison of two of them."""

from __future__ import annotations

from litestar import Request, Response, get, post

from plugins.catalog import access, filing, pages
from plugins.catalog.errors import CatalogError, Forbidden, Invalid, NotFound
from portal.i18n import gettext as _
from portal.web import current_user, is_htmx, permission_required, portal_of, redirect

READERS = [permission_required(pages.READ)]
REVIEWERS = [permission_required("catalog.review")]


@get("/filings", name="catalog:review_queue", guards=REVIEWERS)
async def review_queue(request: Request) -> Response:
    return await pages.page(request, "catalog/review_queue.html", filings=await filing.awaiting_review(current_user(request)))


async def _filing_page(request: Request, filing_id: int, *, status_code: int = 200, message: str = "",
                       errors: dict | None = None, opinion: str = "", item_errors: dict | None = None) -> Response:
    user = current_user(request)
    row, department = await filing.load_for(user, filing_id)
    items = await filing.items_of(filing_id)
    previous = await filing.previous_approved(row)
    comparison = filing.compare_snapshots(await filing.version_snapshots(previous["id"] if previous else None),
                                          await filing.version_snapshots(filing_id))
    changed_ids = {c.resource_id for c in comparison.changed} | {a["resource_id"] for a in comparison.added}
    names = await access.names_of([row["submitted_by"], row["reviewer"]])
    return await pages.page(
        request, "catalog/filing.html", fragment="catalog/_filing.html", status_code=status_code, filing=row, department=department, items=items,
        previous=previous, comparison=comparison, changed_ids=changed_ids, names=names, message=message,
        errors=errors or {}, opinion=opinion, item_errors=item_errors or {},
        can_review=row["status"] == "submitted" and row["submitted_by"] != user.id and await access.can_review(user, row["unit"]),
        can_withdraw=row["status"] == "submitted" and await access.can_edit(user, row["department"]),
    )


@get("/filings/{filing_id:int}", name="catalog:filing", guards=READERS)
async def filing_page(request: Request, filing_id: int) -> Response:
    try:
        return await _filing_page(request, filing_id)
    except CatalogError as error:
        return await pages.refusal(request, error)


@post("/filings/{filing_id:int}/items/{item_id:int}", name="catalog:verdict", guards=REVIEWERS)
async def verdict(request: Request, filing_id: int, item_id: int) -> Response:
    data = await request.form()
    verdict_value = str(data.get("verdict", ""))
    opinion = str(data.get("opinion", ""))[:filing.MAX_OPINION + 1]
    try:
        await filing.review_item(current_user(request), filing_id, item_id, verdict_value, opinion)
    except Invalid as error:
        # htmx swaps only successful answers: the fragment with the fault is one.
        return await _filing_page(request, filing_id, status_code=200 if is_htmx(request) else 400, message=error.message,
                                  item_errors={item_id: {"opinion": opinion, "verdict": verdict_value,
                                                         "opinion_error": error.errors.get("opinion", ""),
                                                         "verdict_error": error.errors.get("verdict", "")}})
    except CatalogError as error:
        return await pages.refusal(request, error, back=f"/catalog/filings/{filing_id}")
    if is_htmx(request):
        return await _filing_page(request, filing_id)
    return redirect(f"/catalog/filings/{filing_id}#item-{item_id}")


@post("/filings/{filing_id:int}/decide", name="catalog:decide", guards=REVIEWERS)
async def decide(request: Request, filing_id: int) -> Response:
    data = await request.form()
    opinion = str(data.get("opinion", ""))[:filing.MAX_OPINION + 1]
    try:
        await filing.decide(current_user(request), filing_id, str(data.get("decision", "")), opinion, portal_of(request))
    except Invalid as error:
        return await _filing_page(request, filing_id, status_code=400, message=error.message, errors=error.errors, opinion=opinion)
    except CatalogError as error:
        return await pages.refusal(request, error, back=f"/catalog/filings/{filing_id}")
    return redirect(f"/catalog/filings/{filing_id}")


@post("/filings/{filing_id:int}/withdraw", name="catalog:withdraw", guards=[permission_required("catalog.edit")])
async def withdraw(request: Request, filing_id: int) -> Response:
    try:
        await filing.withdraw(current_user(request), filing_id, portal_of(request))
    except CatalogError as error:
        return await pages.refusal(request, error, back=f"/catalog/filings/{filing_id}")
    return redirect(f"/catalog/filings/{filing_id}")


@get("/departments/{department_id:int}/versions", name="catalog:versions", guards=READERS)
async def versions(request: Request, department_id: int) -> Response:
    department = await access.department_info(department_id)
    if department is None or not await access.can_see_working_catalog(current_user(request), department):
        return await pages.refusal(request, Forbidden(_("This catalog is not yours to see.")) if department else
                                   NotFound(_("No such department.")))
    return await pages.page(request, "catalog/versions.html", department=department, versions=await filing.versions_of(department_id))


@get("/compare", name="catalog:compare", guards=READERS)
async def compare(request: Request) -> Response:
    first, second = pages.as_int(request.query_params.get("a")), pages.as_int(request.query_params.get("b"))
    if first is None or second is None:
        return await pages.refusal(request, Invalid(_("Choose two versions to compare.")))
    try:
        older, newer, comparison = await filing.compare_versions(current_user(request), first, second)
        department = await access.department_info(older["department"])
    except CatalogError as error:
        return await pages.refusal(request, error)
    return await pages.page(request, "catalog/compare.html", older=older, newer=newer, comparison=comparison, department=department)


FILING_ROUTES = [review_queue, filing_page, verdict, decide, withdraw, versions, compare]
