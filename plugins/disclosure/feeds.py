"""The Atom feed of a category (RFC 4287, PUB-4): its newest published items.

Built with ElementTree, so every text is escaped and the document is well-formed whatever a
title holds; characters XML 1.0 cannot carry are dropped first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
ENTRIES = 20
SUMMARY = 200
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

ET.register_namespace("", ATOM)


def _text(value: str) -> str:
    return _NOT_XML.sub("", value or "")


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def updated_of(item: dict) -> datetime:
    """When an entry last changed for a reader: its publication, or a later edit."""
    return max(item["publish_at"], item["updated_at"])


def atom_feed(*, feed_id: str, title: str, author: str, self_url: str, page_url: str, entries: list[dict],
              fallback_updated: datetime) -> bytes:
    """The feed as UTF-8 bytes. ``entries`` are dicts with ``url`` (absolute: also the entry's
    id), ``title``, ``publish_at``, ``updated_at``, ``body_text`` and optionally ``issuer``."""
    feed = ET.Element(f"{{{ATOM}}}feed")
    _add(feed, "id", feed_id)
    _add(feed, "title", title)
    _add(feed, "updated", _stamp(max((updated_of(e) for e in entries), default=fallback_updated)))
    _add(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(feed, "link", rel="alternate", type="text/html", href=page_url)
    _add(_add(feed, "author"), "name", author)
    for item in entries:
        entry = _add(feed, "entry")
        _add(entry, "id", item["url"])
        _add(entry, "title", item["title"])
        _add(entry, "link", rel="alternate", type="text/html", href=item["url"])
        _add(entry, "published", _stamp(item["publish_at"]))
        _add(entry, "updated", _stamp(updated_of(item)))
        if item.get("issuer"):
            _add(_add(entry, "author"), "name", item["issuer"])
        summary = " ".join((item.get("body_text") or "").split())
        if summary:
            _add(entry, "summary", summary[:SUMMARY] + ("…" if len(summary) > SUMMARY else ""))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
