"""Read an RFC 5322 message as the world sends it: headers, bodies and attachments.

Pure functions, no database and no HTTP. :func:`parse_message` is called by the SMTP server
on whatever arrives, so it never raises: each step that can fail on hostile or broken input
falls back to something readable, and the whole parse falls back to "the bytes as text".

Chinese mail is the common case: GB2312 and GBK declared text is decoded with the GB18030
codec (a superset of both), and undeclared 8-bit text is tried as UTF-8, then GB18030, then
Latin-1.
"""

from __future__ import annotations

import binascii
import codecs
import email.message
import email.utils
import quopri
import re
import unicodedata
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.message import Message as EmailMessage
from email.parser import BytesParser
from email.policy import EmailPolicy
from functools import lru_cache
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import quote

__all__ = [
    "Attachment",
    "ParsedMessage",
    "attachment_bytes",
    "content_disposition",
    "decode_bytes",
    "decode_header_value",
    "html_to_text",
    "parse_message",
    "safe_filename",
]

MAX_HEADER_CHARS = 16_000  # a header longer than this is cut before decoding
MAX_PARTS = 1_000  # MIME parts looked at in one message
MAX_DEPTH = 40  # nesting of multiparts
SNIPPET_CHARS = 150

# Column sizes of plugins.webmail.tables.Message, so a parsed value always fits.
_LIMITS = {"subject": 500, "name": 200, "address": 254, "id": 300, "references": 4_000}


@dataclass(frozen=True)
class Attachment:
    """One attachment; ``index`` names its MIME part for :func:`attachment_bytes`."""

    index: int
    filename: str
    content_type: str
    size: int
    content_id: str = ""
    inline: bool = False


@dataclass(frozen=True)
class ParsedMessage:
    subject: str = ""
    sender_name: str = ""
    sender_address: str = ""
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    reply_to: list[tuple[str, str]] = field(default_factory=list)
    date: datetime | None = None
    message_id: str = ""
    in_reply_to: str = ""
    references: str = ""
    text: str = ""
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def has_attachments(self) -> bool:
        """True when the message has an attachment a person would see (not only inline images)."""
        return any(not a.inline for a in self.attachments)

    @property
    def snippet(self) -> str:
        """The first ~150 characters of the text, whitespace collapsed."""
        collapsed = " ".join(self.text.split())
        if len(collapsed) <= SNIPPET_CHARS:
            return collapsed
        return collapsed[:SNIPPET_CHARS].rstrip() + "…"


# --------------------------------------------------------------------------- charsets

_GB_ALIASES = {
    "gb2312", "gbk", "gb231280", "gb2312_80", "cp936", "ms936", "windows936", "euccn", "xeuccn",
    "xgbk", "csgb2312", "chinese", "isoir58", "gb18030", "xcp936", "936", "csgbk",
}
_FORBIDDEN_CODECS = {"idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined", "mbcs", "oem"}
_SUBSTITUTES = {"latin-1": "cp1252", "iso8859-1": "cp1252", "big5": "big5hkscs", "ascii": "utf-8"}


def _codec(charset: str | None) -> str | None:
    """The Python codec for a declared charset, or None when unknown or unusable."""
    if not charset or not isinstance(charset, str) or len(charset) > 60:
        return None
    name = charset.strip().strip("\"'").lower()
    if re.sub(r"[^a-z0-9]", "", name) in _GB_ALIASES:
        return "gb18030"
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _FORBIDDEN_CODECS:
        return None
    return _SUBSTITUTES.get(info.name, info.name)


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Bytes to text with a declared charset that may be missing, unknown or wrong.

    The declared charset is tried strictly first; if it is missing, unknown or the bytes do
    not fit it: UTF-8, then GB18030, then the declared charset with replacement characters,
    then Latin-1 (which always succeeds).
    """
    codec = _codec(charset)
    tries = [codec] if codec else []
    tries += [c for c in ("utf-8", "gb18030") if c != codec]
    for name in tries:
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    if codec:
        try:
            return data.decode(codec, errors="replace")
        except Exception:  # noqa: BLE001 - some codecs fail on replace too
            pass
    return data.decode("latin-1")


def _undo_surrogates(value: str) -> str:
    """The parser keeps raw 8-bit header bytes as surrogates; decode them as text."""
    if value.isascii() or not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_bytes(value.encode("utf-8", errors="surrogateescape"))


# --------------------------------------------------------------------------- headers

_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([bBqQ])\?([^?]*?)\?=")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Every byte that is not a base64 digit: dropped before decoding (line ends, padding, garbage).
_NOT_BASE64 = bytes(set(range(256)) - set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"))


def _decode_word_bytes(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        # Characters beyond ASCII are no base64 digits either; bytes.translate is what makes
        # decoding a message's base64 body cheap (a regular expression took a tenth of a parse).
        data = payload.encode("ascii", errors="ignore").translate(None, _NOT_BASE64)
        data = data[: len(data) - len(data) % 4] if len(data) % 4 == 1 else data + b"=" * (-len(data) % 4)
        try:
            return binascii.a2b_base64(data)
        except (binascii.Error, ValueError):
            return b""
    return quopri.decodestring(payload.replace("_", " ").encode("ascii", errors="replace"), header=True)


def decode_header_value(value: str) -> str:
    """RFC 2047 encoded words (B and Q, split, mixed, broken) and raw 8-bit bytes to text.

    Adjacent encoded words in the same charset are joined as bytes before decoding, so a
    character split between two words survives; whitespace between encoded words is dropped.
    """
    value = _undo_surrogates(value or "")[:MAX_HEADER_CHARS]
    value = re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", " ")
    out: list[str] = []
    pending: list[tuple[str | None, bytes]] = []  # adjacent encoded words not yet decoded

    def flush() -> None:
        if pending:
            charset, data = pending[0][0], b"".join(d for _, d in pending)
            out.append(decode_bytes(data, charset))
            pending.clear()

    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        if between.strip() or not pending:
            flush()
            out.append(between)
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix: =?utf-8*zh?...
        data = _decode_word_bytes(match.group(2), match.group(3))
        if pending and pending[-1][0] != charset:
            flush()
        pending.append((charset, data))
        pos = match.end()
    flush()
    out.append(value[pos:])
    return _CONTROL.sub("", "".join(out))


# Raw header values by lower-cased name, per message: a part is asked for a dozen headers, and
# each search through its list lower-cased every name again. Parsed messages are not changed.
_HEADER_INDEX: weakref.WeakKeyDictionary[EmailMessage, dict[str, list[str]]] = weakref.WeakKeyDictionary()


def _raw_headers(msg: EmailMessage, name: str) -> list[str]:
    index = _HEADER_INDEX.get(msg)
    if index is None:
        index = _HEADER_INDEX[msg] = _index_headers(msg)
    return index.get(name, [])


def _index_headers(msg: EmailMessage) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    try:
        for k, v in msg.raw_items():
            if isinstance(k, str):
                index.setdefault(k.lower(), []).append(str(v))
    except Exception:  # noqa: BLE001
        return {}
    return index


def _header(msg: EmailMessage, name: str, limit: int | None = None) -> str:
    values = _raw_headers(msg, name)
    if not values:
        return ""
    text = " ".join(decode_header_value(values[0]).split())
    return text[:limit] if limit else text


_ANGLE_ID = re.compile(r"<[^<>\s]{1,250}>")


def _message_ids(msg: EmailMessage, name: str, limit: int, first_only: bool) -> str:
    values = _raw_headers(msg, name)
    if not values:
        return ""
    raw = _undo_surrogates(values[0])[:MAX_HEADER_CHARS]
    ids = _ANGLE_ID.findall(raw)
    if not ids:
        ids = raw.split()[:1]
    text = ids[0] if first_only else " ".join(ids)
    return _CONTROL.sub("", text)[:limit].strip()


# A lone address of characters getaddresses takes as plain (no specials, quotes, spaces or
# controls): it would give it back whole with an empty name, walking it character by character.
_BARE_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
_WHITESPACE = re.compile(r"\s")  # the characters str.isspace() is true for


def _address_pairs(raw: str) -> list[tuple[str, str]]:
    if _BARE_ADDRESS.fullmatch(raw):
        return [("", raw)]
    try:
        return email.utils.getaddresses([raw])
    except Exception:  # noqa: BLE001
        return []


def _addresses(msg: EmailMessage, name: str) -> list[tuple[str, str]]:
    result: list[tuple[str, str]] = []
    for raw in _raw_headers(msg, name)[:5]:
        raw = re.sub(r"\r?\n(?=[ \t])", "", _undo_surrogates(raw)[:MAX_HEADER_CHARS])
        for display, address in _address_pairs(raw)[:500]:
            address = _CONTROL.sub("", address).strip().strip("<>").strip()
            if "@" not in address or len(address) > _LIMITS["address"] or _WHITESPACE.search(address):
                continue
            display = " ".join(decode_header_value(display).split()).strip("\"' ") if display else ""
            result.append((display[: _LIMITS["name"]], address))
    return result


def _date(msg: EmailMessage) -> datetime | None:
    values = _raw_headers(msg, "date")
    if not values:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(" ".join(values[0][:200].split()))
    except Exception:  # noqa: BLE001
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None
    return parsed


# --------------------------------------------------------------------------- parts


def _safe(fn, default):
    try:
        return fn()
    except Exception:  # noqa: BLE001 - the email package raises many kinds on hostile input
        return default


def _children(part: EmailMessage, ctype: str) -> list[EmailMessage] | None:
    """The parts inside a multipart; for one without a (usable) boundary, guessed from the
    first ``--delimiter`` line of its body. None when there is nothing to split."""
    payload = _safe(part.get_payload, None)
    if isinstance(payload, list):
        return [c for c in payload if isinstance(c, EmailMessage)]
    if not isinstance(payload, str):
        return None
    found = re.search(r"(?m)^--([^\s\"]{1,70}?)(?:--)?[ \t]*\r?$", payload[:100_000])
    if not found:
        return None
    data = f'Content-Type: {ctype}; boundary="{found.group(1)}"\r\n\r\n'.encode()
    repaired = _safe(lambda: _parse_bytes(data + payload.encode("utf-8", errors="surrogateescape")), None)
    children = _safe(repaired.get_payload, None) if repaired is not None else None
    if isinstance(children, list) and children:
        return [c for c in children if isinstance(c, EmailMessage)]
    return None


def _iter_parts(msg: EmailMessage):
    """(index, part, parent content type, children) for every part, depth first; children is
    None for a leaf. message/rfc822 is a leaf (an attachment)."""
    counter = 0
    stack: list[tuple[EmailMessage, str, int]] = [(msg, "", 0)]
    while stack and counter < MAX_PARTS:
        part, parent, depth = stack.pop()
        ctype = _safe(part.get_content_type, "text/plain")
        children = _children(part, ctype) if ctype.startswith("multipart/") and depth < MAX_DEPTH else None
        yield counter, part, parent, children
        counter += 1
        if children:
            stack.extend((c, ctype, depth + 1) for c in reversed(children))


def _param(part: EmailMessage, name: str, header: str) -> str:
    """A parameter (RFC 2231 or not) read from the raw header, its 8-bit bytes decoded first."""
    raws = _raw_headers(part, header)
    if not raws:
        return ""
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", _undo_surrogates(raws[0])[:MAX_HEADER_CHARS])
    # Every name get_param can match (``filename*0*`` too) is a piece of this text: without the
    # name in it there is nothing to find, and building a Message to learn that is slow.
    if name not in unfolded.lower():
        return ""
    holder = email.message.Message()  # compat32: no header parsing beyond the parameters
    holder[header] = unfolded
    value = _safe(lambda: holder.get_param(name, None, header), None)
    if value is None:
        return ""
    if isinstance(value, tuple):  # RFC 2231: (charset, language, text as latin-1 code points)
        charset, _language, text = (value + (None, None, ""))[:3]
        raw = str(text).encode("latin-1", errors="surrogateescape") if text else b""
        return decode_bytes(raw, charset)
    return decode_header_value(email.utils.unquote(str(value)))


def _filename(part: EmailMessage) -> str:
    return _param(part, "filename", "content-disposition") or _param(part, "name", "content-type")


def _payload_bytes(part: EmailMessage) -> bytes:
    if _safe(part.get_content_type, "") == "message/rfc822" or _safe(part.is_multipart, False):
        inner = _safe(part.get_payload, None)
        if isinstance(inner, list):
            inner = inner[0] if inner else None
        if isinstance(inner, EmailMessage):
            return _serialize(inner)
    cte = _header(part, "content-transfer-encoding").strip().lower()
    if cte == "base64":
        raw = _safe(part.get_payload, None)
        if isinstance(raw, str):  # decoded here: garbage skipped, a cut-off end tolerated
            return _decode_word_bytes("B", raw)
    data = _safe(lambda: part.get_payload(decode=True), None)
    if isinstance(data, bytes):
        return data
    raw = _safe(part.get_payload, "")
    return raw.encode("utf-8", errors="surrogateescape") if isinstance(raw, str) else b""


def _serialize(msg: EmailMessage) -> bytes:
    from email.generator import BytesGenerator

    for pol in (policy.default.clone(refold_source="none", max_line_length=0), policy.compat32):
        try:
            buf = BytesIO()
            BytesGenerator(buf, mangle_from_=False, policy=pol).flatten(msg)
            return buf.getvalue()
        except Exception:  # noqa: BLE001
            continue
    return _safe(lambda: str(msg).encode("utf-8", errors="surrogateescape"), b"")


_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]{1,40})", re.I)


def _part_text(part: EmailMessage, html: bool) -> str:
    data = _payload_bytes(part)
    charset = _safe(lambda: part.get_content_charset(None), None)
    if not charset and html:
        sniffed = _META_CHARSET.search(data[:4096])
        charset = sniffed.group(1).decode("ascii") if sniffed else None
    return _newlines(decode_bytes(data, charset))


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _analyse(msg: EmailMessage):
    """Bodies and (Attachment, part) pairs of a parsed message."""
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[tuple[Attachment, EmailMessage]] = []
    for index, part, parent, children in _iter_parts(msg):
        ctype = _safe(part.get_content_type, "text/plain")
        if children is not None:
            continue
        disposition = (_safe(part.get_content_disposition, None) or "").lower()
        filename = _filename(part)
        content_id = _CONTROL.sub("", "".join(_header(part, "content-id").split())).strip("<>")[:250]
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            (htmls if ctype == "text/html" else texts).append(_part_text(part, ctype == "text/html"))
            continue
        if ctype.startswith("multipart/"):  # declared multipart without a usable boundary
            texts.append(_part_text(part, False))
            continue
        if ctype == "message/rfc822" and not filename:
            inner = _safe(lambda: part.get_payload(0), None)
            subject = _header(inner, "subject", 100) if isinstance(inner, EmailMessage) else ""
            filename = (subject or "message") + ".eml"
        data = _payload_bytes(part)
        inline = disposition == "inline" or (disposition != "attachment" and bool(content_id) and parent == "multipart/related")
        attachment = Attachment(
            index=index,
            filename=safe_filename(filename or _default_name(ctype)),
            content_type=ctype[:100],
            size=len(data),
            content_id=content_id,
            inline=inline,
        )
        attachments.append((attachment, part))
    return texts, htmls, attachments


_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
               "application/pdf": ".pdf", "text/calendar": ".ics", "text/plain": ".txt", "text/html": ".html",
               "message/rfc822": ".eml"}


def _default_name(ctype: str) -> str:
    return "attachment" + _EXTENSIONS.get(ctype, "")


@lru_cache(maxsize=1024)
def _fetch_header(name: str, value: str):
    return policy.default.header_fetch_parse(name, value)


class _Policy(EmailPolicy):
    """policy.default whose structured headers are parsed once: the parser and this module
    ask for Content-Type many times, and parsing it is slow."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name") or len(value) > 2_000:
            return super().header_fetch_parse(name, value)
        return _fetch_header(name, value)


_POLICY = _Policy()


def _parse_bytes(raw: bytes) -> EmailMessage:
    return BytesParser(policy=_POLICY).parsebytes(raw)


def _parse_single_part(raw: bytes) -> EmailMessage | None:
    """What :func:`_parse_bytes` gives for a message that is neither multipart nor message/*,
    or None when this shortcut might differ. The feedparser walks every body line of such a
    message only to join them again (a third of a parse); here it reads the header block only."""
    end = _header_block_end(raw)
    if end < 0:
        return None
    head = raw[:end]
    lowered = head.lower()
    # Spares multipart and message/* mail a header parse here: the whole parse reads it anyway.
    if b"multipart" in lowered or b"message/" in lowered:
        return None
    msg = _parse_bytes(head)
    # No payload left proves the feedparser took every line of the block as a header and the
    # last one as the separator, exactly as it would have in the whole message.
    if msg.defects or _safe(msg.get_payload, None) != "" or msg.get_content_maintype() in ("multipart", "message"):
        return None
    msg.set_payload(raw[end:].decode("ascii", "surrogateescape"))  # as the feedparser stores it
    return msg


def _header_block_end(raw: bytes) -> int:
    """Where the body starts after the first CRLF CRLF or LF LF; -1 when there is neither."""
    crlf = raw.find(b"\r\n\r\n")
    # Bounded: looking for LF LF through a whole CRLF body costs half as much as the header parse.
    lf = raw.find(b"\n\n", 0, len(raw) if crlf < 0 else crlf)
    if lf >= 0:
        return lf + 2
    return crlf + 4 if crlf >= 0 else -1


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse raw RFC 5322 bytes. Never raises: broken input gives a best-effort result."""
    try:
        if not isinstance(raw, (bytes, bytearray, memoryview)):
            raw = str(raw).encode("utf-8", errors="replace")
        return _parse(bytes(raw))
    except Exception:  # noqa: BLE001 - the last resort: show the bytes as text
        return _fallback(raw)


def _parse(raw: bytes, fast: bool = True) -> ParsedMessage:
    """``fast=False`` always runs the whole feedparser: the tests compare both ways."""
    msg = _parse_single_part(raw) if fast else None
    if msg is None:
        msg = _parse_bytes(raw)
    texts, htmls, found = _analyse(msg)
    html = "\n".join(htmls) if htmls else None
    text = "\n\n".join(t.strip("\n") for t in texts if t.strip()) if texts else ""
    if not text.strip() and html:
        text = html_to_text(html)
    senders = _addresses(msg, "from") or _addresses(msg, "sender")
    sender_name, sender_address = senders[0] if senders else ("", "")
    if not senders:
        sender_name = _header(msg, "from", _LIMITS["name"])
    return ParsedMessage(
        subject=_header(msg, "subject", _LIMITS["subject"]),
        sender_name=sender_name,
        sender_address=sender_address,
        to=_addresses(msg, "to"),
        cc=_addresses(msg, "cc"),
        reply_to=_addresses(msg, "reply-to"),
        date=_date(msg),
        message_id=_message_ids(msg, "message-id", _LIMITS["id"], True),
        in_reply_to=_message_ids(msg, "in-reply-to", _LIMITS["id"], True),
        references=_message_ids(msg, "references", _LIMITS["references"], False),
        text=text.replace("\x00", ""),
        html=html,
        attachments=[a for a, _ in found],
    )


def _fallback(raw) -> ParsedMessage:
    try:
        data = bytes(raw)
        head, sep, body = data.partition(b"\r\n\r\n")
        if not sep:
            head, sep, body = data.partition(b"\n\n")
        subject = ""
        found = re.search(rb"(?im)^subject:[ \t]*(.*)$", head[:MAX_HEADER_CHARS])
        if found:
            subject = decode_header_value(found.group(1).decode("ascii", errors="surrogateescape"))
        return ParsedMessage(subject=subject[: _LIMITS["subject"]], text=decode_bytes(body or data).replace("\x00", ""))
    except Exception:  # noqa: BLE001
        return ParsedMessage()


def attachment_bytes(raw: bytes, index: int) -> tuple[Attachment, bytes] | None:
    """The attachment at MIME part ``index`` of the message and its decoded bytes, or None."""
    try:
        msg = _parse_bytes(bytes(raw))
        for attachment, part in _analyse(msg)[2]:
            if attachment.index == index:
                return attachment, _payload_bytes(part)
    except Exception:  # noqa: BLE001
        return None
    return None


# --------------------------------------------------------------------------- html to text


class _TextExtractor(HTMLParser):
    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre", "hr"}
    _SKIP = {"script", "style", "head", "title", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")
        elif tag == "td":
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body (for search, snippets and the text view)."""
    try:
        parser = _TextExtractor()
        parser.feed(html)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # noqa: BLE001
        text = re.sub(r"<[^>]*>", " ", html)
    lines = [" ".join(line.split()) for line in text.replace("\xa0", " ").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --------------------------------------------------------------------------- filenames

_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_BAD_CHARS = re.compile(r'["\'<>:|?*\\/]')
_MAX_FILENAME = 150


def safe_filename(name: str) -> str:
    """A filename safe to save and to put in a header: no path, control or format characters,
    quotes or reserved device names; Chinese kept; at most 150 characters; "attachment" when
    nothing is left."""
    try:
        name = unicodedata.normalize("NFC", str(name or ""))
        name = re.split(r"[/\\]", name)[-1] if name.strip(" /\\") else ""
        if not name:
            name = ""
        name = re.sub(r"[\t\n\r\v\f\x85\u2028\u2029]", " ", name)
        name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
        name = _BAD_CHARS.sub("_", name)
        name = " ".join(name.split()).strip(" .")
        if not name or not name.strip("_"):
            return "attachment"
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        if stem.split(".")[0].strip().lower() in _RESERVED:
            name = "_" + name
            stem = "_" + stem
        if len(name) > _MAX_FILENAME:
            if ext and len(ext) <= 20:
                name = stem[: _MAX_FILENAME - len(ext) - 1].rstrip(" .") + "." + ext
            else:
                name = name[:_MAX_FILENAME].rstrip(" .")
        return name or "attachment"
    except Exception:  # noqa: BLE001
        return "attachment"


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", errors="ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9 !#$&+.=@^_`{}~()\[\]-]", "_", text)


def content_disposition(filename: str, inline: bool = False) -> str:
    """A Content-Disposition value: an ASCII ``filename="..."`` fallback and the exact name
    as RFC 5987 ``filename*=UTF-8''...``."""
    name = safe_filename(filename)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ascii_stem, ascii_ext = (_ascii(stem).strip(" ."), _ascii(ext).strip(" ."))
    if not ascii_stem.strip("_"):
        ascii_stem = "attachment"
    ascii_name = ascii_stem + ("." + ascii_ext if ascii_ext.strip("_") else "")
    encoded = quote(name, safe="!#$&+-.^_`|~")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"
