"""Pages of sharing requests (CAT-5), under /catalog/sharing: finding a shared resource and
requesting it, one's own requests, the owner department's decisions and the list of grants."""

from __future__ import annotations

from litestar import Request, Response, get, post

from plugins.catalog import access, sharing
from plugins.catalog.duty_web import page_number, refused, when
from plugins.catalog.errors import CatalogError, Forbidden, Invalid
from plugins.catalog.vocabulary import labels
from portal.i18n import gettext as _
from portal.web import current_user, permission_required, portal_of, redirect, render

GUARDS = [permission_required("catalog.read")]
MAX_QUERY = 100


async def _sections(user) -> dict:
    """Which of the sharing pages the user has: the owner's and the bureau's lists."""
    editor = bool(await access.editable_departments(user))
    return {"incoming": editor, "pending": await sharing.pending_count(user) if editor else 0,
            "grants": editor or user.is_admin or "catalog_reviewer" in user.roles}


@get("/sharing", guards=GUARDS, name="catalog:sharing")
async def sharing_index(request: Request) -> Response:
    user = current_user(request)
    text = request.query_params.get("q", "")[:MAX_QUERY]
    try:
        found = await sharing.find(user, text, page_number(request)) if text.strip() else None
    except CatalogError as error:
        return await refused(request, error)
    return await render(request, "catalog/sharing/index.html", query=text, found=found, mine=await sharing.mine(user),
                        sections=await _sections(user), labels=labels(), statuses=sharing.status_labels(), when=when)


async def _resource_page(request: Request, resource_id: int, *, purpose: str = "", errors: dict | None = None,
                         error: str = "", status_code: int = 200) -> Response:
    try:
        offer = await sharing.offer(current_user(request), resource_id)
    except CatalogError as failure:
        return await refused(request, failure)
    return await render(request, "catalog/sharing/resource.html", status_code=status_code, offer=offer, purpose=purpose,
                        errors=errors or {}, error=error, labels=labels(), statuses=sharing.status_labels(),
                        max_purpose=sharing.MAX_PURPOSE)


@get("/sharing/resources/{resource_id:int}", guards=GUARDS, name="catalog:share_resource")
async def share_resource(request: Request, resource_id: int) -> Response:
    return await _resource_page(request, resource_id)


@post("/sharing/resources/{resource_id:int}", guards=GUARDS, name="catalog:share_request")
async def share_request(request: Request, resource_id: int) -> Response:
    form = await request.form()
    purpose = str(form.get("purpose", ""))[:sharing.MAX_PURPOSE + 1]
    try:
        request_id = await sharing.request(current_user(request), resource_id, purpose, form.get("accept") == "yes",
                                           portal_of(request))
    except Invalid as invalid:
        return await _resource_page(request, resource_id, purpose=purpose, errors=invalid.errors, error=invalid.message,
                                    status_code=400)
    except CatalogError as error:
        return await refused(request, error)
    return redirect(f"/catalog/sharing/{request_id}")


async def _request_page(request: Request, request_id: int, *, answer: str = "", error: str = "", status_code: int = 200) -> Response:
    try:
        view = await sharing.request_for(current_user(request), request_id)
    except CatalogError as failure:
        return await refused(request, failure)
    return await render(request, "catalog/sharing/request.html", status_code=status_code, view=view, answer=answer,
                        error=error, labels=labels(), statuses=sharing.status_labels(), when=when,
                        max_answer=sharing.MAX_ANSWER)


@get("/sharing/{request_id:int}", guards=GUARDS, name="catalog:share")
async def share_page(request: Request, request_id: int) -> Response:
    return await _request_page(request, request_id)


@post("/sharing/{request_id:int}/decide", guards=GUARDS, name="catalog:share_decide")
async def share_decide(request: Request, request_id: int) -> Response:
    form = await request.form()
    answer = str(form.get("answer", ""))[:sharing.MAX_ANSWER + 1]
    try:
        await sharing.decide(current_user(request), request_id, str(form.get("decision", ""))[:10], answer, portal_of(request))
    except Invalid as invalid:
        return await _request_page(request, request_id, answer=answer, error=invalid.message, status_code=400)
    except CatalogError as error:
        return await refused(request, error)
    return redirect(f"/catalog/sharing/{request_id}")


@post("/sharing/{request_id:int}/withdraw", guards=GUARDS, name="catalog:share_withdraw")
async def share_withdraw(request: Request, request_id: int) -> Response:
    try:
        await sharing.withdraw(current_user(request), request_id, portal_of(request))
    except CatalogError as error:
        return await refused(request, error)
    return redirect(f"/catalog/sharing/{request_id}")


@get("/sharing/incoming", guards=GUARDS, name="catalog:share_incoming")
async def share_incoming(request: Request) -> Response:
    user = current_user(request)
    sections = await _sections(user)
    if not sections["incoming"]:
        return await refused(request, Forbidden(_("Only a department's catalog editors answer the requests for its data.")))
    return await render(request, "catalog/sharing/incoming.html", rows=await sharing.incoming(user), sections=sections,
                        labels=labels(), statuses=sharing.status_labels(), when=when)


@get("/sharing/grants", guards=GUARDS, name="catalog:share_grants")
async def share_grants(request: Request) -> Response:
    user = current_user(request)
    result = await sharing.grants(user, page=page_number(request))
    if result is None:
        return await refused(request, Forbidden(_("The grants are listed for the owner departments and the big-data bureau.")))
    return await render(request, "catalog/sharing/grants.html", result=result, sections=await _sections(user),
                        labels=labels(), when=when)


SHARING_ROUTES = [sharing_index, share_resource, share_request, share_page, share_decide, share_withdraw, share_incoming,
                  share_grants]
