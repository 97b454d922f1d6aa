"""Several hosts, one PostgreSQL: two Hypercorns of the installed wheel serve one blog.

Each host is a Hypercorn of the deployment of ``tests/live.py`` on a port of
its own, with the same instance config (so the same secret key) naming the
same PostgreSQL database in ``DATABASE_URL``, as the README's "Several hosts,
one PostgreSQL" sets them up. A browser talks to both, as it would through a
load balancer: its cookies go to either.

The fault tests run on a cluster of their own (``throwaway_cluster()``), so
that stopping it or ending its connections disturbs no other test.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from quart_flaskr.db import SCHEMA_VERSION
from tests.harness.forms import CSRF_FIELD
from tests.harness.http import Client
from tests.harness.http import Page
from tests.harness.images import png
from tests.harness.postgres import new_database
from tests.harness.postgres import throwaway_cluster
from tests.live import configured
from tests.live import Deployment
from tests.live import no_server_errors
from tests.live import PASSWORD
from tests.live import serve_hosts
from tests.live import Server
from tests.pictures import same_pixels

pytestmark = pytest.mark.slow

#: Write on one host, then read on the other, this many times.
ROUNDS = 200
#: The login limit of ``quart_flaskr/auth.py``: attempts a minute from one address.
LOGINS_PER_MINUTE = 10
#: Concurrent writers, each posting this many times, sharing the sessions of a few users.
WRITERS = 64
POSTS_PER_WRITER = 5
USERS = 2
#: The fault tests' DATABASE_TIMEOUT, and how much longer than it a request may take.
DATABASE_TIMEOUT = 2
SLACK = 3.0
#: How long both hosts may take to serve again once the database is back.
RECOVERY_SECONDS = DATABASE_TIMEOUT + SLACK
#: What a 503 asks the client to wait while the database is away (``quart_flaskr/errors.py``).
RETRY_AFTER = "5"


@contextmanager
def two_hosts(
    deployment: Deployment, log_dir: Path, url: str, *settings: str
) -> Iterator[list[Server]]:
    """Two hosts started at once on the database at ``url``, with any other settings."""
    with (
        configured(deployment, f'DATABASE_URL = "{url}"', *settings),
        serve_hosts(deployment, log_dir, 2) as hosts,
    ):
        yield hosts


@contextmanager
def browser(host: Server, username: str | None = None) -> Iterator[Client]:
    """A browser keeping its connections open; logged in through ``host`` as a new ``username``.

    Its requests go to ``host`` unless given another host's whole URL.
    """
    with Client(host.url, keep_alive=True) as client:
        if username is not None:
            assert client.register(username, PASSWORD).location == "/auth/login"
            assert client.login(username, PASSWORD).location == "/"
        yield client


def post_titles(url: str) -> list[str]:
    """Every post's title, read straight from the database."""
    with psycopg.connect(url) as conn:
        return [str(title) for (title,) in conn.execute("SELECT title FROM post ORDER BY id")]


def new_post(client: Client, host: Server, title: str, token: str, tags: str = "") -> Page:
    """Post ``title`` through ``host`` with a form token of the client's session."""
    form = {"title": title, "body": f"Body of {title}.", "tags": tags, CSRF_FIELD: token}
    return client.post(f"{host.url}/create", form)


def conditional_get(client: Client, url: str, etag: str) -> Page:
    """GET ``url`` sending the ETag of the page the client holds (none: a plain GET)."""
    return client.request("GET", url, headers={"If-None-Match": etag} if etag else None)


def shown(title: str, page: Page) -> bool:
    """Whether a listing shows the post of this title."""
    return f">{title}</a></h2>" in page.text


def logged_out(page: Page) -> bool:
    return "Log In</a>" in page.text and "Log Out" not in page.text


def statuses_logged(host: Server, request_line: str, count: int) -> Counter[int]:
    """The statuses of the host's answers to ``request_line``, once ``count`` are in its log.

    Hypercorn logs an answer after sending it: the last may not be in the log yet.
    """
    deadline = time.monotonic() + 10
    while True:
        found = re.findall(rf'"{re.escape(request_line)} 1\.1" (\d\d\d) ', host.stdout)
        if len(found) >= count or time.monotonic() > deadline:
            return Counter(int(status) for status in found)
        time.sleep(0.05)


def test_a_write_on_one_host_is_in_the_next_page_of_the_other(
    deployment: Deployment, postgres_url: str, tmp_path: Path
) -> None:
    with (
        two_hosts(deployment, tmp_path, postgres_url, "POSTS_PER_MINUTE = 0") as hosts,
        browser(hosts[0], "writer") as writer,
        browser(hosts[1]) as anonymous,
        browser(hosts[1], "reader") as reader,
    ):
        token = writer.csrf_token(f"{hosts[1].url}/create")
        for number in range(ROUNDS):
            here, there = hosts[number % 2], hosts[1 - number % 2]
            # Each reader in turn, two rounds each: each reads after writes
            # through either host.
            client = (anonymous, reader)[number // 2 % 2]
            before = client.get(f"{there.url}/")
            assert before.status == 200
            title = f"Round {number}"
            page = new_post(writer, here, title, token)
            assert (page.status, page.location) == (302, "/"), (number, page.summary())
            # With the ETag of the page that host held from before the write.
            page = conditional_get(client, f"{there.url}/", before.headers["ETag"])
            assert page.status == 200, number
            assert shown(title, page), (number, page.summary())
            assert page.headers["ETag"] != before.headers["ETag"]
            if number % 10 < 2:
                # Nothing written since: the new ETag holds.
                page = conditional_get(client, f"{there.url}/", page.headers["ETag"])
                assert page.status == 304, number
        assert post_titles(postgres_url) == [f"Round {number}" for number in range(ROUNDS)]
        for host in hosts:
            no_server_errors(host)


def test_logging_out_on_one_host_ends_the_session_on_the_other(
    deployment: Deployment, postgres_url: str, tmp_path: Path
) -> None:
    with two_hosts(deployment, tmp_path, postgres_url) as (one, other):
        with browser(one, "leaving") as user:
            page = user.get(f"{other.url}/")
            assert "Log Out" in page.text
            assert user.get(f"{other.url}/create").status == 200
            cookies = user.cookie_values()
            out = user.logout()
            assert (out.status, out.location) == (302, "/")
            assert logged_out(user.get(f"{other.url}/"))
        # The cookie from before the logout, as a copy of it would be sent.
        with Client(other.url, cookies=cookies) as copy:
            again = conditional_get(copy, "/", page.headers["ETag"])
            assert again.status == 200
            assert logged_out(again), again.summary()
            assert copy.get("/create").location == "/auth/login"
            assert logged_out(copy.get(f"{one.url}/"))
        for host in (one, other):
            no_server_errors(host)


def test_the_login_limit_counts_attempts_on_both_hosts(
    deployment: Deployment, postgres_url: str, tmp_path: Path
) -> None:
    with (
        two_hosts(deployment, tmp_path, postgres_url) as hosts,
        browser(hosts[0]) as guesser,
    ):
        attempt = {
            "username": "somebody",
            "password": "",
            CSRF_FIELD: guesser.csrf_token("/auth/login"),
        }
        for number in range(LOGINS_PER_MINUTE):
            page = guesser.post(f"{hosts[number % 2].url}/auth/login", attempt)
            assert page.status == 200, number
            assert "Password is required." in page.text
        for number in range(2):
            page = guesser.post(f"{hosts[number].url}/auth/login", attempt)
            assert page.status == 429, number
            assert 0 < int(page.headers["Retry-After"]) <= 60
        for host in hosts:
            assert statuses_logged(host, "POST /auth/login", 6) == {200: 5, 429: 1}
            assert "Traceback" not in host.stderr


def test_an_image_uploaded_on_one_host_is_served_by_the_other(
    deployment: Deployment, postgres_url: str, tmp_path: Path
) -> None:
    picture = png(5, 4, lambda y: bytes([40 * y, 200, 255 - 40 * y]) * 5)
    with (
        two_hosts(deployment, tmp_path, postgres_url) as (one, other),
        browser(one, "painter") as painter,
    ):
        fields = {"title": "Gradient", "body": ""}
        image = {"image": ("gradient.png", picture, "image/png")}
        page = painter.submit(f"{one.url}/create", fields, files=image)
        assert (page.status, page.location) == (302, "/")
        with Client(other.url) as visitor:
            (source,) = re.findall(r'src="(/uploads/[^"]+)"', visitor.get("/").text)
            served = visitor.get(source)
        assert served.status == 200
        assert served.content_type == "image/png"
        # The same pixels: PNG is stored re-encoded, without metadata, losing nothing.
        assert same_pixels(served.body, picture)
        for host in (one, other):
            no_server_errors(host)


def test_concurrent_writers_on_both_hosts_lose_nothing(
    deployment: Deployment, postgres_url: str, tmp_path: Path
) -> None:
    with (
        two_hosts(deployment, tmp_path, postgres_url, "POSTS_PER_MINUTE = 0") as hosts,
        ExitStack() as stack,
    ):
        users = [stack.enter_context(browser(hosts[n % 2], f"writer{n}")) for n in range(USERS)]
        tokens = [user.csrf_token(f"{hosts[0].url}/create") for user in users]
        start = threading.Barrier(WRITERS)

        def write_posts(writer: int) -> list[tuple[str, int, str | None]]:
            with Client(hosts[0].url) as client:
                client.share_session(users[writer % USERS])
                start.wait(timeout=60)
                answers = []
                for number in range(POSTS_PER_WRITER):
                    title = f"writer {writer} post {number}"
                    host = hosts[(writer + number) % 2]
                    page = new_post(client, host, title, tokens[writer % USERS])
                    answers.append((title, page.status, page.location))
                return answers

        with ThreadPoolExecutor(WRITERS) as pool:
            answers = [answer for one in pool.map(write_posts, range(WRITERS)) for answer in one]

        assert [(status, location) for _, status, location in answers] == [(302, "/")] * (
            WRITERS * POSTS_PER_WRITER
        )
        assert Counter(post_titles(postgres_url)) == Counter(title for title, _, _ in answers)
        half = WRITERS * POSTS_PER_WRITER // 2
        for host in hosts:
            assert statuses_logged(host, "POST /create", half) == {302: half}
            no_server_errors(host)


def test_hosts_starting_together_on_an_empty_database_create_the_schema_once(
    deployment: Deployment, postgres_url: str, tmp_path: Path
) -> None:
    with two_hosts(deployment, tmp_path, postgres_url) as (one, other):
        for host in (one, other):
            with Client(host.url) as client:
                assert client.get("/healthz").status == 200
                assert client.get("/").status == 200
        with psycopg.connect(postgres_url) as conn:
            assert conn.execute("SELECT version FROM schema_version").fetchall() == [
                (SCHEMA_VERSION,)
            ]
            assert conn.execute("SELECT count(*) FROM data_version").fetchall() == [(1,)]
        # One blog: an account made on one host logs in on the other.
        with browser(one) as newcomer:
            assert newcomer.register("newcomer", PASSWORD).location == "/auth/login"
            credentials = {"username": "newcomer", "password": PASSWORD}
            assert newcomer.submit(f"{other.url}/auth/login", credentials).location == "/"
            assert "Log Out" in newcomer.get("/").text
        for host in (one, other):
            no_server_errors(host)


@dataclass(frozen=True)
class Answer:
    """One request of the traffic the fault tests keep up, and what came back."""

    #: "write" (a new post) or "read" (the writer's tag page).
    kind: str
    host: int
    sent: float
    received: float
    page: Page
    #: The post a write sent, or the one a read must show: the writer's last
    #: acknowledged.
    title: str
    #: Whether the read's page (or, for a 304, the one the client holds) shows it.
    shows: bool = False

    @property
    def status(self) -> int:
        return self.page.status

    @property
    def retry_after(self) -> str | None:
        value: str | None = self.page.headers.get("Retry-After")
        return value

    def __repr__(self) -> str:
        return (
            f"<{self.kind} on host {self.host}: {self.status} after"
            f" {self.received - self.sent:.2f} s, {self.title!r}, shows={self.shows}>"
        )


class Traffic:
    """Writers posting through one host, then reading through the other, until told to stop.

    Each writer is a user of its own who tags its posts with its name, and
    reads its tag's page sending the ETag of the page it read before: once a
    write is acknowledged (302), the next page must show it, never a 304.
    """

    def __init__(self, hosts: list[Server], writers: int) -> None:
        self.hosts = hosts
        self.stop = threading.Event()
        self.browsers: list[Client] = []
        self._stack = ExitStack()
        for number in range(writers):
            client = self._stack.enter_context(browser(hosts[number % 2], f"writer{number}"))
            self.browsers.append(client)
        self._pool = ThreadPoolExecutor(writers)
        self._running = [self._pool.submit(self._write, number) for number in range(writers)]

    def _write(self, writer: int) -> list[Answer]:
        client = self.browsers[writer]
        token = client.csrf_token(f"{self.hosts[writer % 2].url}/create")
        tag = f"writer{writer}"
        answers: list[Answer] = []
        # The tag's page exists from the first post on.
        acknowledged = f"{tag} first post"
        sent = time.monotonic()
        page = new_post(client, self.hosts[0], acknowledged, token, tag)
        assert page.status == 302, page.summary()
        answers.append(Answer("write", 0, sent, time.monotonic(), page, acknowledged))
        #: The ETag of the last page read, and whether that page showed
        #: the last acknowledged post.
        etag, etag_shows = "", False
        number = 0
        while not self.stop.is_set():
            here, there = number % 2, 1 - number % 2
            title = f"{tag} post {number}"
            sent = time.monotonic()
            page = new_post(client, self.hosts[here], title, token, tag)
            answers.append(Answer("write", here, sent, time.monotonic(), page, title))
            if page.status == 302:
                acknowledged, etag_shows = title, False
            sent = time.monotonic()
            page = conditional_get(client, f"{self.hosts[there].url}/tag/{tag}", etag)
            if page.status == 200:
                etag, etag_shows = page.headers["ETag"], shown(acknowledged, page)
            shows = page.status in {200, 304} and etag_shows
            answers.append(Answer("read", there, sent, time.monotonic(), page, acknowledged, shows))
            number += 1
        return answers

    def finish(self) -> list[Answer]:
        """Stop the writers; everything they sent and got, in no particular order."""
        self.stop.set()
        try:
            return [answer for running in self._running for answer in running.result(timeout=120)]
        finally:
            self._pool.shutdown()
            self._stack.close()


def check_answers(answers: list[Answer], url: str) -> None:
    """What holds whatever the database went through.

    Every answer is a success or a 503 asking to retry; none took much longer
    than DATABASE_TIMEOUT; a read after an acknowledged write shows it (a 304
    would be the page from before); every acknowledged post is stored exactly
    once, and nothing else but what was sent.
    """
    for answer in answers:
        expected = {"write": {302, 503}, "read": {200, 304, 503}}[answer.kind]
        assert answer.status in expected, answer
        assert (answer.retry_after == RETRY_AFTER) == (answer.status == 503), answer
        assert answer.received - answer.sent < DATABASE_TIMEOUT + SLACK, answer
        if answer.kind == "read" and answer.status != 503:
            assert answer.shows, answer
    stored = Counter(post_titles(url))
    assert max(stored.values()) == 1
    assert set(stored) <= {answer.title for answer in answers if answer.kind == "write"}
    acknowledged = {answer.title for answer in answers if answer.status == 302}
    assert acknowledged <= set(stored)


def wait_for_service(hosts: list[Server], timeout: float) -> float:
    """Seconds until both hosts serve their index again (a 200 each)."""
    started = time.monotonic()
    waiting = set(range(len(hosts)))
    while waiting:
        assert time.monotonic() - started < timeout, f"hosts {waiting} still not serving"
        for number in list(waiting):
            with Client(hosts[number].url) as client:
                if client.get("/").status == 200:
                    waiting.discard(number)
        time.sleep(0.05)
    return time.monotonic() - started


def no_server_failures(host: Server) -> None:
    """The host logged no traceback and answered no 5xx but 503 (the database is away)."""
    assert "Traceback" not in host.stderr, host.stderr
    assert not re.search(r'" 5(?!03)\d\d ', host.stdout), host.stdout


#: The settings of the fault tests.
FAULT_SETTINGS = (f"DATABASE_TIMEOUT = {DATABASE_TIMEOUT}", "POSTS_PER_MINUTE = 0")
#: Writers in the fault tests' traffic.
FAULT_WRITERS = 3
#: How long the database is away.
DOWNTIME = 3 * DATABASE_TIMEOUT + 1.5


def test_connections_ended_by_the_server_mid_load(deployment: Deployment, tmp_path: Path) -> None:
    with (
        throwaway_cluster() as cluster,
        new_database(cluster.url) as url,
        two_hosts(deployment, tmp_path, url, *FAULT_SETTINGS) as hosts,
    ):
        traffic = Traffic(hosts, FAULT_WRITERS)
        try:
            with psycopg.connect(url, autocommit=True) as admin:
                ended = 0
                for _ in range(5):
                    time.sleep(0.3)
                    row = admin.execute(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))"
                        " FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    ).fetchone()
                    assert row is not None
                    ended += row[0]
            ended_at = time.monotonic()
            time.sleep(1)
        finally:
            answers = traffic.finish()
        assert ended >= 5
        check_answers(answers, url)
        # Service went on: after the last time, every request succeeded.
        after = [answer for answer in answers if answer.sent > ended_at]
        assert after, "no requests after the connections were ended"
        assert all(answer.status != 503 for answer in after), after
        for host in hosts:
            no_server_failures(host)


def test_the_database_stopped_and_started_under_load(
    deployment: Deployment, tmp_path: Path
) -> None:
    with (
        throwaway_cluster() as cluster,
        new_database(cluster.url) as url,
        two_hosts(deployment, tmp_path, url, *FAULT_SETTINGS) as hosts,
    ):
        traffic = Traffic(hosts, FAULT_WRITERS)
        try:
            time.sleep(0.5)
            cluster.stop()
            stopped = time.monotonic()
            # Long enough for each writer to wait the whole DATABASE_TIMEOUT
            # twice (a write, then a read, through each host) while it is away.
            time.sleep(DOWNTIME)
            starting = time.monotonic()
            cluster.start()
            recovered = wait_for_service(hosts, RECOVERY_SECONDS)
            time.sleep(0.5)
        finally:
            answers = traffic.finish()
        check_answers(answers, url)
        away = [
            answer for answer in answers if stopped < answer.sent and answer.received < starting
        ]
        assert {answer.kind for answer in away} == {"read", "write"}
        assert {answer.status for answer in away} == {503}
        # Both hosts met the outage (on a busy machine, one host's requests
        # may all straddle its start or end, so not only those wholly inside).
        assert {answer.host for answer in answers if answer.status == 503} == {0, 1}
        after = [answer for answer in answers if answer.sent > starting + recovered]
        assert after, "no requests after the database was back"
        assert all(answer.status != 503 for answer in after), after
        for host in hosts:
            no_server_failures(host)
