"""DCAT-AP 3 of a total catalog's public part (CAT-6): valid against the standard's SHACL shapes
(pyshacl), the same graph in Turtle and JSON-LD, and nothing secret, closed, internal or
unapproved in it."""

from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SH

from plugins.catalog import dcat, opendata, total
from portal import i18n

SHAPES = Path(__file__).parent / "dcat-ap-3.0.0"
BASE = "http://127.0.0.1"
FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
ACCESS_RIGHT = Namespace("http://publications.europa.eu/resource/authority/access-right/")


@pytest.fixture(autouse=True)
def english(client):
    i18n.set_locale("en")
    client.headers["accept-language"] = "en"


async def export(org, unit_code: str, form: str = "turtle") -> bytes:
    unit = await opendata.unit_by_code(unit_code)
    return dcat.serialize(await dcat.unit_catalog(BASE, unit), form)


def parsed(data: bytes, form: str = "turtle") -> Graph:
    return Graph().parse(data=data, format=form)


def shapes(*names: str) -> Graph:
    graph = Graph()
    for name in names:
        graph.parse(SHAPES / name, format="turtle")
    return graph


def violations(data: Graph, shapes_graph: Graph) -> list[str]:
    """Each violation's message (warnings of the recommended shapes aside)."""
    _conforms, report, _text = validate(data, shacl_graph=shapes_graph, allow_warnings=True, inference="none")
    return [f"{report.value(result, SH.focusNode)} {report.value(result, SH.resultPath)}: {report.value(result, SH.resultMessage)}"
            for result in report.subjects(RDF.type, SH.ValidationResult)
            if report.value(result, SH.resultSeverity) == SH.Violation]


def titles(graph: Graph) -> set[str]:
    return {str(graph.value(dataset, DCTERMS.title)) for dataset in graph.subjects(RDF.type, DCAT.Dataset)}


async def test_the_export_validates_against_the_dcat_ap_3_shapes(org, public_catalogs):
    graph = parsed(await export(org, "sd"))
    assert len(titles(graph)) == 3
    assert violations(graph, shapes("dcat-ap-SHACL.ttl")) == []
    assert violations(graph, shapes("shapes.ttl", "range.ttl", "shapes_recommended.ttl")) == []


async def test_a_catalog_without_open_resources_validates_too(org):
    graph = parsed(await export(org, "huanghe"))
    assert titles(graph) == set()
    assert violations(graph, shapes("dcat-ap-SHACL.ttl")) == []
    assert violations(graph, shapes("shapes.ttl", "range.ttl")) == []


async def test_turtle_and_json_ld_carry_the_same_graph(org, public_catalogs):
    turtle = parsed(await export(org, "sd"))
    json_ld = parsed(await export(org, "sd", "json-ld"), "json-ld")
    assert isomorphic(turtle, json_ld)
    assert violations(json_ld, shapes("shapes.ttl", "range.ttl")) == []


async def test_only_approved_resources_open_to_the_public_are_exported(org, public_catalogs):
    data = await export(org, "sd")
    assert titles(parsed(data)) == public_catalogs.public
    text = data.decode()
    for name in public_catalogs.hidden:
        assert name not in text


async def test_each_level_exports_its_own_and_the_levels_below(org, public_catalogs):
    assert titles(parsed(await export(org, "huanghe"))) == {"农机购置补贴发放信息", "农产品质量抽检结果"}
    assert titles(parsed(await export(org, "jinan"))) == public_catalogs.public


async def test_a_dataset_carries_the_catalog_s_metadata_in_dcat_terms(org, public_catalogs):
    graph = parsed(await export(org, "jinan"))
    by_title = {str(graph.value(d, DCTERMS.title)): d for d in graph.subjects(RDF.type, DCAT.Dataset)}
    market = by_title["市场主体登记信息"]
    assert str(graph.value(market, DCTERMS.identifier)).startswith("102001/")
    assert graph.value(market, DCTERMS.accrualPeriodicity) == FREQUENCY.UPDATE_CONT
    assert graph.value(market, DCTERMS.accessRights) == ACCESS_RIGHT.PUBLIC
    assert graph.value(market, DCTERMS.issued) == Literal("2025-12-01", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date"))
    assert str(graph.value(graph.value(market, DCTERMS.publisher), FOAF.name)) == "济南市人民政府市场监管局"
    distribution = graph.value(market, DCAT.distribution)
    assert graph.value(distribution, DCAT.accessURL) == URIRef(f"{BASE}/catalog/open/resources/{public_catalogs.ids['市场主体登记信息']}")
    assert graph.value(distribution, DCTERMS.format) == URIRef(f"{BASE}/catalog/id/format/database")
    quality = by_title["农产品质量抽检结果"]
    assert graph.value(quality, DCTERMS.accessRights) == ACCESS_RIGHT.RESTRICTED
    assert graph.value(quality, DCTERMS.accrualPeriodicity) == FREQUENCY.MONTHLY
    assert {str(k) for k in graph.objects(quality, DCAT.keyword)}
    catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
    assert str(graph.value(graph.value(catalog, DCTERMS.publisher), FOAF.name)) == "济南市人民政府"


async def test_the_open_set_is_the_total_catalog_s_public_view(org, public_catalogs):
    for unit in (org.province, org.city, org.county):
        expected = [row["resource_id"] for row in await total.public_resources(unit, limit=1000)]
        found = [row["resource_id"] for row in await opendata.entries(opendata.Filter(unit_ids=await opendata.unit_ids_below(unit)))]
        assert found == expected


async def test_the_routes_answer_without_login(client, org, public_catalogs):
    turtle = await client.get("/catalog/dcat/jinan.ttl")
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
    assert titles(parsed(turtle.content)) == public_catalogs.public
    json_ld = await client.get("/catalog/dcat/jinan.jsonld")
    assert json_ld.headers["content-type"].startswith("application/ld+json")
    assert titles(parsed(json_ld.content, "json-ld")) == public_catalogs.public
    for path in ("/catalog/dcat/nowhere.ttl", "/catalog/dcat/jinan.xml", "/catalog/dcat/jinan"):
        assert (await client.get(path)).status_code == 404


async def test_the_open_pages_show_public_resources_only(client, org, public_catalogs):
    page = await client.get("/catalog/open/sd")
    assert page.status_code == 200
    for name in public_catalogs.public:
        assert name in page.text
    for name in public_catalogs.hidden:
        assert name not in page.text
    shown = await client.get(f"/catalog/open/resources/{public_catalogs.ids['农产品质量抽检结果']}")
    assert shown.status_code == 200 and "open on conditions" in shown.text
    for name in public_catalogs.hidden - {"农机购置补贴发放信息（草稿改名）"}:
        assert (await client.get(f"/catalog/open/resources/{public_catalogs.ids[name]}")).status_code == 404
    assert (await client.get("/catalog/open/nowhere")).status_code == 404


async def test_a_new_approval_shows_in_the_next_export_at_once(client, org, public_catalogs, make_form):
    from plugins.catalog import filing, resources

    assert titles(parsed((await client.get("/catalog/dcat/jinan.ttl")).content)) == public_catalogs.public
    editor = await org.user("market_editor")
    filing_id = await filing.submit(editor, org.market, "", org.portal)
    await filing.decide(await org.user("city_reviewer"), filing_id, "approve", "", org.portal)
    again = titles(parsed((await client.get("/catalog/dcat/jinan.ttl")).content))
    assert again == public_catalogs.public | {"未备案的开放资源"}
    await resources.remove(editor, public_catalogs.ids["市场主体登记信息"], org.portal)
    filing_id = await filing.submit(editor, org.market, "", org.portal)
    await filing.decide(await org.user("city_reviewer"), filing_id, "approve", "", org.portal)
    assert "市场主体登记信息" not in titles(parsed((await client.get("/catalog/dcat/jinan.ttl")).content))
