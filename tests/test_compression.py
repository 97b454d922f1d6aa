"""Compressed responses: the encoding the browser asks for, its own ETag, sent once compressed."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from collections.abc import Callable

import brotli
import pytest
from itsdangerous import URLSafeTimedSerializer
from quart import Quart
from quart import Response
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response as WerkzeugResponse

from quart_flaskr import compression
from quart_flaskr.db import Database
from quart_flaskr.security import CSRF_FIELD
from tests.harness.forms import csrf_token_in
from tests.helpers import add_posts
from tests.helpers import AppFactory
from tests.helpers import AuthActions
from tests.helpers import Client

DECODE: dict[str, Callable[[bytes], bytes]] = {
    "br": brotli.decompress,
    "gzip": gzip.decompress,
}
#: Text long enough to be worth compressing, and past the size compressed in a thread.
LONG_TEXT = "All work and no play makes Jack a dull boy. " * 2000


@pytest.mark.parametrize(
    ("accept_encoding", "chosen"),
    (
        (None, None),
        ("", None),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("GZip", "gzip"),
        ("x-gzip", "gzip"),
        ("deflate", None),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.4", "gzip"),
        ("gzip;q=0.4, br;q=0.5", "br"),
        ("gzip;q=0, br;q=0", None),
        ("*", "br"),
        ("*;q=0", None),
        ("gzip;q=0, *", "br"),
        ("br;q=0, *;q=0.3", "gzip"),
        ("identity", None),
        ("identity;q=0", None),
        ("identity;q=0, gzip", "gzip"),
        ("gzip;q=0.5, identity", None),
        ("gzip;q=0.5, identity;q=0.5", "gzip"),
        ("br;q=1.0 , gzip ;q=0.9", "br"),
        ("br;q=oops, gzip", "gzip"),
        ("br;level=5, gzip;q=0.1", "br"),
        (",,, ;q=1", None),
    ),
)
def test_negotiate(accept_encoding: str | None, chosen: str | None) -> None:
    assert compression.negotiate(accept_encoding) == chosen


@pytest.mark.parametrize(
    ("mimetype", "worth_it"),
    (
        ("text/html", True),
        ("text/css", True),
        ("text/plain", True),
        ("application/javascript", True),
        ("application/json", True),
        ("application/xml", True),
        ("application/rss+xml", True),
        ("image/svg+xml", True),
        ("image/png", False),
        ("image/webp", False),
        ("application/octet-stream", False),
        ("", False),
    ),
)
def test_compressible(mimetype: str, worth_it: bool) -> None:
    assert compression.compressible(mimetype) is worth_it


@pytest.mark.parametrize(
    ("vary", "expected"),
    (
        (None, "Accept-Encoding"),
        ("Cookie", "Cookie, Accept-Encoding"),
        ("Cookie, accept-encoding", "Cookie, accept-encoding"),
        ("Accept-Encoding-Extra", "Accept-Encoding-Extra, Accept-Encoding"),
    ),
)
def test_add_vary(vary: str | None, expected: str) -> None:
    headers = Headers() if vary is None else Headers({"Vary": vary})
    compression.add_vary(headers, "Accept-Encoding")
    assert headers["Vary"] == expected


async def identity_page(client: Client, path: str) -> Response:
    response = await client.get(path, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    return response


@pytest.mark.parametrize("encoding", ("br", "gzip"))
@pytest.mark.parametrize("logged_in", (False, True))
async def test_a_page_is_sent_compressed_as_asked(
    client: Client, auth: AuthActions, db: Database, encoding: str, logged_in: bool
) -> None:
    await add_posts(db, 5)
    if logged_in:
        await auth.login()
    plain = await identity_page(client, "/")
    plain_body = await plain.get_data(as_text=False)
    response = await client.get("/", headers={"Accept-Encoding": encoding})
    body = await response.get_data(as_text=False)
    assert response.headers["Content-Encoding"] == encoding
    assert int(response.headers["Content-Length"]) == len(body) < len(plain_body) / 2
    assert response.headers["Vary"] == "Accept-Encoding, Cookie, Accept-Language"
    assert plain.headers["Vary"] == response.headers["Vary"]
    # The page the cache keeps, token and all, in another encoding.
    assert DECODE[encoding](body) == plain_body
    assert response.headers["ETag"] == plain.headers["ETag"][:-1] + f'-{encoding}"'


async def test_each_encoding_is_revalidated_by_its_own_etag(client: Client) -> None:
    etags = {}
    for encoding in ("br", "gzip", "identity"):
        response = await client.get("/", headers={"Accept-Encoding": encoding})
        etags[encoding] = response.headers["ETag"]
    assert len(set(etags.values())) == 3
    for encoding, etag in etags.items():
        for asked in ("br", "gzip", "identity"):
            headers = {"Accept-Encoding": asked, "If-None-Match": etag}
            response = await client.get("/", headers=headers)
            if asked == encoding:
                assert response.status_code == 304
                assert await response.get_data(as_text=False) == b""
                assert response.headers["ETag"] == etag
                assert "Accept-Encoding" in response.headers["Vary"]
            else:
                assert response.status_code == 200
                assert response.headers["ETag"] == etags[asked]


async def test_a_cached_page_is_compressed_once_per_encoding(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    for encoding, function in list(compression.CACHED_LEVELS.items()):

        def counting(
            body: bytes, encoding: str = encoding, function: Callable[..., bytes] = function
        ) -> bytes:
            calls.append(encoding)
            return function(body)

        monkeypatch.setitem(compression.CACHED_LEVELS, encoding, counting)
    monkeypatch.setattr(compression, "DYNAMIC_LEVELS", {})
    first: dict[str, bytes] = {}
    for _ in range(3):
        for encoding in ("br", "gzip"):
            response = await client.get("/", headers={"Accept-Encoding": encoding})
            body = await response.get_data(as_text=False)
            assert first.setdefault(encoding, body) == body
    assert calls == ["br", "gzip"]


async def test_a_page_rendered_again_is_compressed_again(client: Client, db: Database) -> None:
    response = await client.get("/", headers={"Accept-Encoding": "br"})
    before = brotli.decompress(await response.get_data(as_text=False)).decode()
    await add_posts(db, 1)
    response = await client.get("/", headers={"Accept-Encoding": "br"})
    after = brotli.decompress(await response.get_data(as_text=False)).decode()
    assert "post 1" in after
    assert "post 1" not in before


async def test_head_has_the_length_of_the_compressed_get(client: Client, db: Database) -> None:
    await add_posts(db, 3)
    headers = {"Accept-Encoding": "gzip"}
    got = await client.get("/feed.xml", headers=headers)
    head = await client.head("/feed.xml", headers=headers)
    assert head.headers["Content-Encoding"] == got.headers["Content-Encoding"] == "gzip"
    assert head.headers["Content-Length"] == got.headers["Content-Length"]
    assert int(got.headers["Content-Length"]) == len(await got.get_data(as_text=False))


async def test_error_pages_are_compressed(client: Client) -> None:
    plain = await client.get("/nothing-here")
    response = await client.get("/nothing-here", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == plain.status_code == 404
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await response.get_data(as_text=False)) == await plain.get_data(
        as_text=False
    )


@pytest.mark.parametrize("encoding", ("br", "gzip"))
async def test_the_feed_is_compressed(client: Client, db: Database, encoding: str) -> None:
    await add_posts(db, 3)
    plain = await client.get("/feed.xml")
    response = await client.get("/feed.xml", headers={"Accept-Encoding": encoding})
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    # Its build date and items are the same; only the bytes' encoding differs.
    assert DECODE[encoding](await response.get_data(as_text=False)) == await plain.get_data(
        as_text=False
    )


async def long_text() -> AsyncIterator[bytes]:
    yield LONG_TEXT.encode()


async def test_what_is_not_worth_compressing_is_sent_as_it_is(
    app: Quart, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    @app.route("/tiny")
    async def tiny() -> str:
        return "x" * (compression.MIN_SIZE - 1)

    @app.route("/picture")
    async def picture() -> Response:
        return Response(b"\x89PNG\r\n\x1a\n" + bytes(5000), mimetype="image/png")

    @app.route("/no-transform")
    async def no_transform() -> Response:
        return Response(LONG_TEXT, headers={"Cache-Control": "no-transform"})

    @app.route("/nothing")
    async def nothing() -> tuple[str, int]:
        return "", 204

    @app.route("/streamed")
    async def streamed() -> Response:
        return Response(long_text(), mimetype="text/plain")

    @app.route("/streamed-by-werkzeug")
    async def streamed_by_werkzeug() -> WerkzeugResponse:
        return WerkzeugResponse(iter([LONG_TEXT.encode()]), mimetype="text/plain")

    for path in ("/tiny", "/picture", "/no-transform", "/nothing", "/streamed"):
        response = await client.get(path, headers={"Accept-Encoding": "br, gzip"})
        assert "Content-Encoding" not in response.headers, path
        assert "Accept-Encoding" not in response.headers.get("Vary", ""), path
    response = await client.get("/streamed-by-werkzeug", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers


@pytest.mark.parametrize("encoding", ("br", "gzip"))
async def test_a_large_body_is_compressed_in_a_thread(
    app: Quart, client: Client, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    threads: list[object] = []
    to_thread = asyncio.to_thread

    async def counting_to_thread(function: Callable[[bytes], bytes], body: bytes) -> bytes:
        threads.append(function)
        return await to_thread(function, body)

    monkeypatch.setattr(asyncio, "to_thread", counting_to_thread)

    @app.route("/long")
    async def long() -> str:
        return LONG_TEXT

    response = await client.get("/long", headers={"Accept-Encoding": encoding})
    assert len(LONG_TEXT) >= compression.THREAD_SIZE
    assert response.headers["Content-Encoding"] == encoding
    assert DECODE[encoding](await response.get_data(as_text=False)).decode() == LONG_TEXT
    assert threads == [compression.DYNAMIC_LEVELS[encoding]]


async def test_compressing_gives_the_same_bytes_every_time() -> None:
    body = LONG_TEXT.encode()
    for levels in (compression.DYNAMIC_LEVELS, compression.CACHED_LEVELS):
        for encoding in ("br", "gzip"):
            first = await compression.compress(body, encoding, levels)
            assert await compression.compress(body, encoding, levels) == first


@pytest.mark.parametrize(
    "levels",
    [compression.DYNAMIC_LEVELS, compression.CACHED_LEVELS, compression.STATIC_LEVELS],
)
async def test_brotli_streams_have_a_64_kib_window(
    levels: dict[str, Callable[[bytes], bytes]],
) -> None:
    # A stream's first bit is 0 when its window is 2 ** 16 (RFC 7932, 9.1);
    # Brotli's default window, 2 ** 22, begins it with 1.
    body = LONG_TEXT.encode() * 4
    compressed = await compression.compress(body, "br", levels)
    assert compressed[0] & 1 == 0
    assert brotli.decompress(compressed) == body


async def test_every_render_masks_the_form_token_anew(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await make_app(PAGE_CACHE_SIZE=0)
    client = app.test_client()
    await AuthActions(client).login()
    tokens = []
    for _ in range(2):
        response = await client.get("/create", headers={"Accept-Encoding": "gzip"})
        token = csrf_token_in(gzip.decompress(await response.get_data(as_text=False)).decode())
        assert token is not None
        tokens.append(token)
    first, second = tokens
    assert first != second
    # What each token carries (the mask and the secret masked with it) is
    # fresh: no run of it repeats for compression to find. (The tokens
    # themselves are compressed and share zlib's patterns and the time.)
    serializer = URLSafeTimedSerializer([str(app.secret_key)], salt="csrf")
    carried = ["".join(serializer.loads(token)) for token in tokens]
    common = max(
        (
            size
            for size in range(1, len(carried[0]))
            if any(
                carried[0][start : start + size] in carried[1]
                for start in range(len(carried[0]) - size)
            )
        ),
        default=0,
    )
    assert common < 12
    for token in tokens:
        response = await client.post("/create", form={"title": "t", "body": "b", CSRF_FIELD: token})
        assert response.status_code == 302


def test_a_length_that_is_no_number_is_not_taken_as_small() -> None:
    assert compression._shorter_than("12", 1024)
    assert not compression._shorter_than("2048", 1024)
    assert not compression._shorter_than("twelve", 1024)
    assert not compression._shorter_than(None, 1024)
