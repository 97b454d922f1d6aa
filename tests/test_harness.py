"""The harness's own pieces, where the fast tests would not otherwise show that they work.

The live tests and the bench use them against the installed app; here they
meet a small server of the test's own, so that what they do is seen directly.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import urllib.parse
import zlib
from collections.abc import Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from quart_flaskr.db import SCHEMA_VERSION
from tests.harness.databases import old_database
from tests.harness.errors import MissingTokenError
from tests.harness.errors import ServerFailedError
from tests.harness.errors import UnexpectedStatusError
from tests.harness.forms import csrf_token_in
from tests.harness.http import answers
from tests.harness.http import Client
from tests.harness.hypercorn import REUSEPORT
from tests.harness.images import png
from tests.harness.images import SIGNATURE
from tests.harness.images import solid_png
from tests.harness.processes import free_port
from tests.harness.processes import ServerProcess

# Forms


@pytest.mark.parametrize(
    ("page", "token"),
    (
        ('<input type="hidden" name="csrf_token" value="abc.def">', "abc.def"),
        # Entities are decoded, as a browser decodes them before sending the value.
        ('<input name="csrf_token" value="a&amp;b&#46;c&quot;">', 'a&b.c"'),
        # Attributes in any order and quoting, in any case.
        ("<INPUT value='t1' NAME=csrf_token>", "t1"),
        # The first form's token.
        (
            '<input name="csrf_token" value="first"><input name="csrf_token" value="second">',
            "first",
        ),
        ('<input name="title" value="x"><input name="csrf_token" value="mine">', "mine"),
        ('<input name="title" value="csrf_token">', None),
        ('<p>name="csrf_token" value="in text"</p>', None),
        ("", None),
    ),
)
def test_csrf_token_in(page: str, token: str | None) -> None:
    assert csrf_token_in(page) == token


# Images


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """A PNG file's chunks as (type, data), each one's CRC checked."""
    assert data.startswith(SIGNATURE)
    found = []
    position = len(SIGNATURE)
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        content = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + content), kind
        found.append((kind, content))
        position += 12 + length
    return found


@pytest.mark.parametrize(("width", "height"), ((1, 1), (3, 2), (17, 5)))
def test_png_decodes_to_its_size(width: int, height: int) -> None:
    def row(y: int) -> bytes:
        return bytes((x + y) % 256 for x in range(3 * width))

    found = chunks(png(width, height, row))
    assert [kind for kind, _ in found] == [b"IHDR", b"IDAT", b"IEND"]
    header = found[0][1]
    # Width, height, 8 bits a channel, RGB, then the only compression, filter and interlace.
    assert struct.unpack(">IIBBBBB", header) == (width, height, 8, 2, 0, 0, 0)
    pixels = zlib.decompress(found[1][1])
    stride = 1 + 3 * width
    assert len(pixels) == height * stride
    for y in range(height):
        assert pixels[y * stride] == 0, "filter type: none"
        assert pixels[y * stride + 1 : (y + 1) * stride] == row(y)


def test_solid_png_is_one_colour() -> None:
    found = chunks(solid_png(4, 3, b"\x01\x02\x03"))
    pixels = zlib.decompress(found[1][1])
    assert pixels == (b"\0" + b"\x01\x02\x03" * 4) * 3


# The HTTP client, against a server of the test's own


class _Handler(BaseHTTPRequestHandler):
    """``/form`` sets a cookie and shows a form; ``/echo`` says what it received."""

    def do_GET(self) -> None:
        if self.path == "/form":
            self._answer(
                200,
                b'<form><input name="csrf_token" value="tok&amp;en"></form>',
                {"Set-Cookie": "session=abc; Path=/; HttpOnly", "Content-Type": "text/html"},
            )
        elif self.path == "/redirect":
            self._answer(302, b"", {"Location": f"http://{self.headers['Host']}/form"})
        elif self.path == "/echo":
            self._echo(b"")
        else:
            self._answer(404, b"no such page", {"Content-Type": "text/plain; charset=utf-8"})

    def do_POST(self) -> None:
        self._echo(self.rfile.read(int(self.headers.get("Content-Length", 0))))

    def _echo(self, body: bytes) -> None:
        received = {
            "cookie": self.headers.get("Cookie"),
            "content_type": self.headers.get("Content-Type"),
            "body": body.decode("latin-1"),
        }
        self._answer(200, json.dumps(received).encode(), {"Content-Type": "application/json"})

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what the client received instead."""


@pytest.fixture
def local_url() -> Iterator[str]:
    """A small HTTP server in a thread of this process, on a loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def echoed(page_text: str) -> dict[str, str]:
    received: dict[str, str] = json.loads(page_text)
    return received


def test_client_keeps_cookies_and_submits_forms_with_their_token(local_url: str) -> None:
    with Client(local_url) as client, Client(local_url) as tab:
        assert echoed(client.get("/echo").text)["cookie"] is None
        assert client.get("/form").status == 200
        assert client.cookie_values() == {"session": "abc"}
        assert client.cookie_header() == "session=abc"

        page = client.submit("/echo", {"title": "a title"}, token_from="/form")
        received = echoed(page.text)
        assert received["cookie"] == "session=abc"
        assert received["content_type"] == "application/x-www-form-urlencoded"
        assert urllib.parse.parse_qs(received["body"]) == {
            "title": ["a title"],
            "csrf_token": ["tok&en"],
        }

        # A second tab of the same browser sends the same cookie.
        assert echoed(tab.get("/echo").text)["cookie"] is None
        tab.share_session(client)
        assert echoed(tab.get("/echo").text)["cookie"] == "session=abc"


def test_client_uploads_files_as_multipart(local_url: str) -> None:
    image = solid_png()
    with Client(local_url) as client:
        page = client.submit(
            "/echo",
            {"title": "t"},
            token_from="/form",
            files={"image": ("red.png", image, "image/png")},
        )
    received = echoed(page.text)
    assert received["content_type"].startswith("multipart/form-data; boundary=")
    body = received["body"].encode("latin-1")
    assert b'name="csrf_token"\r\n\r\ntok&en\r\n' in body
    assert b'name="image"; filename="red.png"\r\nContent-Type: image/png\r\n\r\n' + image in body


def test_client_follows_redirects_only_when_asked(local_url: str) -> None:
    with Client(local_url) as client:
        page = client.get("/redirect")
        assert (page.status, page.location) == (302, "/form")
        page = client.get("/redirect", follow=True)
        assert (page.status, page.location) == (200, None)
        assert page.content_type == "text/html"
        assert page.csrf_token() == "tok&en"


def test_client_says_what_went_wrong(local_url: str) -> None:
    with Client(local_url) as client:
        page = client.get("/missing")
        assert page.content_type == "text/plain"
        with pytest.raises(MissingTokenError, match="status 404"):
            page.csrf_token()
        with pytest.raises(UnexpectedStatusError, match="GET /missing: expected 200, got 404"):
            client.expect("GET", "/missing", 200)
        assert client.expect("GET", "/form", 200).status == 200
    assert answers(local_url, "/form")
    assert not answers(local_url, "/form", body=b"something else")
    assert not answers(local_url, "/missing")


# Processes


def test_server_process_serves_until_stopped(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    with ServerProcess(command, cwd=tmp_path, stdout_path=tmp_path / "server.log") as server:
        server.wait_until(lambda: answers(url, "/"), timeout=30, what="answering")
        assert server.pids()[0] == server.pid
        assert server.worker_pids() == [server.pid]
    assert server.process.poll() is not None
    assert not answers(url, "/", timeout=1)
    assert "GET / HTTP/1.1" in server.stdout


def test_wait_until_tells_a_server_that_exited(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-c",
        "import sys; print('bad config', file=sys.stderr); sys.exit(3)",
    ]
    with ServerProcess(command, cwd=tmp_path, stdout_path=tmp_path / "server.log") as server:
        with pytest.raises(ServerFailedError, match=r"exited with 3 before answering:\nbad config"):
            server.wait_until(lambda: False, timeout=30, what="answering")


#: Run by each process reuseport starts: the first to create "first" dies of SIGKILL.
DIE_FIRST = """
import os, signal
try:
    os.close(os.open("first", os.O_CREAT | os.O_EXCL))
except FileExistsError:
    pass
else:
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_reuseport_says_which_process_died(tmp_path: Path) -> None:
    command = [sys.executable, str(REUSEPORT), "2", f"127.0.0.1:{free_port()}"]
    result = subprocess.run(
        [*command, sys.executable, "-c", DIE_FIRST, "app"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 128 + signal.SIGKILL
    assert re.fullmatch(r"reuseport: process \d+ was killed by SIGKILL\n", result.stderr)


# Old databases


@pytest.mark.parametrize(
    ("version", "recorded"), ((1, 0), (3, 3), (SCHEMA_VERSION, SCHEMA_VERSION))
)
def test_old_database(tmp_path: Path, version: int, recorded: int) -> None:
    path = tmp_path / "old.sqlite"
    old_database(
        path,
        version,
        script="INSERT INTO post (title, body, author_id) VALUES ('second', '', 1);",
        user=[{"username": "kept", "password": "x"}],
        post=[{"title": "first", "body": "b", "author_id": 1}],
    )
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (recorded,)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert ("comment" in tables) == (version >= 4)
        assert conn.execute('SELECT username FROM "user"').fetchall() == [("kept",)]
        titles = conn.execute("SELECT title FROM post ORDER BY id").fetchall()
        assert titles == [("first",), ("second",)]
