"""The installed app under concurrent load, and stopped while requests are in flight."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.harness.http import Client
from tests.harness.http import Page
from tests.live import configured
from tests.live import Deployment
from tests.live import GRACEFUL_TIMEOUT
from tests.live import serve
from tests.live import Server

pytestmark = pytest.mark.slow

CLIENTS = 64
POSTS_PER_CLIENT = 5
#: Clients share the login sessions of a few users: each login costs a
#: deliberately slow password hash.
USERS = 4
#: Logins in flight when SIGTERM arrives; below the login rate limit of 10.
LOGINS = 8


#: Reads of the index after each write: with the kernel picking a process for
#: each new connection at random, both get some but once in 2**19 runs.
READS = 20


def served_by(server: Server, request_line: str, since: int = 0) -> Counter[int]:
    """How many times each process (Hypercorn logs its pid) answered
    ``request_line``, in its access log from character ``since`` on."""
    lines = re.findall(r"^\S+ \S+ \S+ \[(\d+)\] \[INFO\] (.*)$", server.stdout[since:], re.M)
    return Counter(int(pid) for pid, line in lines if f'"{request_line} 1.1" ' in line)


def reads_by(server: Server, since: int, reads: int) -> set[int]:
    """The processes that answered the last ``reads`` GET / (once all are logged)."""
    deadline = time.monotonic() + 5
    while (counts := served_by(server, "GET /", since)).total() < reads:
        assert time.monotonic() < deadline, f"{counts.total()} of {reads} reads logged"
        time.sleep(0.01)
    return set(counts)


def test_concurrent_posts_on_two_processes_sharing_a_port(
    fresh_deployment: Deployment, tmp_path: Path
) -> None:
    # The README's shape for more cores: a Hypercorn per core, one port. Each
    # user here posts 80 times in seconds, far past the write limit per user:
    # what is tested is two processes writing at once.
    with (
        configured(fresh_deployment, "POSTS_PER_MINUTE = 0"),
        serve(fresh_deployment, tmp_path, processes=2) as server,
    ):
        processes = set(server.worker_pids())
        assert len(processes) == 2
        users = []
        for number in range(USERS):
            user = Client(server.url)
            assert user.register(f"writer{number}", "writer-password").location == "/auth/login"
            assert user.login(f"writer{number}", "writer-password").location == "/"
            users.append(user)
        start = threading.Barrier(CLIENTS)

        def write_posts(client: int) -> list[tuple[int, str | None]]:
            browser = Client(server.url)
            browser.share_session(users[client % USERS])
            start.wait(timeout=60)
            results = []
            for number in range(POSTS_PER_CLIENT):
                form = {"title": f"client {client} post {number}", "body": "concurrent"}
                page = browser.submit("/create", form)
                results.append((page.status, page.location))
            return results

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = [
                result for client in pool.map(write_posts, range(CLIENTS)) for result in client
            ]

        assert results == [(302, "/")] * (CLIENTS * POSTS_PER_CLIENT)
        assert sorted(fresh_deployment.post_titles()) == sorted(
            f"client {client} post {number}"
            for client in range(CLIENTS)
            for number in range(POSTS_PER_CLIENT)
        )
        # The kernel spread the connections (each request here opens one) over
        # both processes.
        assert set(served_by(server, "POST /create")) == processes

        # A write through either process is in the very next page from both,
        # though each had the page cached.
        for number in range(4):
            since = len(server.stdout)
            for _ in range(READS):
                assert Client(server.url).get("/").status == 200
            assert reads_by(server, since, READS) == processes
            form = {"title": f"fresh {number}", "body": "seen at once"}
            assert users[number % USERS].submit("/create", form).location == "/"
            since = len(server.stdout)
            for _ in range(READS):
                assert f"fresh {number}" in Client(server.url).get("/").text
            assert reads_by(server, since, READS) == processes


def test_sigterm_lets_requests_in_flight_finish(live_server: Server) -> None:
    assert len(live_server.worker_pids()) == 1
    assert Client(live_server.url).register("patient", "patient-password").status == 302
    browsers = [Client(live_server.url) for _ in range(LOGINS)]
    tokens = [browser.csrf_token("/auth/login") for browser in browsers]
    start = threading.Barrier(LOGINS + 1)

    def log_in(index: int) -> Page:
        form = {"username": "patient", "password": "patient-password", "csrf_token": tokens[index]}
        start.wait(timeout=60)
        return browsers[index].post("/auth/login", form)

    with ThreadPoolExecutor(LOGINS) as pool:
        logins = [pool.submit(log_in, index) for index in range(LOGINS)]
        start.wait(timeout=60)
        deadline = time.monotonic() + 10
        while live_server.open_connections(live_server.port) < LOGINS:
            assert time.monotonic() < deadline, "the logins did not reach the worker"
            time.sleep(0.01)
        # Time for the worker to read the requests, far shorter than the
        # password hashes of all of them (each about 0.4 s of CPU).
        time.sleep(0.1)
        assert sum(not login.done() for login in logins) >= LOGINS // 2
        signalled = time.monotonic()
        live_server.process.terminate()
        pages = [login.result() for login in logins]
    exited = live_server.wait_for_exit(GRACEFUL_TIMEOUT + 2) is not None
    seconds = time.monotonic() - signalled

    assert [(page.status, page.location) for page in pages] == [(302, "/")] * LOGINS
    assert exited, f"Hypercorn still runs {seconds:.1f} s after SIGTERM"
    assert seconds < GRACEFUL_TIMEOUT
    assert live_server.process.returncode == 0, live_server.stderr
