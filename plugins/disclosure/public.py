"""What the public sees (PUB-1, PUB-4): the service API of the public pages, the kiosk and any
other code that shows disclosed information. Everything here returns only items that are
published and whose ``publish_at`` has come, never a draft, a scheduled or a withdrawn item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from piccolo.columns.combination import WhereRaw

from plugins.disclosure.tables import Attachment, Category, Item
from portal.accounts.tables import Unit
from portal.jobs import now as utc_now

PAGE_SIZE = 20
MAX_PAGE = 10_000
MAX_QUERY = 100
# A search counts and pages through at most this many of the newest items it finds: the cost of
# a common word stays that of a rare one, and nobody reads further than that.
SEARCH_CAP = 1000
TRIGRAM = 3  # characters in a trigram, the shortest text the SQLite index looks up directly
LAST_CHARACTER = "\U0010ffff"
SEARCHED = ("disclosure_item.title", "disclosure_item.body_text")

LIST_COLUMNS = (Item.id, Item.title, Item.document_date, Item.issuer, Item.document_number, Item.publish_at,
                Item.updated_at, Item.category, Item.unit)


@dataclass(frozen=True)
class Page:
    """One page of items: ``items`` (dicts of ``LIST_COLUMNS``), the page number and how many
    items match in all."""

    items: list[dict]
    page: int
    total: int
    page_size: int = PAGE_SIZE
    # A search that found more than SEARCH_CAP items: ``total`` is the cap.
    capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def visible(moment: datetime | None = None):
    """The condition of an item the public may see at ``moment`` (now by default)."""
    return (Item.status == "published") & (Item.publish_at <= (moment or utc_now()))


def page_number(value) -> int:
    """A page number from a query string: 1 for anything that is not one, at most ``MAX_PAGE``."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


async def public_units() -> list[dict]:
    """Units that have a catalog (at least one category), by level then name, with ``code``."""
    rows = await Unit.select(Unit.id, Unit.name, Unit.code, Unit.level).where(
        Unit.id.is_in(Category.select(Category.unit)))
    order = {"province": 0, "city": 1, "county": 2, "township": 3}
    return sorted(rows, key=lambda u: (order.get(u["level"], 9), u["name"]))


async def unit_by_code(code: str) -> dict | None:
    if not code or len(code) > 40:
        return None
    return await Unit.select(Unit.id, Unit.name, Unit.code).where(Unit.code == code).first()


async def catalog(unit_id: int, moment: datetime | None = None) -> list[dict]:
    """The unit's categories in order, each with ``count``: the items the public sees in it.

    The count of published items is kept per category by triggers; the few published items
    whose moment is still ahead (scheduled) are subtracted, read through the publish_at index."""
    moment = moment or utc_now()
    categories = await Category.select(Category.id, Category.name, Category.key, Category.published_count).where(
        Category.unit == unit_id).order_by(Category.position).order_by(Category.id)
    ahead = await Item.select(Item.category, Item.status).where(Item.publish_at > moment)
    for row in categories:
        scheduled = sum(1 for item in ahead if item["category"] == row["id"] and item["status"] == "published")
        row["count"] = row.pop("published_count") - scheduled
    return categories


async def public_category(category_id: int) -> dict | None:
    """A category with its unit's ``unit_name`` and ``unit_code``."""
    return await Category.select(Category.id, Category.name, Category.key, Category.unit,
                                 Category.unit.name.as_alias("unit_name"), Category.unit.code.as_alias("unit_code")).where(
        Category.id == category_id).first()


async def published_items(unit_id: int | None = None, category_id: int | None = None, page: int = 1, *,
                          page_size: int = PAGE_SIZE, moment: datetime | None = None) -> Page:
    """Published items, newest first, of a unit or of one category, one page of them."""
    condition = visible(moment)
    # A category belongs to one unit: naming the unit too would lead the database to the unit's
    # index instead of the category's.
    if category_id is not None:
        condition &= Item.category == category_id
    elif unit_id is not None:
        condition &= Item.unit == unit_id
    return await _page(condition, page, page_size)


async def search(text: str, unit_id: int | None = None, page: int = 1, *, page_size: int = PAGE_SIZE,
                 moment: datetime | None = None) -> Page:
    """Published items whose title or body contain ``text`` (a substring as typed, case aside,
    Chinese included), the newest entered first, at most ``SEARCH_CAP`` of them.

    The order is the items' ids, not their publication moments: the database then walks the
    matches from the newest and stops at the cap, instead of sorting every match of a common
    word. The two orders differ only for items scheduled ahead of their writing."""
    text = " ".join((text or "").split())[:MAX_QUERY]
    if not text:
        return Page([], 1, 0, page_size)
    condition = visible(moment) & search_condition(text)
    if unit_id is not None:
        condition &= Item.unit == unit_id
    found = [row["id"] for row in await Item.select(Item.id).where(condition).order_by(
        Item.id, ascending=False).limit(SEARCH_CAP + 1)]
    capped = len(found) > SEARCH_CAP
    found = found[:SEARCH_CAP]
    pages = max(1, -(-len(found) // page_size))
    page = min(page_number(page), pages)
    wanted = found[(page - 1) * page_size:page * page_size]
    rows = await _rows(Item.id.is_in(wanted)) if wanted else []
    order = {item_id: n for n, item_id in enumerate(wanted)}
    return Page(sorted(rows, key=lambda row: order[row["id"]]), page, len(found), page_size, capped)


def search_condition(text: str) -> WhereRaw:
    """Items whose title or body text contain ``text`` (not empty), every character literal.

    The pattern of webmail's search: SQLite reads the FTS5 trigram index (a phrase for three
    characters or more, for one or two the postings of every trigram beginning with them),
    PostgreSQL's ILIKE the pg_trgm indexes."""
    if Item._meta.db.engine_type == "sqlite":
        if len(text) >= TRIGRAM:
            return WhereRaw("disclosure_item.id IN (SELECT rowid FROM disclosure_item_fts WHERE disclosure_item_fts MATCH {})",
                            '"' + text.replace('"', '""') + '"')
        prefix = text.lower()  # the index holds folded trigrams
        return WhereRaw("disclosure_item.id IN (SELECT doc FROM disclosure_item_fts_instances WHERE term >= {} AND term <= {})",
                        prefix, prefix + LAST_CHARACTER)
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return WhereRaw("(" + " OR ".join(f"{column} ILIKE {{}} ESCAPE '\\'" for column in SEARCHED) + ")",
                    *[pattern] * len(SEARCHED))


def _rows(condition):
    return Item.select(*LIST_COLUMNS, Item.category.name.as_alias("category_name"), Item.unit.name.as_alias("unit_name"),
                       Item.unit.code.as_alias("unit_code")).where(condition)


async def _page(condition, page: int, page_size: int) -> Page:
    page = page_number(page)
    total = await Item.count().where(condition)
    rows = await _rows(condition).order_by(Item.publish_at, ascending=False).order_by(Item.id, ascending=False).limit(
        page_size).offset((page - 1) * page_size)
    return Page(rows, page, total, page_size)


async def feed_items(category_id: int, limit: int = 20, moment: datetime | None = None) -> list[dict]:
    """The category's newest published items with their ``body_text``, for its feed."""
    return await Item.select(*LIST_COLUMNS, Item.body_text).where((Item.category == category_id) & visible(moment)).order_by(
        Item.publish_at, ascending=False).order_by(Item.id, ascending=False).limit(limit)


async def get_public_item(item_id: int, moment: datetime | None = None) -> dict | None:
    """A published item with everything its page shows (``body``, as written: show it through
    ``portal.richtext.body_html``), its category and unit, and ``attachments``; None when the
    public may not see it (a draft, scheduled, withdrawn or missing item alike)."""
    row = await Item.select(
        *LIST_COLUMNS, Item.body, Item.category.name.as_alias("category_name"), Item.unit.name.as_alias("unit_name"),
        Item.unit.code.as_alias("unit_code"),
    ).where((Item.id == item_id) & visible(moment)).first()
    if row is not None:
        row["attachments"] = await attachments_of(item_id)
    return row


async def attachments_of(item_id: int) -> list[dict]:
    return await Attachment.select(Attachment.id, Attachment.filename, Attachment.size, Attachment.content_type).where(
        Attachment.item == item_id).order_by(Attachment.id)


async def public_attachment(attachment_id: int, moment: datetime | None = None) -> dict | None:
    """An attachment of an item the public may see (``sha256`` locates its content), else None."""
    return await Attachment.select(Attachment.id, Attachment.item, Attachment.filename, Attachment.size,
                                   Attachment.sha256).where(
        (Attachment.id == attachment_id) & Attachment.item.is_in(Item.select(Item.id).where(visible(moment)))).first()
