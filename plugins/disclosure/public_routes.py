"""The public pages of the disclosure catalog (PUB-1, PUB-4): no login, no JavaScript needed.

/disclosure                              the units with a catalog, and search
/disclosure/units/<code>                 a unit's categories with their counts, its newest items
/disclosure/categories/<id>[?page=]      a category's items, newest first, paged
/disclosure/categories/<id>/feed.atom    its Atom feed
/disclosure/items/<id>                   an item with its attachments
/disclosure/attachments/<id>             an attachment's download
/disclosure/search?q=&unit=&page=        search of titles and texts
"""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.response import File

from plugins.disclosure import feeds, items, public
from portal import files
from portal.jobs import now as utc_now
from portal.richtext import body_html
from plugins.disclosure.display import page
from portal.web import current_user, rate_limited

# Ids the database can hold: a larger number in a URL is a page that does not exist, never an
# integer overflow in the query.
MAX_ID = 2**31 - 1


def known_id(value: int) -> int:
    """``value`` when it can be an id, else 404."""
    if not 0 < value <= MAX_ID:
        raise NotFoundException()
    return value


def absolute(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


@get("/", name="disclosure:index")
async def public_index(request: Request) -> Response:
    return await page(request, "disclosure/index.html", units=await public.public_units())


@get("/units/{code:str}", name="disclosure:unit")
async def unit_page(request: Request, code: str) -> Response:
    unit = await public.unit_by_code(code)
    if unit is None:
        raise NotFoundException()
    return await page(request, "disclosure/unit.html", unit=unit, catalog=await public.catalog(unit["id"]),
                        latest=await public.published_items(unit["id"], page_size=10))


@get("/categories/{category_id:int}", name="disclosure:category")
async def category_page(request: Request, category_id: int) -> Response:
    category = await public.public_category(known_id(category_id))
    if category is None:
        raise NotFoundException()
    listed = await public.published_items(category["unit"], category["id"], public.page_number(request.query_params.get("page")))
    return await page(request, "disclosure/category.html", category=category, listed=listed)


@get("/categories/{category_id:int}/feed.atom", name="disclosure:feed")
async def category_feed(request: Request, category_id: int) -> Response:
    category = await public.public_category(known_id(category_id))
    if category is None:
        raise NotFoundException()
    entries = await public.feed_items(category["id"], feeds.ENTRIES)
    for entry in entries:
        entry["url"] = absolute(request, f"/disclosure/items/{entry['id']}")
    page_url = absolute(request, f"/disclosure/categories/{category['id']}")
    body = feeds.atom_feed(feed_id=page_url, title=f"{category['unit_name']} · {category['name']}",
                           author=category["unit_name"], self_url=page_url + "/feed.atom", page_url=page_url,
                           entries=entries, fallback_updated=utc_now().replace(microsecond=0))
    return Response(content=body, media_type=feeds.MEDIA_TYPE, headers={"cache-control": "public, max-age=300"})


@get("/items/{item_id:int}", name="disclosure:item")
async def item_page(request: Request, item_id: int) -> Response:
    item = await public.get_public_item(known_id(item_id))
    if item is None:
        raise NotFoundException()
    return await page(request, "disclosure/item.html", item=item, body=body_html(item["body"]),
                        can_manage=items.may_manage(current_user(request), item["unit"]))


@get("/attachments/{attachment_id:int}", name="disclosure:attachment")
async def attachment_download(request: Request, attachment_id: int) -> File:
    attachment = await public.public_attachment(known_id(attachment_id))
    if attachment is None:
        raise NotFoundException()
    return download(request, attachment)


def download(request: Request, attachment: dict) -> File:
    path = files.stored_path(items.attachment_folder(request.app.state.portal), attachment["sha256"])
    if not path.exists():
        raise NotFoundException()
    # Opaque bytes, always a download: an uploaded HTML or SVG file never runs in the portal's origin.
    return File(path=path, media_type="application/octet-stream", headers={
        "content-disposition": files.content_disposition(attachment["filename"]), "x-content-type-options": "nosniff"})


@get("/search", name="disclosure:search", opt=rate_limited("search"))
async def search_page(request: Request) -> Response:
    text = " ".join((request.query_params.get("q") or "").split())
    too_long = len(text) > public.MAX_QUERY
    unit = await public.unit_by_code(request.query_params.get("unit") or "")
    results = None
    if text and not too_long:
        results = await public.search(text, unit["id"] if unit else None, public.page_number(request.query_params.get("page")))
    return await page(request, "disclosure/search.html", status_code=400 if too_long else 200, query=text[:public.MAX_QUERY],
                        too_long=too_long, unit=unit, units=await public.public_units(), results=results,
                        max_query=public.MAX_QUERY)


PUBLIC_ROUTES = [public_index, unit_page, category_page, category_feed, item_page, attachment_download, search_page]
