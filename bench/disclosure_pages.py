"""The public disclosure pages over a large catalog (PUB-1, PUB-4), on SQLite, not logged in.

Fills the demo county's catalog with ``--items`` published items (Chinese titles and texts of
government words and common character pairs, as in bench/search.py), serves the portal and
measures, one request at a time, p50 and p99 of: the unit's catalog (categories with counts),
a category's first and a deep page, an item, a category's Atom feed, and searches of one, two
and more characters; plus each page's size. The reference is /disclosure (the list of units),
in the same run. No target is set for these pages in PERFORMANCE.md; the catalog search target
(p50 < 50 ms over 100,000) is the one they are held to.
Run: ``python bench/disclosure_pages.py [--items 100000] [--requests 40]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from inbox_page import free_port, load, percentile, wait_http
from search import COMMON, WORDS


def fill_catalog(db_path: Path, count: int) -> dict:
    """``count`` published items spread over the county's categories, indexed by the search
    triggers; returns ids to visit."""
    rng = random.Random(20261126)
    db = sqlite3.connect(db_path)
    unit = db.execute("SELECT id FROM core_unit WHERE code = 'huanghe'").fetchone()[0]
    categories = [r[0] for r in db.execute("SELECT id FROM disclosure_category WHERE unit = ? ORDER BY position", (unit,))]

    def text(words: int) -> str:
        return "".join(rng.choice(WORDS) if rng.random() < 0.1 else rng.choice(COMMON) + rng.choice(COMMON) for _ in range(words))

    def row(n: int) -> tuple:
        body = text(120) + "。"
        stamp = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d} {n % 24:02d}:{n % 60:02d}:00+00:00"
        return (unit, categories[n % len(categories)], f"关于{text(4)}的第{n}号通知", "黄河县人民政府", f"黄河办〔2025〕{n}号",
                f"<p>{body}</p>", body, "public", "published", stamp, stamp, stamp)

    db.executemany(
        "INSERT INTO disclosure_item (unit, category, title, issuer, document_number, body, body_text, classification, "
        "status, publish_at, created_at, updated_at, document_date, withdrawn_reason, source) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '', '')", (row(n) for n in range(count)))
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    item = db.execute("SELECT max(id) FROM disclosure_item").fetchone()[0]
    db.close()
    return {"category": categories[1], "item": item}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        env.update(PORTAL_DATA_DIR=tmp, PORTAL_WORKER="off", PORTAL_RATE_LIMIT_SEARCH_IP="100000/minute",
                   PORTAL_RATE_LIMIT_ANONYMOUS_IP="100000/minute")
        subprocess.run([sys.executable, "-m", "portal.cli", "demo"], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        ids = fill_catalog(Path(tmp) / "portal.sqlite3", args.items)
        print(f"filled and indexed the county's catalog with {args.items} items in {time.perf_counter() - started:.1f} s")
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "portal.cli", "serve", "--no-smtp", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pages = (("/disclosure", "units (reference)"), ("/disclosure/units/huanghe", "catalog with counts"),
                 (f"/disclosure/categories/{ids['category']}", "category, page 1"),
                 (f"/disclosure/categories/{ids['category']}?page=500", "category, page 500"),
                 (f"/disclosure/items/{ids['item']}", "item"), (f"/disclosure/categories/{ids['category']}/feed.atom", "Atom feed"),
                 ("/disclosure/search?q=安全生产", "search, common word"), ("/disclosure/search?q=第54321号", "search, rare"),
                 ("/disclosure/search?q=会议", "search, 2 characters"), ("/disclosure/search?q=旱", "search, 1 character"),
                 ("/disclosure/search?q=不存在的词语", "search, nothing found"))
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/health")
            for path, _label in pages:  # warm-up: templates compiled, caches filled
                asyncio.run(load(base + path, None, 3, 1))
            for path, label in pages:
                _, latencies = asyncio.run(load(base + path, None, args.requests, 1))
                size = httpx.get(base + path, headers={"accept-encoding": "gzip"}).num_bytes_downloaded  # as transferred
                figures.append((label, latencies, size))
        finally:
            server.terminate()
            server.wait(10)
    print(f"public disclosure pages over {args.items} items, {args.requests} requests each, one at a time")
    reference = percentile(figures[0][1], .5)
    for label, latencies, size in figures:
        p50 = percentile(latencies, .5)
        print(f"  {label:<24} p50 {p50:7.1f} ms  p99 {percentile(latencies, .99):7.1f} ms  {p50 / reference:5.1f} x reference"
              f"  {size / 1024:5.1f} KB gzip")


if __name__ == "__main__":
    main()
