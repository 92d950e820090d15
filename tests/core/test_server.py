"""The HTTP server of ``portal serve`` against slow and greedy clients (MAIL-17): a request's
head must arrive within a deadline and be of bounded size, a body must not stall, and stopping
closes open event streams instead of waiting for them. The server runs in-process with the
options ``portal serve`` gives uvicorn (``portal.server.uvicorn_options``), its deadlines short.
"""

from __future__ import annotations

import asyncio
import resource

import httpx
import pytest

from portal.server import SPARE_FILES, raise_open_files_limit, uvicorn_options
from portal.testing import LiveServer, login_as

DEADLINE = 1  # seconds, for the head and for each part of a body
PATIENCE = 10  # how long a test waits for the server to act before failing


@pytest.fixture
async def server(make_app):
    app = make_app(server_header_timeout=DEADLINE, server_body_timeout=DEADLINE, server_max_header_bytes=4096)
    async with LiveServer(app, **uvicorn_options(app.state.portal.settings)) as live:
        yield live


async def connect(server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    port = int(server.url.rsplit(":", 1)[1])
    return await asyncio.open_connection("127.0.0.1", port)


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """What the server sends before it closes the connection (fails if it keeps it open)."""
    return await asyncio.wait_for(reader.read(), PATIENCE)


async def test_a_client_that_sends_nothing_is_closed(server):
    reader, writer = await connect(server)
    assert await closed_by_server(reader) == b""
    writer.close()


async def test_a_head_dribbled_byte_by_byte_is_closed_at_its_deadline(server):
    """Slowloris: each byte comes well within the deadline, the head as a whole does not."""
    reader, writer = await connect(server)
    request = b"GET /login HTTP/1.1\r\nHost: portal\r\nX-Slow: " + b"a" * 100
    sent = 0

    async def dribble() -> None:
        nonlocal sent
        for byte in request:
            writer.write(bytes([byte]))
            await writer.drain()
            sent += 1
            await asyncio.sleep(DEADLINE / 10)

    dribbling = asyncio.create_task(dribble())
    assert await closed_by_server(reader) == b""
    dribbling.cancel()
    assert sent < len(request)
    writer.close()


async def test_a_stalled_body_is_closed(server):
    reader, writer = await connect(server)
    writer.write(b"POST /login HTTP/1.1\r\nHost: portal\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: 100\r\n\r\nusername=a")
    await writer.drain()
    assert await closed_by_server(reader) == b""
    writer.close()


@pytest.mark.parametrize("chunks", [1, 40], ids=["in one piece", "in pieces"])
async def test_a_head_over_the_size_limit_gets_431(server, chunks):
    reader, writer = await connect(server)
    head = b"GET /login HTTP/1.1\r\nHost: portal\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n"
    size = len(head) // chunks + 1
    for start in range(0, len(head), size):
        writer.write(head[start:start + size])
        await writer.drain()
    answer = await closed_by_server(reader)
    assert answer.startswith(b"HTTP/1.1 431 ")
    writer.close()


async def test_prompt_clients_are_served_and_kept_alive(server):
    """A normal head, and a second request on the same connection after a pause longer than the
    head deadline (the keep-alive timeout rules between requests)."""
    async with server.client() as client:
        first = await client.get("/login", headers={"x-fine": "b" * 3000})
        await asyncio.sleep(DEADLINE * 1.5)
        second = await client.get("/login")
    assert first.status_code == second.status_code == 200


async def test_stopping_closes_open_event_streams(make_app, make_user):
    """An open page's /events never ends by itself; stopping must not wait for it (here the
    graceful timeout is off: without the protocol closing the stream, the server would hang)."""
    app = make_app()
    options = {**uvicorn_options(app.state.portal.settings), "timeout_graceful_shutdown": None}
    live = await LiveServer(app, **options).__aenter__()
    client = live.client()
    await login_as(client, await make_user())
    async with client.stream("GET", "/events", headers={"accept": "text/event-stream"}, timeout=None) as stream:
        lines = stream.aiter_lines()
        assert await asyncio.wait_for(anext(lines), PATIENCE) == ": connected"
        live.server.should_exit = True
        with pytest.raises(httpx.RemoteProtocolError):
            async for _ in lines:
                pass
    await asyncio.wait_for(live.task, PATIENCE)
    await client.aclose()


def test_the_open_files_limit_is_raised_for_the_connections():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        raise_open_files_limit(1000)
        raised, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        assert raised == (1000 + SPARE_FILES if hard == resource.RLIM_INFINITY else min(1000 + SPARE_FILES, hard))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_portal_serve_runs_uvicorn_with_these_limits():
    from portal.settings import Settings

    options = uvicorn_options(Settings.from_env({"PORTAL_SERVER_HEADER_TIMEOUT": "7", "PORTAL_SERVER_LIMIT_CONCURRENCY": "50"}))
    assert options["http"].header_timeout == 7 and options["limit_concurrency"] == 50
    assert options["timeout_keep_alive"] == 10 and options["h11_max_incomplete_event_size"] == 16384
    assert options["proxy_headers"] is False
