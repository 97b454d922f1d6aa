"""A bare ASGI app, no framework: the floor that Hypercorn itself sets.

``bench/run.py`` serves it with the project's ``hypercorn.toml`` beside the
blog and sends it the same requests. Each path answers 200 with a body of as
many bytes as the blog's answer to the matching request, so that both move the
same amount of data. The sizes come from the environment variable
``BENCH_BARE_SIZES``, a JSON object mapping a path to a byte count; any other
path gets 13 bytes, the size of "Hello, World!". Request bodies are read and
dropped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_SIZE = len(b"Hello, World!")


def _load_bodies() -> dict[str, bytes]:
    sizes: dict[str, int] = json.loads(os.environ.get("BENCH_BARE_SIZES", "{}"))
    return {path: b"x" * size for path, size in sizes.items()}


BODIES = _load_bodies()
DEFAULT_BODY = b"x" * DEFAULT_SIZE


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer every HTTP request with a fixed body; accept the lifespan protocol."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    body = BODIES.get(scope["path"], DEFAULT_BODY)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
