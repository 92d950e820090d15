"""The HTTP server of ``portal serve``: uvicorn, with limits against slow and greedy clients (MAIL-17).

uvicorn does not limit the size of a request's head (httptools, which it prefers when
installed, accepts megabytes of headers; h11's ``max_incomplete_event_size`` only catches a
head still incomplete after a chunk), and never times out a client that opened a connection
and sends its request slowly or not at all (slowloris): such clients fill the server. So
``portal serve`` runs h11 with this protocol, which answers 431 to a head (request line and
headers) over ``server_max_header_bytes`` and closes a connection

- whose request line and headers are not complete ``server_header_timeout`` seconds after the
  connection was made, or after the first byte of a following request on it;
- whose request body stalls for ``server_body_timeout`` seconds (no byte arrives while the
  application waits for more).

Idle keep-alive connections close after ``server_keep_alive`` seconds and at most
``server_limit_concurrency`` connections are served at once (each open page holds one for
``/events``); beyond that uvicorn answers 503.
"""

from __future__ import annotations

import asyncio
import logging
import resource

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from portal.settings import Settings

log = logging.getLogger("portal")
# File descriptors beyond the connections: the database, Redis, log files, the SMTP listener.
SPARE_FILES = 256
# After refusing a request, how long what the client still sends is read and dropped.
LINGER_SECONDS = 2


class SlowClientProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for a request's head and for each part of its body."""

    header_timeout: float = 10
    body_timeout: float = 30
    max_head_bytes: int = 16384

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._refused = False
        self._set_deadline(self.header_timeout)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        head_pending = self._deadline is not None and self.conn.their_state is h11.IDLE
        if self.conn.their_state is h11.IDLE and self._head_too_large(data):
            self._refuse_large_head()
            return
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.IDLE:
            if not head_pending:  # the first byte of a following request: its head has the full time
                self._set_deadline(self.header_timeout)
        elif state is h11.SEND_BODY:
            self._set_deadline(self.body_timeout)
        else:
            self._set_deadline(None)

    def _head_too_large(self, data: bytes) -> bool:
        """h11 limits only a head that is still incomplete when a chunk has been parsed; one
        that arrives whole in a chunk would pass, whatever its size."""
        pending = self.conn.trailing_data[0] + data
        end = pending.find(b"\r\n\r\n")
        return (len(pending) if end < 0 else end) > self.max_head_bytes

    def _refuse_large_head(self) -> None:
        """Answer 431 and end the connection; what the client still sends is read and dropped
        for a moment, so that closing does not reset the connection before it reads the answer."""
        self._set_deadline(None)
        self._refused = True
        self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
                             b"connection: close\r\ncontent-length: 34\r\n\r\nRequest header fields too large.\r\n")
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        state = self.conn.their_state
        if state is h11.SEND_BODY:  # a pipelined request is being read
            self._set_deadline(self.body_timeout)
        elif state is h11.IDLE and self.conn.trailing_data[0]:  # part of the next request's head is here
            self._set_deadline(self.header_timeout)
        else:  # until the next request starts, uvicorn's keep-alive timeout rules
            self._set_deadline(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._set_deadline(None)
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """The server stops: an open page's event stream (``/events``) would never end by itself,
        so it is closed now (the browser reconnects to the next server); other requests finish."""
        if self.cycle is not None and not self.cycle.response_complete and self._is_event_stream():
            self.transport.close()
            return
        super().shutdown()

    def _is_event_stream(self) -> bool:
        return any(name == b"accept" and value.startswith(b"text/event-stream") for name, value in self.headers or ())

    def _set_deadline(self, seconds: float | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(seconds, self._deadline_passed) if seconds else None

    def _deadline_passed(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY and self.flow.read_paused:
            self._set_deadline(self.body_timeout)  # the application is not reading: not the client's fault
            return
        if state in (h11.IDLE, h11.SEND_BODY):
            log.warning("closing a connection from %s: its request did not arrive in time", self.client[0] if self.client else "?")
            self.transport.close()


def protocol_class(settings: Settings) -> type[SlowClientProtocol]:
    return type("PortalHTTPProtocol", (SlowClientProtocol,), {
        "header_timeout": settings.server_header_timeout, "body_timeout": settings.server_body_timeout,
        "max_head_bytes": settings.server_max_header_bytes,
    })


def uvicorn_options(settings: Settings) -> dict:
    """The uvicorn settings of ``portal serve`` (also for tests that start the server themselves)."""
    return {
        "http": protocol_class(settings),
        "h11_max_incomplete_event_size": settings.server_max_header_bytes,
        "timeout_keep_alive": settings.server_keep_alive,
        "limit_concurrency": settings.server_limit_concurrency,
        # Stopping closes event streams at once (SlowClientProtocol.shutdown) and gives the other
        # requests this long to finish.
        "timeout_graceful_shutdown": 10,
        "proxy_headers": False,  # X-Forwarded-For is read by portal.web.client_ip, from trusted proxies only
    }


def raise_open_files_limit(connections: int) -> None:
    """Let the process hold ``connections`` sockets: raise the soft limit of open files (often
    1024) towards the hard one; warn when even that is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new_soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))
        if new_soft < wanted:
            log.warning("open files are limited to %s: fewer than server_limit_concurrency=%s connections "
                        "can be served; raise the hard limit (ulimit -Hn, LimitNOFILE=)", new_soft, connections)
