"""How a request reaches the app: one task for a request without a body, Quart's way otherwise."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypercorn.typing import ASGIReceiveEvent
from hypercorn.typing import ASGISendEvent
from hypercorn.typing import ConnectionState
from hypercorn.typing import HTTPScope
from quart import Quart
from quart import request
from quart import Response

from quart_flaskr import connection
from quart_flaskr.connection import may_have_body


def _scope(
    method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None, version: str = "1.1"
) -> HTTPScope:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.1"},
        "http_version": version,
        "method": method,
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": ConnectionState({}),
        "extensions": {},
    }


@pytest.mark.parametrize(
    ("method", "version", "headers", "expected"),
    (
        ("GET", "1.1", [], False),
        ("HEAD", "1.1", [], False),
        ("GET", "1.0", [], False),
        ("GET", "1.1", [(b"content-length", b"0")], False),
        ("GET", "1.1", [(b"content-length", b"12")], True),
        ("GET", "1.1", [(b"transfer-encoding", b"chunked")], True),
        ("GET", "1.1", [(b"accept", b"*/*"), (b"content-length", b"1")], True),
        # HTTP/2 need not announce a body: its frames say whether one follows.
        ("GET", "2", [], True),
        # Forms: Quart's test client sends their bodies unannounced.
        ("POST", "1.1", [], True),
        ("DELETE", "1.1", [], True),
    ),
)
def test_a_get_announces_its_body_in_http1_headers(
    method: str, version: str, headers: list[tuple[bytes, bytes]], expected: bool
) -> None:
    assert may_have_body(_scope(method, headers, version)) is expected


def _app(**config: Any) -> Quart:
    app = Quart(__name__)
    app.config.update(config)
    connection.init_app(app)
    return app


#: The task each call of ``_call`` ran the app in, as a server runs each request in one.
SERVER_TASKS: list[asyncio.Task[None]] = []


async def _call(
    app: Quart, scope: HTTPScope, body: bytes | None = None, send_blocks: bool = False
) -> list[ASGISendEvent]:
    """Call ``app`` in a task, as the server does; ``body`` None: receiving fails the test."""
    sent: list[ASGISendEvent] = []

    bodies = [] if body is None else [body]

    async def receive() -> ASGIReceiveEvent:
        if body is None:
            raise AssertionError("a request without a body read from the server")
        if bodies:
            return {"type": "http.request", "body": bodies.pop(), "more_body": False}
        await asyncio.Event().wait()  # the client sends nothing more
        raise AssertionError("unreachable")

    async def send(message: ASGISendEvent) -> None:
        sent.append(message)
        if send_blocks and message["type"] == "http.response.body":
            await asyncio.Event().wait()

    task = asyncio.create_task(app(scope, receive, send))
    SERVER_TASKS.append(task)
    await asyncio.wait_for(task, 10)
    return sent


async def test_a_request_without_a_body_runs_in_the_servers_task() -> None:
    app = _app()
    tasks: list[asyncio.Task[Any] | None] = []

    @app.get("/")
    async def index() -> str:
        tasks.append(asyncio.current_task())
        return f"body: {await request.get_data(as_text=True)!r}"

    sent = await _call(app, _scope())
    assert tasks == [SERVER_TASKS[-1]]
    assert sent[0] == {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", b"8")],
    }
    assert b"".join(message.get("body", b"") for message in sent[1:]) == b"body: ''"  # type: ignore[misc]


async def test_a_request_with_a_body_is_read_as_quart_reads_it() -> None:
    app = _app()
    tasks: list[asyncio.Task[Any] | None] = []

    @app.post("/")
    async def index() -> str:
        tasks.append(asyncio.current_task())
        return f"body: {await request.get_data(as_text=True)!r}"

    scope = _scope("POST", [(b"content-length", b"5")])
    sent = await _call(app, scope, body=b"hello")
    assert b"".join(message.get("body", b"") for message in sent[1:]) == b"body: 'hello'"  # type: ignore[misc]
    # Quart's own way: the view in a task of its own, beside the one reading the body.
    assert tasks[0] is not SERVER_TASKS[-1]


async def test_the_blog_takes_its_requests_this_way(app: Quart) -> None:
    assert app.asgi_http_class is connection.HTTPConnection
    sent = await _call(app, {**_scope(), "path": "/hello", "raw_path": b"/hello"})
    assert sent[0]["status"] == 200  # type: ignore[typeddict-item]


@pytest.mark.parametrize("where", ("config", "response"))
async def test_an_answer_the_client_does_not_take_is_given_up_after_the_timeout(
    where: str,
) -> None:
    """RESPONSE_TIMEOUT, or the response's own timeout, bounds its sending."""
    app = _app(RESPONSE_TIMEOUT=0.05 if where == "config" else 3600)

    @app.get("/")
    async def index() -> Response:
        response = Response("never taken")
        if where == "response":
            response.timeout = 0.05
        return response

    sent = await _call(app, _scope(), send_blocks=True)
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]


async def test_an_error_the_app_lets_through_is_a_traceback_when_testing() -> None:
    app = _app(TESTING=True)

    @app.get("/")
    async def index() -> str:
        raise RuntimeError("the view broke")

    sent = await _call(app, _scope())
    assert sent[0]["status"] == 500  # type: ignore[typeddict-item]
    assert b"the view broke" in b"".join(message.get("body", b"") for message in sent[1:])  # type: ignore[misc]


async def test_an_error_the_app_lets_through_reaches_the_server_in_production() -> None:
    """The server answers it (Hypercorn with a 500) and logs it."""
    app = _app()

    @app.get("/")
    async def index() -> str:
        raise RuntimeError("the view broke")

    @app.errorhandler(500)
    async def broken_error_page(error: Exception) -> str:
        raise RuntimeError("so did the error page")

    with pytest.raises(RuntimeError, match="so did the error page"):
        await _call(app, _scope())
