"""The catalog's exchange formats (CAT-6) at the size of a large department, on SQLite (or
PostgreSQL with ``--postgres URL``), in one process, no HTTP.

Measures: reading and checking a workbook of N resources (5 data items each), importing it (all
or nothing, one transaction), exporting the catalog as a workbook; after the catalog is filed and
approved with every resource open to the public: the DCAT-AP graph of the unit and its Turtle
and JSON-LD, a CKAN package_search of 1000 rows and a package_show. No targets are set for
these (PERFORMANCE.md names none); the figures say what a bureau waits for.
Run: ``python bench/catalog_exchange.py [--resources 1000] [--postgres postgresql://…]``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


@contextmanager
def timed(label: str, figures: dict):
    start = time.perf_counter()
    yield
    figures[label] = time.perf_counter() - start
    print(f"{label:<52} {figures[label]:8.2f} s", flush=True)


def workbook(count: int, uscc: str) -> bytes:
    from openpyxl import Workbook

    from plugins.catalog.sheet_format import ITEM_COLUMNS, RESOURCE_COLUMNS

    wb = Workbook()
    sheet = wb.active
    sheet.title = "信息资源"
    sheet.append([c.header for c in RESOURCE_COLUMNS])
    items = wb.create_sheet("信息项")
    items.append([c.header for c in ITEM_COLUMNS])
    for n in range(count):
        name = f"农业农村数据资源第{n:04d}号"
        cells = {"信息资源分类": "307016001", "信息资源名称": name, "信息资源提供方": "黄河县农业农村局", "提供方代码": uscc,
                 "信息资源摘要": f"{name}的登记、统计和发放记录，按月汇总。" * 3, "信息资源格式": "数据库", "格式说明": "MySQL",
                 "共享类型": "无条件共享", "共享方式": "接口服务", "是否向社会开放": "无条件开放", "更新周期": "每月",
                 "发布日期": "2026-03-01", "密级": "公开"}
        sheet.append([cells.get(c.header, "") for c in RESOURCE_COLUMNS])
        for m in range(5):
            items.append(["", name, f"信息项{m}", "字符型", 50, "说明"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def run(count: int, data_dir: Path, database_url: str | None) -> dict:
    from plugins.catalog import ckan, dcat, filing, opendata, spreadsheet
    from plugins.catalog.resources import uscc_check_character
    from portal.accounts.services import UnitForm, UserForm, create_department, create_unit, create_user, load_current_user
    from portal.app import create_app, plugin_app_configs
    from portal.db import close_engine
    from portal.migrate import apply_migrations
    from portal.settings import Settings

    settings = Settings.from_env({"PORTAL_DATA_DIR": str(data_dir), "PORTAL_SECRET_KEY": "bench",
                                  **({"PORTAL_DATABASE_URL": database_url} if database_url else {})})
    portal = create_app(settings).state.portal
    portal.notify = lambda *args, **kwargs: None
    figures: dict = {}
    try:
        await apply_migrations(plugin_app_configs(portal), verbose=False)
        county = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, "huanghe.gov.example", "黄河办"))
        agri = await create_department(None, county, "农业农村局")
        bureau = await create_department(None, county, "大数据局")
        editor_id = await create_user(None, UserForm("editor", "editor", "editor@x.example", county, agri, "bench-password-2026"),
                                      roles=["catalog_editor", "staff"])
        reviewer_id = await create_user(None, UserForm("reviewer", "reviewer", "r@x.example", county, bureau, "bench-password-2026"),
                                        roles=["catalog_reviewer", "staff"])
        editor = await load_current_user(editor_id, portal.permissions)
        reviewer = await load_current_user(reviewer_id, portal.permissions)
        first17 = "11371200MB0123456"
        data = workbook(count, first17 + uscc_check_character(first17))
        print(f"workbook of {count} resources, {count * 5} data items: {len(data) / 1024:.0f} KB")
        with timed("read and check only", figures):
            await spreadsheet.import_workbook(editor, agri, data, portal, check_only=True)
        with timed("import (one transaction)", figures):
            result = await spreadsheet.import_workbook(editor, agri, data, portal)
        assert len(result.created) == count
        with timed("export as a workbook", figures):
            await spreadsheet.export_workbook(editor, agri)
        filing_id = await filing.submit(editor, agri, "", portal)
        await filing.decide(reviewer, filing_id, "approve", "", portal)
        unit = await opendata.unit_by_code("huanghe")
        with timed(f"DCAT-AP graph of {count} datasets", figures):
            graph = await dcat.unit_catalog("https://data.example", unit)
        with timed(f"  Turtle ({len(graph)} triples)", figures):
            turtle = dcat.serialize(graph, "turtle")
        with timed("  JSON-LD", figures):
            json_ld = dcat.serialize(graph, "json-ld")
        print(f"  sizes: Turtle {len(turtle) / 1024:.0f} KB, JSON-LD {len(json_ld) / 1024:.0f} KB")
        site = ckan.Site("https://data.example")
        with timed("CKAN package_search rows=1000", figures):
            status, _envelope = await ckan.call(site, "package_search", {"rows": 1000})
        assert status == 200
        with timed("CKAN package_search q=第0500号", figures):
            await ckan.call(site, "package_search", {"q": "第0500号"})
        name = ckan.package_name(result.created[count // 2])
        with timed("CKAN package_show", figures):
            await ckan.call(site, "package_show", {"id": name})
    finally:
        await close_engine()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--postgres", help="a PostgreSQL server URL: the run uses a scratch database on it")
    args = parser.parse_args()
    os.environ.pop("PORTAL_DATABASE_URL", None)
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            from scratch_db import scratch_postgres

            with scratch_postgres(args.postgres, "catalog") as url:
                asyncio.run(run(args.resources, Path(tmp), url))
        else:
            asyncio.run(run(args.resources, Path(tmp), None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
