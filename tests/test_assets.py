"""Static files: URLs naming their content, kept for a year, compressed once."""

from __future__ import annotations

import errno
import gzip
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest
from quart import Quart

from quart_flaskr import assets
from quart_flaskr import compression
from tests.helpers import AppFactory
from tests.helpers import Client

STATIC = Path(assets.__file__).parent / "static"
IMMUTABLE = f"public, max-age={assets.CACHE_SECONDS}, immutable"


def hashed(filename: str) -> str:
    """The URL of a file of the package's static folder, with the hash of its bytes."""
    stem, suffix = filename.rsplit(".", 1)
    return f"/static/{stem}.{assets.content_hash((STATIC / filename).read_bytes())}.{suffix}"


async def test_pages_link_the_static_files_by_their_content(client: Client) -> None:
    page = await (await client.get("/")).get_data(as_text=True)
    for filename in ("style.css", "favicon.svg", "forms.js"):
        assert f'"{hashed(filename)}"' in page
        assert f'"/static/{filename}"' not in page


@pytest.mark.parametrize("filename", ("style.css", "favicon.svg", "forms.js"))
async def test_a_hashed_url_is_kept_for_a_year(client: Client, filename: str) -> None:
    response = await client.get(hashed(filename))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert await response.get_data(as_text=False) == (STATIC / filename).read_bytes()
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


@pytest.mark.parametrize("encoding", ("br", "gzip"))
async def test_a_style_sheet_is_sent_compressed_once(
    client: Client, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    calls: list[bytes] = []
    function = compression.STATIC_LEVELS[encoding]

    def counting(body: bytes) -> bytes:
        calls.append(body)
        return function(body)

    monkeypatch.setitem(compression.STATIC_LEVELS, encoding, counting)
    decode: Callable[[bytes], bytes] = brotli.decompress if encoding == "br" else gzip.decompress
    url = hashed("style.css")
    plain = await client.get(url)
    for _ in range(2):
        response = await client.get(url, headers={"Accept-Encoding": encoding})
        body = await response.get_data(as_text=False)
        assert response.headers["Content-Encoding"] == encoding
        assert int(response.headers["Content-Length"]) == len(body)
        assert decode(body) == await plain.get_data(as_text=False)
        assert response.headers["Vary"] == "Accept-Encoding"
        assert response.headers["ETag"] == plain.headers["ETag"][:-1] + f'-{encoding}"'
    assert calls == [await plain.get_data(as_text=False)]
    headers = {"Accept-Encoding": encoding, "If-None-Match": response.headers["ETag"]}
    again = await client.get(url, headers=headers)
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == IMMUTABLE
    # Another encoding's ETag is another representation.
    other = await client.get(url, headers={**headers, "Accept-Encoding": "identity"})
    assert other.status_code == 200


async def test_the_plain_url_keeps_its_short_caching(client: Client) -> None:
    response = await client.get("/static/style.css", headers={"Accept-Encoding": "br"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=43200"
    assert (
        brotli.decompress(await response.get_data(as_text=False))
        == (STATIC / "style.css").read_bytes()
    )


async def test_an_outdated_hash_gets_the_current_file_briefly(client: Client) -> None:
    # As a page from a host not yet upgraded would ask for it.
    response = await client.get("/static/style.0123456789ab.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=43200"
    assert await response.get_data(as_text=False) == (STATIC / "style.css").read_bytes()


@pytest.mark.parametrize(
    "path",
    (
        "/static/missing.css",
        "/static/missing.0123456789ab.css",
        "/static/../__init__.py",
        "/static/style",
        # Longer than the file system allows a name to be.
        "/static/" + "a" * 300,
    ),
)
async def test_no_such_file_is_404(client: Client, path: str) -> None:
    assert (await client.get(path)).status_code == 404


async def test_a_static_folder_that_cannot_be_read_is_not_a_missing_file(
    app: Quart, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused(filename: str) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", filename)

    monkeypatch.setattr(app, "send_static_file", refused)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    # The server's fault, told by the error page and the log, not a 404.
    assert (await client.get("/static/missing.css")).status_code == 500


async def kept(app: Quart) -> int:
    async with app.app_context():
        return len(assets.get_assets())


async def test_other_spellings_of_a_name_keep_nothing_more(app: Quart, client: Client) -> None:
    await client.get("/static/style.css")
    before = await kept(app)
    for number in range(20):
        response = await client.get(
            f"/static/x{number}/../style.css", headers={"Accept-Encoding": "br"}
        )
        # Served as it is on disk, not compressed and kept once more.
        assert response.status_code == 200
        assert "Content-Encoding" not in response.headers
        assert b"body" in await response.get_data()
    response = await client.get("/static/./style.css")
    assert response.status_code == 200
    assert await kept(app) == before


def test_the_hash_is_of_the_files_bytes_and_changes_with_them(tmp_path: Path) -> None:
    (tmp_path / "site.css").write_text("body { color: black }")
    (tmp_path / "LICENSE").write_text("no suffix")
    before = assets.Assets(str(tmp_path))
    name = before.hashed_name("site.css")
    assert name == f"site.{assets.content_hash(b'body { color: black }')}.css"
    assert before.hashed_name("LICENSE") == "LICENSE"
    assert before.hashed_name("missing.css") == "missing.css"
    (tmp_path / "site.css").write_text("body { color: navy }")
    # Read once per process: the next start names the new bytes.
    assert before.hashed_name("site.css") == name
    after = assets.Assets(str(tmp_path))
    assert after.hashed_name("site.css") not in (name, "site.css")
    asset, current = after.find(name)
    assert asset is not None
    assert asset.data == b"body { color: navy }"
    assert not current
    assert after.find(after.hashed_name("site.css")) == (asset, True)


async def test_the_files_are_read_as_the_app_starts(app: Quart) -> None:
    # Before any request, so none reads a file on the event loop.
    files = sorted(path.name for path in STATIC.iterdir() if path.is_file())
    assert await kept(app) == len(files) >= 3


async def test_a_file_too_large_to_keep_is_served_from_disk(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assets, "MAX_KEPT_BYTES", 100)
    app = await make_app()
    async with app.test_app():
        client = app.test_client()
        page = await (await client.get("/")).get_data(as_text=True)
        assert '"/static/style.css"' in page
        response = await client.get("/static/style.css", headers={"Accept-Encoding": "br"})
        assert response.status_code == 200
        assert "Content-Encoding" not in response.headers
        assert await response.get_data(as_text=False) == (STATIC / "style.css").read_bytes()
        assert await kept(app) == 0  # each of the files is over 100 bytes


async def test_in_debug_mode_files_are_read_as_they_are_now(make_app: AppFactory) -> None:
    app: Quart = await make_app(DEBUG=True)
    async with app.test_app():
        # Nothing read as it starts: a developer's edits show at the next request.
        assert await kept(app) == 0
        client = app.test_client()
        page = await (await client.get("/")).get_data(as_text=True)
        assert '"/static/style.css"' in page
        response = await client.get("/static/style.css")
        assert response.status_code == 200
        assert await response.get_data(as_text=False) == (STATIC / "style.css").read_bytes()
        assert (await client.get(hashed("style.css"))).status_code == 404
