"""ASGI messages as a server sends them, for driving an app in process without one."""

from __future__ import annotations

from hypercorn.typing import ConnectionState
from hypercorn.typing import HTTPScope


def http_scope(target: str, headers: list[tuple[bytes, bytes]]) -> HTTPScope:
    """A GET of ``target`` (a path, and a query string after ``?``) over HTTP/1.1 from a
    loopback client, with these headers."""
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8"),
        "query_string": query.encode("ascii"),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": ConnectionState({}),
        "extensions": {},
    }
