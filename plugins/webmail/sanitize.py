"""Make the HTML of a received message safe to show in a sandboxed iframe.

An explicit allow-list (nh3, the Python binding of the Ammonia sanitizer) keeps formatting
and drops everything active: scripts, event handlers, forms, frames, plugins, SVG, MathML,
``<base>``, ``<meta>``, ``<link>``, ``<style>`` elements. ``style`` attributes keep only a
few harmless properties with plain values. Links may only be http, https or mailto and go
through the warning page ``/webmail/link?url=...``. Images: ``cid:`` references are rewritten
by the caller, ``data:`` only for PNG, GIF, JPEG and WebP, and remote images are held back
(and counted) unless the reader allowed them.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

import nh3

__all__ = ["LINK_PREFIX", "SanitizedHtml", "link_url", "sanitize_html", "text_to_html"]

LINK_PREFIX = "/webmail/link?url="

TAGS = {
    "a", "abbr", "acronym", "address", "b", "bdi", "bdo", "big", "blockquote", "br", "caption",
    "center", "cite", "code", "col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em",
    "figcaption", "figure", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var", "wbr",
}
# Removed with everything inside them (not just the tags).
DROP_WITH_CONTENT = {
    "script", "style", "title", "noscript", "template", "iframe", "frame", "frameset", "object",
    "embed", "applet", "svg", "math", "noembed", "noframes", "xmp", "textarea", "select", "head",
    "audio", "video", "canvas", "dialog",
}
ATTRIBUTES = {
    "*": {"style", "title", "dir", "lang", "align", "valign", "width", "height"},
    "a": {"href"},
    "img": {"src", "alt", "srcset", "border", "hspace", "vspace"},
    "font": {"color", "face", "size"},
    "table": {"border", "cellpadding", "cellspacing", "bgcolor", "summary"},
    "td": {"colspan", "rowspan", "bgcolor", "nowrap"},
    "th": {"colspan", "rowspan", "bgcolor", "nowrap", "scope"},
    "tr": {"bgcolor"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type", "reversed"},
    "ul": {"type"},
    "li": {"value"},
    "hr": {"size", "noshade"},
}
STYLE_PROPERTIES = {
    "color", "background-color", "font-weight", "font-style", "font-size", "font-family",
    "font-variant", "text-align", "text-decoration", "text-indent", "text-transform",
    "line-height", "letter-spacing", "word-spacing", "white-space", "vertical-align",
    "width", "max-width", "min-width", "height", "max-height", "min-height",
    "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
    "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
    "border", "border-top", "border-right", "border-bottom", "border-left",
    "border-color", "border-style", "border-width", "border-collapse", "border-spacing",
    "border-radius", "list-style-type", "direction", "table-layout", "word-break", "overflow-wrap",
}
# A value is plain words (Chinese font names too), numbers, colours, quoted font names and rgb()/hsl() colours.
_STYLE_VALUE = re.compile(r"^(?:[-\w\s#.,%'\"!+/]|(?:rgba?|hsla?)\([\d\s.,%/+-]*\))*$")
_DATA_IMAGE = re.compile(r"^data:image/(png|gif|jpe?g|webp);base64,[A-Za-z0-9+/=\s]*$", re.I)
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_BAD_CSS = ("url", "expression", "@", "<", "&", "script", "behavior", "binding", "image", "var(", "attr(")
_IMG_TAG = re.compile(r'<img(?:\s+[^\s=>/]+(?:="[^"]*")?)*\s*/?>')
_STRIPPED = re.compile(r"[\x00-\x20\x7f]")


@dataclass(frozen=True)
class SanitizedHtml:
    html: str
    blocked_images: int = 0


def link_url(url: str) -> str:
    """The warning-page address a link to ``url`` goes through."""
    return LINK_PREFIX + quote(url, safe="")


def _clean_url(value: str) -> tuple[str, str]:
    """(scheme, url) with the characters browsers ignore removed; scheme "" when relative."""
    url = _STRIPPED.sub("", value)
    if url.startswith("//"):
        return "https", "https:" + url
    match = _SCHEME.match(url)
    return (match.group(1).lower(), url) if match else ("", url)


def _clean_style(value: str) -> str | None:
    kept = []
    if "\\" in value or "/*" in value:  # CSS escapes and comments can hide anything
        return None
    for declaration in value.split(";")[:50]:
        name, colon, val = declaration.partition(":")
        name, val = name.strip().lower(), val.strip()
        lowered = val.lower()
        if any(bad in lowered for bad in _BAD_CSS):
            continue
        if colon and name in STYLE_PROPERTIES and val and len(val) < 200 and _STYLE_VALUE.match(val):
            kept.append(f"{name}: {val}")
    return "; ".join(kept) or None


def sanitize_html(
    html: str,
    *,
    allow_remote_images: bool,
    cid_url: Callable[[str], str] | None = None,
) -> SanitizedHtml:
    """Sanitize a message's HTML body. ``cid_url`` maps a ``cid:`` Content-ID (without the
    scheme, percent-decoded) to the address of that inline part; without it those images
    are dropped."""
    blocked = 0

    def image_source(value: str) -> str | None:
        nonlocal blocked
        scheme, url = _clean_url(value)
        if scheme == "cid":
            if cid_url is None:
                return None
            target = cid_url(unquote(url[4:]).strip("<>"))
            t_scheme, _ = _clean_url(target or "")
            return target if target and t_scheme in ("", "http", "https") else None
        if scheme == "data":
            return url if _DATA_IMAGE.match(url) else None
        if scheme in ("http", "https"):
            if allow_remote_images:
                return url
            blocked += 1
        return None

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        nonlocal blocked
        if attr == "href":
            scheme, url = _clean_url(value)
            return link_url(url) if scheme in ("http", "https", "mailto") else None
        if attr == "src":
            return image_source(value)
        if attr == "srcset":
            if not allow_remote_images and re.search(r"(?i)(https?:)?//", value):
                blocked += 1
            return None  # never kept: one source per image is enough
        if attr == "style":
            return _clean_style(value)
        if attr in ("bgcolor", "color"):
            return value if re.fullmatch(r"#?[A-Za-z0-9]{1,20}", value.strip()) else None
        return value

    cleaned = nh3.clean(
        html or "",
        tags=TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes=ATTRIBUTES,
        attribute_filter=attribute_filter,
        url_schemes={"http", "https", "mailto", "cid", "data"},
        strip_comments=True,
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    # An image whose source was removed is removed too (it would only show a broken frame).
    cleaned = _IMG_TAG.sub(lambda m: m.group(0) if re.search(r"\ssrc=\"", m.group(0)) else "", cleaned)
    return SanitizedHtml(html=cleaned, blocked_images=blocked)


_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.I)


def text_to_html(text: str) -> str:
    """Plain text as HTML: escaped, line breaks kept, http(s) addresses linked through the
    warning page."""
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(text or ""):
        url = match.group(0)
        while url and url[-1] in ".,;:!?'\"":
            url = url[:-1]
        if url.endswith(")") and url.count(")") > url.count("("):
            url = url[:-1]
        if len(url) <= len("https://"):
            continue
        out.append(html_lib.escape(text[pos : match.start()]))
        out.append(
            f'<a href="{html_lib.escape(link_url(url))}" target="_blank" rel="noopener noreferrer">'
            f"{html_lib.escape(url)}</a>"
        )
        pos = match.start() + len(url)
    out.append(html_lib.escape((text or "")[pos:]))
    return "".join(out).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>\n")
