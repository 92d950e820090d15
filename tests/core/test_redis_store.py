"""Server-side sessions live in Redis when PORTAL_REDIS_URL is set (CORE-5)."""

import os

import pytest
import redis.asyncio as redis
from litestar.testing import AsyncTestClient

from portal.testing import login_as

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="set PORTAL_TEST_REDIS_URL to test the Redis store (CI does)")
async def test_sessions_are_stored_in_redis(make_app, make_user):
    app = make_app(redis_url=REDIS_URL)
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as browser:
        browser.follow_redirects = False
        user = await make_user("rita")
        await login_as(browser, user)
        session_id = browser.cookies["portal_session"]
        connection = redis.from_url(REDIS_URL)
        try:
            keys = [k.decode() async for k in connection.scan_iter(match=f"*{session_id}*")]
            assert keys, "the session is not in Redis"
            assert (await browser.get("/")).status_code == 200
            # An unchanged session written lately is not written back (issue B speed).
            await connection.expire(keys[0], 12 * 3600 - 100)
            response = await browser.get("/")
            assert response.status_code == 200 and "portal_session=" not in response.headers.get("set-cookie", "")
            assert await connection.ttl(keys[0]) <= 12 * 3600 - 100
        finally:
            await connection.aclose()
