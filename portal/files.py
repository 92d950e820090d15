"""Uploaded files, for plugins (public API): safe names, download headers, and a folder of
contents stored once each by SHA-256 (edoc attachments DOC-5, disclosure attachments PUB-1)."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path
from urllib.parse import quote

MAX_FILENAME = 200


def safe_filename(name: str) -> str:
    """The last path segment of ``name`` without control characters, path separators or
    leading dots, at most ``MAX_FILENAME`` characters (keeping the extension)."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in '<>:"|?*')
    name = name.strip().lstrip(".").strip()
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        keep = ext[:20] if dot else ""
        name = (stem if dot else name)[: MAX_FILENAME - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return name or "attachment"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name as RFC 5987 ``filename*``."""
    name = safe_filename(filename)
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode())
    if not fallback.strip("._"):
        fallback = "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def safe_content_type(content_type: str | None) -> str:
    """A well-formed ``type/subtype`` as the browser sent it, else ``application/octet-stream``."""
    if re.fullmatch(r"[\w.+-]+/[\w.+-]+", content_type or ""):
        return content_type[:100]
    return "application/octet-stream"


def stored_path(folder: Path, sha256: str) -> Path:
    """Where ``store`` keeps the content of that digest in ``folder``."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise ValueError("not a SHA-256 digest")
    return folder / sha256[:2] / sha256


def store(folder: Path, data: bytes) -> str:
    """Keep ``data`` in ``folder`` under its SHA-256 (returned): written to a temporary file,
    fsynced and renamed, so a row naming the digest, committed afterwards, never names a
    missing file. The same content is stored once."""
    digest = hashlib.sha256(data).hexdigest()
    path = stored_path(folder, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{digest}.{os.getpid()}.tmp")
        with temporary.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(path)
    return digest
