"""Requests through an ASGI app in process, for valgrind to count.

    python bench/count_requests.py MODULE:APP PATH N [COOKIE]

Imports ``APP`` from ``MODULE`` (from the working directory), starts its
lifespan, and sends it ``N`` GET requests for ``PATH`` (a path, and a query
string after ``?``) with a Host header, as wrk sends, and ``COOKIE`` as the
Cookie header when given (a logged-in reader's), each through the whole ASGI
app, their answers dropped. No
server: under ``valgrind --tool=callgrind``, two runs' difference is the app's
own work for the requests one made beyond the other
(``bench/measurements/instructions.py``).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Awaitable
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run by path: the repository's root, for tests.harness, as bench/run.py puts it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quart.testing.app import TestApp

from tests.harness.asgi import http_scope

#: Seconds the app's start-up and shut-down may take (run under valgrind: some 50 times slower).
STARTUP_TIMEOUT_S = 3600


async def _requests(app: Any, path: str, count: int, cookie: str | None) -> None:
    headers = [(b"host", b"127.0.0.1:8000")]
    if cookie:
        headers.append((b"cookie", cookie.encode("latin-1")))
    scope = http_scope(path, headers)
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    # Under valgrind, start-up (every template compiled) outlasts Quart's 60 s default.
    async with TestApp(app, startup_timeout=STARTUP_TIMEOUT_S, shutdown_timeout=STARTUP_TIMEOUT_S):
        for _ in range(count):
            await app(dict(scope), _receiver(), send)
    if statuses != [200] * count:
        raise SystemExit(f"{path}: expected {count} answers of 200, got {statuses[:5]}...")


def _receiver() -> Callable[[], Awaitable[dict[str, Any]]]:
    """A request's ``receive``: its empty body, then nothing more until the app has answered."""
    pending = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await asyncio.Event().wait()
        raise AssertionError("unreachable: the app is cancelled once it has answered")

    return receive


def main() -> None:
    spec, path, count = sys.argv[1:4]
    cookie = sys.argv[4] if len(sys.argv) > 4 else None
    module_name, _, attribute = spec.partition(":")
    sys.path.insert(0, os.getcwd())
    app = getattr(importlib.import_module(module_name), attribute)
    asyncio.run(_requests(app, path, int(count), cookie))


if __name__ == "__main__":
    main()
