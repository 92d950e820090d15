"""Real-time notifications to a user's open pages, over Server-Sent Events.

Events go through ``litestar.channels``: in memory by default, Redis pub/sub when
``PORTAL_REDIS_URL`` is set (so several server processes share them). Each user has one
channel, ``user-<id>``; every open page of his listens on ``/events``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request, get
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.response import ServerSentEvent, ServerSentEventMessage

from portal.settings import Settings
from portal.web import current_user, login_required, portal_of

KEEPALIVE_SECONDS = 25


def user_channel(user_id: int) -> str:
    return f"user-{user_id}"


def make_channels_plugin(settings: Settings) -> ChannelsPlugin:
    if settings.redis_url:
        from litestar.channels.backends.redis import RedisChannelsPubSubBackend
        from redis.asyncio import Redis

        backend = RedisChannelsPubSubBackend(redis=Redis.from_url(settings.redis_url))
    else:
        backend = MemoryChannelsBackend()
    return ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)


def publish(channels: ChannelsPlugin, user_id: int, kind: str, payload: dict[str, Any]) -> None:
    channels.publish(json.dumps({"kind": kind, **payload}, ensure_ascii=False), user_channel(user_id))


@get("/events", guards=[login_required], name="events")
async def events(request: Request) -> ServerSentEvent:
    """The current user's event stream; one ``event:`` per notification kind."""
    user = current_user(request)
    channels = portal_of(request).channels

    async def stream() -> AsyncGenerator[ServerSentEventMessage, None]:
        async with channels.start_subscription([user_channel(user.id)]) as subscriber:
            yield ServerSentEventMessage(comment="connected", retry=10000)
            async for raw in subscriber.iter_events():
                message = json.loads(raw)
                yield ServerSentEventMessage(event=message.get("kind", "message"), data=json.dumps(message, ensure_ascii=False))

    return ServerSentEvent(stream(), headers={"cache-control": "no-store", "x-accel-buffering": "no"})


NOTIFY_ROUTES = [events]
