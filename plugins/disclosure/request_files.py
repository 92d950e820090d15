"""The file a unit attaches to its reply to a request for disclosure (PUB-3).

Contents are stored once by SHA-256 under ``<data folder>/disclosure/replies/``, written to a
temporary file, fsynced and renamed before the row naming them is committed, so a row never
names a missing file. Downloads are sent as opaque bytes to save (``attachment``), never shown
in the page.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 10 * 1024 * 1024
MAX_FILENAME = 200


@dataclass(frozen=True)
class StoredFile:
    name: str
    sha256: str
    size: int


def safe_filename(name: str) -> str:
    """The last path segment of ``name`` without control characters, quotes, path separators
    or leading dots, at most ``MAX_FILENAME`` characters (keeping the extension)."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in '<>:"|?*;')
    name = name.strip().lstrip(".").strip()
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        keep = ext[:20] if dot else ""
        name = (stem if dot else name)[: MAX_FILENAME - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return name or "reply"


def folder(data_dir: Path) -> Path:
    return Path(data_dir) / "disclosure" / "replies"


def path_of(data_dir: Path, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256")
    return folder(data_dir) / sha256[:2] / sha256


def store(data_dir: Path, filename: str, data: bytes) -> StoredFile:
    """Write ``data`` durably (once per content) and describe it."""
    sha256 = hashlib.sha256(data).hexdigest()
    target = path_of(data_dir, sha256)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{sha256}.{os.getpid()}.tmp")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    return StoredFile(safe_filename(filename), sha256, len(data))
