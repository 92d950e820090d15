"""The SMTP server reads DATA in blocks (MAIL-23): for any bytes a client sends, in any pieces,
it must keep exactly the message aiosmtpd's line-by-line reading keeps, answer as it answers,
and leave the session where it leaves it."""

import asyncio

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.webmail.smtp import PortalSMTP

SIZE_LIMIT = 4_000
AFTER = b"NOOP\r\n"  # the client's next command, sent at once (pipelining): it must stay unread


class Keep:
    async def handle_DATA(self, server, session, envelope):
        server.kept = envelope.original_content
        return "250 OK: kept"


class Answers:
    """Replies are kept instead of written: the test reads them."""

    async def push(self, status):
        self.replies.append(status)


class Stock(Answers, SMTP):
    pass


class Ours(Answers, PortalSMTP):
    pass


async def run_data(server_class, pieces: list[bytes]) -> tuple[list[str], bytes | None, bytes]:
    """DATA through ``server_class`` with ``pieces`` arriving one by one: its replies, the
    message its handler got, and what it left unread of the stream."""
    server = server_class(Keep(), hostname="t", data_size_limit=SIZE_LIMIT, decode_data=False, enable_SMTPUTF8=True)
    server.replies, server.kept = [], None
    server.session = Session(asyncio.get_running_loop())
    server.session.host_name = "client.example"
    server.envelope = Envelope()
    server.envelope.rcpt_tos = ["a@huanghe.gov.example"]
    server.transport = object()  # aiosmtpd reads while it has a transport
    server._reader = reader = asyncio.StreamReader(limit=server.line_length_limit)

    async def arrive() -> None:
        for piece in pieces:
            reader.feed_data(piece)
            await asyncio.sleep(0)

    feeding = asyncio.ensure_future(arrive())
    await asyncio.wait_for(server.smtp_DATA(""), 5)
    await feeding
    reader.feed_eof()
    return server.replies, server.kept, await reader.read()


def same_as_aiosmtpd(pieces: list[bytes]) -> None:
    async def both():
        return await run_data(Stock, pieces), await run_data(Ours, pieces)

    (stock_replies, stock_kept, stock_left), (replies, kept, left) = asyncio.run(both())
    assert left == stock_left
    if stock_replies[-1][:3] in ("500", "552"):
        # A message both too big and with too long a line: aiosmtpd's answer depends on which
        # it met first in its reading; either refuses it, and nothing is kept.
        assert replies[-1][:3] in ("500", "552") and kept is None
    else:
        assert (replies, kept) == (stock_replies, stock_kept)


def stuffed(message: bytes) -> bytes:
    """As a client sends a message: dot-stuffed, then the lone dot."""
    body = message.replace(b"\r\n.", b"\r\n..")
    body = b"." + body if body.startswith(b".") else body
    if body and not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


def in_pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:])]


CASES = {
    "empty": b"",
    "one line": b"Subject: x\r\n\r\nhello",
    "dot lines": b".\r\n..\r\n.x\r\nend.\r\n.",
    "starts with a dot line": b".hidden\r\nvisible",
    "lines ending in a dot": b"First sentence.\r\nSecond.\r\n\r\n.",
    "bare line feeds": b"a\n.\nb\r\n.\n\r\n",
    "carriage returns": b"a\r\r\n.\r\r\n\r",
    "longest line allowed": b"x" * 999 + b"\r\nend",
    "a line too long": b"x" * 1000 + b"\r\nend",
    "a line far too long": b"y" * 5000,
    "too big": (b"z" * 70 + b"\r\n") * 100,
    "eight bit": "正文。\r\n.。\r\n".encode("gb18030") + b"\xff\xfe",
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("pieces", ["whole", "bytes", "threes"])
def test_data_as_aiosmtpd_reads_it(name, pieces):
    data = stuffed(CASES[name]) + AFTER
    size = {"whole": len(data), "bytes": 1, "threes": 3}[pieces]
    same_as_aiosmtpd([data[n:n + size] for n in range(0, len(data), size)])


def test_a_message_ends_at_the_first_lone_dot_and_the_rest_stays_for_the_next_command():
    async def one():
        return await run_data(Ours, [b"line\r\n.\r\nQUIT\r\n"])

    replies, kept, left = asyncio.run(one())
    assert replies == ["354 End data with <CR><LF>.<CR><LF>", "250 OK: kept"]
    assert kept == b"line\r\n" and left == b"QUIT\r\n"


LINES = st.lists(st.sampled_from([b"a", b".", b"..", b"\r", b"\n", b" ", b"\xff", b"x" * 300, b"\r\n.", b".\r"]),
                 max_size=12).map(b"".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINES, max_size=30), cuts=st.lists(st.integers(min_value=0, max_value=20_000), max_size=8),
       stuff=st.booleans())
def test_any_data_in_any_pieces_as_aiosmtpd_reads_it(lines, cuts, stuff):
    message = b"\r\n".join(lines)
    # Not dot-stuffed, the text may hold its own end: what follows is then the next command.
    data = (stuffed(message) if stuff else message + b"\r\n.\r\n") + AFTER
    same_as_aiosmtpd(in_pieces(data, cuts))
