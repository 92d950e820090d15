"""Resource codes (信息资源代码, CAT-1): ``<分类码>/<顺序码>``, e.g. ``307016001/000012``.

The 分类码 is the code of the resource's classification (类 1 digit, 项 2, 目 3, 细目 1 to 6);
the 顺序码 counts 1, 2, 3 … per classification code, six digits at least. The counter is one row
per classification code, advanced by one upsert that returns the new value: PostgreSQL locks the
row for the upsert, SQLite's ``BEGIN IMMEDIATE`` serializes it, so concurrent callers queue and
each gets the next number. Call ``next_code`` inside the transaction that stores the code: a
rollback gives the number back. A number once stored is never given again, so a code stays
unique for ever (the column is unique too).
"""

from __future__ import annotations

import re

from plugins.catalog.tables import CodeSequence

CLASSIFICATION_CODE = re.compile(r"^[1-3](\d{2}(\d{3}(\d{1,6})?)?)?$")
RESOURCE_CODE = re.compile(r"^[1-3]\d{2}(\d{3}(\d{1,6})?)?/\d{6,9}$")
SEQUENCE_DIGITS = 6

_ADVANCE = (
    "INSERT INTO catalog_code_sequence (classification_code, last_number) VALUES ({}, 1) "
    "ON CONFLICT (classification_code) DO UPDATE SET last_number = catalog_code_sequence.last_number + 1 "
    "RETURNING last_number"
)


def format_code(classification_code: str, number: int) -> str:
    return f"{classification_code}/{number:0{SEQUENCE_DIGITS}d}"


def level_of(classification_code: str) -> int:
    """1 类, 2 项, 3 目, 4 细目."""
    return {1: 1, 3: 2, 6: 3}.get(len(classification_code), 4)


def parent_code(classification_code: str) -> str | None:
    return {1: None, 3: classification_code[:1], 6: classification_code[:3]}.get(len(classification_code), classification_code[:6])


async def next_code(classification_code: str) -> str:
    """The next resource code under ``classification_code``; inside the storing transaction."""
    if not CLASSIFICATION_CODE.match(classification_code) or level_of(classification_code) < 2:
        raise ValueError(classification_code)
    rows = await CodeSequence.raw(_ADVANCE, classification_code)
    return format_code(classification_code, rows[0]["last_number"])
