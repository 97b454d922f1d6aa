"""How Quart takes a request from the server and hands back its answer, with fewer tasks.

For every HTTP request Quart starts two tasks, one reading the request's
body and one running the app, waits for the first to end, and sends the
answer from a third (``asyncio.wait_for`` with the response timeout). That
is some tens of microseconds of a request that costs a few hundred, paid by
every page a reader opens, most of which have no body to read.

Here an HTTP/1 GET or HEAD that announces no body (no ``Content-Length``
above 0, no ``Transfer-Encoding``: every page a browser opens) is answered
in the server's own task for it: its body is known to be empty, the app
runs and the answer is sent under ``asyncio.timeout``. Any other request
goes Quart's way: one that has a body, or comes over HTTP/2 (where a body
need not be announced), and any form sent (Quart's test client sends
bodies without announcing them). What a GET no longer does is stop when its client goes
away before the answer: the page is made and its sending fails, as a few
milliseconds of a view's work are not worth a task watching for that.
"""

from __future__ import annotations

import asyncio
from typing import cast

from hypercorn.typing import ASGIReceiveCallable
from hypercorn.typing import ASGISendCallable
from hypercorn.typing import HTTPScope
from quart import Quart
from quart import Request
from quart import Response
from quart.asgi import ASGIHTTPConnection
from quart.debug import traceback_response


def may_have_body(scope: HTTPScope) -> bool:
    """Whether the request may carry a body, however short: unless it is an HTTP/1 GET or
    HEAD that announces none in its headers."""
    if scope["http_version"] not in ("1.0", "1.1") or scope["method"] not in ("GET", "HEAD"):
        return True
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


class HTTPConnection(ASGIHTTPConnection):
    """Quart's HTTP connection, in one task for a GET or HEAD without a body."""

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if may_have_body(self.scope):
            await super().__call__(receive, send)
            return
        request = self._create_request_from_scope(send)
        request.body.set_complete()
        await self.handle_request(request, send)

    async def handle_request(self, request: Request, send: ASGISendCallable) -> None:
        """Quart's, with the answer sent under a timeout rather than in a task of its own."""
        app = self.app
        try:
            response = await app.handle_request(request)
        except Exception as error:
            # What the app's error handling let through (with TESTING, any
            # error): a traceback page when debugging or testing, as Quart does.
            if not (app.debug or app.testing):
                raise
            response = await traceback_response(error)
        timeout = (
            response.timeout
            if isinstance(response, Response) and response.timeout is not Ellipsis
            else app.config["RESPONSE_TIMEOUT"]
        )
        try:
            async with asyncio.timeout(cast(float | None, timeout)):
                await self._send_response(send, response)
        except TimeoutError:
            pass


def init_app(app: Quart) -> None:
    app.asgi_http_class = HTTPConnection
