"""Slow clients (slowloris), over real HTTP against the installed wheel.

Hypercorn, with the checkout's ``hypercorn.toml``, must close a connection that
keeps sending header lines but never ends its request, once ``keep_alive_timeout``
has passed since it connected, while it goes on answering everyone else.
"""

from __future__ import annotations

import socket
import time
import tomllib

import httpx
import pytest

from tests.harness.hypercorn import HYPERCORN_TOML
from tests.live import no_server_errors
from tests.live import Server

pytestmark = pytest.mark.slow

KEEP_ALIVE_TIMEOUT = float(tomllib.loads(HYPERCORN_TOML.read_text("utf-8"))["keep_alive_timeout"])
SLOW_CLIENTS = 20
#: Seconds between two header lines of a slow client.
INTERVAL = 0.5
#: How late past keep_alive_timeout a slow client may still be connected.
GRACE = 2.0


def closed(connection: socket.socket) -> bool:
    """Whether the server has closed the connection (or answered it: it never should)."""
    try:
        data = connection.recv(4096)
    except BlockingIOError:
        return False
    except OSError:
        return True
    assert not data.startswith(b"HTTP/1.1 2"), data
    return True


def trickle(connection: socket.socket, line: bytes) -> bool:
    """Send one more header line; False when the server has closed the connection."""
    try:
        connection.sendall(line)
    except OSError:
        return False
    return True


def test_clients_trickling_headers_are_cut_off_while_readers_are_served(
    live_server: Server,
) -> None:
    started = time.monotonic()
    slow = [socket.create_connection(("127.0.0.1", live_server.port)) for _ in range(SLOW_CLIENTS)]
    open_for: dict[int, float] = {}
    readers = 0
    try:
        for connection in slow:
            connection.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            connection.setblocking(False)
        line = 0
        while len(open_for) < SLOW_CLIENTS:
            elapsed = time.monotonic() - started
            assert elapsed < KEEP_ALIVE_TIMEOUT + GRACE, SLOW_CLIENTS - len(open_for)
            line += 1
            for number, connection in enumerate(slow):
                if number in open_for:
                    continue
                if closed(connection) or not trickle(connection, b"X-Slow-%d: x\r\n" % line):
                    open_for[number] = elapsed
            # Meanwhile everyone else is served, and promptly.
            asked = time.monotonic()
            assert httpx.get(f"{live_server.url}/hello", timeout=5).status_code == 200
            assert time.monotonic() - asked < 1.0
            readers += 1
            time.sleep(INTERVAL)
    finally:
        for connection in slow:
            connection.close()
    # Cut off by keep_alive_timeout, not earlier: they had sent a header line every INTERVAL.
    assert min(open_for.values()) >= KEEP_ALIVE_TIMEOUT - 1, open_for
    assert readers >= KEEP_ALIVE_TIMEOUT / INTERVAL / 2
    no_server_errors(live_server)
