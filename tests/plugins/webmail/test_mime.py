"""plugins.webmail.mime: what the world sends, parsed without ever raising."""

import base64
import email.message
import email.utils
import random
import time
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.webmail import mime
from plugins.webmail.mime import (
    Attachment,
    ParsedMessage,
    attachment_bytes,
    content_disposition,
    decode_bytes,
    decode_header_value,
    parse_message,
    safe_filename,
)

CORPUS = Path(__file__).parent / "corpus"
CORPUS_FILES = sorted(CORPUS.glob("*.eml"))


def load(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def test_the_corpus_is_up_to_date():
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    assert {p.name for p in CORPUS_FILES} == set(module.MESSAGES)
    for name, data in module.MESSAGES.items():
        assert load(name) == data, f"run make_corpus.py: {name} changed"


# ------------------------------------------------------------------ corpus, message by message


def test_gb2312_declared_text_is_decoded_as_gb18030():
    msg = parse_message(load("gb2312_plain.eml"))
    assert msg.subject == "关于召开会议的通知"
    assert (msg.sender_name, msg.sender_address) == ("国务院办公厅", "office@gov.example.cn")
    assert msg.to == [("张三", "zhangsan@example.cn")]
    assert msg.date == datetime(2025, 3, 3, 1, 30, tzinfo=timezone.utc)
    assert msg.date.utcoffset() == timedelta(hours=8)
    assert msg.message_id == "<20250303093000.1234@gov.example.cn>"
    # 镕 is in GBK but not in GB2312: senders declare gb2312 and send GBK.
    assert "朱镕基同志的讲话稿见附件" in msg.text
    assert "\r" not in msg.text
    assert msg.html is None
    assert msg.attachments == [] and not msg.has_attachments


def test_gbk_quoted_printable_and_address_lists():
    msg = parse_message(load("gbk_qp.eml"))
    assert msg.subject == "季度报告（草稿）"
    assert (msg.sender_name, msg.sender_address) == ("李四", "lisi@example.cn")
    assert msg.to == [("", "wangwu@example.cn")]
    assert msg.cc == [("赵六", "zhaoliu@example.cn"), ("", "qianqi@example.cn")]
    assert msg.reply_to == [("办公室", "office@example.cn")]
    assert msg.in_reply_to == "<orig.1@example.cn>"
    assert msg.references == "<orig.0@example.cn> <orig.1@example.cn>"
    assert msg.text.strip() == "第一季度报告已完成，请审阅。镕"


def test_html_only_gb18030_with_charset_in_meta():
    msg = parse_message(load("gb18030_html_only.eml"))
    assert msg.subject == "每周简报 𠀀"  # a four-byte GB18030 character
    assert "<p>本周要闻：</p>" in msg.html
    # The text comes from the HTML: no tags, no script or style or title, entities decoded.
    assert "本周要闻：" in msg.text
    assert "政务公开 工作&进展" in msg.text
    assert "alert" not in msg.text and "color" not in msg.text and "简报" not in msg.text
    assert "<" not in msg.text


def test_nested_multiparts_inline_image_rfc2231_filename_and_forwarded_message():
    raw = load("utf8_nested.eml")
    msg = parse_message(raw)
    assert msg.subject == "转发：会议纪要和附件"
    assert msg.sender_name == "Zhou Ba (周八)"
    assert msg.to == [("", "a@example.cn"), ("B, Jr.", "b@example.cn")]
    assert msg.date == datetime(2025, 3, 6, 10, 0, tzinfo=timezone.utc)  # -0000: UTC, aware
    assert msg.text == "会议纪要见附件。\n第二行。"
    assert msg.html.startswith('<p>会议纪要见附件。</p><img src="cid:logo@example.org">')
    image, pdf, forwarded = msg.attachments
    assert image.inline and image.content_id == "logo@example.org" and image.content_type == "image/png"
    assert pdf.filename == "会议纪要（2025）.pdf" and not pdf.inline and pdf.content_type == "application/pdf"
    assert forwarded.content_type == "message/rfc822" and forwarded.filename == "原始邮件.eml"
    assert msg.has_attachments

    found, data = attachment_bytes(raw, pdf.index)
    assert found == pdf
    assert data.startswith(b"%PDF-1.4\n") and bytes(range(256)) in data and len(data) == pdf.size
    found, data = attachment_bytes(raw, image.index)
    assert data.startswith(b"\x89PNG") and len(data) == image.size
    found, data = attachment_bytes(raw, forwarded.index)
    assert len(data) == forwarded.size
    inner = parse_message(data)
    assert inner.subject == "原始邮件" and inner.sender_name == "王五"
    assert "这是被转发的邮件。" in inner.text


def test_attachment_bytes_of_a_body_part_or_missing_index_is_none():
    raw = load("utf8_nested.eml")
    assert attachment_bytes(raw, 0) is None  # the message itself
    assert attachment_bytes(raw, 3) is None  # the text/plain body
    assert attachment_bytes(raw, 999) is None
    assert attachment_bytes(b"\xff\x00garbage", 1) is None


def test_raw_8bit_headers_and_undeclared_body():
    msg = parse_message(load("raw_8bit_headers.eml"))
    assert msg.subject == "未编码的主题：通知"  # raw GBK bytes
    assert (msg.sender_name, msg.sender_address) == ("孙九", "sunjiu@example.cn")  # raw UTF-8
    assert msg.text.strip() == "正文没有声明字符集。"
    assert msg.date is not None and msg.date.tzinfo is not None


def test_broken_encoded_words_duplicated_subject_and_odd_ids():
    msg = parse_message(load("broken_encoded_words.eml"))
    # A UTF-8 character split across two words, missing padding, then a Q word; the
    # first of the two Subject headers wins.
    assert msg.subject == "中文 and more text"
    assert msg.sender_name == "李四"  # an encoded word inside quotes, as many clients send
    assert msg.to == [("张三", "z@example.cn")]  # unknown charset: the bytes were UTF-8
    assert msg.date is None
    assert msg.message_id == "no-angle-brackets@example.cn"


def test_wrong_and_unknown_charsets():
    msg = parse_message(load("wrong_charset.eml"))
    assert "声明为UTF-8实际为GBK" in msg.text
    assert "未知字符集" in msg.text


def test_multipart_without_boundary_is_repaired():
    msg = parse_message(load("missing_boundary.eml"))
    assert msg.text == "hello without boundary"


def test_truncated_message_keeps_what_arrived():
    raw = load("truncated.eml")
    msg = parse_message(raw)
    assert msg.text == "截断的邮件"
    [attachment] = msg.attachments
    assert attachment.filename == "data.bin" and attachment.size > 0
    assert attachment_bytes(raw, attachment.index)[1] == bytes(attachment.size)


def test_base64_with_garbage():
    msg = parse_message(load("base64_garbage.eml"))
    assert msg.text.startswith("有效的文")


def test_attachment_filenames_from_the_wild():
    names = [a.filename for a in parse_message(load("filenames.eml")).attachments]
    assert names == ["申请表.doc", "统计表.xls", "资料.zip", "passwd", "_CON.txt", "invoicegpj.exe"]


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_every_corpus_message_gives_clean_strings(path):
    msg = parse_message(path.read_bytes())
    assert isinstance(msg, ParsedMessage)
    for value in (msg.subject, msg.sender_name, msg.sender_address, msg.text, msg.html or "", msg.snippet):
        assert "\x00" not in value
        value.encode("utf-8")  # no lone surrogates left from 8-bit bytes
    assert msg.date is None or msg.date.tzinfo is not None
    for attachment in msg.attachments:
        assert isinstance(attachment, Attachment)
        found = attachment_bytes(path.read_bytes(), attachment.index)
        assert found is not None and found[0] == attachment and len(found[1]) == attachment.size


# ------------------------------------------------------------------ built in the test


def test_a_message_made_by_the_standard_library_round_trips():
    original = EmailMessage()
    original["From"] = "测试 <test@example.cn>"
    original["To"] = "收件人 <to@example.cn>"
    original["Subject"] = "一个很长的主题" * 20
    original["Date"] = "Fri, 07 Mar 2025 16:00:00 +0800"
    original.set_content("你好，世界\n")
    original.add_alternative("<p>你好，世界</p>", subtype="html")
    original.add_attachment("报表内容".encode("gbk"), maintype="application", subtype="octet-stream", filename="2025年报表.csv")
    raw = original.as_bytes()
    msg = parse_message(raw)
    assert msg.subject == "一个很长的主题" * 20
    assert (msg.sender_name, msg.sender_address) == ("测试", "test@example.cn")
    assert msg.text.strip() == "你好，世界"
    assert "<p>你好，世界</p>" in msg.html
    [attachment] = msg.attachments
    assert attachment.filename == "2025年报表.csv"
    assert attachment_bytes(raw, attachment.index)[1] == "报表内容".encode("gbk")


def test_no_headers_at_all_and_empty_input():
    for raw in (b"", b"\r\n", b"just a line of text", b"\r\n\r\nbody only"):
        msg = parse_message(raw)
        assert msg.subject == "" and msg.sender_address == "" and msg.date is None
        assert msg.to == [] and msg.attachments == []
    assert parse_message(b"\r\n\r\nbody only").text.strip() == "body only"


def test_not_even_bytes_does_not_raise():
    assert isinstance(parse_message("From: a@b.c\n\nhi"), ParsedMessage)
    assert isinstance(parse_message(None), ParsedMessage)


def test_dates():
    def date_of(value: str):
        return parse_message(f"Date: {value}\r\n\r\nx".encode()).date

    assert date_of("Sat, 8 Mar 2025 12:00:00 +0000") == datetime(2025, 3, 8, 12, tzinfo=timezone.utc)
    assert date_of("Sat, 8 Mar 2025 12:00:00 -0000").tzinfo is not None
    assert date_of("8 Mar 2025 12:00 GMT") == datetime(2025, 3, 8, 12, tzinfo=timezone.utc)
    assert date_of("2025年3月8日") is None
    assert date_of("Sat, 99 Foo 99999 99:99:99 +9999") is None
    assert date_of("") is None


def test_header_decoding():
    assert decode_header_value("=?utf-8?b?5Lit5paH?=") == "中文"
    assert decode_header_value("=?UTF-8?Q?=E4=B8=AD=E6=96=87_x?=") == "中文 x"
    assert decode_header_value("a =?gb2312?B?1tDOxA==?= b") == "a 中文 b"
    assert decode_header_value("=?gbk?B?1tA=?=\r\n =?gbk?B?zsQ=?=") == "中文"  # folded, joined
    assert decode_header_value("=?utf-8?B?5Lit?= =?gb2312?B?zsQ=?=") == "中文"  # mixed charsets
    assert decode_header_value("=?utf-8*zh?B?5Lit5paH?=") == "中文"  # RFC 2231 language
    assert decode_header_value("=?utf-8?B?!!!?=") == ""  # garbage inside a word
    assert decode_header_value("=?utf-8?X?abc?=") == "=?utf-8?X?abc?="  # unknown encoding: left
    assert decode_header_value("=?utf-8?B?5Lit") == "=?utf-8?B?5Lit"  # unterminated: left
    assert decode_header_value("=?base64?B?5Lit5paH?=") == "中文"  # a bytes codec is no charset
    assert decode_header_value("=?idna?B?5Lit5paH?=") == "中文"
    assert decode_header_value("tab\there\x00\x1b[31m") == "tab\there[31m"


def test_decode_bytes():
    assert decode_bytes("中文".encode("gbk"), "gb2312") == "中文"
    assert decode_bytes("镕".encode("gbk"), "GB_2312-80") == "镕"
    assert decode_bytes("中文".encode("gbk"), "utf-8") == "中文"  # wrong declaration
    assert decode_bytes("中文".encode(), None) == "中文"
    assert decode_bytes("中文".encode("gbk"), None) == "中文"
    assert decode_bytes("café".encode("latin-1"), None) == "café"
    assert decode_bytes("€".encode("cp1252"), "iso-8859-1") == "€"  # as browsers do
    assert decode_bytes(b"abc", "no-such-charset") == "abc"
    assert decode_bytes(b"abc", "x" * 500) == "abc"
    assert decode_bytes(b"\\u0041", "unicode_escape") == "\\u0041"  # not an escape decoder
    assert isinstance(decode_bytes(bytes(range(256)), "utf-8"), str)


def test_addresses_that_are_not_addresses_are_skipped():
    msg = parse_message(
        b"From: Only A Name\r\n"
        b"To: undisclosed-recipients:;\r\n"
        b"Cc: <>, a@, \"x\" <good@example.cn>, @@@, bad address@example.cn\r\n\r\nx"
    )
    assert msg.sender_address == "" and msg.sender_name == "Only A Name"
    assert msg.to == []
    assert ("x", "good@example.cn") in msg.cc
    assert all(" " not in address for _, address in msg.cc)


def test_huge_headers_are_fast_and_cut():
    subject = "=?utf-8?B?5Lit5paH?= " * 200_000
    recipients = ", ".join(f"用户{i} <user{i}@example.cn>" for i in range(20_000))
    raw = (
        f"From: a@example.cn\r\nSubject: {subject}\r\nTo: {recipients}\r\n"
        f"References: {'<x@y> ' * 100_000}\r\nX-Junk: {'=?' * 100_000}\r\n\r\nbody"
    ).encode()
    started = time.monotonic()
    msg = parse_message(raw)
    assert time.monotonic() - started < 10
    assert msg.subject.startswith("中文中文") and len(msg.subject) <= 500
    assert msg.to and msg.to[0] == ("用户0", "user0@example.cn")
    assert len(msg.references) <= 4000
    assert msg.text == "body"


def test_deeply_nested_multiparts():
    depth = 200
    raw = b"From: deep@example.cn\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    for i in range(1, depth):
        raw += f"--b{i - 1}\r\nContent-Type: multipart/mixed; boundary=b{i}\r\n\r\n".encode()
    raw += f"--b{depth - 1}\r\nContent-Type: text/plain\r\n\r\ndeep\r\n".encode()
    msg = parse_message(raw)
    assert isinstance(msg, ParsedMessage)


def test_many_parts_are_capped():
    raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"".join(
        b"--b\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n" for _ in range(3000)
    ) + b"--b--\r\n"
    assert len(parse_message(raw).attachments) < 1000


def test_text_attachments_and_multiple_inline_texts():
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nfirst\r\n"
        b"--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: inline\r\n\r\nxx\r\n"
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsecond\r\n"
        b"--b\r\nContent-Type: text/plain; name=notes.txt\r\n\r\nnot the body\r\n"
        b"--b\r\nContent-Type: text/html\r\nContent-Disposition: attachment\r\n\r\n<p>file</p>\r\n"
        b"--b\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\n"
        b"--b--\r\n"
    )
    msg = parse_message(raw)
    assert msg.text == "first\n\nsecond" and msg.html is None
    assert [(a.filename, a.inline) for a in msg.attachments] == [
        ("attachment.jpg", True), ("notes.txt", False), ("attachment.html", False), ("attachment.ics", False)
    ]
    assert msg.has_attachments


def test_only_inline_images_is_not_has_attachments():
    raw = (
        b"Content-Type: multipart/related; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/html\r\n\r\n<img src=cid:a>\r\n"
        b"--b\r\nContent-Type: image/gif\r\nContent-ID: <a>\r\n\r\nGIF89a\r\n--b--\r\n"
    )
    msg = parse_message(raw)
    assert msg.attachments[0].inline and not msg.has_attachments


def test_snippet():
    msg = parse_message(("Subject: s\r\n\r\n" + "  第一行\r\n\r\n\t第二行   " + "长" * 300).encode())
    assert msg.snippet.startswith("第一行 第二行 长")
    assert len(msg.snippet) <= 151
    assert parse_message(b"\r\n\r\nshort").snippet == "short"


# ------------------------------------------------------------------ filenames and headers


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("报告.pdf", "报告.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\桌面\\文件.docx", "文件.docx"),
        ('a"b\'c<d>e|f?g*h:.txt', "a_b_c_d_e_f_g_h_.txt"),
        ("bell\x07\x00tab\t.txt", "belltab .txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("CON", "_CON"),
        ("nul.tar.gz", "_nul.tar.gz"),
        ("com1.txt", "_com1.txt"),
        ("console.txt", "console.txt"),
        ("...", "attachment"),
        ("", "attachment"),
        ("/", "attachment"),
        ("dir/", "attachment"),
        ("  .hidden  ", "hidden"),
        ("a  b\nc.txt", "a b c.txt"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_length_keeps_the_extension():
    name = safe_filename("长" * 400 + ".pdf")
    assert len(name) == 150 and name.endswith(".pdf")
    assert len(safe_filename("x" * 400)) == 150
    assert safe_filename(None) == "attachment"


def test_content_disposition():
    value = content_disposition("会议纪要 2025.pdf")
    assert value == "attachment; filename=\"2025.pdf\"; filename*=UTF-8''%E4%BC%9A%E8%AE%AE%E7%BA%AA%E8%A6%81%202025.pdf"
    assert content_disposition("report.pdf", inline=True) == "inline; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    assert content_disposition("报告.pdf").startswith('attachment; filename="attachment.pdf"')
    assert content_disposition("café.txt").startswith('attachment; filename="cafe.txt"')
    hostile = content_disposition('x"; filename=evil.exe\r\nSet-Cookie: a=b.txt')
    assert "\r" not in hostile and "\n" not in hostile
    assert hostile.count('"') == 2 and hostile.count(";") == 2
    for value in (content_disposition(n) for n in ("", "文件", "\\\\", "a;b,c.txt")):
        value.encode("ascii")


# ------------------------------------------------------------------ fuzz: it never raises


def _check(raw: bytes) -> None:
    msg = parse_message(raw)
    assert isinstance(msg, ParsedMessage)
    assert isinstance(msg.text, str) and isinstance(msg.snippet, str)
    for value in (msg.subject, msg.sender_name, msg.text):
        value.encode("utf-8")
    for attachment in msg.attachments[:3]:
        attachment_bytes(raw, attachment.index)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=3000))
def test_fuzz_random_bytes(raw):
    _check(raw)


_PIECES = [
    b"\r\n", b"\n", b"\r\n\r\n", b"--", b"--==outer==", b"--==alt==--", b"=?", b"?=", b"=?utf-8?B?",
    b"=?gb2312?Q?", b"Content-Type: multipart/mixed; boundary=", b"Content-Type: message/rfc822\r\n\r\n",
    b"Content-Transfer-Encoding: base64\r\n", b"charset=", b"filename*0*=", b"''%E4%", b"\xff\xfe",
    b"\xd6\xd0", b"\x00", b";", b"\"", b"<", b">", b"@", b",", b" ", b"\t", b"(", b")", b"\\",
]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from([p.name for p in CORPUS_FILES]),
    st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 40), st.sampled_from(_PIECES + [b""]), st.sampled_from(["cut", "insert", "replace", "truncate"])),
        min_size=1,
        max_size=8,
    ),
)
def test_fuzz_mutated_corpus(name, mutations):
    data = bytearray(load(name))
    for where, length, piece, kind in mutations:
        pos = int(where * len(data))
        if kind == "cut":
            del data[pos : pos + length]
        elif kind == "insert":
            data[pos:pos] = piece
        elif kind == "replace":
            data[pos : pos + len(piece)] = piece
        else:
            del data[pos:]
    _check(bytes(data))


def test_fuzz_byte_flips_over_the_whole_corpus():
    rng = random.Random(20250308)
    for path in CORPUS_FILES:
        original = path.read_bytes()
        for _ in range(60):
            data = bytearray(original)
            for _ in range(rng.randint(1, 12)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            _check(bytes(data))


def test_base64_helper_used_in_corpus_is_standard():
    # Guard for the corpus generator: encodebytes wraps lines at 76 characters.
    assert max(len(line) for line in base64.encodebytes(bytes(200)).splitlines()) == 76


# ------------------------------------------------------------------ the single-part shortcut (MAIL-23)
# parse_message runs in the SMTP server's event loop for every incoming mail, so a message that
# is neither multipart nor message/* has only its header block parsed by the feedparser. These
# tests hold it to the whole feedparser's result, message by message and field by field.


def _outcome(raw: bytes, fast: bool):
    """What mime._parse gives, made comparable: the date's UTC offset too (aware datetimes
    at the same instant are equal), and the kind of exception when it raises."""
    try:
        parsed = mime._parse(raw, fast=fast)
    except Exception as error:  # noqa: BLE001 - parse_message turns any into its fallback
        return type(error)
    return parsed, parsed.date.utcoffset() if parsed.date else None


def _assert_fast_path_is_exact(raw: bytes) -> None:
    assert _outcome(raw, fast=True) == _outcome(raw, fast=False)
    fast = mime._parse_single_part(raw)
    if fast is not None:  # the very same message object state, not only the same reading of it
        assert vars(fast) == vars(mime._parse_bytes(raw))


def _base64_body(text: str, charset: str) -> bytes:
    return base64.encodebytes(text.encode(charset))


_PLAIN = b"From: a@example.cn\r\nTo: b@example.cn\r\nSubject: =?utf-8?B?5Lit5paH?=\r\n"
_SHORTCUT_CASES = {
    "crlf": _PLAIN + b"\r\nbody\r\nline two\r\n",
    "bare_lf": _PLAIN.replace(b"\r\n", b"\n") + b"\nbody\nline two\n",
    "mixed_crlf_and_lf": b"From: a@example.cn\nSubject: x\r\n\r\nbody\nmore\r\n\n",
    "lf_line_then_crlf_blank": b"Subject: x\n\r\nbody\n\nafter a blank line",
    "crlf_line_then_lf_blank": b"Subject: x\r\n\nbody\r\n\r\nmore",
    "carriage_returns_only": b"Subject: x\r\rbody\r",
    "no_blank_line": b"From: a@example.cn\r\nSubject: x\r\n",
    "no_blank_line_body_follows": b"From: a@example.cn\r\nthis is the body\r\n\r\nmore body",
    "line_without_colon_in_headers": b"From: a@example.cn\r\nnot a header\r\nSubject: x\r\n\r\nbody",
    "line_with_only_a_colon_name": b"From: a@example.cn\r\n:no name\r\nSubject: x\r\n\r\nbody",
    "body_starts_with_whitespace": b"Subject: x\r\n\r\n  indented\r\n\tand tabbed\r\n",
    "body_starts_with_blank_lines": b"Subject: x\r\n\r\n\r\n\r\nbody",
    "folded_headers": b"Subject: a\r\n  folded\r\n\tagain\r\nFrom: a@example.cn\r\n\r\nbody",
    "first_line_a_continuation": b" folded\r\nSubject: x\r\n\r\nbody",
    "unix_from_first": b"From nobody Sat Mar  8 12:00:00 2025\r\nSubject: x\r\n\r\nbody",
    "unix_from_last": b"Subject: x\r\nFrom nobody Sat Mar  8 12:00:00 2025\r\n\r\nbody",
    "unix_from_in_the_middle": b"Subject: x\r\nFrom nobody\r\nTo: b@example.cn\r\n\r\nbody",
    "empty_body": _PLAIN + b"\r\n",
    "empty_body_lf": b"Subject: x\n\n",
    "blank_line_first": b"\r\n\r\nbody only",
    "lf_blank_line_first": b"\n\nbody only",
    "empty": b"",
    "only_crlf": b"\r\n",
    "no_headers_at_all": b"just a line of text",
    "message_rfc822": b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: i@example.cn\r\n\r\ninner body",
    "message_delivery_status": b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\nAction: failed\r\n",
    "multipart_with_boundary": (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n"
    ),
    "multipart_without_boundary": b"Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nhello\r\n--x--\r\n",
    "text_first_then_multipart": b"Content-Type: text/plain\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx",
    "8bit_headers": "Subject: 未编码的主题\r\nFrom: 孙九 <s@example.cn>\r\n\r\n正文".encode("gbk"),
    "8bit_in_body_only": b"Subject: x\r\n\r\n" + "正文 ".encode() + b"\xff\xfe",
    "gb2312_base64": b"Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + _base64_body("朱镕基同志的讲话稿", "gbk"),
    "base64_with_garbage": b"Content-Transfer-Encoding: base64\r\n\r\n5pyJ5pWI!!!\xff\r\n5Lit*5paH\r\n=====\r\nabc",
    "attachment_only": b"Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=",
    "html_only": b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>\xe4\xbd\xa0\xe5\xa5\xbd</p>",
    "unknown_charset": b"Content-Type: text/plain; charset=x-unknown\r\n\r\n\xd6\xd0\xce\xc4",
    "broken_content_type": b"Content-Type: ;;;===\r\n\r\nbody",
}


@pytest.mark.parametrize("raw", [p.read_bytes() for p in CORPUS_FILES], ids=[p.name for p in CORPUS_FILES])
def test_the_shortcut_reads_the_corpus_as_the_feedparser_does(raw):
    _assert_fast_path_is_exact(raw)


@pytest.mark.parametrize("raw", list(_SHORTCUT_CASES.values()), ids=list(_SHORTCUT_CASES))
def test_the_shortcut_reads_edge_cases_as_the_feedparser_does(raw):
    _assert_fast_path_is_exact(raw)


def test_the_shortcut_is_taken_only_where_it_is_known_to_be_exact():
    taken = {name for name, raw in _SHORTCUT_CASES.items() if mime._parse_single_part(raw) is not None}
    assert {"crlf", "bare_lf", "mixed_crlf_and_lf", "crlf_line_then_lf_blank", "body_starts_with_whitespace",
            "empty_body", "8bit_headers", "gb2312_base64", "base64_with_garbage", "unix_from_first"} <= taken
    assert not taken & {"no_blank_line", "no_blank_line_body_follows", "line_without_colon_in_headers",
                        "unix_from_last", "blank_line_first", "message_rfc822", "message_delivery_status",
                        "multipart_with_boundary", "multipart_without_boundary"}
    assert mime._parse_single_part(load("gb2312_plain.eml")) is not None
    assert mime._parse_single_part(load("utf8_nested.eml")) is None


_HEADER_LINES = [
    b"From: a@example.cn", b'From: "Name" <a@example.cn>', b"To: b@example.cn, =?gbk?B?1tDOxA==?= <c@example.cn>",
    b"Subject: =?utf-8?B?5Lit5paH?=", b"Subject: \xd6\xd0\xce\xc4", b"Date: Sat, 8 Mar 2025 12:00:00 +0800",
    b"Content-Type: text/plain; charset=gb2312", b"Content-Type: text/html", b"Content-Type: application/pdf; name=a.pdf",
    b"Content-Type: multipart/mixed; boundary=b", b"Content-Type: multipart/alternative", b"Content-Type: message/rfc822",
    b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: quoted-printable",
    b"Content-Disposition: attachment; filename*0*=utf-8''%E4%B8%AD", b" folded continuation", b"\tfolded",
    b"From nobody Sat Mar  8 12:00:00 2025", b"no colon here", b":no name", b"X-Empty:", b"",
]
_BODY_PIECES = [b"body", b"5Lit5paH", b"--b", b"--b--", b"\xd6\xd0", b"\xff", b"=E4=B8=AD", b" ", b"\t", b"From x", b"Subject: y"]
_LINE_ENDS = [b"\r\n", b"\n", b"\r", b"\r\n\r\n", b"\n\n"]


@st.composite
def _messages(draw) -> bytes:
    """A header block of likely and unlikely lines, each with its own line end, a separator
    that may be missing or odd, and a body of pieces that look like headers or boundaries."""
    line = st.one_of(st.sampled_from(_HEADER_LINES), st.binary(max_size=30))
    head = b"".join(draw(line) + draw(st.sampled_from(_LINE_ENDS)) for _ in range(draw(st.integers(0, 8))))
    separator = draw(st.sampled_from([b"\r\n", b"\n", b"\r", b"", b"\r\n\r\n", b" \r\n"]))
    body = b"".join(draw(st.lists(st.one_of(st.sampled_from(_BODY_PIECES + _LINE_ENDS), st.binary(max_size=20)), max_size=12)))
    return head + separator + body


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(_messages())
def test_the_shortcut_reads_generated_messages_as_the_feedparser_does(raw):
    _assert_fast_path_is_exact(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=400), st.binary(max_size=400))
def test_the_shortcut_reads_random_bytes_around_a_blank_line_as_the_feedparser_does(head, body):
    _assert_fast_path_is_exact(head + b"\r\n\r\n" + body)
    _assert_fast_path_is_exact(head + b"\n\n" + body)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_regex(mime._BARE_ADDRESS, fullmatch=True))
def test_a_bare_address_is_what_getaddresses_makes_of_it(address):
    assert email.utils.getaddresses([address]) == [("", address)]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet="ab.-@<>\"(),:; \t\r\n\\[]\x0b\u3000中", max_size=40))
def test_address_pairs_are_those_of_getaddresses(raw):
    assert mime._address_pairs(raw) == email.utils.getaddresses([raw])


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet="fFiIlLeEnNaAmM*0123=;'\"% \tK\u0130\u212a中", max_size=60))
def test_a_header_without_the_parameter_name_has_no_such_parameter(value):
    # _param answers "" at once when the name is not in the lower-cased header; this is what
    # makes that shortcut exact, RFC 2231 continuations and odd Unicode case included.
    holder = email.message.Message()
    holder["content-disposition"] = value
    for name in ("filename", "name"):
        if name not in value.lower():
            try:
                found = holder.get_param(name, None, "content-disposition")
            except Exception:  # noqa: BLE001 - _param's _safe makes a failure "" too
                found = None
            assert found is None


def test_whitespace_is_what_str_isspace_says():
    assert [c for c in range(0x110000) if chr(c).isspace() != bool(mime._WHITESPACE.match(chr(c)))] == []


def test_header_and_parameter_names_in_any_case():
    raw = (
        b"FROM: a@example.cn\r\nsUbJeCt: first\r\nSubject: second\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: application/pdf; NAME=\"upper.pdf\"\r\n\r\nx\r\n"
        b"--b\r\nContent-Disposition: attachment; FileName*0*=utf-8''%E4%B8%AD;\r\n FILENAME*1*=%E6%96%87.txt\r\n\r\nx\r\n"
        b"--b\r\nContent-Type: application/octet-stream; nam\r\n e=split.bin\r\n\r\nx\r\n--b--\r\n"
    )
    msg = parse_message(raw)
    assert (msg.sender_address, msg.subject) == ("a@example.cn", "first")
    assert [a.filename for a in msg.attachments] == ["upper.pdf", "中文.txt", "attachment"]
