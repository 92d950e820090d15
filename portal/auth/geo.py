"""Login geolocation (MAIL-20): the administrator's IP library and the new-place alert.

The library has two optional sources: a CSV of ``cidr,province,city`` lines (kept, normalized,
in the database) and a MaxMind DB file (kept in the data directory, read with ``maxminddb``).
An address is looked up in the CSV ranges first (the longest prefix wins), then private and
loopback addresses are the local network, then the MaxMind DB. Each process keeps the parsed
library in memory and reloads it when the stored content's SHA-256 changes.

A successful login from a place the user has not logged in from before raises an alert, when
he had logged in from a known place before (so uploading the first library does not alert
everyone): a notification, the ``on_login_alert`` hook (the mailbox delivers a mail), and the
mark on his login record.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import ipaddress
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from portal.api import CurrentUser, LoginAlert
from portal.audit.services import write_audit
from portal.auth.restrictions import parse_address
from portal.auth.security_tables import IpLibrary
from portal.auth.tables import LoginAttempt
from portal.db import write_transaction
from portal.i18n import gettext as _

log = logging.getLogger("portal.geo")

# Stored as the place of private and loopback addresses; shown as "local network".
LOCAL = "@local"
MAX_CSV_BYTES = 10 * 1024 * 1024
MAX_CSV_RANGES = 200_000
MAX_MMDB_BYTES = 128 * 1024 * 1024
MAX_PART = 40
MAX_ERRORS = 20
KNOWN_PLACES_SHOWN = 5
# Control and invisible formatting characters, not allowed in a place name.
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Loopback, private (RFC 1918), link-local and unique local (fc00::/7) addresses: the local
# network. Not ``is_private``, which also counts documentation and other reserved ranges.
LOCAL_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
    "::1/128", "fc00::/7", "fe80::/10",
))


def is_local(address: Address) -> bool:
    return any(address in network for network in LOCAL_NETWORKS)


class LibraryError(ValueError):
    """A refused upload; ``errors`` are messages a person reads (with line numbers for a CSV)."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def place_label(place: str) -> str:
    """A stored place as a person reads it."""
    return _("Local network") if place == LOCAL else place


# The CSV ranges ------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (what a Chinese spreadsheet saves)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LibraryError([_("The file is not text in UTF-8 or GB18030.")])


def _bad_part(text: str) -> bool:
    return len(text) > MAX_PART or CONTROL_RE.search(text) is not None


def parse_csv(data: bytes) -> list[tuple[str, str]]:
    """(network, place) pairs from a CSV upload, or LibraryError listing the bad lines.

    Each line is ``cidr,province,city`` (the city may be empty or left out); a first line
    ``cidr,province,city`` is a header; empty lines and lines starting with ``#`` are skipped.
    """
    if len(data) > MAX_CSV_BYTES:
        raise LibraryError([_("The file is larger than %(n)s MB.", n=MAX_CSV_BYTES // (1024 * 1024))])
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    errors: list[str] = []
    ranges: list[tuple[str, str]] = []
    first_line: dict[str, int] = {}
    seen_content = False
    try:
        for row in reader:
            line = reader.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if not seen_content and cells[0].lower() == "cidr":
                seen_content = True
                continue
            seen_content = True
            network, problem = _check_row(cells, first_line)
            if problem:
                errors.append(_("Line %(line)s: %(problem)s", line=line, problem=problem))
                if len(errors) >= MAX_ERRORS:
                    errors.append(_("Checking stopped after %(n)s errors.", n=MAX_ERRORS))
                    break
                continue
            first_line[network] = line
            ranges.append((network, " ".join(c for c in cells[1:3] if c)))
            if len(ranges) > MAX_CSV_RANGES:
                errors.append(_("The file has more than %(n)s ranges.", n=MAX_CSV_RANGES))
                break
    except csv.Error as error:
        errors.append(_("Line %(line)s: %(problem)s", line=reader.line_num, problem=str(error)))
    if not errors and not ranges:
        errors.append(_("The file holds no ranges."))
    if errors:
        raise LibraryError(errors)
    return ranges


def _check_row(cells: list[str], first_line: dict[str, int]) -> tuple[str, str | None]:
    """The row's network, normalized, and what is wrong with the row (None when nothing)."""
    if len(cells) not in (2, 3):
        return "", _("expected cidr,province,city (2 or 3 columns), found %(n)s columns.", n=len(cells))
    try:
        network = str(ipaddress.ip_network(cells[0], strict=True))
    except ValueError:
        try:
            loose = ipaddress.ip_network(cells[0], strict=False)
        except ValueError:
            return "", _("%(item)s is not a network such as 10.1.0.0/16 or 2001:db8::/32.", item=cells[0][:60])
        return "", _("%(item)s has bits set after the prefix: did you mean %(network)s?", item=cells[0][:60], network=str(loose))
    if network in first_line:
        return network, _("%(network)s is listed again (first on line %(first)s).", network=network, first=first_line[network])
    if not cells[1]:
        return network, _("the province is empty.")
    if any(_bad_part(c) for c in cells[1:]):
        return network, _("a place name has more than %(n)s characters or control characters.", n=MAX_PART)
    if cells[1].startswith("@"):
        return network, _("a place name cannot start with @.")
    return network, None


def csv_content(ranges: list[tuple[str, str]]) -> str:
    return "".join(f"{network}\t{place}\n" for network, place in ranges)


class PrefixIndex:
    """Longest-prefix match over CIDR ranges: one dict per prefix length, longest tried first."""

    def __init__(self, content: str):
        self.tables: dict[tuple[int, int], dict[int, str]] = {}
        for line in content.splitlines():
            # Normalized when stored: "<address>/<prefix length>\t<place>".
            raw, _sep, place = line.partition("\t")
            address, _slash, prefixlen = raw.partition("/")
            start = ipaddress.ip_address(address)
            self.tables.setdefault((start.version, int(prefixlen)), {})[int(start)] = place
        self.order = sorted(self.tables, key=lambda key: -key[1])

    def lookup(self, address: Address) -> str:
        bits = address.max_prefixlen
        number = int(address)
        for version, prefixlen in self.order:
            if version == address.version:
                key = (number >> (bits - prefixlen)) << (bits - prefixlen)
                place = self.tables[(version, prefixlen)].get(key)
                if place is not None:
                    return place
        return ""


# The MaxMind DB file -------------------------------------------------------------------------


def _name(entry) -> str:
    names = entry.get("names", {}) if isinstance(entry, dict) else {}
    return names.get("zh-CN") or names.get("en") or next(iter(names.values()), "")


def mmdb_place(record) -> str:
    """``山东省 济南市`` from a GeoIP2/GeoLite2 City or Country record (the country left out for
    China, as in the CSV); a plain string record is the place itself."""
    if isinstance(record, str):
        return record[:100]
    if not isinstance(record, dict):
        return ""
    country = record.get("country") or {}
    parts = [] if country.get("iso_code") == "CN" else [_name(country)]
    parts += [_name(s) for s in (record.get("subdivisions") or [])[:1]]
    parts.append(_name(record.get("city") or {}))
    return " ".join(p for p in parts if p)[:100]


def open_mmdb(path: Path):
    import maxminddb

    return maxminddb.open_database(str(path))


def check_mmdb(path: Path) -> str:
    """The database type of a valid MaxMind DB file, or LibraryError."""
    try:
        reader = open_mmdb(path)
        try:
            metadata = reader.metadata()
            reader.get("1.1.1.1" if metadata.ip_version == 4 else "2001:db8::1")
            return str(metadata.database_type)
        finally:
            reader.close()
    except Exception:  # maxminddb raises several kinds on a damaged file; its messages name our temporary file
        log.info("refused a MaxMind DB upload", exc_info=True)
        raise LibraryError([_("This is not a MaxMind DB file, or it is damaged.")]) from None


# Locating ------------------------------------------------------------------------------------


@dataclass
class _Loaded:
    sha256: str
    source: object


_loaded: dict[str, _Loaded] = {}


async def _source(kind: str, row: dict):
    """The parsed CSV index or the open MaxMind reader of the stored row, cached by content."""
    cached = _loaded.get(kind)
    if cached is not None and cached.sha256 == row["sha256"]:
        return cached.source
    if kind == "csv":
        content = await IpLibrary.select(IpLibrary.content).where(IpLibrary.kind == "csv").first()
        # About a second for 200,000 ranges: off the event loop.
        source = await asyncio.to_thread(PrefixIndex, content["content"] if content else "")
    else:
        source = open_mmdb(Path(row["path"]))
    if cached is not None and kind == "mmdb":
        cached.source.close()
    _loaded[kind] = _Loaded(row["sha256"], source)
    return source


async def locate(ip: str) -> str:
    """The place of an address: CSV ranges, the local network, the MaxMind DB; empty if unknown.

    Never fails a login: a broken library is logged and the place left unknown."""
    address = parse_address(ip)
    if address is None:
        return ""
    try:
        rows = {r["kind"]: r for r in await IpLibrary.select(IpLibrary.kind, IpLibrary.sha256, IpLibrary.path)}
        if "csv" in rows:
            place = (await _source("csv", rows["csv"])).lookup(address)
            if place:
                return place
        if is_local(address):
            return LOCAL
        if "mmdb" in rows:
            return mmdb_place((await _source("mmdb", rows["mmdb"])).get(str(address)))
    except Exception:
        log.exception("could not locate %s", ip)
    return ""


# Administration ------------------------------------------------------------------------------


async def library_state() -> dict[str, dict]:
    """The stored sources by kind, without their content."""
    rows = await IpLibrary.select(IpLibrary.kind, IpLibrary.filename, IpLibrary.entries, IpLibrary.uploaded_by,
                                  IpLibrary.uploaded_at, IpLibrary.sha256)
    return {row["kind"]: row for row in rows}


def _filename(name: str) -> str:
    return os.path.basename(name or "").strip()[:200]


async def _replace(kind: str, row: IpLibrary) -> None:
    await IpLibrary.delete().where(IpLibrary.kind == kind)
    await IpLibrary.insert(row)


async def upload_csv(actor: CurrentUser, filename: str, data: bytes, ip: str = "") -> int:
    """Replace the CSV ranges; a bad file raises LibraryError and the previous library stays."""
    # Seconds for the largest file: off the event loop (the thread keeps the request's language).
    ranges = await asyncio.to_thread(parse_csv, data)
    content = csv_content(ranges)
    async with write_transaction():
        await _replace("csv", IpLibrary(kind="csv", filename=_filename(filename), entries=len(ranges), content=content,
                                        sha256=hashlib.sha256(content.encode()).hexdigest(), uploaded_by=actor.username))
        await write_audit("core.ip_library.csv", actor=actor, target_type="ip_library", target_id="csv",
                          summary=f"{_filename(filename)}: {len(ranges)}", ip=ip)
    return len(ranges)


def mmdb_folder(data_dir: Path) -> Path:
    return data_dir / "geoip"


def _store_mmdb(folder: Path, data: bytes) -> tuple[str, Path, str]:
    """Write the file under its SHA-256 once it proved to be a MaxMind DB: (sha, path, database type)."""
    folder.mkdir(parents=True, exist_ok=True)
    sha = hashlib.sha256(data).hexdigest()
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        database_type = check_mmdb(Path(temporary))
        target = (folder / f"{sha}.mmdb").resolve()
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return sha, target, database_type


async def upload_mmdb(actor: CurrentUser, data_dir: Path, filename: str, data: bytes, ip: str = "") -> str:
    """Keep a MaxMind DB file under the data directory and use it; LibraryError keeps the previous."""
    if len(data) > MAX_MMDB_BYTES:
        raise LibraryError([_("The file is larger than %(n)s MB.", n=MAX_MMDB_BYTES // (1024 * 1024))])
    sha, target, database_type = await asyncio.to_thread(_store_mmdb, mmdb_folder(data_dir), data)
    previous = await IpLibrary.select(IpLibrary.path).where(IpLibrary.kind == "mmdb").first()
    async with write_transaction():
        await _replace("mmdb", IpLibrary(kind="mmdb", filename=_filename(filename), entries=0, sha256=sha,
                                         path=str(target), content=database_type[:100], uploaded_by=actor.username))
        await write_audit("core.ip_library.mmdb", actor=actor, target_type="ip_library", target_id="mmdb",
                          summary=f"{_filename(filename)}: {database_type}", ip=ip)
    if previous and previous["path"] != str(target):
        Path(previous["path"]).unlink(missing_ok=True)
    return database_type


async def remove_source(actor: CurrentUser, kind: str, ip: str = "") -> None:
    row = await IpLibrary.select(IpLibrary.path).where(IpLibrary.kind == kind).first()
    if row is None:
        return
    async with write_transaction():
        await IpLibrary.delete().where(IpLibrary.kind == kind)
        await write_audit(f"core.ip_library.{kind}.remove", actor=actor, target_type="ip_library", target_id=kind, ip=ip)
    if row["path"]:
        Path(row["path"]).unlink(missing_ok=True)


# The new-place alert -------------------------------------------------------------------------


async def new_place_alert(user_id: int) -> LoginAlert | None:
    """Look at the user's latest successful login: if it comes from a known place he has never
    logged in from, while earlier logins came from known places, mark it and return the alert."""
    latest = await LoginAttempt.select(
        LoginAttempt.id, LoginAttempt.place, LoginAttempt.ip, LoginAttempt.user_agent, LoginAttempt.created_at
    ).where((LoginAttempt.user == user_id) & (LoginAttempt.result == "ok")).order_by(LoginAttempt.id, ascending=False).first()
    if latest is None or not latest["place"]:
        return None
    earlier = await LoginAttempt.select(LoginAttempt.place).where(
        (LoginAttempt.user == user_id) & (LoginAttempt.result == "ok") & (LoginAttempt.place != "")
        & (LoginAttempt.id < latest["id"])
    ).distinct()
    known = sorted({row["place"] for row in earlier})
    if not known or latest["place"] in known:
        return None
    await LoginAttempt.update({LoginAttempt.new_place: True}).where(LoginAttempt.id == latest["id"])
    return LoginAlert(
        kind="new_place", place=place_label(latest["place"]), ip=latest["ip"], user_agent=latest["user_agent"],
        at=latest["created_at"] or datetime.now(timezone.utc),
        known_places=tuple(place_label(p) for p in known[:KNOWN_PLACES_SHOWN]),
    )


async def alert_new_place(portal, user: CurrentUser) -> LoginAlert | None:
    """After a successful login: the alert, if any, told to the user's open pages and to the
    plugins (``on_login_alert``: the mailbox puts a mail in his inbox)."""
    from portal.plugins import gather_hook

    alert = await new_place_alert(user.id)
    if alert is None:
        return None
    try:
        portal.notify(user.id, "login_alert", place=alert.place, ip=alert.ip, at=alert.at.isoformat())
    except Exception:
        # The record is marked and the hook still runs: a missed live announcement is not worth a failed login.
        log.warning("could not announce the login alert of user %s", user.id, exc_info=True)
    await gather_hook(portal.pm, "on_login_alert", portal=portal, user=user, alert=alert)
    return alert
