"""Searching a folder of 100,000 messages (MAIL-1), logged in, on SQLite.

The messages mix government words with pairs of common characters, so that the index has as
many distinct trigrams as real prose and a query finds what it would in a real mailbox: a rare
number, a sender, common and rare words of one, two (shorter than a trigram) and more characters.
Measures in one run, one request at a time, p50 and p99 of GET /webmail?q=…; the reference is
the same page without a search, in the same run.
Target (issue B, as for the catalog search in PERFORMANCE.md): p50 < 50 ms over 100,000.
Run: ``python bench/search.py [--messages 100000] [--requests 40]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inbox_page import free_port, load, log_in, percentile, wait_http

WORDS = ("通知", "会议", "安全生产", "财政预算", "执行情况", "乡镇", "农业农村", "防汛", "抗旱", "人事", "招聘", "培训",
         "报表", "统计", "审计", "整改", "落实", "督查", "检查", "意见", "征求", "请示", "批复", "文件", "印发", "方案")
# Filler: pairs of common characters, so the text has as many distinct trigrams as real prose.
COMMON = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成可主发年动同工也能下过子说产种面而方后多定"
          "行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些"
          "然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公"
          "无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将")
QUERIES = (
    ("第54321号", "rare"),
    ("office7@", "a sender of fifty"),
    ("安全生产", "a common word"),
    ("会议", "2 characters, common"),
    ("质理", "2 characters, rare"),
    ("旱", "1 character"),
    ("不存在的词语", "in no message"),
)


def fill_mailbox(db_path: Path, username: str, count: int) -> int:
    """``count`` messages into the user's inbox, indexed by the search triggers; returns the folder."""
    rng = random.Random(20261126)
    db = sqlite3.connect(db_path)
    mailbox = db.execute("SELECT m.id FROM webmail_mailbox m JOIN core_user u ON u.id = m.owner WHERE u.username = ?", (username,)).fetchone()[0]
    folder = db.execute("SELECT id FROM webmail_folder WHERE mailbox = ? AND kind = 'inbox'", (mailbox,)).fetchone()[0]

    def text(words: int) -> str:
        return "".join(rng.choice(WORDS) if rng.random() < 0.1 else rng.choice(COMMON) + rng.choice(COMMON) for _ in range(words))

    def row(n: int) -> tuple:
        subject = f"关于{text(4)}的第{n}号文"
        body = text(80) + "。"
        stamp = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d} {n % 24:02d}:{n % 60:02d}:00+00:00"
        return (mailbox, folder, "0" * 64, 10240, f"<{n}@bench>", "", subject, f"办公室{n % 50}", f"office{n % 50}@example.org",
                "", "", stamp, stamp, n % 3 == 0, False, False, body[:200], body, None)

    db.executemany(
        "INSERT INTO webmail_message (mailbox, folder, blob_sha, size, message_id, in_reply_to, subject, sender_name, "
        "sender_address, to_addresses, cc_addresses, sent_at, received_at, seen, flagged, has_attachments, snippet, "
        "body_text, delivery_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (row(n) for n in range(count)))
    db.commit()
    # Into the database file, as in a running system, instead of reads through a WAL of the whole fill.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return folder


def matches(db_path: Path, folder: int, query: str) -> int:
    """How many messages of the folder the query finds, counted the slow way."""
    db = sqlite3.connect(db_path)
    try:
        return db.execute("SELECT count(*) FROM webmail_message WHERE folder = :folder AND (instr(lower(subject), :q) "
                          "OR instr(lower(sender_name), :q) OR instr(lower(sender_address), :q) OR instr(lower(body_text), :q))",
                          {"folder": folder, "q": query.lower()}).fetchone()[0]
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        env.update(PORTAL_DATA_DIR=tmp, PORTAL_WORKER="off")
        subprocess.run([sys.executable, "-m", "portal.cli", "demo"], env=env, check=True, capture_output=True)
        accounts = {a["username"]: a for a in json.loads(subprocess.run(
            [sys.executable, "-m", "portal.cli", "demo", "--json"], env=env, check=True, capture_output=True, text=True).stdout)}
        account = accounts["zhangwei"]
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "portal.cli", "serve", "--no-smtp", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/health")
            cookies = log_in(base, account)  # creates the mailbox and its folders
            started = time.perf_counter()
            folder = fill_mailbox(Path(tmp) / "portal.sqlite3", account["username"], args.messages)
            print(f"filled and indexed the inbox with {args.messages} messages in {time.perf_counter() - started:.1f} s")
            asyncio.run(load(f"{base}/webmail", cookies, 20, 1))  # warm-up: templates compiled, caches filled
            for query, label in (("", "no search (reference)"), *QUERIES):
                _, latencies = asyncio.run(load(httpx_url(base, query), cookies, args.requests, 1))
                found = matches(Path(tmp) / "portal.sqlite3", folder, query) if query else args.messages
                figures.append((query, f"{label}, {found} found", latencies))
        finally:
            server.terminate()
            server.wait(10)
    print(f"search in one folder of {args.messages} messages, {args.requests} requests each, one at a time")
    reference = percentile(figures[0][2], .5)
    for query, label, latencies in figures:
        p50 = percentile(latencies, .5)
        print(f"  {query or '-':<14} {label:<36} p50 {p50:7.1f} ms  p99 {percentile(latencies, .99):7.1f} ms"
              f"  {p50 / reference:5.1f} x reference  (target p50 < 50 ms)")


def httpx_url(base: str, query: str) -> str:
    from urllib.parse import urlencode

    return f"{base}/webmail" + (f"?{urlencode({'q': query})}" if query else "")


if __name__ == "__main__":
    main()
