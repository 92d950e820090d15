"""Searching a total catalog (总目录) of 100,000 approved resources (CAT-3), logged in.

The demo organisation's approved catalogs are filled directly with ``--resources`` entries (bulk
inserts through the search triggers, as approvals write them), spread over the province, the
city, the county and the township and their departments; names, abstracts and data items mix
catalog words with pairs of common characters, so the index has as many distinct trigrams as
real descriptions. Then, one request at a time, GET /catalog/total/<province>?q=… (the whole
100,000: results and the four facets) as the full page and as the htmx fragment the search
form asks for; p50 and p95 per query; the reference is the total catalog without a search.
Target (PERFORMANCE.md): p50 < 50 ms, moonshot < 10 ms.
Run: ``python bench/catalog_search.py [--resources 100000] [--requests 40] [--postgres postgresql://…/postgres]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlencode

import httpx

from inbox_page import free_port, log_in, percentile, wait_http
from scratch_db import scratch_postgres

SUBJECTS = ("人口", "户籍", "法人", "企业", "登记", "许可", "备案", "补贴", "社保", "医保", "不动产", "土地", "林地", "水资源",
            "地理", "信用", "处罚", "证照", "营业执照", "驾驶证", "学籍", "婚姻", "殡葬", "救助", "低保", "养老", "就业", "税务")
KINDS = ("信息", "数据", "台账", "名录", "目录", "清单", "统计", "档案")
ITEMS = ("姓名", "公民身份号码", "统一社会信用代码", "单位名称", "地址", "联系电话", "登记日期", "有效期", "金额", "面积",
         "地块编码", "证照编号", "发证机关", "状态", "备注", "经度", "纬度", "行政区划代码")
COMMON = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成可主发年动同工也能下过子说产种面而方后多定"
          "行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些")
CLASS_CODES = ("101001", "101002", "102001", "102002", "103001", "104001", "105001", "105002", "201", "203", "209",
               "307006", "307007", "307010", "307011", "307016001", "307016002", "307021", "307023")
SHARE_TYPES = ("unconditional", "conditional", "conditional", "none")
QUERIES = (
    ("101001/000777", "one code"),
    ("营业执照", "a common subject"),
    ("地块编码", "a data item"),
    ("低保救助", "a rare phrase"),
    ("登记", "2 characters, common"),
    ("质理", "2 characters, rare"),
    ("证", "1 character"),
    ("不存在的资源名称", "in no resource"),
)


def _rows(count: int, units: list[int], departments: dict[int, list[int]]):
    rng = random.Random(20261126)

    def filler(n: int) -> str:
        return "".join(rng.choice(COMMON) + rng.choice(COMMON) for _ in range(n))

    sequence: dict[str, int] = {}
    facets: dict[tuple, int] = {}
    for n in range(count):
        unit = units[n % len(units)]
        department = rng.choice(departments[unit])
        code = CLASS_CODES[n % len(CLASS_CODES)]
        sequence[code] = sequence.get(code, 0) + 1
        subject = rng.choice(SUBJECTS) + rng.choice(SUBJECTS)
        name = f"{subject}{rng.choice(KINDS)}{n}"
        items = "\n".join(rng.sample(ITEMS, 6))
        share_type = SHARE_TYPES[n % 4]
        facet = facets.setdefault((unit, department, code[:3], share_type), len(facets) + 1)
        yield (n + 1, 0, unit, department, f"{code}/{sequence[code]:06d}", name, f"{subject}{filler(20)}。", items,
               f"部门{department}", "", code, code[:3], "", "", "database", share_type, "platform_api", "closed",
               "monthly", "internal", None, "2026-11-26 00:00:00+00:00", facet)


def facet_rows(entries: list[tuple]) -> list[tuple]:
    """The ``catalog_facet`` rows an approval writes for these entries: (id, unit, department,
    class item, share type, count, approved at)."""
    counts: dict[int, list] = {}
    for entry in entries:
        row = counts.setdefault(entry[-1], [entry[-1], entry[2], entry[3], entry[11], entry[15], 0, "2026-11-26 00:00:00+00:00"])
        row[5] += 1
    return [tuple(row) for row in counts.values()]


INSERT = ("INSERT INTO catalog_entry (resource_id, filing, unit, department, code, name, abstract, items_text, provider, "
          "provider_code, classification_code, class_item, basic_code, thematic_code, format, share_type, share_method, "
          "open_type, update_cycle, secrecy, published_on, approved_at, facet) VALUES ({})")
INSERT_FACET = "INSERT INTO catalog_facet (id, unit, department, class_item, share_type, entries, approved_at) VALUES ({})"


async def fill(database_url: str | None, sqlite_path: str, count: int) -> int:
    """Approved entries over the demo's units and departments; returns the province's unit id."""
    if database_url:
        import asyncpg

        connection = await asyncpg.connect(database_url)
        try:
            units, departments, province = await _organisation(connection.fetch)
            rows = [(*row[:-2], time_value(), row[-1]) for row in _rows(count, units, departments)]
            await connection.copy_records_to_table("catalog_entry", records=rows, columns=_COLUMNS)
            facets = [(*row[:-1], time_value()) for row in facet_rows(rows)]
            await connection.copy_records_to_table("catalog_facet", records=facets,
                                                   columns=["id", "unit", "department", "class_item", "share_type", "entries",
                                                            "approved_at"])
            await connection.execute("SELECT setval('catalog_facet_id_seq', (SELECT max(id) FROM catalog_facet))")
            await connection.execute("ANALYZE catalog_entry")
        finally:
            await connection.close()
        return province
    import sqlite3

    db = sqlite3.connect(sqlite_path)
    try:
        units, departments, province = await _organisation(lambda sql: _sqlite_fetch(db, sql))
        rows = list(_rows(count, units, departments))
        db.executemany(INSERT.format(", ".join("?" * 23)), rows)
        db.executemany(INSERT_FACET.format(", ".join("?" * 7)), facet_rows(rows))
        db.commit()
        db.execute("ANALYZE")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return province


_COLUMNS = ["resource_id", "filing", "unit", "department", "code", "name", "abstract", "items_text", "provider", "provider_code",
            "classification_code", "class_item", "basic_code", "thematic_code", "format", "share_type", "share_method",
            "open_type", "update_cycle", "secrecy", "published_on", "approved_at", "facet"]


def time_value():
    from datetime import datetime, timezone

    return datetime(2026, 11, 26, tzinfo=timezone.utc)


async def _sqlite_fetch(db, sql: str) -> list[dict]:
    cursor = db.execute(sql)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


async def _organisation(fetch) -> tuple[list[int], dict[int, list[int]], int]:
    units = await fetch("SELECT id, parent FROM core_unit ORDER BY id")
    departments: dict[int, list[int]] = {}
    for row in await fetch("SELECT id, unit FROM core_department ORDER BY id"):
        departments.setdefault(row["unit"], []).append(row["id"])
    with_departments = [u["id"] for u in units if u["id"] in departments]
    province = next(u["id"] for u in units if u["parent"] is None)
    return with_departments, departments, province


async def measure(url: str, cookies, requests: int, headers: dict) -> list[float]:
    latencies = []
    async with httpx.AsyncClient(cookies=cookies, timeout=60) as client:
        for _ in range(requests):
            started = time.perf_counter()
            response = await client.get(url, headers=headers)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
    return latencies


def found(html: str) -> str:
    import re

    match = re.search(r'role="status">([^<]*)<', html)
    return match[1].strip() if match else "?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL instead of SQLite: a scratch database on this server")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    figures = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        env.update(PORTAL_DATA_DIR=tmp, PORTAL_WORKER="off")
        database_url = None
        if args.postgres:
            database_url = stack.enter_context(scratch_postgres(args.postgres, "catalog_search"))
            env["PORTAL_DATABASE_URL"] = database_url
        subprocess.run([sys.executable, "-m", "portal.cli", "demo"], env=env, check=True, capture_output=True)
        accounts = {a["username"]: a for a in json.loads(subprocess.run(
            [sys.executable, "-m", "portal.cli", "demo", "--json"], env=env, check=True, capture_output=True, text=True).stdout)}
        started = time.perf_counter()
        province = asyncio.run(fill(database_url, os.path.join(tmp, "portal.sqlite3"), args.resources))
        print(f"filled and indexed {args.resources} approved resources in {time.perf_counter() - started:.1f} s "
              f"({'PostgreSQL' if database_url else 'SQLite'})")
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "portal.cli", "serve", "--no-smtp", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/health")
            cookies = log_in(base, accounts["yuanfang"])
            total_url = f"{base}/catalog/total/{province}"
            asyncio.run(measure(total_url, cookies, 10, {}))  # warm-up: templates compiled, caches filled
            for query, label in (("", "no search (reference)"), *QUERIES):
                url = total_url + (f"?{urlencode({'q': query})}" if query else "")
                page = asyncio.run(measure(url, cookies, args.requests, {}))
                fragment = asyncio.run(measure(url, cookies, args.requests, {"HX-Request": "true"}))
                hits = found(httpx.get(url, cookies=cookies, timeout=60).text)
                figures.append((query, label, hits, page, fragment))
        finally:
            server.terminate()
            server.wait(10)
    print(f"search of a total catalog of {args.resources} resources (results and four facets), {args.requests} requests each, one at a time")
    print("  (first: the first request of a text, which counts its matches; later requests of the same text, paging and")
    print("   choosing facets, reuse those counts until an approval changes the catalog)")
    for query, label, hits, page, fragment in figures:
        print(f"  {query or '-':<18} {label:<24} {hits:<22} first {page[0] * 1000:7.1f} ms  page p50 {percentile(page, .5):7.1f} ms"
              f"  p95 {percentile(page, .95):7.1f} ms  | htmx fragment p50 {percentile(fragment, .5):7.1f} ms  p95 {percentile(fragment, .95):7.1f} ms")
    print("  target p50 < 50 ms (moonshot < 10 ms)")


if __name__ == "__main__":
    main()
