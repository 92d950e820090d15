"""The publishers' pages (PUB-1): a unit's items in every state, writing and editing them,
publishing now or at a set moment, withdrawing with a reason, attachments, and the catalog's
categories. Guarded by ``disclosure.publish``; each page then checks that the unit (or the
item's unit) is the user's own — another unit's publisher gets 403, a missing object 404.
"""

from __future__ import annotations

from datetime import datetime

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.response import File

from plugins.disclosure import categories as cats
from plugins.disclosure import items, public
from plugins.disclosure.items import ItemForm, ItemRefused, NotAllowed, PublishRefused
from plugins.disclosure.public_routes import download, known_id
from portal.accounts.tables import Unit
from portal.i18n import gettext as _
from portal.localtime import ZONE, local
from plugins.disclosure.display import page
from portal.web import current_user, permission_required, portal_of, redirect

GUARDS = [permission_required("disclosure.publish")]
ATTACHMENT_BODY_LIMIT = items.MAX_ATTACHMENT_BYTES + 64 * 1024
FORM_FIELDS = ("category", "title", "document_date", "issuer", "document_number", "body", "classification")
# What the page says after a change (``?done=``), so a reload repeats nothing.
DONE = ("created", "saved", "published", "scheduled", "withdrawn", "attached", "removed")


async def _managed_unit(request: Request, code: str) -> dict:
    unit = await public.unit_by_code(code)
    if unit is None:
        raise NotFoundException()
    if not items.may_manage(current_user(request), unit["id"]):
        raise PermissionDeniedException(_("You may only work on your own unit's catalog."))
    return unit


async def _managed_item(request: Request, item_id: int) -> dict:
    try:
        return await items.managed_item(current_user(request), known_id(item_id))
    except items.ItemNotFound:
        raise NotFoundException() from None
    except NotAllowed:
        raise PermissionDeniedException(_("You may only work on your own unit's catalog.")) from None


async def _managed_category(request: Request, category_id: int) -> dict:
    try:
        category = await cats.category(known_id(category_id))
    except cats.CategoryNotFound:
        raise NotFoundException() from None
    if not items.may_manage(current_user(request), category["unit"]):
        raise PermissionDeniedException(_("You may only work on your own unit's catalog."))
    return category


async def _unit_code(unit_id: int) -> str:
    row = await Unit.select(Unit.code).where(Unit.id == unit_id).first()
    return row["code"] if row else ""


def _form_of(data) -> ItemForm:
    return ItemForm(**{name: str(data.get(name) or "") for name in FORM_FIELDS})


def _labels() -> dict:
    return {"classifications": items.classification_labels(), "statuses": items.status_labels()}


@get("/manage", name="disclosure:manage", guards=GUARDS)
async def manage_home(request: Request) -> Response:
    """A publisher's own unit; an administrator chooses one."""
    user = current_user(request)
    if user.is_admin:
        units = await Unit.select(Unit.id, Unit.name, Unit.code).order_by(Unit.id)
        return await page(request, "disclosure/manage/units.html", units=units)
    code = await _unit_code(user.unit_id) if user.unit_id else ""
    if not code:
        raise PermissionDeniedException(_("Your account belongs to no unit, so there is no catalog to work on."))
    return redirect(f"/disclosure/manage/units/{code}")


@get("/manage/units/{code:str}", name="disclosure:manage_unit", guards=GUARDS)
async def manage_unit(request: Request, code: str) -> Response:
    unit = await _managed_unit(request, code)
    status = request.query_params.get("status") or ""
    status = status if status in items.STATUSES else ""
    number = public.page_number(request.query_params.get("page"))
    rows, total = await items.staff_items(unit["id"], status, number)
    return await page(request, "disclosure/manage/unit.html", unit=unit, rows=rows, total=total, status=status,
                        number=number, pages=max(1, -(-total // 30)), has_categories=bool(await cats.categories_of(unit["id"])),
                        **_labels())


async def _new_form(request: Request, unit: dict, *, values: dict, errors: dict | None = None,
                    status_code: int = 200) -> Response:
    return await page(request, "disclosure/manage/item_form.html", status_code=status_code, unit=unit, item=None,
                        categories=await cats.categories_of(unit["id"]), values=values, errors=errors or {},
                        limits=items, **_labels())


@get("/manage/units/{code:str}/new", name="disclosure:item_new", guards=GUARDS)
async def item_new(request: Request, code: str) -> Response:
    unit = await _managed_unit(request, code)
    values = {"classification": items.PUBLIC, "issuer": unit["name"], "category": request.query_params.get("category", "")}
    return await _new_form(request, unit, values=values)


@post("/manage/units/{code:str}/items", name="disclosure:item_create", guards=GUARDS)
async def item_create(request: Request, code: str) -> Response:
    unit = await _managed_unit(request, code)
    data = await request.form()
    form = _form_of(data)
    try:
        item_id = await items.create_item(portal_of(request), current_user(request), unit["id"], form)
    except ItemRefused as refused:
        return await _new_form(request, unit, values=form.__dict__, errors=refused.errors, status_code=400)
    return redirect(f"/disclosure/manage/items/{item_id}?done=created")


async def _item_page(request: Request, item: dict, *, values: dict | None = None, errors: dict | None = None,
                     status_code: int = 200) -> Response:
    done = request.query_params.get("done")
    values = values or {name: item[name] for name in FORM_FIELDS}
    if values.get("document_date") and not isinstance(values["document_date"], str):
        values["document_date"] = values["document_date"].isoformat()
    return await page(
        request, "disclosure/manage/item.html", status_code=status_code, item=item, unit={
            "id": item["unit"], "name": item["unit_name"], "code": item["unit_code"]},
        categories=await cats.categories_of(item["unit"]), attachments=await public.attachments_of(item["id"]),
        values=values, errors=errors or {}, done=done if done in DONE else None, limits=items,
        publish_refusal=items.publish_refusal(item), local=local, **_labels())


@get("/manage/items/{item_id:int}", name="disclosure:manage_item", guards=GUARDS)
async def manage_item(request: Request, item_id: int) -> Response:
    return await _item_page(request, await _managed_item(request, item_id))


@post("/manage/items/{item_id:int}", name="disclosure:item_update", guards=GUARDS)
async def item_update(request: Request, item_id: int) -> Response:
    item = await _managed_item(request, item_id)
    form = _form_of(await request.form())
    try:
        await items.update_item(portal_of(request), current_user(request), item["id"], form)
    except ItemRefused as refused:
        return await _item_page(request, item, values=form.__dict__, errors=refused.errors, status_code=400)
    return redirect(f"/disclosure/manage/items/{item['id']}?done=saved")


def _publish_moment(data) -> tuple[datetime | None, str | None]:
    """The moment of a "schedule" request (Beijing time as typed in the datetime field), or an error."""
    if data.get("when") != "later":
        return None, None
    text = str(data.get("publish_at") or "").strip()
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            moment = datetime.strptime(text[:19], pattern).replace(tzinfo=ZONE)
            break
        except ValueError:
            continue
    else:
        return None, _("Enter the moment of publication as date and time (YYYY-MM-DD HH:MM).")
    if moment <= datetime.now(ZONE):
        return None, _("Choose a moment ahead, or publish now.")
    return moment, None


@post("/manage/items/{item_id:int}/publish", name="disclosure:item_publish", guards=GUARDS)
async def item_publish(request: Request, item_id: int) -> Response:
    item = await _managed_item(request, item_id)
    moment, error = _publish_moment(await request.form())
    if error:
        return await _item_page(request, item, errors={"publish_at": error}, status_code=400)
    try:
        when = await items.publish_item(portal_of(request), current_user(request), item["id"], moment)
    except PublishRefused as refused:
        return await _item_page(request, item, errors={"publish": str(refused)}, status_code=400)
    return redirect(f"/disclosure/manage/items/{item['id']}?done={'scheduled' if moment and when == moment else 'published'}")


@post("/manage/items/{item_id:int}/withdraw", name="disclosure:item_withdraw", guards=GUARDS)
async def item_withdraw(request: Request, item_id: int) -> Response:
    item = await _managed_item(request, item_id)
    data = await request.form()
    try:
        await items.withdraw_item(portal_of(request), current_user(request), item["id"], str(data.get("reason") or ""))
    except ItemRefused as refused:
        return await _item_page(request, item, errors=refused.errors, status_code=400)
    except PublishRefused as refused:
        return await _item_page(request, item, errors={"reason": str(refused)}, status_code=400)
    return redirect(f"/disclosure/manage/items/{item['id']}?done=withdrawn")


@post("/manage/items/{item_id:int}/attachments", name="disclosure:attachment_add", guards=GUARDS,
      request_max_body_size=ATTACHMENT_BODY_LIMIT)
async def attachment_add(request: Request, item_id: int) -> Response:
    item = await _managed_item(request, item_id)
    upload = (await request.form()).get("file")
    filename, content_type, data = "", "", b""
    if isinstance(upload, UploadFile) and upload.filename:
        filename, content_type, data = upload.filename, upload.content_type or "", await upload.read()
    try:
        await items.add_attachment(portal_of(request), current_user(request), item["id"], filename, content_type, data)
    except ItemRefused as refused:
        return await _item_page(request, item, errors=refused.errors, status_code=400)
    return redirect(f"/disclosure/manage/items/{item['id']}?done=attached#attachments")


@post("/manage/attachments/{attachment_id:int}/remove", name="disclosure:attachment_remove", guards=GUARDS)
async def attachment_remove(request: Request, attachment_id: int) -> Response:
    try:
        item_id = await items.remove_attachment(portal_of(request), current_user(request), known_id(attachment_id))
    except items.ItemNotFound:
        raise NotFoundException() from None
    except NotAllowed:
        raise PermissionDeniedException(_("You may only work on your own unit's catalog.")) from None
    except ItemRefused as refused:
        row = await items.staff_attachment(current_user(request), attachment_id)
        return await _item_page(request, await _managed_item(request, row["item"]), errors=refused.errors, status_code=400)
    return redirect(f"/disclosure/manage/items/{item_id}?done=removed#attachments")


@get("/manage/attachments/{attachment_id:int}", name="disclosure:manage_attachment", guards=GUARDS)
async def manage_attachment(request: Request, attachment_id: int) -> File:
    try:
        attachment = await items.staff_attachment(current_user(request), known_id(attachment_id))
    except items.ItemNotFound:
        raise NotFoundException() from None
    except NotAllowed:
        raise PermissionDeniedException(_("You may only work on your own unit's catalog.")) from None
    return download(request, attachment)


async def _categories_page(request: Request, unit: dict, *, error: str | None = None, error_for: int | None = None,
                           status_code: int = 200) -> Response:
    return await page(request, "disclosure/manage/categories.html", status_code=status_code, unit=unit,
                        categories=await public.catalog(unit["id"]), error=error, error_for=error_for,
                        max_name=cats.MAX_NAME, missing_standard=await _missing_standard(unit["id"]))


async def _missing_standard(unit_id: int) -> int:
    have = {c["key"] for c in await cats.categories_of(unit_id)}
    return sum(1 for key, _name in cats.STANDARD_CATEGORIES if key not in have)


@get("/manage/units/{code:str}/categories", name="disclosure:categories", guards=GUARDS)
async def categories_page(request: Request, code: str) -> Response:
    return await _categories_page(request, await _managed_unit(request, code))


@post("/manage/units/{code:str}/categories", name="disclosure:category_add", guards=GUARDS)
async def category_add(request: Request, code: str) -> Response:
    unit = await _managed_unit(request, code)
    name = str((await request.form()).get("name") or "")
    try:
        await cats.add_category(portal_of(request), current_user(request), unit["id"], name)
    except cats.CategoryRefused as refused:
        return await _categories_page(request, unit, error=str(refused), status_code=400)
    return redirect(f"/disclosure/manage/units/{code}/categories")


@post("/manage/units/{code:str}/categories/standard", name="disclosure:categories_standard", guards=GUARDS)
async def categories_standard(request: Request, code: str) -> Response:
    unit = await _managed_unit(request, code)
    added = await cats.ensure_standard_categories(unit["id"])
    if added:
        await portal_of(request).audit("disclosure.categories_standard", actor=current_user(request),
                                       target_type="unit", target_id=unit["id"], summary=str(added))
    return redirect(f"/disclosure/manage/units/{code}/categories")


async def _category_change(request: Request, category_id: int, change) -> Response:
    category = await _managed_category(request, category_id)
    code = await _unit_code(category["unit"])
    try:
        await change(portal_of(request), current_user(request), category["id"], await request.form())
    except cats.CategoryRefused as refused:
        unit = {"id": category["unit"], "code": code, "name": (await public.unit_by_code(code))["name"]}
        return await _categories_page(request, unit, error=str(refused), error_for=category["id"], status_code=400)
    return redirect(f"/disclosure/manage/units/{code}/categories#category-{category['id']}")


@post("/manage/categories/{category_id:int}/rename", name="disclosure:category_rename", guards=GUARDS)
async def category_rename(request: Request, category_id: int) -> Response:
    async def change(portal, user, cid, data):
        await cats.rename_category(portal, user, cid, str(data.get("name") or ""))
    return await _category_change(request, category_id, change)


@post("/manage/categories/{category_id:int}/move", name="disclosure:category_move", guards=GUARDS)
async def category_move(request: Request, category_id: int) -> Response:
    async def change(portal, user, cid, data):
        await cats.move_category(portal, user, cid, -1 if data.get("direction") == "up" else 1)
    return await _category_change(request, category_id, change)


@post("/manage/categories/{category_id:int}/delete", name="disclosure:category_delete", guards=GUARDS)
async def category_delete(request: Request, category_id: int) -> Response:
    async def change(portal, user, cid, data):
        await cats.delete_category(portal, user, cid)
    return await _category_change(request, category_id, change)


MANAGE_ROUTES = [manage_home, manage_unit, item_new, item_create, manage_item, item_update, item_publish, item_withdraw,
                 attachment_add, attachment_remove, manage_attachment, categories_page, category_add,
                 categories_standard, category_rename, category_move, category_delete]
