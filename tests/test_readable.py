"""Requests Quart and Werkzeug cannot read are answered 400, not 500 (readable.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypercorn.typing import ASGISendEvent
from hypercorn.typing import HTTPScope
from quart import Quart

from quart_flaskr import readable
from quart_flaskr.db import Database
from tests.harness.asgi import http_scope
from tests.helpers import AppFactory
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token

#: Host header values Werkzeug fails on: a label over 63 characters, an empty label,
#: "xn--" labels that are not Punycode (the last only once a page names its own URL).
BAD_HOSTS = ("a" * 64 + ".example.com", "a..b", ".", "xn--a", "xn--", "xn--a.example.com:8000")
#: Pages, a file, and what a page links to: each fails on a bad Host in its own way.
PATHS = ("/", "/hello", "/static/style.css", "/1", "/feed.xml")


async def answered(app: Quart, scope: HTTPScope) -> tuple[int, dict[bytes, bytes], bytes]:
    """The whole app's answer to ``scope`` (an empty body): status, headers, body."""
    messages: list[ASGISendEvent] = []
    pending = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Any:
        if pending:
            return pending.pop()
        await asyncio.Event().wait()  # pragma: no cover - the app answers first

    async def send(message: ASGISendEvent) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start, *bodies = messages
    assert start["type"] == "http.response.start"
    body = b"".join(message.get("body", b"") for message in bodies)  # type: ignore[misc]
    return start["status"], dict(start["headers"]), body


def scope_for(path: str, host: str, method: str = "GET", query: bytes = b"") -> HTTPScope:
    scope = http_scope(path, [(b"host", host.encode("latin-1"))])
    return {**scope, "method": method, "query_string": query}


@pytest.mark.parametrize("host", BAD_HOSTS)
@pytest.mark.parametrize("path", PATHS)
async def test_a_host_werkzeug_cannot_read_is_a_400(app: Quart, path: str, host: str) -> None:
    status, headers, body = await answered(app, scope_for(path, host))
    assert status == 400
    assert body.decode() == f"400 Bad Request: {readable.BAD_HOST}\n"
    assert headers[b"content-type"] == b"text/plain; charset=utf-8"
    assert headers[b"content-length"] == str(len(body)).encode()
    # Sent with every response's protections, and kept from shared caches.
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"cache-control"] == b"private, no-cache"


async def test_the_400_to_a_head_request_has_no_body(app: Quart) -> None:
    status, headers, body = await answered(app, scope_for("/", "a..b", "HEAD"))
    assert (status, body) == (400, b"")
    assert int(headers[b"content-length"]) > 0


async def test_a_form_sent_with_a_bad_host_changes_nothing(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    token = await csrf_token(client, "/1/update")
    form = {"csrf_token": token}
    response = await client.post("/1/delete", form=form, headers={"Host": "xn--a"})
    assert response.status_code == 400
    assert await db.fetch_one("SELECT id FROM post WHERE id = 1") is not None
    # The same form under the blog's host deletes the post.
    assert (await client.post("/1/delete", form=form)).status_code == 302
    assert await db.fetch_one("SELECT id FROM post WHERE id = 1") is None


async def test_a_query_string_that_is_not_utf8_is_a_400(app: Quart) -> None:
    for query in (b"q=\xff", b"\xc3", b"page=2&q=\xd0"):
        status, _, body = await answered(app, scope_for("/", "localhost", query=query))
        assert status == 400
        assert body.decode() == f"400 Bad Request: {readable.BAD_QUERY}\n"
    # UTF-8 beyond ASCII, as HTTP/2 may send it unescaped, is read.
    status, _, body = await answered(app, scope_for("/", "localhost", query="q=поиск".encode()))
    assert status == 200
    assert "поиск" in body.decode()


@pytest.mark.parametrize(
    "host",
    ("localhost", "localhost:5000", "127.0.0.1:8000", "[::1]:8000", "xn--mnchen-3ya.de", "a" * 63),
)
async def test_hosts_werkzeug_reads_are_served(app: Quart, host: str) -> None:
    status, _, _ = await answered(app, scope_for("/", host))
    assert status == 200


async def test_with_allowed_hosts_a_bad_host_is_still_a_400(make_app: AppFactory) -> None:
    app = await make_app(ALLOWED_HOSTS=["blog.example.com"])
    status, _, body = await answered(app, scope_for("/hello", "xn--a"))
    assert (status, body.decode()) == (400, f"400 Bad Request: {readable.BAD_HOST}\n")
    # And another host that can be read gets the app's own 400 page, as before.
    status, _, body = await answered(app, scope_for("/hello", "other.example.com"))
    assert status == 400 and b"not served under that host name" in body


async def test_a_request_without_a_host_header_is_served(app: Quart) -> None:
    status, _, _ = await answered(app, http_scope("/hello", []))
    assert status == 200


async def test_each_host_is_judged_once_and_few_are_kept(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readable, "HOSTS_KEPT", 3)
    monkeypatch.setattr(readable, "_hosts", {})
    judged: list[bytes] = []
    usable = readable._usable

    def counted(value: bytes) -> bool:
        judged.append(value)
        return usable(value)

    monkeypatch.setattr(readable, "_usable", counted)
    for host in ("one", "two", "a..b", "one", "a..b", "three", "four"):
        await answered(app, scope_for("/hello", host))
    assert judged == [b"one", b"two", b"a..b", b"three", b"four"]
    assert list(readable._hosts) == [b"a..b", b"three", b"four"]
