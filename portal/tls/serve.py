"""``portal serve --https-port``: the application on HTTP and HTTPS in one process (MAIL-21).

Two uvicorn servers in one event loop. The HTTP one runs the application's lifespan (start-up,
services such as SMTP, the worker); the HTTPS one starts after it and only serves, with
``portal.tls.context``, whose SNI callback gives each new connection the certificate current
at its handshake: an upload applies without a restart, and open connections keep theirs.
When one server stops (a signal, a failure), the other is stopped too.
"""

from __future__ import annotations

import asyncio
from typing import Any


class Listeners:
    def __init__(self, app, host: str, port: int, https_port: int, **options: Any):
        import uvicorn

        context = app.state.portal.tls.context
        self.http = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options))
        self.https = uvicorn.Server(uvicorn.Config(app, host=host, port=https_port, lifespan="off",
                                                   ssl_context_factory=lambda config, default: context, **options))

    @staticmethod
    def port_of(server) -> int:
        return server.servers[0].sockets[0].getsockname()[1]

    async def serve(self) -> None:
        http = asyncio.create_task(self.http.serve())
        while not self.http.started and not http.done():
            await asyncio.sleep(0.05)
        if http.done():
            return http.result()
        https = asyncio.create_task(self.https.serve())
        await asyncio.wait({http, https}, return_when=asyncio.FIRST_COMPLETED)
        self.stop()
        await asyncio.gather(http, https)

    def stop(self) -> None:
        self.http.should_exit = self.https.should_exit = True
