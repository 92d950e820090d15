"""Tables as CSV files that Excel opens correctly, and safely.

- UTF-8 with a byte-order mark: without it Excel in a Chinese locale reads the file as GBK and
  shows mojibake;
- RFC 4180 quoting (commas, quotes and line breaks inside a cell), CRLF line ends;
- formula injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return would be evaluated by a spreadsheet (an attacker controls usernames typed at the login
  form, user agents, subjects), so it gets a leading apostrophe and stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from urllib.parse import quote

from litestar import Response

from portal.localtime import local

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str | int | float:
    """One value as a CSV cell: numbers stay numbers, moments are Beijing time, text is defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        return local(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return BOM + out.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """A download named ``filename`` (ASCII, ``.csv``); never cached, as it holds personal data."""
    return Response(
        content=csv_text(header, rows).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
            "cache-control": "no-store",
        },
    )
