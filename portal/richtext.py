"""Rich text kept safe, for bodies staff write in a page (official documents DOC-1, disclosure
items PUB-1). Public to plugins.

Staff write plain text (an empty line starts a new paragraph) or a small set of HTML tags for
headings, emphasis, lists and tables; everything else (scripts, styles, attributes, links,
images) is removed by nh3 before the body is shown, so a body can never run or load anything.
"""

from __future__ import annotations

import html
import re

import nh3
from markupsafe import Markup, escape

TAGS = {"p", "br", "strong", "b", "em", "i", "u", "h3", "h4", "ol", "ul", "li", "blockquote",
        "table", "thead", "tbody", "tr", "th", "td"}
# Tags after which a reader sees a break: their end becomes a space in the plain text.
_BLOCK_END = re.compile(r"</?(p|br|h3|h4|li|blockquote|tr|th|td|table|thead|tbody|ol|ul)\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v]+")
# An opening or closing allowed tag as a whole name: "<b>" or "<b class=…>", never "<button".
_ALLOWED_TAG = re.compile(r"</?(?:" + "|".join(sorted(TAGS, key=len, reverse=True)) + r")(?=[\s/>])", re.IGNORECASE)


def is_rich(text: str) -> bool:
    """Whether ``text`` uses any of the allowed tags (else it is plain text)."""
    return _ALLOWED_TAG.search(text or "") is not None


def body_html(text: str) -> Markup:
    """The body as safe HTML: the allowed tags as written, text without tags as paragraphs."""
    text = (text or "").replace("\r\n", "\n")
    if not is_rich(text):
        return Markup("".join(f"<p>{escape(paragraph)}</p>" for paragraph in text.split("\n\n") if paragraph.strip()))
    return Markup(nh3.clean(text, tags=TAGS, attributes={}, link_rel=None))


def plain_text(text: str) -> str:
    """What a reader of ``body_html(text)`` reads, without tags: for search indexes and feeds."""
    text = (text or "").replace("\r\n", "\n")
    if is_rich(text):
        cleaned = nh3.clean(text, tags=TAGS, attributes={}, link_rel=None)
        text = html.unescape(nh3.clean(_BLOCK_END.sub(" \n", cleaned), tags=set(), attributes={}))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)
