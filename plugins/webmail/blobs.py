"""Raw messages, stored once by content: the ``webmail_blob`` table, keyed by SHA-256.

A blob is written in the same transaction as the rows that point at it, so one commit (one
flush on SQLite) makes a message and its rows durable together, and no row can point at a
blob that was never written. Messages stored before blobs moved into the database (27 Nov
2026) are files under ``PORTAL_DATA_DIR/mail/blobs`` and are still read from there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from plugins.webmail.tables import Blob

# The same content stored twice (one message for many mailboxes, a resent copy) is one row.
INSERT_BLOB = "INSERT INTO webmail_blob (sha, data) VALUES ({}, {}) ON CONFLICT (sha) DO NOTHING"


def blob_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_statements(blobs: dict[str, bytes]) -> Iterator[tuple[str, list]]:
    """(SQL with ``{}`` placeholders, values) that store ``blobs`` (by id): one statement a blob,
    so no statement holds more than one message however large."""
    for sha, data in blobs.items():
        yield INSERT_BLOB, [sha, data]


async def store_blobs(items: list[bytes]) -> list[str]:
    """Store ``items`` in the current transaction (the caller's, which also writes the rows
    that point at them); their ids in the same order."""
    ids = [blob_id(data) for data in items]
    for sql, values in blob_statements(dict(zip(ids, items))):
        await Blob.raw(sql, *values)
    return ids


async def read_blob(portal, sha: str) -> bytes:
    """The raw message ``sha``; FileNotFoundError when there is none."""
    row = await Blob.select(Blob.data).where(Blob.sha == sha).first()
    if row is not None:
        return bytes(row["data"])
    return _legacy_path(portal, sha).read_bytes()


def _legacy_path(portal, sha: str) -> Path:
    """Where a blob stored before 27 Nov 2026 is: a file named by its id, two directory levels deep."""
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise FileNotFoundError(f"no message {sha!r}")
    return portal.settings.data_dir / "mail" / "blobs" / sha[:2] / sha[2:4] / sha
