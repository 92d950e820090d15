"""Total catalogs (总目录, CAT-3) and every shared view of approved resources.

This module is the catalog's service API for shared views (pages, exports, sharing requests,
open data): it reads only ``catalog_entry``, the approved resources, which never holds a secret
one — and filters secrecy again, so a secret resource cannot reach a shared view even if a row
were written by mistake.

A unit's total catalog is the approved catalogs of its own departments and of every unit below
it: the county's, the city's with its counties', the province's with everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from piccolo.columns.combination import WhereRaw
from piccolo.query.methods.select import Count

from plugins.catalog import access
from plugins.catalog.tables import CatalogEntry
from plugins.catalog.vocabulary import SECRET_LEVELS, SHARE_TYPES
from portal.api import CurrentUser

MAX_QUERY = 100
PER_PAGE = 50
TRIGRAM = 3
LAST_CHARACTER = "\U0010ffff"
SEARCHED = ("catalog_entry.name", "catalog_entry.abstract", "catalog_entry.items_text", "catalog_entry.code")
FACETS = ("class_item", "department", "share_type", "unit")

LIST_COLUMNS = (CatalogEntry.id, CatalogEntry.resource_id, CatalogEntry.code, CatalogEntry.name, CatalogEntry.abstract,
                CatalogEntry.provider, CatalogEntry.unit, CatalogEntry.department, CatalogEntry.class_item,
                CatalogEntry.classification_code, CatalogEntry.format, CatalogEntry.share_type, CatalogEntry.open_type,
                CatalogEntry.update_cycle, CatalogEntry.published_on, CatalogEntry.secrecy)


@dataclass(frozen=True)
class Query:
    """A search of a total catalog: text and facet filters (empty = all)."""

    text: str = ""
    class_item: str = ""
    department: int | None = None
    share_type: str = ""
    unit: int | None = None
    page: int = 1

    def cleaned_text(self) -> str:
        return self.text.replace("\x00", "").strip()[:MAX_QUERY]


@dataclass
class Result:
    rows: list[dict]
    total: int
    page: int
    pages: int
    # facet -> [(value, count)], largest first
    facets: dict[str, list[tuple]] = field(default_factory=dict)


class NotAllowed(PermissionError):
    pass


def search_condition(text: str) -> WhereRaw:
    """Entries whose name, abstract, data items or code contain ``text`` (stripped, not empty)
    as typed: a substring, case aside, every character literal — the mailbox's search pattern."""
    if CatalogEntry._meta.db.engine_type == "sqlite":
        if len(text) >= TRIGRAM:
            return WhereRaw("catalog_entry.id IN (SELECT rowid FROM catalog_entry_fts WHERE catalog_entry_fts MATCH {})",
                            '"' + text.replace('"', '""') + '"')
        prefix = text.lower()
        return WhereRaw("catalog_entry.id IN (SELECT doc FROM catalog_entry_fts_instances WHERE term >= {} AND term <= {})",
                        prefix, prefix + LAST_CHARACTER)
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return WhereRaw("(" + " OR ".join(f"{column} ILIKE {{}} ESCAPE '\\'" for column in SEARCHED) + ")",
                    *[pattern] * len(SEARCHED))


def _not_secret():
    return CatalogEntry.secrecy.not_in(list(SECRET_LEVELS))


def _conditions(unit_ids: list[int], query: Query, *, without: str = "") -> list:
    conditions = [CatalogEntry.unit.is_in(unit_ids), _not_secret()]
    text = query.cleaned_text()
    if text:
        conditions.append(search_condition(text))
    if query.class_item and without != "class_item":
        conditions.append(CatalogEntry.class_item == query.class_item)
    if query.department is not None and without != "department":
        conditions.append(CatalogEntry.department == query.department)
    if query.share_type and without != "share_type":
        conditions.append(CatalogEntry.share_type == query.share_type)
    if query.unit is not None and without != "unit":
        conditions.append(CatalogEntry.unit == query.unit)
    return conditions


def _require_reader(viewer: CurrentUser) -> None:
    if not viewer.can("catalog.read"):
        raise NotAllowed(viewer.id)


async def _facet(unit_ids: list[int], query: Query, column_name: str) -> list[tuple]:
    column = getattr(CatalogEntry, column_name)
    rows = await CatalogEntry.select(column, Count(CatalogEntry.id, alias="count")) \
        .where(*_conditions(unit_ids, query, without=column_name)).group_by(column)
    return sorted(((r[column_name], r["count"]) for r in rows), key=lambda pair: (-pair[1], str(pair[0])))


async def visible_resources(viewer: CurrentUser, unit_id: int, query: Query = Query(), *, facets: bool = True,
                            per_page: int = PER_PAGE) -> Result:
    """One page of ``unit_id``'s total catalog as ``viewer`` may see it (never a secret resource),
    filtered by ``query``, ordered by code; with the counts per classification (项), provider
    department, share type and unit of the filtered set when ``facets``."""
    _require_reader(viewer)
    unit_ids = await access.unit_ids_below(unit_id)
    conditions = _conditions(unit_ids, query)
    total = await CatalogEntry.count().where(*conditions)
    pages = max(1, -(-total // per_page))
    page = min(max(1, query.page), pages)
    rows = await CatalogEntry.select(*LIST_COLUMNS).where(*conditions).order_by(CatalogEntry.code) \
        .limit(per_page).offset((page - 1) * per_page)
    result = Result(rows, total, page, pages)
    if facets:
        result.facets = {name: await _facet(unit_ids, query, name) for name in FACETS}
    return result


@dataclass
class TotalCatalog:
    """The summary of a unit's total catalog: how many approved resources, and their counts per
    classification (项 code), provider department, share type and unit."""

    unit_id: int
    total: int
    per_class_item: list[tuple[str, int]]
    per_department: list[tuple[int, int]]
    per_share_type: list[tuple[str, int]]
    per_unit: list[tuple[int, int]]


async def total_catalog(unit_id: int) -> TotalCatalog:
    """The total catalog of ``unit_id`` (its departments and the units below), secret ones never
    counted. For the viewer-checked list use :func:`visible_resources`."""
    unit_ids = await access.unit_ids_below(unit_id)
    query = Query()
    counts = {name: await _facet(unit_ids, query, name) for name in FACETS}
    per_share = dict(counts["share_type"])
    return TotalCatalog(
        unit_id=unit_id,
        total=sum(count for _, count in counts["share_type"]),
        per_class_item=sorted(counts["class_item"]),
        per_department=counts["department"],
        per_share_type=[(kind, per_share.get(kind, 0)) for kind in SHARE_TYPES],
        per_unit=counts["unit"],
    )


async def entry_of_resource(viewer: CurrentUser, resource_id: int) -> dict | None:
    """One approved resource (a shared view of it) by its resource id; None when there is none
    or it is secret."""
    _require_reader(viewer)
    return await CatalogEntry.select().where((CatalogEntry.resource_id == resource_id) & _not_secret()).first()


async def public_resources(unit_id: int, *, limit: int = PER_PAGE, offset: int = 0) -> list[dict]:
    """Approved resources open to the public (open or on conditions) and marked public: what an
    open-data view may show without login."""
    unit_ids = await access.unit_ids_below(unit_id)
    return await CatalogEntry.select(*LIST_COLUMNS).where(
        CatalogEntry.unit.is_in(unit_ids), _not_secret(), CatalogEntry.secrecy == "public",
        CatalogEntry.open_type.is_in(["open", "conditional"]),
    ).order_by(CatalogEntry.code).limit(limit).offset(offset)
