"""DCAT-AP 3 of a unit's total catalog, public part (CAT-6), in Turtle or JSON-LD (rdflib).

- the catalog (``dcat:Catalog``): the unit's total catalog, published by the unit, with the
  classification trees as its theme taxonomy;
- a dataset per public resource (``opendata``: approved, classified public, open or open on
  conditions): ``dct:identifier`` its resource code, title, abstract, the provider department as
  publisher and contact, its classifications as themes and their names as keywords, the update
  cycle as an EU frequency, the open attribute as an EU access right (无条件开放 PUBLIC,
  有条件开放 RESTRICTED), the publication date;
- one distribution each: the resource's public page as access URL (it says how the resource is
  shared and on which conditions), the format of the compilation guide as ``dct:format``.

The range shapes of DCAT-AP check a value's class in the data graph (``sh:class``), and the
standard's notes ask for the controlled vocabularies to be loaded with the data for that; so
the export carries, for each vocabulary term it uses (EU frequency, access right, language,
publisher type; the guide's formats and classifications), the term's class and label. The
export then validates on its own against the shapes in ``standards/dcat-ap-3.0.0``.

IRIs: a dataset is ``#dataset`` on its public page (``/catalog/open/resources/<id>``, stable
when a reclassification changes the code), so it is the same node in every level's catalog;
units, departments and vocabulary terms are minted under ``/catalog/id/``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from datetime import datetime

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from plugins.catalog import opendata
from plugins.catalog.sheet_format import LABELS
from plugins.catalog.tables import CatalogEntry, Classification

EU = "http://publications.europa.eu/resource/authority/"
FREQUENCY = Namespace(EU + "frequency/")
ACCESS_RIGHT = Namespace(EU + "access-right/")
LANGUAGE = Namespace(EU + "language/")
PUBLISHER_TYPE = Namespace("http://purl.org/adms/publishertype/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")

# 更新周期 → EU frequency (real time is "continuously updated").
FREQUENCIES = {
    "realtime": ("UPDATE_CONT", "continuously updated"), "daily": ("DAILY", "daily"), "weekly": ("WEEKLY", "weekly"),
    "monthly": ("MONTHLY", "monthly"), "quarterly": ("QUARTERLY", "quarterly"), "half_yearly": ("ANNUAL_2", "semiannual"),
    "yearly": ("ANNUAL", "annual"), "irregular": ("IRREG", "irregular"),
}
# 是否向社会开放 → EU access right; 不予开放 never reaches an export.
ACCESS_RIGHTS = {"open": ("PUBLIC", "public"), "conditional": ("RESTRICTED", "restricted")}
FORMAT_NAMES_EN = {"database": "Database", "spreadsheet": "Spreadsheet", "document": "Electronic document",
                   "structured": "Self-describing format (XML, JSON)", "image": "Graphics and images", "media": "Streaming media",
                   "api": "Service interface", "other": "Other format"}
SHARE_METHODS_EN = {"platform_api": "interface of the sharing platform", "platform_exchange": "table exchange",
                    "file": "file download", "offline": "offline copy", "": "not shared"}
UNIT_LEVEL_TYPES = {"province": "RegionalAuthority", "city": "LocalAuthority", "county": "LocalAuthority",
                    "township": "LocalAuthority"}

JSONLD_CONTEXT = {
    "dcat": str(DCAT), "dct": str(DCTERMS), "foaf": str(FOAF), "skos": str(SKOS), "vcard": str(VCARD), "xsd": str(XSD),
}
MEDIA_TYPES = {"turtle": "text/turtle; charset=utf-8", "json-ld": "application/ld+json"}


class CatalogGraph:
    """Builds the graph; ``base`` is the portal's address (``https://host``), without a slash."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.graph = Graph()
        for prefix, namespace in JSONLD_CONTEXT.items():
            self.graph.bind(prefix, namespace)
        self.described: set[URIRef] = set()

    def iri(self, path: str) -> URIRef:
        return URIRef(f"{self.base}/catalog/{path}")

    def add(self, subject, predicate, value) -> None:
        self.graph.add((subject, predicate, value))

    def term(self, node: URIRef, classes, labels: dict[str, str], scheme: URIRef | None = None, notation: str = "") -> URIRef:
        """A vocabulary term with its classes and labels, described once."""
        if node not in self.described:
            self.described.add(node)
            for cls in classes:
                self.add(node, RDF.type, cls)
            for language, text in labels.items():
                self.add(node, SKOS.prefLabel, Literal(text, lang=language))
            if scheme is not None:
                self.add(node, SKOS.inScheme, scheme)
            if notation:
                self.add(node, SKOS.notation, Literal(notation))
        return node

    def frequency(self, cycle: str) -> URIRef:
        code, english = FREQUENCIES.get(cycle, FREQUENCIES["irregular"])
        return self.term(FREQUENCY[code], (DCTERMS.Frequency, SKOS.Concept), {"en": english}, URIRef(EU + "frequency"))

    def access_right(self, open_type: str) -> URIRef:
        code, english = ACCESS_RIGHTS[open_type]
        return self.term(ACCESS_RIGHT[code], (DCTERMS.RightsStatement, SKOS.Concept), {"en": english}, URIRef(EU + "access-right"))

    def chinese(self) -> URIRef:
        return self.term(LANGUAGE.ZHO, (DCTERMS.LinguisticSystem, SKOS.Concept), {"en": "Chinese", "zh": "中文"}, URIRef(EU + "language"))

    def format(self, code: str) -> URIRef:
        scheme = self.iri("id/format")
        if scheme not in self.described:
            self.described.add(scheme)
            self.add(scheme, RDF.type, SKOS.ConceptScheme)
            self.add(scheme, DCTERMS.title, Literal("信息资源格式", lang="zh"))
        return self.term(self.iri(f"id/format/{code}"), (DCTERMS.MediaTypeOrExtent, SKOS.Concept),
                         {"zh": LABELS["format"].get(code, code), "en": FORMAT_NAMES_EN.get(code, code)}, scheme, code)

    def taxonomy(self) -> URIRef:
        scheme = self.iri("id/classification")
        if scheme not in self.described:
            self.described.add(scheme)
            self.add(scheme, RDF.type, SKOS.ConceptScheme)
            self.add(scheme, DCTERMS.title, Literal("政务信息资源目录分类", lang="zh"))
            self.add(scheme, DCTERMS.title, Literal("Classification of government information resources", lang="en"))
        return scheme

    def classification(self, code: str, name: str) -> URIRef:
        return self.term(self.iri(f"id/classification/{code}"), (SKOS.Concept,), {"zh": name}, self.taxonomy(), code)

    def agent(self, node: URIRef, name: str, level: str = "") -> URIRef:
        if node not in self.described:
            self.described.add(node)
            self.add(node, RDF.type, FOAF.Agent)
            self.add(node, RDF.type, FOAF.Organization)
            self.add(node, FOAF.name, Literal(name, lang="zh"))
            kind = UNIT_LEVEL_TYPES.get(level, "LocalAuthority")
            english = "Regional authority" if kind == "RegionalAuthority" else "Local authority"
            self.add(node, DCTERMS.type, self.term(PUBLISHER_TYPE[kind], (SKOS.Concept,), {"en": english}))
        return node

    def page(self, node: URIRef) -> URIRef:
        self.add(node, RDF.type, FOAF.Document)
        # The combined shapes check dcat:accessURL for the class rdfs:Resource, which every node
        # has under RDFS entailment; stated, the export validates without inference too.
        self.add(node, RDF.type, RDFS.Resource)
        return node


async def _classification_names(codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await Classification.select(Classification.code, Classification.name).where(Classification.code.is_in(sorted(codes)))
    return {row["code"]: row["name"] for row in rows}


async def unit_catalog(base: str, unit: dict) -> Graph:
    """The DCAT-AP graph of ``unit``'s total catalog, public part."""
    rows = await opendata.entries(opendata.Filter(unit_ids=await opendata.unit_ids_below(unit["id"])))
    builder = CatalogGraph(base)
    catalog = builder.iri(f"dcat/{unit['code']}")
    g = builder
    g.add(catalog, RDF.type, DCAT.Catalog)
    g.add(catalog, DCTERMS.title, Literal(f"{unit['name']}政务数据总目录（公开部分）", lang="zh"))
    g.add(catalog, DCTERMS.title, Literal(f"Government data catalog of {unit['name']} (public part)", lang="en"))
    g.add(catalog, DCTERMS.description, Literal(
        f"{unit['name']}及其下级的政务数据资源中经大数据工作主管部门备案审核、向社会开放的部分。", lang="zh"))
    g.add(catalog, DCTERMS.description, Literal(
        f"The government data resources of {unit['name']} and the levels below it that were approved by the big-data "
        "bureau and are open to the public.", lang="en"))
    g.add(catalog, DCTERMS.publisher, g.agent(builder.iri(f"id/unit/{unit['code']}"), unit["name"], unit.get("level", "")))
    g.add(catalog, FOAF.homepage, g.page(builder.iri(f"open/{unit['code']}")))
    g.add(catalog, DCTERMS.language, g.chinese())
    g.add(catalog, DCAT.themeTaxonomy, g.taxonomy())
    if rows:
        g.add(catalog, DCTERMS.issued, _moment(min(row["approved_at"] for row in rows)))
        g.add(catalog, DCTERMS.modified, _moment(max(row["approved_at"] for row in rows)))
    departments = await opendata.describe_departments(row["department"] for row in rows)
    codes = {code for row in rows for code in (row["classification_code"], row["basic_code"], row["thematic_code"]) if code}
    names = await _classification_names(codes)
    for row in rows:
        g.add(catalog, DCAT.dataset, _dataset(builder, row, departments.get(row["department"]), names))
    return builder.graph


def _moment(value) -> Literal:
    if isinstance(value, datetime):
        return Literal(value.isoformat(), datatype=XSD.dateTime)
    return Literal(str(value), datatype=XSD.dateTime)


def _dataset(g: CatalogGraph, row: dict, organisation: opendata.Organisation | None, names: dict[str, str]) -> URIRef:
    landing = g.iri(f"open/resources/{row['resource_id']}")
    dataset = URIRef(f"{landing}#dataset")
    g.add(dataset, RDF.type, DCAT.Dataset)
    g.add(dataset, DCTERMS.identifier, Literal(row["code"]))
    g.add(dataset, DCTERMS.title, Literal(row["name"], lang="zh"))
    g.add(dataset, DCTERMS.description, Literal(row["abstract"] or row["name"], lang="zh"))
    publisher_name = organisation.title if organisation else row["provider"]
    publisher = g.agent(g.iri(f"id/department/{row['department']}"), publisher_name)
    g.add(dataset, DCTERMS.publisher, publisher)
    contact = BNode()
    g.add(contact, RDF.type, VCARD.Organization)
    g.add(contact, RDF.type, VCARD.Kind)
    g.add(contact, VCARD.fn, Literal(row["provider"] or publisher_name, lang="zh"))
    g.add(dataset, DCAT.contactPoint, contact)
    for code in (row["classification_code"], row["basic_code"], row["thematic_code"]):
        if code and code in names:
            g.add(dataset, DCAT.theme, g.classification(code, names[code]))
            g.add(dataset, DCAT.keyword, Literal(names[code], lang="zh"))
    g.add(dataset, DCTERMS.accrualPeriodicity, g.frequency(row["update_cycle"]))
    g.add(dataset, DCTERMS.accessRights, g.access_right(row["open_type"]))
    g.add(dataset, DCTERMS.language, g.chinese())
    g.add(dataset, DCAT.landingPage, g.page(landing))
    if row["published_on"]:
        g.add(dataset, DCTERMS.issued, Literal(row["published_on"].isoformat(), datatype=XSD.date))
    distribution = URIRef(f"{landing}#distribution")
    g.add(dataset, DCAT.distribution, distribution)
    g.add(distribution, RDF.type, DCAT.Distribution)
    g.add(distribution, DCAT.accessURL, landing)
    g.add(distribution, DCTERMS.format, g.format(row["format"]))
    g.add(distribution, DCTERMS.title, Literal(row["name"], lang="zh"))
    share = LABELS["share_method"].get(row["share_method"], "不予共享")
    g.add(distribution, DCTERMS.description, Literal(
        f"{LABELS['format'].get(row['format'], row['format'])}；共享方式：{share}；{LABELS['open_type'][row['open_type']]}", lang="zh"))
    g.add(distribution, DCTERMS.description, Literal(
        f"{FORMAT_NAMES_EN.get(row['format'], row['format'])}; shared by {SHARE_METHODS_EN.get(row['share_method'], row['share_method'])}; "
        f"access {ACCESS_RIGHTS[row['open_type']][1]}", lang="en"))
    return dataset


def serialize(graph: Graph, form: str) -> bytes:
    """``form``: ``turtle`` or ``json-ld``."""
    if form == "json-ld":
        return graph.serialize(format="json-ld", context=JSONLD_CONTEXT, indent=1, auto_compact=True).encode()
    return graph.serialize(format="turtle").encode()


# Answers kept per process: an anonymous visitor asking again and again for a province's catalog
# of thousands of datasets would otherwise cost seconds of CPU each time. A kept answer is used
# while no approval changed the entries (their count, newest id and newest approval) and for
# ten minutes at most (a unit moved in the tree changes no entry).
CACHE_SIZE = 16
CACHE_SECONDS = 600
_cache: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()


async def entries_stamp() -> tuple:
    rows = await CatalogEntry.raw("SELECT count(*) AS n, max(id) AS last, max(approved_at) AS at FROM catalog_entry")
    return (rows[0]["n"], rows[0]["last"], str(rows[0]["at"]))


async def export(base: str, unit: dict, form: str) -> bytes:
    """The serialized catalog of ``unit`` (``form``: turtle or json-ld), from the cache when current."""
    key = (base, unit["id"], unit["name"], unit["code"], form, await entries_stamp())
    kept = _cache.get(key)
    if kept and time.monotonic() - kept[0] < CACHE_SECONDS:
        _cache.move_to_end(key)
        return kept[1]
    graph = await unit_catalog(base, unit)
    # Serializing thousands of datasets takes seconds of CPU: off the event loop.
    data = await asyncio.to_thread(serialize, graph, form)
    _cache[key] = (time.monotonic(), data)
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return data
