"""The body of an official document, written in the page: rich text kept safe (DOC-1).

Staff write plain text (an empty line starts a new paragraph) or a small set of HTML tags for
headings, emphasis, lists and tables; everything else (scripts, styles, attributes, links,
images) is removed by nh3 before the body is shown, so a body can never run or load anything.
"""

from __future__ import annotations

import nh3
from markupsafe import Markup, escape

TAGS = {"p", "br", "strong", "b", "em", "i", "u", "h3", "h4", "ol", "ul", "li", "blockquote",
        "table", "thead", "tbody", "tr", "th", "td"}


def body_html(text: str) -> Markup:
    """The body as safe HTML: the allowed tags as written, text without tags as paragraphs."""
    text = (text or "").replace("\r\n", "\n")
    if not any(f"<{tag}" in text.lower() for tag in TAGS):
        return Markup("".join(f"<p>{escape(paragraph)}</p>" for paragraph in text.split("\n\n") if paragraph.strip()))
    return Markup(nh3.clean(text, tags=TAGS, attributes={}, link_rel=None))
