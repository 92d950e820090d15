"""Rate limits per address and per account (MAIL-17), with Litestar's rate-limit middleware.

Each limit is one ``RateLimitConfig`` on the shared store ``rate_limit`` (Redis when
``PORTAL_REDIS_URL`` is set, so every process counts together; memory otherwise), keyed by an
identifier of its own:

- ``anonymous``: every request of a visitor who is not logged in, per address (static files
  aside), so a flood from one address is answered with 429 while logged-in users work on;
- ``login``: the POSTs of the login steps, per address; the second-factor steps also per
  pending account (the password step's account is guarded by the lockout, MAIL-16);
- ``send``: sending mail, per address and per account;
- ``search``: searches, per address and per account;
- ``submit``: forms the public files without logging in (a request for disclosure), per address;
- ``lookup``: look-ups by a number and a secret code (tracking a request), per address, so
  codes cannot be guessed by trying.

A handler takes part with ``opt=portal.web.rate_limited("send", when=...)``; the limits are the
``rate_limit_*`` settings, ``"<count>/<second|minute|hour|day>"``. The address is
:func:`portal.web.client_ip`, the one the lockout uses (``X-Forwarded-For`` only from trusted
proxies); an IPv6 address counts for its /64 network, which one subscriber usually holds.
A limited request gets the 429 error page with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import inspect
import ipaddress
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from time import time
from typing import get_args

from litestar import Request
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import CacheObject, DurationUnit, RateLimitConfig
from litestar.middleware.rate_limit import RateLimitMiddleware as LitestarRateLimitMiddleware
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.types import Receive, Scope, Send

from portal.settings import Settings
from portal.web import RATE_LIMITED_ACTIONS as ACTIONS
from portal.web import RATE_LIMIT_OPT as OPT
from portal.web import client_ip, current_user

STORE = "rate_limit"
# Expired counters of the memory store are dropped every so many counted requests.
PURGE_EVERY = 1000
# The ASGI receive of the request being checked, for conditions that read the body.
_receive: ContextVar[Receive] = ContextVar("rate_limit_receive")


@dataclass(frozen=True)
class Limit:
    count: int
    unit: DurationUnit


def parse_limit(name: str, text: str) -> Limit | None:
    """``"20/minute"`` → Limit(20, "minute"); ``"0"``, ``"off"`` or ``""`` → None (no limit)."""
    text = str(text).strip().lower()
    if text in ("", "0", "off"):
        return None
    count, _, unit = text.partition("/")
    if not count.strip().isdigit() or unit.strip() not in get_args(DurationUnit):
        raise ValueError(f"setting {name}: {text!r} is not a rate limit such as '20/minute' (second, minute, hour, day) or 'off'")
    return Limit(int(count), unit.strip()) if int(count) else None  # type: ignore[arg-type]


class RateLimitMiddleware(LitestarRateLimitMiddleware):
    """Litestar's middleware, telling a limited client when to come back (``Retry-After``) and
    leaving the counted responses without ``RateLimit-*`` headers (several limits may count one
    request; they would contradict each other)."""

    purge_countdown = PURGE_EVERY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _receive.set(receive)
        try:
            await super().__call__(scope, receive, send)
        finally:
            _receive.reset(token)

    async def should_check_request(self, request: Request) -> bool:
        # Litestar's request here cannot read the body, which a ``when`` condition may need
        # (the form's button); Litestar keeps what is read for the handler.
        return await super().should_check_request(type(request)(request.scope, _receive.get()))

    def create_send_wrapper(self, send: Send, cache_object: CacheObject) -> Send:
        return send

    def create_response_headers(self, cache_object: CacheObject) -> dict[str, str]:
        headers = super().create_response_headers(cache_object)
        headers["Retry-After"] = str(max(1, cache_object.reset - int(time())))
        return headers

    async def set_cached_history(self, key: str, cache_object: CacheObject, store: Store) -> None:
        await super().set_cached_history(key, cache_object, store)
        # Redis expires keys itself; the memory store only when a key is read again.
        type(self).purge_countdown -= 1
        if type(self).purge_countdown <= 0 and isinstance(store, MemoryStore):
            type(self).purge_countdown = PURGE_EVERY
            await store.delete_expired()


def address_key(request: Request) -> str:
    address = client_ip(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def account_key(request: Request) -> str | None:
    """The logged-in user, else the account that passed the password step (second-factor steps)."""
    user = current_user(request)
    if user is not None:
        return str(user.id)
    session = request.scope.get("session")
    pending = session.get("pending_user") if isinstance(session, dict) else None
    return f"pending-{pending}" if pending else None


def _marked(request: Request) -> tuple[str, Callable | None] | None:
    return request.route_handler.opt.get(OPT)


async def _applies(request: Request, action: str) -> bool:
    marked = _marked(request)
    if not marked or marked[0] != action:
        return False
    when = marked[1]
    if when is None:
        return True
    result = when(request)
    return bool(await result) if inspect.isawaitable(result) else bool(result)


def _check(action: str | None, *, per_account: bool = False) -> Callable[[Request], Awaitable[bool]]:
    """Whether a request counts: an anonymous visitor's (``action`` None), or one of ``action``.
    Async, so Litestar awaits it in the loop instead of sending it to a thread."""

    async def check(request: Request) -> bool:
        if action is None:
            return current_user(request) is None
        if per_account and account_key(request) is None:
            return False
        return await _applies(request, action)

    return check


def _config(limit: Limit, identifier: Callable[[Request], str], check: Callable[[Request], Awaitable[bool]]) -> DefineMiddleware:
    return RateLimitConfig(
        rate_limit=(limit.unit, limit.count), identifier_for_request=identifier, check_throttle_handler=check,
        exclude=["^/static/"], middleware_class=RateLimitMiddleware, store=STORE,
    ).middleware


def rate_limit_middleware(settings: Settings) -> list[DefineMiddleware]:
    """One middleware per configured limit; put them after the session and current-user ones."""
    middleware = []
    anonymous = parse_limit("rate_limit_anonymous_ip", settings.rate_limit_anonymous_ip)
    if anonymous:
        middleware.append(_config(anonymous, lambda request: f"anonymous:ip:{address_key(request)}", _check(None)))
    for action in ACTIONS:
        per_ip = parse_limit(f"rate_limit_{action}_ip", getattr(settings, f"rate_limit_{action}_ip"))
        per_account = parse_limit(f"rate_limit_{action}_account", getattr(settings, f"rate_limit_{action}_account"))
        if per_ip:
            middleware.append(_config(per_ip, lambda request, a=action: f"{a}:ip:{address_key(request)}", _check(action)))
        if per_account:
            middleware.append(_config(per_account, lambda request, a=action: f"{a}:account:{account_key(request)}",
                                      _check(action, per_account=True)))
    return middleware


def rate_limit_store(settings: Settings, redis_root: Store | None) -> Store:
    """Redis (one namespace per deployment: its processes share the secret key) or memory."""
    if redis_root is None:
        return MemoryStore()
    deployment = hashlib.sha256(settings.secret_key.encode()).hexdigest()[:12]
    return redis_root.with_namespace(f"rate_limit_{deployment}")  # type: ignore[attr-defined]
