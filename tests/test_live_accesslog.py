"""The access log over real HTTP, from the installed wheel under Hypercorn with hypercorn.toml.

Requests are written byte for byte on a socket, since http.client refuses the
control characters they carry. The log is read after the server has stopped,
so that every line is written.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from tests.harness.http import REQUEST_TIMEOUT
from tests.live import Deployment
from tests.live import serve
from tests.live import Server

pytestmark = pytest.mark.slow

#: The start of every access log line: Hypercorn's format for ``accesslog = "-"``,
#: then the client's address from the project's ``access_log_format``.
_LINE_START = re.compile(
    r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[INFO\] 127\.0\.0\.1:\d+ \""
)

#: A path with CR LF, controls, NEL, a line separator and a forged escape, percent-encoded.
INJECTED_PATH = b"/auth//login%0d%0aX-Injected:%201%00%1b[31m%7f%c2%85%e2%80%a8%5cx0a%22"
#: How the log shows that path (decoded by Hypercorn, then escaped).
LOGGED_PATH = r"/auth//login\x0d\x0aX-Injected: 1\x00\x1b[31m\x7f\x85\u2028\\x0a\""
#: Raw bytes h11 accepts in a header value: controls other than CR, LF and NUL,
#: DEL, and obs-text (0x85 is NEL once Hypercorn decodes the value as latin-1).
INJECTED_USER_AGENT = b'agent\x1b[2J\x7f\x85X-Injected: 2\x01\\x0a"'
LOGGED_USER_AGENT = r"agent\x1b[2J\x7f\x85X-Injected: 2\x01\\x0a\""
#: Not in the project's log format, but sent all the same.
INJECTED_REFERER = b"http://x/\x1b]0;title\x07\x9b31m\x85X-Injected: 3"


def exchange(server: Server, request: bytes) -> int:
    """Send one raw HTTP/1.1 request on a connection of its own; the response's status."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=REQUEST_TIMEOUT) as sock:
        sock.sendall(request)
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    status_line = response.split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


def get(server: Server, path: bytes, *headers: bytes) -> int:
    host = f"Host: 127.0.0.1:{server.port}".encode()
    lines = [b"GET " + path + b" HTTP/1.1", host, *headers, b"Connection: close"]
    return exchange(server, b"\r\n".join(lines) + b"\r\n\r\n")


def logged(lines: list[str], path: str, status: int, user_agent: str) -> list[str]:
    """The lines that log a GET of ``path`` answered ``status``, in the project's format."""
    request = re.compile(
        _LINE_START.pattern
        + re.escape(f'GET {path} 1.1" {status} ')
        + r"(\d+|-) \d+\.\d{6}s "
        + re.escape(f'"{user_agent}"')
    )
    return [line for line in lines if request.fullmatch(line)]


@pytest.mark.parametrize("processes", (None, 2), ids=("hypercorn", "reuseport"))
def test_access_log_escapes_requests(
    fresh_deployment: Deployment, tmp_path: Path, processes: int | None
) -> None:
    """Each request is one log line, whatever its path and headers hold."""
    with serve(fresh_deployment, tmp_path, processes) as server:
        injected = get(
            server,
            INJECTED_PATH,
            b"User-Agent: " + INJECTED_USER_AGENT,
            b"Referer: " + INJECTED_REFERER,
        )
        header_only = get(server, b"/header-only", b"User-Agent: " + INJECTED_USER_AGENT)
        ordinary = get(server, b"/hello", b"User-Agent: curl/8.5.0")
        # h11 refuses raw control bytes in the request line itself: 400, and no log line.
        refused = get(server, b"/refused\x1b[31m\x85")
        server.shut_down()
    assert (ordinary, refused) == (200, 400)
    log = server.stdout_path.read_bytes()
    text = log.decode("utf-8")
    # Printable text, and no line break but the newline that ends each line.
    assert text.endswith("\n")
    lines = text[:-1].split("\n")
    assert all(line.isprintable() for line in lines), text
    assert text.splitlines() == lines
    assert all(_LINE_START.match(line) for line in lines), text
    assert not any(line.startswith("X-Injected") for line in lines)
    assert len(logged(lines, LOGGED_PATH, injected, LOGGED_USER_AGENT)) == 1, text
    assert len(logged(lines, "/header-only", header_only, LOGGED_USER_AGENT)) == 1, text
    assert len(logged(lines, "/hello", 200, "curl/8.5.0")) == 1, text
    assert b"/refused" not in log
    # The project's format does not log the Referer: its escaping is in test_accesslog.py.
    assert b"title" not in log
    # dictConfig left the error log working beside the access log.
    assert f"Running on http://127.0.0.1:{server.port}" in server.stderr
