"""Document numbers (发文字号, DOC-11): each unit numbers its documents per year, 1, 2, 3, …
with no gap and no number given twice, formatted as GB/T 9704-2012 writes them:
the unit's prefix (机关代字), the year in hexagonal brackets 〔〕 and the number without leading
zeros, then 号 — ``黄河办〔2026〕12号``.

The counter is one row per (unit, year), advanced by a single upsert that returns the new
value: PostgreSQL locks the row for the upsert, SQLite's ``BEGIN IMMEDIATE`` serializes it, so
concurrent callers queue and each gets the next number. Call ``next_number`` inside the
transaction that records the number on the document: if that transaction rolls back, the
counter rolls back with it and the number is given again — no gap.
"""

from __future__ import annotations

from plugins.edoc.parts_tables import NumberSequence
from portal.accounts.tables import Unit
from portal.db import write_transaction

# The upsert is the same SQL on both databases (SQLite ≥ 3.35 knows ON CONFLICT … RETURNING);
# the unique index it relies on is edoc_number_sequence_unit_year (a raw migration step).
_ADVANCE = (
    "INSERT INTO edoc_number_sequence (unit, year, last_number) VALUES ({}, {}, 1) "
    "ON CONFLICT (unit, year) DO UPDATE SET last_number = edoc_number_sequence.last_number + 1 "
    "RETURNING last_number"
)


class UnknownUnit(LookupError):
    pass


def format_number(prefix: str, year: int, number: int) -> str:
    """``黄河办〔2026〕12号``; without a prefix ``〔2026〕12号``."""
    return f"{prefix}〔{year}〕{number}号"


async def next_number(unit_id: int, year: int) -> str:
    """The next number of ``unit_id``'s sequence for ``year``, formatted with its prefix."""
    unit = await Unit.select(Unit.document_prefix).where(Unit.id == unit_id).first()
    if unit is None:
        raise UnknownUnit(unit_id)
    async with write_transaction():
        rows = await NumberSequence.raw(_ADVANCE, unit_id, year)
    return format_number(unit["document_prefix"] or "", year, rows[0]["last_number"])
