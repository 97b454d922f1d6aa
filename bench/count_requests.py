"""Requests through an ASGI app in process, for valgrind to count.

    python bench/count_requests.py MODULE:APP PATH N

Imports ``APP`` from ``MODULE`` (from the working directory), starts its
lifespan, and sends it ``N`` GET requests for ``PATH`` (only a Host header,
as wrk sends), each through the whole ASGI app, their answers dropped. No
server: under ``valgrind --tool=callgrind`` the instructions of ``N`` requests
less those of 1 (the start-up) are the app's own work for ``N - 1``
(``bench/measurements/instructions.py``).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any


async def _requests(app: Any, path: str, count: int) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
    }
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async with app.test_app():
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
    module_name, _, attribute = spec.partition(":")
    sys.path.insert(0, os.getcwd())
    app = getattr(importlib.import_module(module_name), attribute)
    asyncio.run(_requests(app, path, int(count)))


if __name__ == "__main__":
    main()
