"""Text as typed into a form, made fit to keep: normalized, without control characters."""

from __future__ import annotations

import unicodedata


def clean_text(text: str, *, multiline: bool = True) -> str:
    """Text without control characters (but line breaks and tabs in a body), NFC, trimmed."""
    text = unicodedata.normalize("NFC", (text or "").replace("\r\n", "\n").replace("\r", "\n"))
    keep = "\n\t" if multiline else ""
    return "".join(c for c in text if c in keep or unicodedata.category(c)[0] != "C").strip()


def clean_line(text: str) -> str:
    """One line: ``clean_text`` without line breaks, runs of spaces made one."""
    return " ".join(clean_text(text, multiline=False).split())
