"""Writes the sample messages of this folder (run it again after changing one).

The messages imitate what real mail systems send, with their mistakes; they are written from
Python so the bytes in each charset are exact. ``python make_corpus.py`` in this folder.
"""

import base64
import quopri
from pathlib import Path

HERE = Path(__file__).parent


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data)


def word(text: str, charset: str, kind: str = "B") -> str:
    data = text.encode("gb18030" if charset.lower() in ("gb2312", "gbk") else charset)
    if kind == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    return f"=?{charset}?Q?{quopri.encodestring(data, header=True).decode()}?="


MESSAGES: dict[str, bytes] = {}

# 1. A GB2312 message from an old Chinese client; the body has 镕, which is GBK, not GB2312.
MESSAGES["gb2312_plain.eml"] = (
    f"From: {word('国务院办公厅', 'gb2312')} <office@gov.example.cn>\r\n"
    f"To: {word('张三', 'gb2312')} <zhangsan@example.cn>\r\n"
    f"Subject: {word('关于召开会议的通知', 'gb2312')}\r\n"
    "Date: Mon, 3 Mar 2025 09:30:00 +0800\r\n"
    "Message-ID: <20250303093000.1234@gov.example.cn>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=\"gb2312\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
).encode() + b64("各位同事：\r\n请于明天上午九点参加会议。朱镕基同志的讲话稿见附件。\r\n".encode("gbk"))

# 2. GBK declared, quoted-printable body, Q-encoded subject, Cc and Reply-To.
MESSAGES["gbk_qp.eml"] = (
    f"From: \"{word('李四', 'GBK', 'Q')}\" <lisi@example.cn>\r\n"
    "To: wangwu@example.cn\r\n"
    f"Cc: {word('赵六', 'GBK')} <zhaoliu@example.cn>, qianqi@example.cn\r\n"
    f"Reply-To: {word('办公室', 'GBK', 'Q')} <office@example.cn>\r\n"
    f"Subject: {word('季度报告（草稿）', 'GBK', 'Q')}\r\n"
    "Date: Tue, 4 Mar 2025 14:05:10 +0800\r\n"
    "Message-ID: <qp.5678@example.cn>\r\n"
    "In-Reply-To: <orig.1@example.cn>\r\n"
    "References: <orig.0@example.cn>\r\n <orig.1@example.cn>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=GBK\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
).encode() + quopri.encodestring("第一季度报告已完成，请审阅。镕\r\n".encode("gbk"))

# 3. HTML only, GB18030, charset given only in the <meta> of the document.
MESSAGES["gb18030_html_only.eml"] = (
    "From: news@example.cn\r\n"
    "To: reader@example.cn\r\n"
    f"Subject: {word('每周简报 𠀀', 'GB18030')}\r\n"
    "Date: Wed, 5 Mar 2025 08:00:00 +0800\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/html\r\n"
    "Content-Transfer-Encoding: 8bit\r\n\r\n"
).encode() + (
    "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb18030\">"
    "<title>简报</title><style>p{color:red}</style></head>"
    "<body><p>本周要闻：</p><p>一、政务公开&nbsp;工作&amp;进展</p><script>alert(1)</script></body></html>\r\n"
).encode("gb18030")

# 4. UTF-8, mixed > alternative > related with an inline image, a PDF with an RFC 2231
#    continued filename, and a forwarded GBK message as message/rfc822.
_inner = (
    f"From: {word('王五', 'gbk')} <wangwu@example.cn>\r\n"
    "To: someone@example.cn\r\n"
    f"Subject: {word('原始邮件', 'gbk')}\r\n"
    "Content-Type: text/plain; charset=gbk\r\n\r\n"
).encode() + "这是被转发的邮件。\r\n".encode("gbk")
_pdf = b"%PDF-1.4\n" + bytes(range(256)) + b"\n%%EOF\n"
_png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
MESSAGES["utf8_nested.eml"] = (
    "From: \"Zhou Ba (周八)\" <zhouba@example.org>\r\n"
    "To: a@example.cn, \"B, Jr.\" <b@example.cn>\r\n"
    f"Subject: {word('转发：', 'UTF-8')} {word('会议纪要和附件', 'UTF-8')}\r\n"
    "Date: Thu, 6 Mar 2025 10:00:00 -0000\r\n"
    "Message-ID: <nested.1@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"==outer==\"\r\n\r\n"
    "This is a multi-part message in MIME format.\r\n"
    "--==outer==\r\n"
    "Content-Type: multipart/alternative; boundary=\"==alt==\"\r\n\r\n"
    "--==alt==\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
).encode() + b64("会议纪要见附件。\r\n第二行。\r\n".encode()) + (
    "--==alt==\r\n"
    "Content-Type: multipart/related; boundary=\"==rel==\"; type=\"text/html\"\r\n\r\n"
    "--==rel==\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
).encode() + quopri.encodestring("<p>会议纪要见附件。</p><img src=\"cid:logo@example.org\">\r\n".encode()) + (
    "--==rel==\r\n"
    "Content-Type: image/png\r\n"
    "Content-ID: <logo@example.org>\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
).encode() + b64(_png) + (
    "--==rel==--\r\n"
    "--==alt==--\r\n"
    "--==outer==\r\n"
    "Content-Type: application/pdf\r\n"
    "Content-Disposition: attachment;\r\n"
    " filename*0*=UTF-8''%E4%BC%9A%E8%AE%AE%E7%BA%AA%E8%A6%81;\r\n"
    " filename*1*=%EF%BC%882025%EF%BC%89.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
).encode() + b64(_pdf) + (
    "--==outer==\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Disposition: attachment\r\n\r\n"
).encode() + _inner + b"\r\n--==outer==--\r\n"

# 5. Raw 8-bit bytes in headers (GBK subject, UTF-8 name), undeclared 8-bit GBK body.
MESSAGES["raw_8bit_headers.eml"] = (
    b"From: " + "孙九".encode() + b" <sunjiu@example.cn>\r\n"
    b"To: <x@example.cn>\r\n"
    b"Subject: " + "未编码的主题：通知".encode("gbk") + b"\r\n"
    b"Date: 7 Mar 2025 11:12:13 +0800\r\n"
    b"\r\n" + "正文没有声明字符集。\r\n".encode("gbk")
)

# 6. Broken encoded words: a UTF-8 character split across two words, missing padding,
#    an unknown charset, encoded words inside a quoted name; Subject twice; no Date.
_split = "中文".encode()
MESSAGES["broken_encoded_words.eml"] = (
    "From: \"=?utf-8?B?5p2O5Zub?=\" <broken@example.cn>\r\n"
    "To: =?x-unknown?B?5byg5LiJ?= <z@example.cn>\r\n"
    f"Subject: =?UTF-8?B?{base64.b64encode(_split[:4]).decode()}?=\r\n"
    f"  =?UTF-8?B?{base64.b64encode(_split[4:]).decode().rstrip('=')}?= and =?utf-8?q?more_text?=\r\n"
    "Subject: second subject\r\n"
    "Message-ID: no-angle-brackets@example.cn\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "body\r\n"
).encode()

# 7. Wrong charsets: UTF-8 declared but GBK bytes; an unknown charset with UTF-8 bytes.
MESSAGES["wrong_charset.eml"] = (
    b"From: wrong@example.cn\r\n"
    b"Subject: wrong charsets\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
    b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    + "声明为UTF-8实际为GBK\r\n".encode("gbk")
    + b"--b1\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\n"
    + "未知字符集\r\n".encode()
    + b"--b1--\r\n"
)

# 8. A multipart without a boundary parameter.
MESSAGES["missing_boundary.eml"] = (
    b"From: nob@example.cn\r\nSubject: no boundary\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed\r\n\r\n"
    b"--x\r\nContent-Type: text/plain\r\n\r\nhello without boundary\r\n--x--\r\n"
)

# 9. Cut in the middle of a base64 attachment: no closing boundary.
MESSAGES["truncated.eml"] = (
    b"From: cut@example.cn\r\nSubject: truncated\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"cut\"\r\n\r\n"
    b"--cut\r\nContent-Type: text/plain; charset=gbk\r\n\r\n" + "截断的邮件\r\n".encode("gbk")
    + b"--cut\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(bytes(300))[:150]
)

# 10. Base64 with garbage, bad padding, and a line of junk.
MESSAGES["base64_garbage.eml"] = (
    b"From: junk@example.cn\r\nSubject: garbage\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + base64.b64encode("有效的文本".encode())[:-1] + b"!!**\r\n\x00\xff\xfe garbage ###\r\n"
)

# 11. Attachment names as they come: encoded words in filename, raw 8-bit GBK, RFC 2231
#     with a GB2312 charset, path traversal, a reserved device name, a right-to-left override.
MESSAGES["filenames.eml"] = (
    b"From: files@example.cn\r\nSubject: filenames\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"f\"\r\n\r\n"
    b"--f\r\nContent-Type: text/plain\r\n\r\nsee attachments\r\n"
    b"--f\r\nContent-Type: application/msword; name=\"" + word("申请表.doc", "gb2312").encode() + b"\"\r\n"
    b"Content-Disposition: attachment; filename=\"" + word("申请表.doc", "gb2312").encode() + b"\"\r\n\r\nx\r\n"
    b"--f\r\nContent-Type: application/vnd.ms-excel\r\n"
    b"Content-Disposition: attachment; filename=\"" + "统计表.xls".encode("gbk") + b"\"\r\n\r\nx\r\n"
    b"--f\r\nContent-Type: application/zip\r\n"
    b"Content-Disposition: attachment; filename*=gb2312''" + "".join(f"%{b:02X}" for b in "资料.zip".encode("gbk")).encode() + b"\r\n\r\nx\r\n"
    b"--f\r\nContent-Type: text/plain\r\n"
    b"Content-Disposition: attachment; filename=\"../../etc/passwd\"\r\n\r\nx\r\n"
    b"--f\r\nContent-Type: text/plain\r\n"
    b"Content-Disposition: attachment; filename=\"CON.txt\"\r\n\r\nx\r\n"
    b"--f\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Disposition: attachment; filename=\"" + "invoice\u202egpj.exe".encode() + b"\"\r\n\r\nx\r\n"
    b"--f--\r\n"
)

if __name__ == "__main__":
    for name, data in MESSAGES.items():
        (HERE / name).write_bytes(data)
        print(name, len(data))
