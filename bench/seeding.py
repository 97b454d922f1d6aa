"""Seeding the apps: a user and posts over HTTP as a browser would, or many straight into SQLite."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from pathlib import Path

import psycopg

from bench.errors import BenchError
from bench.scenarios import ANON
from bench.scenarios import CREATE
from bench.scenarios import DETAIL
from bench.scenarios import HELLO
from bench.scenarios import LOGIN
from bench.scenarios import PASSWORD
from bench.scenarios import post_body
from bench.scenarios import post_title
from bench.scenarios import SEARCH
from bench.scenarios import SEARCH_WORD
from bench.scenarios import Seeded
from bench.scenarios import TITLE_PREFIX
from bench.scenarios import USER
from bench.scenarios import USERNAME
from quart_flaskr import markdown
from quart_flaskr import search
from tests.harness.forms import csrf_token_in
from tests.harness.http import Client


def seed_ours(
    url: str,
    database: Path | str,
    posts: int,
    body: Callable[[int], str] = post_body,
    tags: str = "",
) -> Seeded:
    """Register, log in and write ``posts`` posts as a browser would; measure each answer.

    ``database``: the app's SQLite file, or its PostgreSQL database's URL.
    ``body``: post ``n``'s text; ``tags``: the form's tags field for every post.
    """
    account = {"username": USERNAME, "password": PASSWORD}
    with Client(url) as user, Client(url) as anonymous:
        token = _token(user, "/auth/register")
        user.expect("POST", "/auth/register", 302, {**account, "csrf_token": token})
        token = _token(user, "/auth/login")
        login = user.expect("POST", "/auth/login", 302, {**account, "csrf_token": token})
        token = _token(user, "/create")
        created = None
        for number in range(1, posts + 1):
            post = {"csrf_token": token, "title": post_title(number), "body": body(number)}
            if tags:
                post["tags"] = tags
            created = user.expect("POST", "/create", 302, post)
        index = user.expect("GET", "/", 200)
        if USERNAME not in index.text:
            raise BenchError("the logged-in index does not show the user's name")
        token = csrf_token_in(index.text) or token
        # A separate anonymous session whose token the login scenario posts.
        login_token = _token(anonymous, "/auth/login")
        seeded = Seeded(
            user_cookies=user.cookie_values(),
            user_token=token,
            login_cookies=anonymous.cookie_values(),
            login_token=login_token,
            post_id=middle_post_id(database),
            # The answers to the writes (redirects), for the bare app's sizes.
            sizes={CREATE: len(created.body) if created else 0, LOGIN: len(login.body)},
        )
    _measure_answers(url, seeded)
    return seeded


def _token(client: Client, path: str) -> str:
    return client.expect("GET", path, 200).csrf_token()


def _measure_answers(url: str, seeded: Seeded) -> None:
    """The size of each read's answer (for the bare app), and whether the page cache serves it."""
    with Client(url) as anonymous, Client(url, seeded.user_cookies) as user:
        index = anonymous.expect("GET", "/", 200)
        user_index = user.expect("GET", "/", 200)
        seeded.anonymous_cache = index.headers.get("ETag") is not None
        seeded.user_cache = user_index.headers.get("ETag") is not None
        seeded.sizes[ANON] = len(index.body)
        seeded.sizes[USER] = len(user_index.body)
        for key, path in (
            (HELLO, "/hello"),
            (DETAIL, f"/{seeded.post_id}"),
            (SEARCH, f"/?q={SEARCH_WORD}"),
        ):
            seeded.sizes[key] = len(anonymous.expect("GET", path, 200).body)


def seed_flaskr(url: str, database: Path, posts: int) -> Seeded:
    """The same user and posts in Flaskr, whose forms carry no CSRF token."""
    account = {"username": USERNAME, "password": PASSWORD}
    with Client(url) as user:
        user.expect("POST", "/auth/register", 302, account)
        user.expect("POST", "/auth/login", 302, account)
        for number in range(1, posts + 1):
            post = {"title": post_title(number), "body": post_body(number)}
            user.expect("POST", "/create", 302, post)
        if USERNAME not in user.expect("GET", "/", 200).text:
            raise BenchError("Flaskr's logged-in index does not show the user's name")
        return Seeded(
            user_cookies=user.cookie_values(),
            user_token="",
            login_cookies={},
            login_token="",
            post_id=middle_post_id(database),
        )


def middle_post_id(database: Path | str) -> int:
    """The id of the post in the middle: neither the newest nor the oldest.

    ``database``: an SQLite file, or a PostgreSQL database's URL.
    """
    if isinstance(database, str):
        with psycopg.connect(database) as conn:
            found = conn.execute("SELECT count(*) FROM post").fetchone()
            count = int(found[0]) if found else 0
            row = conn.execute(
                "SELECT id FROM post ORDER BY id LIMIT 1 OFFSET %s", (count // 2,)
            ).fetchone()
        return int(row[0]) if row else 1
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        count = conn.execute("SELECT count(*) FROM post").fetchone()[0]
        row = conn.execute(
            "SELECT id FROM post ORDER BY id LIMIT 1 OFFSET ?", (count // 2,)
        ).fetchone()
    return int(row[0]) if row else 1


def count_posts_shown(page: str) -> int:
    """The posts a page lists: distinct titles (a listed post may show its title twice)."""
    return len(set(re.findall(re.escape(TITLE_PREFIX) + r"([\w-]+)", page)))


def seed_big(database: Path, total: int) -> int:
    """Insert posts straight into SQLite until there are ``total``; return how many were added.

    Each body's HTML and each post's search terms are made with the app's own
    functions, as saving a post does; else every read would render the HTML,
    and the app's start would analyse every post.
    """
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        have = int(conn.execute("SELECT count(*) FROM post").fetchone()[0])
        author, name = conn.execute("SELECT id, username FROM user ORDER BY id LIMIT 1").fetchone()
        start = datetime.now(UTC) - timedelta(days=3650)
        rows = (
            (
                author,
                (start + timedelta(minutes=number)).strftime("%Y-%m-%d %H:%M:%S"),
                post_title(number),
                post_body(number),
                str(markdown.render(post_body(number))),
                search.indexed(post_title(number)),
                search.indexed(name),
                search.indexed(post_body(number)),
            )
            for number in range(have + 1, total + 1)
        )
        with conn:
            conn.executemany(
                "INSERT INTO post (author_id, created, title, body, body_html,"
                " search_title, search_author, search_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        conn.execute("PRAGMA optimize")
        return max(0, total - have)
