"""plugins.webmail.mime: what the world sends, parsed without ever raising."""

import base64
import random
import time
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
