"""Total catalogs (总目录, CAT-3) and every shared view of approved resources.

This module is the catalog's service API for shared views (pages, exports, sharing requests,
open data): it reads only ``catalog_entry``, the approved resources, which never holds a secret
one — and filters secrecy again, so a secret resource cannot reach a shared view even if a row
were written by mistake.

A unit's total catalog is the approved catalogs of its own departments and of every unit below
it: the county's, the city's with its counties', the province's with everything.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field

from piccolo.columns.combination import WhereRaw
from piccolo.query.methods.select import Count

from plugins.catalog import access
from plugins.catalog.tables import CatalogEntry, CatalogFacet
from plugins.catalog.vocabulary import SECRET_LEVELS, SHARE_TYPES
from portal.api import CurrentUser

MAX_QUERY = 100
CODE_PREFIX = re.compile(r"^[1-3]\d{2,11}/\d{0,9}$")
PER_PAGE = 50
# Above this many matches a page is found walking the entries in code order (``search_condition``).
MANY = 1000
# The match counts of the latest searches, by text and facet rows (``_counts``).
COUNTED_SEARCHES = 256
_COUNTED: OrderedDict[tuple, dict[int, int]] = OrderedDict()
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


def search_condition(text: str, *, many: bool = False) -> WhereRaw:
    """Entries whose name, abstract, data items or code contain ``text`` (stripped, not empty)
    as typed: a substring, case aside, every character literal — the mailbox's search pattern;
    a text written like a resource code (digits, a slash, digits) finds the codes it begins.

    ``many``: the text matches many entries; SQLite then walks the entries in code order and
    keeps the matching ones (the unary ``+`` keeps it from looking the matches up by id and
    sorting them all), which finds a page of 50 among 30,000 matches in a fraction of the time."""
    if CODE_PREFIX.match(text):
        # A resource code or its beginning (``101001/``, ``101001/0007``): the code index, since
        # the digit trigrams of codes are in nearly every entry and make a slow phrase search.
        if CatalogEntry._meta.db.engine_type == "sqlite":
            return WhereRaw("(catalog_entry.code >= {} AND catalog_entry.code < {})", text, text + LAST_CHARACTER)
        return WhereRaw("catalog_entry.code LIKE {}", text + "%")
    if CatalogEntry._meta.db.engine_type == "sqlite":
        by_id = "+catalog_entry.id" if many else "catalog_entry.id"
        if len(text) >= TRIGRAM:
            return WhereRaw(by_id + " IN (SELECT rowid FROM catalog_entry_fts WHERE catalog_entry_fts MATCH {})",
                            '"' + text.replace('"', '""') + '"')
        prefix = text.lower()
        return WhereRaw(by_id + " IN (SELECT doc FROM catalog_entry_fts_instances WHERE term >= {} AND term <= {})",
                        prefix, prefix + LAST_CHARACTER)
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return WhereRaw("(" + " OR ".join(f"{column} ILIKE {{}} ESCAPE '\\'" for column in SEARCHED) + ")",
                    *[pattern] * len(SEARCHED))


def _not_secret():
    return CatalogEntry.secrecy.not_in(list(SECRET_LEVELS))


def _conditions(unit_ids: list[int], query: Query, *, matches: int = 0) -> list:
    conditions = [CatalogEntry.unit.is_in(unit_ids), _not_secret()]
    text = query.cleaned_text()
    if text:
        conditions.append(search_condition(text, many=matches > MANY))
    if query.class_item:
        conditions.append(CatalogEntry.class_item == query.class_item)
    if query.department is not None:
        conditions.append(CatalogEntry.department == query.department)
    if query.share_type:
        conditions.append(CatalogEntry.share_type == query.share_type)
    if query.unit is not None:
        conditions.append(CatalogEntry.unit == query.unit)
    return conditions


def _require_reader(viewer: CurrentUser) -> None:
    if not viewer.can("catalog.read"):
        raise NotAllowed(viewer.id)


async def _counts(unit_ids: list[int], query: Query) -> tuple[list[dict], dict[int, int]]:
    """The facet rows of the units and how many entries of each the text matches (all of them
    without a text: the stored counts, no entry read)."""
    facets = await CatalogFacet.select().where(CatalogFacet.unit.is_in(unit_ids))
    text = query.cleaned_text()
    if not text:
        return facets, {f["id"]: f["entries"] for f in facets}
    # An approval replaces its department's facet rows (written at that moment): the same text
    # over the same rows is the same answer, so paging and choosing facets do not count again.
    key = (text, tuple(sorted((f["id"], f["approved_at"]) for f in facets)))
    counts = _COUNTED.get(key)
    if counts is None:
        rows = await CatalogEntry.select(CatalogEntry.facet, Count(CatalogEntry.id, alias="matches")) \
            .where(CatalogEntry.unit.is_in(unit_ids), _not_secret(), search_condition(text)).group_by(CatalogEntry.facet)
        counts = {r["facet"]: r["matches"] for r in rows}
        _COUNTED[key] = counts
        while len(_COUNTED) > COUNTED_SEARCHES:
            _COUNTED.pop(next(iter(_COUNTED)))
    else:
        _COUNTED.move_to_end(key)
    return facets, counts


def _passes(facet: dict, query: Query, without: str = "") -> bool:
    wanted = {"class_item": query.class_item or None, "department": query.department, "share_type": query.share_type or None,
              "unit": query.unit}
    return all(value is None or facet[name] == value for name, value in wanted.items() if name != without)


def _tally(facets: list[dict], counts: dict[int, int], query: Query) -> tuple[int, dict[str, list[tuple]]]:
    """The total under every filter, and per facet the counts under the other filters."""
    total = sum(counts.get(f["id"], 0) for f in facets if _passes(f, query))
    tallies = {}
    for name in FACETS:
        per_value: dict = {}
        for facet in facets:
            if counts.get(facet["id"]) and _passes(facet, query, without=name):
                per_value[facet[name]] = per_value.get(facet[name], 0) + counts[facet["id"]]
        tallies[name] = sorted(per_value.items(), key=lambda pair: (-pair[1], str(pair[0])))
    return total, tallies


async def visible_resources(viewer: CurrentUser, unit_id: int, query: Query = Query(), *, facets: bool = True,
                            per_page: int = PER_PAGE) -> Result:
    """One page of ``unit_id``'s total catalog as ``viewer`` may see it (never a secret resource),
    filtered by ``query``, ordered by code; with the counts per classification (项), provider
    department, share type and unit of the filtered set (``facets``; the total is counted anyway)."""
    _require_reader(viewer)
    unit_ids = await access.unit_ids_below(unit_id)
    total, tallies = _tally(*await _counts(unit_ids, query), query)
    pages = max(1, -(-total // per_page))
    page = min(max(1, query.page), pages)
    rows = await CatalogEntry.select(*LIST_COLUMNS).where(*_conditions(unit_ids, query, matches=total)).order_by(CatalogEntry.code) \
        .limit(per_page).offset((page - 1) * per_page) if total else []
    return Result(rows, total, page, pages, tallies if facets else {})


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
    """The total catalog of ``unit_id`` (its departments and the units below), from the counts
    written at each approval (secret resources are never among them). For the viewer-checked
    list use :func:`visible_resources`."""
    unit_ids = await access.unit_ids_below(unit_id)
    total, tallies = _tally(*await _counts(unit_ids, Query()), Query())
    per_share = dict(tallies["share_type"])
    return TotalCatalog(
        unit_id=unit_id,
        total=total,
        per_class_item=sorted(tallies["class_item"]),
        per_department=tallies["department"],
        per_share_type=[(kind, per_share.get(kind, 0)) for kind in SHARE_TYPES],
        per_unit=tallies["unit"],
    )


async def entry_of_resource(viewer: CurrentUser, resource_id: int) -> dict | None:
    """One approved resource (a shared view of it) by its resource id; None when there is none
    or it is secret."""
    _require_reader(viewer)
    return await CatalogEntry.select().where((CatalogEntry.resource_id == resource_id) & _not_secret()).first()


async def all_visible(viewer: CurrentUser, unit_id: int, *, batch: int = 500):
    """Every approved resource of ``unit_id``'s total catalog ``viewer`` may see, by code, in
    batches read one after another (for exports of a whole total catalog): yields rows."""
    _require_reader(viewer)
    unit_ids = await access.unit_ids_below(unit_id)
    after = ""
    while True:
        rows = await CatalogEntry.select(*LIST_COLUMNS, CatalogEntry.filing, CatalogEntry.provider_code, CatalogEntry.basic_code,
                                         CatalogEntry.thematic_code, CatalogEntry.share_method, CatalogEntry.approved_at) \
            .where(CatalogEntry.unit.is_in(unit_ids), _not_secret(), CatalogEntry.code > after) \
            .order_by(CatalogEntry.code).limit(batch)
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        after = rows[-1]["code"]


async def public_resources(unit_id: int, *, limit: int = PER_PAGE, offset: int = 0) -> list[dict]:
    """Approved resources open to the public (open or on conditions) and marked public: what an
    open-data view may show without login."""
    unit_ids = await access.unit_ids_below(unit_id)
    return await CatalogEntry.select(*LIST_COLUMNS).where(
        CatalogEntry.unit.is_in(unit_ids), _not_secret(), CatalogEntry.secrecy == "public",
        CatalogEntry.open_type.is_in(["open", "conditional"]),
    ).order_by(CatalogEntry.code).limit(limit).offset(offset)
