"""Real-time events to a user's open pages (MAIL-1's transport): memory or Redis channels, SSE."""

import asyncio
import json
import os

import pytest
from portal.testing import LiveServer, login_as

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL")


async def _read_event(lines, kind: str) -> dict:
    event = None
    async for line in lines:
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == kind:
            return json.loads(line.split(":", 1)[1])
    raise AssertionError("stream ended")


async def _stream_receives_notification(app, make_user) -> None:
    user = await make_user("nina")
    other = await make_user("otto")
    portal = app.state.portal
    async with LiveServer(app) as server, server.client() as browser:
        await login_as(browser, user)
        async with browser.stream("GET", "/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.aiter_lines()
            assert (await asyncio.wait_for(lines.__anext__(), 5)).startswith(":")
            portal.notify(other.id, "mail", subject="not for nina")
            portal.notify(user.id, "mail", subject="你好", unread=3)
            data = await asyncio.wait_for(_read_event(lines, "mail"), 5)
    assert data == {"kind": "mail", "subject": "你好", "unread": 3}


async def test_open_page_receives_the_users_events_in_memory(app, make_user):
    await _stream_receives_notification(app, make_user)


@pytest.mark.skipif(not REDIS_URL, reason="set PORTAL_TEST_REDIS_URL to test Redis pub/sub (CI does)")
async def test_open_page_receives_the_users_events_through_redis(make_app, make_user):
    app = make_app(redis_url=REDIS_URL)
    await _stream_receives_notification(app, make_user)


async def test_event_stream_needs_login(client):
    response = await client.get("/events")
    assert response.status_code == 303
