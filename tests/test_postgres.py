"""The PostgreSQL backend against a real server: what it adds to what both backends share."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from quart import Quart

from quart_flaskr import create_app
from quart_flaskr.db import Database
from quart_flaskr.db import DatabaseBusyError
from quart_flaskr.db import DatabaseUnavailableError
from quart_flaskr.db import get_db
from quart_flaskr.db import Params
from quart_flaskr.db import schema
from quart_flaskr.db import SCHEMA_VERSION
from quart_flaskr.db import SQLiteDatabase
from quart_flaskr.db.copy import copy_blog
from quart_flaskr.db.copy import CopyError
from quart_flaskr.db.extension import database_from_config
from quart_flaskr.db.postgres import PostgresDatabase
from quart_flaskr.db.postgres import PostgresRow
from quart_flaskr.db.postgres import row_class
from quart_flaskr.db.postgres import statement
from quart_flaskr.db.postgres import to_pyformat
from quart_flaskr.db.schema import load_postgres_migrations
from quart_flaskr.deploy import deployment_problems
from quart_flaskr.migrations import data
from quart_flaskr.models import accounts
from quart_flaskr.models import comments
from quart_flaskr.models import images
from quart_flaskr.models import likes
from quart_flaskr.models import moderation
from quart_flaskr.models import posts
from quart_flaskr.models import rate_limits
from quart_flaskr.models import sessions
from quart_flaskr.models import users
from quart_flaskr.models.images import Image
from quart_flaskr.models.images import Variant
from tests.harness.forms import csrf_token_in
from tests.harness.postgres import end_connections
from tests.harness.postgres import new_database
from tests.harness.processes import free_port
from tests.helpers import make_config

#: A secret key check-deploy accepts.
GOOD_KEY = "k" * 64


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[PostgresDatabase]:
    database = PostgresDatabase(postgres_url, timeout=2.0)
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture
async def pg_empty(postgres_url: str) -> AsyncIterator[PostgresDatabase]:
    database = PostgresDatabase(postgres_url)
    yield database
    await database.close()


def unreachable_url() -> str:
    return f"postgresql://quart:secret@127.0.0.1:{free_port()}/blog"


def with_password(url: str) -> str:
    """``url`` with a password: its own, or one the tests' servers (trust) never ask for."""
    if not conninfo_to_dict(url).get("password"):
        url = re.sub(r"^(postgres(?:ql)?://[^:/@]*)@", r"\1:never-shown@", url)
    assert conninfo_to_dict(url).get("password"), url
    return url


@pytest.mark.parametrize(
    ("sql", "expected"),
    (
        ("SELECT ? + ?", "SELECT %s + %s"),
        ("SELECT 5 % ?", "SELECT 5 %% %s"),
        ("SELECT '?', 'a%b', 'it''s ?' WHERE x = ?", "SELECT '?', 'a%%b', 'it''s ?' WHERE x = %s"),
        ('SELECT "col?" FROM t', 'SELECT "col?" FROM t'),
    ),
)
def test_placeholders_become_psycopgs_outside_quotes(sql: str, expected: str) -> None:
    # Inside quotes, a ? is text; a % is always doubled (psycopg reads it everywhere).
    assert to_pyformat(sql) == expected


@pytest.mark.parametrize(
    ("sql", "params", "expected"),
    (
        (
            "SELECT a FROM t WHERE b = ? ORDER BY a LIMIT ? OFFSET ?",
            (7, 6, 0),
            ("SELECT a FROM t WHERE b = %s ORDER BY a LIMIT 6 OFFSET 0", [7]),
        ),
        # A deeper page's OFFSET stays a parameter: one statement for them all.
        (
            "SELECT a FROM t WHERE b = ? ORDER BY a LIMIT ? OFFSET ?",
            (7, 6, 10),
            ("SELECT a FROM t WHERE b = %s ORDER BY a LIMIT 6 OFFSET %s", [7, 10]),
        ),
        ("SELECT a FROM t OFFSET ?", (10,), ("SELECT a FROM t OFFSET %s", (10,))),
        (
            "SELECT a FROM (SELECT a FROM t LIMIT ?) AS s WHERE a > ? LIMIT ?",
            (50, 3, 5),
            ("SELECT a FROM (SELECT a FROM t LIMIT 50) AS s WHERE a > %s LIMIT 5", [3]),
        ),
        # Quoted, it is text; a count that is not a whole number stays a parameter.
        ("SELECT 'LIMIT ?', ? LIMIT ?", (1, 2), ("SELECT 'LIMIT ?', %s LIMIT 2", [1])),
        (
            "SELECT a FROM t LIMIT ?",
            ("5; DROP TABLE t",),
            ("SELECT a FROM t LIMIT %s", ("5; DROP TABLE t",)),
        ),
        ("SELECT a FROM t LIMIT ?", (True,), ("SELECT a FROM t LIMIT %s", (True,))),
        ("SELECT ? % 2", (5,), ("SELECT %s %% 2", (5,))),
        # Too few parameters: psycopg says so, as it would have.
        ("SELECT a FROM t LIMIT ? OFFSET ?", (5,), ("SELECT a FROM t LIMIT %s OFFSET %s", (5,))),
    ),
)
def test_limit_and_offset_counts_are_written_into_the_statement(
    sql: str, params: tuple[object, ...], expected: tuple[str, object]
) -> None:
    assert statement(sql, params) == expected


async def test_a_prepared_listing_keeps_one_plan(tmp_path: Path, postgres_url: str) -> None:
    """With its counts written in, PostgreSQL runs a listing on the plan it kept, not planning
    it at every run (which cost four times running it)."""
    config = make_config(
        tmp_path, DATABASE_URL=postgres_url, DATABASE_POOL_SIZE=1, DATABASE_PREPARED_STATEMENTS=True
    )
    database = get_db(create_app(config))
    try:
        await database.migrate()
        alice = await users.insert_user(database, "alice", "hash")
        assert alice is not None
        for number in range(3):
            await posts.insert_post(database, alice, f"Post {number}", "foxes", tags=["t"])
        for viewer in (None, alice):
            for _ in range(12):
                listed = await posts.select_posts(database, limit=6, viewer_id=viewer)
                assert [post.title for post in listed] == ["Post 2", "Post 1", "Post 0"]
        rows = await database.fetch_all(
            "SELECT generic_plans, custom_plans, statement LIKE '%post_like.user_id = $1%'"
            " FROM pg_prepared_statements WHERE statement LIKE '%LIMIT 6 OFFSET 0%'"
            " ORDER BY 3"
        )
        # Anyone's listing has no parameter left: planned once. A reader's is
        # planned for its values at its first five runs, as PostgreSQL plans
        # every statement's, then runs on the plan it kept.
        assert [tuple(row) for row in rows] == [(7, 0, False), (2, 5, True)]
    finally:
        await database.close()


def test_rows_read_by_name_and_position() -> None:
    row = row_class((b"id", b"username"))([1, "alice"])
    assert isinstance(row, PostgresRow)
    assert (row["id"], row["username"], row[0], row[1], row[-1]) == (
        1,
        "alice",
        1,
        "alice",
        "alice",
    )
    assert list(row) == [1, "alice"] and len(row) == 2 and row.keys() == ["id", "username"]
    assert tuple(row) == (1, "alice") and row[:1] == (1,)
    with pytest.raises(KeyError):
        row["title"]
    # One class for each shape of result, whose rows know only their own names.
    assert type(row) is row_class((b"id", b"username"))
    other = row_class((b"title",))(["Hello"])
    assert other["title"] == "Hello" and other.keys() == ["title"]


async def test_rows_come_from_the_server_with_their_names(pg: PostgresDatabase) -> None:
    rows = await pg.fetch_all("SELECT 1 AS id, 'alice' AS username UNION ALL SELECT 2, 'bob'")
    assert [(row["id"], row["username"]) for row in rows] == [(1, "alice"), (2, "bob")]
    assert [tuple(row) for row in rows] == [(1, "alice"), (2, "bob")]
    assert type(rows[0]) is type(rows[1])


def test_scripts_end_at_the_same_version_as_sqlites() -> None:
    assert load_postgres_migrations()[-1][0] == SCHEMA_VERSION


def test_postgresqls_scripts_are_its_own_and_run_whole() -> None:
    migrations = load_postgres_migrations()
    versions = [version for version, _ in migrations]
    assert versions == list(range(versions[0], SCHEMA_VERSION + 1))
    for version, statements in migrations:
        assert len(statements) == 1
        assert statements[0].startswith(f"-- Schema version {version} on PostgreSQL")


def test_the_config_chooses_the_backend(tmp_path: Path) -> None:
    config = create_app(make_config(tmp_path)).config
    assert isinstance(database_from_config(config), SQLiteDatabase)
    config["DATABASE_URL"] = "postgresql://blog@db.example/blog"
    database = database_from_config(config)
    assert isinstance(database, PostgresDatabase) and database.url == config["DATABASE_URL"]
    config["DATABASE_URL"] = "mysql://blog@db.example/blog"
    with pytest.raises(ValueError, match="DATABASE_URL must start with postgresql://"):
        database_from_config(config)


def test_the_short_postgres_scheme_chooses_postgresql_too(tmp_path: Path) -> None:
    config = create_app(make_config(tmp_path)).config
    config["DATABASE_URL"] = "postgres://blog@db.example/blog"
    database = database_from_config(config)
    assert isinstance(database, PostgresDatabase) and database.url == config["DATABASE_URL"]
    # Another scheme's URL is named by its scheme alone, never its password.
    config["DATABASE_URL"] = "mysql://blog:secret@db.example/blog"
    with pytest.raises(ValueError) as caught:
        database_from_config(config)
    assert str(caught.value) == (
        "DATABASE_URL must start with postgresql:// (got mysql:...);"
        " leave it unset to use the SQLite file DATABASE."
    )


@pytest.mark.parametrize("pool_size", [1, 2])
async def test_the_config_sets_the_pool_size_and_the_timeout(
    tmp_path: Path, postgres_url: str, pool_size: int
) -> None:
    """With all DATABASE_POOL_SIZE connections in use, a read waits DATABASE_TIMEOUT for one."""
    config = create_app(make_config(tmp_path)).config
    config.update(DATABASE_URL=postgres_url, DATABASE_POOL_SIZE=pool_size, DATABASE_TIMEOUT=0.5)
    database = database_from_config(config)
    try:
        async with database.transaction():  # Holds one connection.
            started = time.monotonic()
            if pool_size == 1:
                # Bounded: a read that waited on would hold this transaction, and the test, forever.
                with pytest.raises(DatabaseUnavailableError):
                    await asyncio.wait_for(database.fetch_one("SELECT 1"), 5)
                assert time.monotonic() - started < 2.5
            else:
                assert await database.fetch_one("SELECT 1") is not None
    finally:
        await database.close()


def test_messages_never_show_the_password() -> None:
    assert PostgresDatabase(unreachable_url()).location.startswith("postgresql://quart:***@")
    assert PostgresDatabase("postgresql:///blog").location == "postgresql:///blog"


async def test_migrate_creates_the_schema_once_and_reset_empties_it(postgres_url: str) -> None:
    database = PostgresDatabase(postgres_url)
    try:
        assert await database.schema_version() == 0
        assert await database.has_data() is False
        assert await database.migrate() == (0, SCHEMA_VERSION, 0)
        assert await database.migrate() == (SCHEMA_VERSION, SCHEMA_VERSION, 0)
        assert await users.insert_user(database, "alice", "hash") == 1
        assert await database.has_data() is True
        await database.reset()
        assert await database.schema_version() == SCHEMA_VERSION
        assert await database.has_data() is False
        # Identities start again from 1.
        assert await users.insert_user(database, "bob", "hash") == 1
    finally:
        await database.close()


async def test_two_hosts_starting_together_migrate_once(postgres_url: str) -> None:
    hosts = [PostgresDatabase(postgres_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(host.migrate() for host in hosts))
        assert (
            sorted((old, new) for old, new, _ in results)
            == [(0, SCHEMA_VERSION)] + [(SCHEMA_VERSION, SCHEMA_VERSION)] * 3
        )
    finally:
        for host in hosts:
            await host.close()


async def test_the_models_on_postgresql(pg: PostgresDatabase) -> None:
    alice = await users.insert_user(pg, "alice", "hash")
    assert alice is not None
    # Names are compared by their key, as on SQLite.
    assert await users.insert_user(pg, "ALICE", "hash") is None
    post_id = await posts.insert_post(pg, alice, "Title", "Body", tags=["b", "a"])
    assert await likes.like_post(pg, post_id, alice) is True
    post = await posts.select_post(pg, post_id, viewer_id=alice)
    assert post is not None
    assert (post.title, post.username, post.tags, post.like_count, post.liked) == (
        "Title",
        "alice",
        ("a", "b"),
        1,
        True,
    )
    assert post.created.tzinfo is UTC
    assert abs(post.created - datetime.now(UTC)) < timedelta(minutes=1)
    await posts.update_post(pg, post_id, "New", "Body", tags=["a"])
    assert await pg.fetch_one("SELECT 1 FROM tag WHERE name = 'b'") is None
    expires = datetime.now(UTC) + timedelta(hours=1)
    hashed = await pg.fetch_one('SELECT password FROM "user" WHERE id = ?', (alice,))
    assert hashed is not None
    for session_id, ends in (("live", expires), ("old", datetime.now(UTC) - timedelta(seconds=1))):
        assert await users.insert_login_session(
            pg, session_id, alice, ends, "", checked_hash=hashed[0]
        )
    # Not once the password is another than the one checked.
    assert not await users.insert_login_session(pg, "late", alice, expires, "", checked_hash="x")
    assert await users.select_login(pg, "live") is not None
    assert await users.select_login(pg, "old") is None
    tat = datetime.now(UTC) + timedelta(seconds=30)
    assert await rate_limits.count_attempt(pg, "login:1", lambda stored: tat)
    assert await rate_limits.select_tat(pg, "login:1") == tat


async def test_a_write_moves_data_version_and_a_rate_limit_does_not(pg: PostgresDatabase) -> None:
    before = await pg.data_version()
    assert await rate_limits.count_attempt(pg, "login:1", lambda stored: datetime.now(UTC))
    assert await pg.data_version() == before
    await users.insert_user(pg, "alice", "hash")
    after = await pg.data_version()
    assert after > before
    # Another host's write, seen by this one's next read.
    other = PostgresDatabase(pg.url)
    try:
        await users.insert_user(other, "bob", "hash")
    finally:
        await other.close()
    assert await pg.data_version() > after


async def test_a_statement_moves_data_version_once_whatever_its_triggers_write(
    pg: PostgresDatabase,
) -> None:
    async def version() -> int:
        row = await pg.fetch_one("SELECT version FROM data_version")
        assert row is not None
        return int(row[0])

    alice = await users.insert_user(pg, "alice", "hash")
    assert alice is not None
    post_id = await posts.insert_post(pg, alice, "Title", "Body")
    # Each comment's trigger updates its post's count: one move, not one a comment.
    before = await version()
    async with pg.transaction() as tx:
        await tx.execute(
            "INSERT INTO comment (post_id, author_id, body, body_html)"
            " SELECT ?, ?, 'Hi ' || n, '<p>Hi</p>' FROM generate_series(1, 50) AS n",
            (post_id, alice),
        )
    assert await version() == before + 1
    row = await pg.fetch_one("SELECT comment_count FROM post WHERE id = ?", (post_id,))
    assert row is not None and row[0] == 50
    # A rename rewrites the author's posts' search terms through a trigger too.
    async with pg.transaction() as tx:
        await tx.execute('UPDATE "user" SET username = ? WHERE id = ?', ("alicia", alice))
    assert await version() == before + 2


async def test_the_data_step_finds_the_rows_left_by_index_however_few(
    pg: PostgresDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few rows left of many, as when a stopped step resumes: no batch reads the whole table.

    The planner, having counted how few are left, read the whole table for each
    batch (and sorted it) rather than walk the primary key past the rows done.
    """
    async with pg.transaction() as tx:
        await tx.execute(
            'INSERT INTO "user" (username, password, username_key)'
            " SELECT 'user' || n, 'hash', 'user' || n FROM generate_series(1, 3000) AS n"
        )
        await tx.execute(
            "INSERT INTO post (author_id, title, body, body_html, search_title, search_author,"
            " search_body) SELECT n % 3000 + 1, 'Post', 'Body', '<p>Body</p>', 'post', 'user',"
            " 'body' FROM generate_series(1, 6000) AS n"
        )
        await tx.execute(
            "INSERT INTO comment (post_id, author_id, body, body_html)"
            " SELECT n, 1, 'Hi', '<p>Hi</p>' FROM generate_series(1, 6000) AS n"
        )
        for sql in (
            "UPDATE post SET body_html = NULL, search_body = NULL WHERE id % 500 = 0",
            "UPDATE comment SET body_html = '' WHERE id % 500 = 0",
            'UPDATE "user" SET username_key = NULL WHERE id % 500 = 0',
            'ANALYZE post; ANALYZE comment; ANALYZE "user"',
        ):
            await tx.execute(sql)
    reads: list[tuple[str, Params]] = []
    fetch_all = PostgresDatabase.fetch_all

    async def recording(self: PostgresDatabase, sql: str, params: Params = ()) -> list[PostgresRow]:
        reads.append((sql, params))
        return await fetch_all(self, sql, params)

    monkeypatch.setattr(PostgresDatabase, "fetch_all", recording)
    await data.upgrade_data(pg)
    monkeypatch.undo()

    left = await pg.fetch_one(
        "SELECT count(*) FILTER (WHERE body_html IS NULL OR search_body IS NULL) FROM post"
    )
    assert left is not None and left[0] == 0
    batches = [(sql, params) for sql, params in reads if "ORDER BY" in sql]
    assert len(batches) >= 8  # each of the four kinds' batches, and the last finding none
    for sql, params in batches:
        walked = re.search(r"FROM (\S+)", sql)
        assert walked is not None
        plan = "\n".join(row[0] for row in await pg.fetch_all(f"EXPLAIN {sql}", params))
        assert f"Seq Scan on {walked.group(1)} " not in plan, f"{sql}\n{plan}"


async def test_concurrent_registrations_of_one_name_on_two_hosts(pg: PostgresDatabase) -> None:
    other = PostgresDatabase(pg.url)
    try:
        results = await asyncio.gather(
            *(users.insert_user(host, "alice", "hash") for host in (pg, other) * 5)
        )
    finally:
        await other.close()
    assert sorted(results, key=lambda result: result is None) == [1] + [None] * 9


async def test_search_finds_and_ranks_as_on_sqlite(pg: PostgresDatabase, tmp_path: Path) -> None:
    sqlite = SQLiteDatabase(str(tmp_path / "blog.sqlite"))
    await sqlite.migrate()
    try:
        found = []
        for database in (sqlite, pg):
            alice = await users.insert_user(database, "alice", "hash")
            posty = await users.insert_user(database, "posty", "hash")
            assert alice is not None and posty is not None
            for number in range(70):
                await posts.insert_post(
                    database,
                    alice if number % 2 else posty,
                    f"Post {number} about café" if number % 3 else f"Note {number}",
                    "the quick brown foxes jump" if number % 5 else "post post post",
                    tags=["x"] if number % 4 == 0 else [],
                )
            # Russian and Korean, in titles and bodies, one word repeated.
            for number in range(70):
                await posts.insert_post(
                    database,
                    alice if number % 3 else posty,
                    MULTILINGUAL_TITLES[number % len(MULTILINGUAL_TITLES)],
                    MULTILINGUAL_BODIES[number % len(MULTILINGUAL_BODIES)],
                    tags=["x"] if number % 4 == 0 else [],
                )
            results = []
            for words in (
                "posts",
                "Café",
                "the",
                "quick fox",
                'post* "quoted"',
                "NEAR(post)",
                "сервер",
                "развертывания приложения",
                "서버",
                "애플리케이션",
                "휠",
                "션애",
                "서버서버",
            ):
                for offset in (0, 45, 50):
                    page = await posts.select_posts(database, limit=7, offset=offset, search=words)
                    results.append([post.id for post in page])
                page = await posts.select_posts(database, limit=7, search=words, tag="x")
                results.append([post.id for post in page])
            found.append(results)
    finally:
        await sqlite.close()
    assert found[0] == found[1]
    # Not only empty pages: titles and the author's name rank first.
    assert found[1][0] == [69, 68, 66, 65, 63, 62, 60]
    # Four pages for each search: Russian and Korean words find their posts
    # (more than the window), a Korean word's bigrams out of order none.
    russian, korean, backwards = found[1][24:28], found[1][32:36], found[1][44:48]
    assert all(russian) and all(korean) and not any(backwards)


MULTILINGUAL_TITLES = ("Развертывание на сервере", "서버 서버 배포", "Сервер и 서버", "Заметки")
MULTILINGUAL_BODIES = (
    "Если вы хотите развернуть свое приложение на другом сервере, соберите дистрибутив.",
    "애플리케이션을 프로덕션 서버에 배포하려면 휠 파일을 만듭니다.",
    "서버서버 сервера серверы",
)


async def test_a_database_that_is_down_is_unavailable_within_the_timeout() -> None:
    database = PostgresDatabase(unreachable_url(), timeout=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(DatabaseUnavailableError, match=r"quart:\*\*\*@"):
            await database.fetch_one("SELECT 1")
        with pytest.raises(DatabaseUnavailableError):
            async with database.transaction():
                pass  # pragma: no cover - never reached
    finally:
        await database.close()
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("prepared", [False, True])
async def test_statements_are_prepared_on_the_server_only_when_asked(
    tmp_path: Path, postgres_url: str, prepared: bool
) -> None:
    """Not by default, as PgBouncer in transaction mode needs; when asked, at the fifth run."""
    config = make_config(tmp_path, DATABASE_URL=postgres_url, DATABASE_POOL_SIZE=1)
    if prepared:
        config["DATABASE_PREPARED_STATEMENTS"] = True
    database = get_db(create_app(config))
    try:
        for number in range(10):
            row = await database.fetch_one("SELECT ?::int", (number,))
            assert row is not None and row[0] == number
        statements = await database.fetch_all("SELECT statement FROM pg_prepared_statements")
        assert [row[0] for row in statements] == (["SELECT $1::int"] if prepared else [])
    finally:
        await database.close()


async def test_requests_arriving_together_share_one_pool(postgres_url: str) -> None:
    database = PostgresDatabase(postgres_url)
    try:
        rows = await asyncio.gather(*(database.fetch_one("SELECT 1") for _ in range(3)))
        assert [row[0] for row in rows if row] == [1, 1, 1]
        assert database._pool is not None and database._pool.get_stats()["pool_max"] == 10
    finally:
        await database.close()


async def test_a_statement_past_the_timeout_is_busy(pg: PostgresDatabase) -> None:
    database = PostgresDatabase(pg.url, timeout=0.5)
    try:
        with pytest.raises(DatabaseBusyError):
            await database.fetch_one("SELECT pg_sleep(3)")
        # The connection serves the next request.
        assert (await database.fetch_one("SELECT 1")) is not None
    finally:
        await database.close()


@pytest.mark.parametrize("method", ["execute", "insert", "execute_many", "fetch_all"])
async def test_a_write_past_the_timeout_is_busy_and_says_where(
    pg: PostgresDatabase, method: str
) -> None:
    database = PostgresDatabase(with_password(pg.url), timeout=0.5)
    slow = "INSERT INTO tag (name) SELECT 'slow' FROM pg_sleep(?)"
    try:
        with pytest.raises(DatabaseBusyError) as caught:
            async with database.transaction() as tx:
                if method == "execute_many":
                    await tx.execute_many(slow, [(3,)])
                else:
                    await getattr(tx, method)(slow, (3,))
        assert str(caught.value).startswith(f"{database.location}: ")
        assert str(conninfo_to_dict(database.url)["password"]) not in str(caught.value)
    finally:
        await database.close()


@pytest.mark.parametrize("host", ["same", "other"])
async def test_a_write_waiting_for_another_past_the_timeout_is_busy(
    pg: PostgresDatabase, host: str
) -> None:
    """Busy, as a slow statement is: waiting for the process's writer (same host) or for
    the write lock another host holds."""
    database = PostgresDatabase(with_password(pg.url), timeout=0.5)
    waiter = database if host == "same" else PostgresDatabase(database.url, timeout=0.5)
    try:
        async with database.transaction() as writing:
            await writing.execute("INSERT INTO tag (name) VALUES (?)", ("first",))
            started = time.monotonic()
            with pytest.raises(DatabaseBusyError) as caught:
                async with waiter.transaction() as waiting:
                    await waiting.execute("INSERT INTO tag (name) VALUES (?)", ("second",))
            assert time.monotonic() - started < 2.5
        assert str(caught.value).startswith(f"{database.location}: ")
        assert str(conninfo_to_dict(database.url)["password"]) not in str(caught.value)
        reason = "other writes held the writer" if host == "same" else "statement timeout"
        assert reason in str(caught.value)
        # The first write went in; the second, never begun, did not.
        rows = await database.fetch_all("SELECT name FROM tag ORDER BY name")
        assert [row["name"] for row in rows] == ["first"]
        # Both go on writing.
        for number, writer in enumerate((database, waiter)):
            async with writer.transaction() as tx:
                await tx.execute("INSERT INTO tag (name) VALUES (?)", (f"later {number}",))
    finally:
        await waiter.close()
        await database.close()


async def test_tables_not_there_are_a_database_unavailable(pg: PostgresDatabase) -> None:
    """As while ``init-db --force`` makes them anew on another host: a 503, not a 500."""
    with pytest.raises(DatabaseUnavailableError, match="no_such_table"):
        await pg.fetch_all("SELECT * FROM no_such_table")


async def test_a_server_that_takes_no_writes_is_a_database_unavailable(
    pg: PostgresDatabase,
) -> None:
    """A standby, or a primary demoted during a failover: a 503 the client may retry, not a
    500; reads go on."""
    read_only = PostgresDatabase(
        pg.url + "?options=-c%20default_transaction_read_only%3Don", timeout=2.0
    )
    try:
        assert await read_only.fetch_all("SELECT name FROM tag") == []
        with pytest.raises(DatabaseUnavailableError, match="read-only transaction"):
            async with read_only.transaction() as tx:
                await tx.insert("INSERT INTO tag (name) VALUES (?)", ("refused",))
    finally:
        await read_only.close()
    assert await pg.fetch_all("SELECT name FROM tag") == []


async def test_a_write_that_carries_on_past_a_failed_statement_is_never_told_it_committed(
    pg: PostgresDatabase,
) -> None:
    """PostgreSQL aborts a transaction at its first failed statement and answers its COMMIT
    with a rollback: a write that caught the error and went on gets an error, not success."""
    with pytest.raises(DatabaseUnavailableError, match="rolled back") as caught:
        async with pg.transaction() as tx:
            await tx.insert("INSERT INTO tag (name) VALUES (?)", ("lost",))
            with pytest.raises(psycopg.errors.DivisionByZero):
                await tx.execute("SELECT 1 / 0")
    assert str(caught.value).startswith(f"{pg.location}: ")
    assert await pg.fetch_all("SELECT name FROM tag") == []
    async with pg.transaction() as tx:  # The writer goes on.
        await tx.insert("INSERT INTO tag (name) VALUES (?)", ("kept",))
    assert [row["name"] for row in await pg.fetch_all("SELECT name FROM tag")] == ["kept"]


async def test_a_write_connection_left_idle_in_its_transaction_is_ended_by_the_server(
    pg: PostgresDatabase,
) -> None:
    """A host stopped mid-write (frozen, cut off) holds every host's write lock: the server
    ends its session after four times the timeout idle in the transaction."""
    row = await pg.fetch_one("SHOW idle_in_transaction_session_timeout")
    assert row is not None and row[0] == "8s"  # The fixture's timeout is 2 s.
    database = PostgresDatabase(pg.url, timeout=0.25)
    try:
        with pytest.raises(DatabaseUnavailableError):
            async with database.transaction() as tx:
                await tx.insert("INSERT INTO tag (name) VALUES (?)", ("stalled",))
                await asyncio.sleep(1.5)  # Idle in the transaction past 4 x 0.25 s.
        # Its lock went with its session: another host writes at once.
        async with pg.transaction() as tx:
            await tx.insert("INSERT INTO tag (name) VALUES (?)", ("after",))
        assert [row["name"] for row in await pg.fetch_all("SELECT name FROM tag")] == ["after"]
    finally:
        await database.close()


async def test_schema_steps_run_past_the_time_limit_requests_have(
    pg: PostgresDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step over a big blog's whole table (schema 11's, 12's) outlasts DATABASE_TIMEOUT: it
    runs without it, and only it does."""
    async with pg.transaction() as tx:
        await tx.set_schema_version(SCHEMA_VERSION - 1)
    slow_step = [(SCHEMA_VERSION, ["SELECT pg_sleep(0.6)"])]
    monkeypatch.setitem(schema.MIGRATIONS_BY_DIALECT, "postgresql", slow_step)
    # One connection: the step's own, which then serves the next transaction.
    database = PostgresDatabase(pg.url, timeout=0.2, pool_size=1)
    try:
        assert await database.migrate() == (SCHEMA_VERSION - 1, SCHEMA_VERSION, 0)
        assert await database.schema_version() == SCHEMA_VERSION
        # The next transaction has the limits again.
        with pytest.raises(DatabaseBusyError):
            async with database.transaction() as tx:
                await tx.execute("SELECT pg_sleep(0.6)")
    finally:
        await database.close()


async def test_a_host_starting_during_a_long_schema_step_waits_for_it(
    pg: PostgresDatabase, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Its wait for the write lock is limited, as every write's is: it waits again, and then
    finds the schema current."""
    async with pg.transaction() as tx:
        await tx.set_schema_version(SCHEMA_VERSION - 1)
    slow_step = [(SCHEMA_VERSION, ["SELECT pg_sleep(1.0)"])]
    monkeypatch.setitem(schema.MIGRATIONS_BY_DIALECT, "postgresql", slow_step)
    first = PostgresDatabase(pg.url, timeout=0.3)
    second = PostgresDatabase(pg.url, timeout=0.3)
    try:
        stepping = asyncio.create_task(first.migrate())
        await asyncio.sleep(0.2)
        assert await second.migrate() == (SCHEMA_VERSION, SCHEMA_VERSION, 0)
        assert await stepping == (SCHEMA_VERSION - 1, SCHEMA_VERSION, 0)
    finally:
        await first.close()
        await second.close()
    assert "Waiting for another process's schema step" in caplog.text


async def test_a_write_queued_behind_a_schema_step_keeps_its_time_limit(
    pg: PostgresDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes queued in the same process join the open transaction (group commit), but not a
    schema step's, whose time limits are off."""
    async with pg.transaction() as tx:
        await tx.set_schema_version(SCHEMA_VERSION - 1)
    slow_step = [(SCHEMA_VERSION, ["SELECT pg_sleep(0.2)"])]
    monkeypatch.setitem(schema.MIGRATIONS_BY_DIALECT, "postgresql", slow_step)
    database = PostgresDatabase(pg.url, timeout=0.3, pool_size=2)
    limits: list[str] = []

    async def write() -> None:
        async with database.transaction() as tx:
            row = await tx.fetch_one("SHOW statement_timeout")
            assert row is not None
            limits.append(row[0])
            await tx.execute("SELECT pg_sleep(0.6)")

    try:
        stepping = asyncio.create_task(database.migrate())
        await asyncio.sleep(0.05)
        with pytest.raises(DatabaseBusyError):
            await write()
        await stepping
    finally:
        await database.close()
    assert limits == ["300ms"]


async def test_a_lock_refused_at_once_is_busy(pg: PostgresDatabase) -> None:
    """A lock refused (NOWAIT here; lock_timeout raises the same error) is busy, not unavailable."""
    async with pg.transaction() as tx:
        await tx.execute("INSERT INTO tag (name) VALUES (?)", ("held",))
    with psycopg.connect(pg.url) as other:
        other.execute("SELECT name FROM tag FOR UPDATE")
        with pytest.raises(DatabaseBusyError) as caught:
            await pg.fetch_all("SELECT name FROM tag FOR UPDATE NOWAIT")
        assert str(caught.value).startswith(f"{pg.location}: ")
    rows = await pg.fetch_all("SELECT name FROM tag FOR UPDATE NOWAIT")
    assert [row["name"] for row in rows] == ["held"]


async def test_a_killed_connection_fails_no_request(pg: PostgresDatabase) -> None:
    await pg.fetch_one("SELECT 1")
    # Once ended (not merely told to end): a connection ended while a request
    # uses it fails that request, whatever checks it beforehand.
    assert end_connections(pg.url) >= 1
    assert await posts.select_posts(pg, limit=5) == []


async def test_pages_are_503_with_retry_after_while_the_database_is_away(tmp_path: Path) -> None:
    app: Quart = create_app(
        make_config(tmp_path, DATABASE_URL=unreachable_url(), DATABASE_TIMEOUT=1.0)
    )
    client = app.test_client()
    try:
        for path in ("/", "/1", "/feed.xml"):
            response = await client.get(path)
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "5"
            page = await response.get_data(as_text=True)
            assert "database cannot be reached just now: try again in 5 seconds" in page
        health = await client.get("/healthz")
        assert health.status_code == 503
        assert await health.get_json() == {"status": "error", "database": "unavailable"}
        # A page that needs no database still answers (its RateLimit headers
        # read the database after the page is made: they fall back, not to a 500).
        login = await client.get("/auth/login")
        assert login.status_code == 200
        form = await login.get_data(as_text=True)
        assert 'name="password"' in form
        # Logging in needs it: the login limit's count is the first to find it away.
        token = csrf_token_in(form)
        attempt = await client.post(
            "/auth/login", form={"username": "a", "password": "b", "csrf_token": token or ""}
        )
        assert attempt.status_code == 503
        assert attempt.headers["Retry-After"] == "5"
    finally:
        await get_db(app).close()


async def test_backup_is_a_snapshot_pg_restore_reads(
    pg: PostgresDatabase, postgres_server_url: str, tmp_path: Path
) -> None:
    await users.insert_user(pg, "alice", "hash")
    target = tmp_path / "blog.dump"
    await pg.backup(str(target))
    assert target.stat().st_mode & 0o077 == 0
    with new_database(postgres_server_url) as url:
        restore = await asyncio.create_subprocess_exec(
            "pg_restore", "--no-owner", f"--dbname={url}", str(target)
        )
        assert await restore.wait() == 0
        restored = PostgresDatabase(url)
        try:
            assert await restored.schema_version() == SCHEMA_VERSION
            assert await users.select_user_by_name(restored, "alice") is not None
        finally:
            await restored.close()


async def test_backup_says_what_went_wrong(
    pg: PostgresDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = []
    start = asyncio.create_subprocess_exec

    async def watched(*command: str, **options: Any) -> asyncio.subprocess.Process:
        started.append((command, options["env"]))
        return await start(*command, **options)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", watched)
    with pytest.raises(DatabaseUnavailableError, match="pg_dump of postgresql://quart:\\*\\*\\*@"):
        await PostgresDatabase(unreachable_url()).backup(str(tmp_path / "none.dump"))
    # The password is in pg_dump's environment, not on its command line.
    ((command, environment),) = started
    assert not any("secret" in part for part in command)
    assert environment["PGPASSWORD"] == "secret"
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(DatabaseUnavailableError, match="pg_dump is not installed"):
        await pg.backup(str(tmp_path / "blog.dump"))


async def test_backup_messages_in_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = PostgresDatabase("postgresql://quart:secret@127.0.0.1:1/blog")
    # pg_dump's own message, whatever its encoding (here Latin-1).
    program = tmp_path / "pg_dump"
    program.write_text("#!/bin/sh\nprintf 'pg_dump: \\351chec\\n' >&2\nexit 1\n")
    program.chmod(0o755)
    # And without setpriv: pg_dump run as it is.
    monkeypatch.setattr("shutil.which", lambda name: str(program) if name == "pg_dump" else None)
    with pytest.raises(DatabaseUnavailableError) as failed:
        await database.backup(str(tmp_path / "blog.dump"))
    assert str(failed.value) == (
        "pg_dump of postgresql://quart:***@127.0.0.1:1/blog failed: pg_dump: \ufffdchec"
    )
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(DatabaseUnavailableError) as missing:
        await database.backup(str(tmp_path / "blog.dump"))
    assert str(missing.value) == (
        "pg_dump is not installed: install PostgreSQL's client programs"
        " (Debian: apt-get install postgresql-client) of the server's version or newer."
    )


def test_check_deploy_reads_the_postgresql_database(postgres_url: str, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o700)

    def database_problems(url: str) -> list[str]:
        app = create_app(make_config(tmp_path, DATABASE_URL=url, SECRET_KEY=GOOD_KEY))
        app.instance_path = str(instance)
        return [problem for problem in deployment_problems(app) if "database" in problem.lower()]

    assert database_problems(postgres_url) == [
        f"The database {postgres_url} has no tables: run 'init-db'."
    ]
    database = PostgresDatabase(postgres_url)

    async def migrate() -> None:
        await database.migrate()
        await database.close()

    asyncio.run(migrate())
    assert database_problems(postgres_url) == []

    async def outdated() -> None:
        async with database.transaction() as tx:
            await tx.set_schema_version(2)
            await tx.execute(
                'INSERT INTO "user" (username, password) VALUES (?, ?), (?, ?)',
                ("victim", "x", "Victim", "x"),
            )
        await database.close()

    asyncio.run(outdated())
    problems = "\n".join(deployment_problems_of(tmp_path, instance, postgres_url))
    assert f"schema is version 2, not {SCHEMA_VERSION}" in problems
    assert "one name once normalised" in problems
    assert database_problems(unreachable_url())[0].startswith(
        "The database cannot be reached: postgresql://quart:***@"
    )


def deployment_problems_of(tmp_path: Path, instance: Path, url: str) -> list[str]:
    app = create_app(make_config(tmp_path, DATABASE_URL=url, SECRET_KEY=GOOD_KEY))
    app.instance_path = str(instance)
    return deployment_problems(app)


@pytest.mark.parametrize(
    "command",
    (
        ["init-db"],
        ["migrate"],
        ["backup", "{tmp}/blog.dump"],
        ["reset-link", "alice"],
        ["moderator", "alice"],
        ["copy-db", "{tmp}/copy.sqlite"],
    ),
)
def test_a_command_on_a_database_away_says_so_without_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    """And leaves no file behind: an empty backup would pass for one."""
    app = create_app(make_config(tmp_path, DATABASE_URL=unreachable_url(), DATABASE_TIMEOUT=1.0))
    before = set(tmp_path.iterdir())
    result = app.test_cli_runner().invoke(args=[arg.format(tmp=tmp_path) for arg in command])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: "), result.output
    assert "127.0.0.1" in result.output and "Traceback" not in result.output
    assert not isinstance(result.exception, DatabaseUnavailableError)
    assert set(tmp_path.iterdir()) == before


def test_a_backup_that_fails_leaves_a_file_that_was_there(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path, DATABASE_URL=unreachable_url(), DATABASE_TIMEOUT=1.0))
    target = tmp_path / "yesterday.dump"
    target.write_bytes(b"yesterday's backup")
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 1
    assert target.read_bytes() == b"yesterday's backup"


def test_a_killed_backup_ends_its_pg_dump(tmp_path: Path) -> None:
    """``kill -9`` leaves the command no time to end its pg_dump: the kernel does."""
    started = tmp_path / "pg_dump.pid"
    programs = tmp_path / "bin"
    programs.mkdir()
    program = programs / "pg_dump"
    # A pg_dump that would write for a minute.
    program.write_text(
        f"#!/bin/sh\necho $$ > {started}.new\nmv {started}.new {started}\nexec sleep 60\n"
    )
    program.chmod(0o755)
    backup = (
        "import asyncio, sys\n"
        "from quart_flaskr.db.postgres import PostgresDatabase\n"
        "asyncio.run(PostgresDatabase(sys.argv[1]).backup(sys.argv[2]))\n"
    )
    environment = {**os.environ, "PATH": f"{programs}{os.pathsep}{os.environ['PATH']}"}
    command = subprocess.Popen(
        [sys.executable, "-c", backup, unreachable_url(), str(tmp_path / "blog.dump")],
        env=environment,
    )
    dump = None
    try:
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        dump = psutil.Process(int(started.read_text()))
        assert dump.ppid() == command.pid
        command.kill()
        command.wait()
        assert _ends(dump, seconds=10), "pg_dump writes on after its command was killed"
    finally:
        command.kill()
        if dump is not None and not _ends(dump, seconds=0):
            dump.kill()


def _ends(process: psutil.Process, seconds: float) -> bool:
    """Whether ``process`` has ended (or is left for its new parent to reap) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def test_a_backup_stopped_by_sigterm_ends_its_pg_dump(postgres_url: str, tmp_path: Path) -> None:
    """Its pg_dump would write on alone, into a partial file the next backup writes too."""
    app = create_app(make_config(tmp_path, DATABASE_URL=postgres_url))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    target = tmp_path / "yesterday.dump"
    target.write_bytes(b"yesterday's backup")
    signalled: list[int] = []

    def stop_once_pg_dump_waits(blocker: psycopg.Connection[Any]) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            dumps = [p for p in psutil.Process().children() if p.name() == "pg_dump"]
            if dumps:
                signalled.extend(dump.pid for dump in dumps)
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.05)
        blocker.rollback()  # no pg_dump seen: let the backup end, and the test fail

    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    # pg_dump waits for this lock: the backup is under way when SIGTERM comes.
    with psycopg.connect(postgres_url) as blocker:
        blocker.execute("LOCK TABLE post IN ACCESS EXCLUSIVE MODE")
        stopper = threading.Thread(target=stop_once_pg_dump_waits, args=(blocker,))
        stopper.start()
        try:
            result = runner.invoke(args=["backup", str(target)])
        finally:
            stopper.join()
            signal.signal(signal.SIGTERM, previous)
            blocker.rollback()
    assert signalled, "no pg_dump started"
    assert result.exit_code == 1, result.output
    assert result.output == "Error: Stopped by SIGTERM while running backup.\n"
    assert not any(psutil.pid_exists(pid) for pid in signalled)
    assert target.read_bytes() == b"yesterday's backup"
    assert not (tmp_path / "yesterday.dump.partial").exists()


def test_init_db_on_postgresql_refuses_to_erase_data(postgres_url: str, tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path, DATABASE_URL=postgres_url))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    database = PostgresDatabase(postgres_url)

    async def add_user() -> None:
        await users.insert_user(database, "kept", "hash")
        await database.close()

    asyncio.run(add_user())
    refused = runner.invoke(args=["init-db"])
    assert refused.exit_code == 1 and "already holds users and posts" in refused.output
    assert "up to date" in runner.invoke(args=["migrate"]).output
    assert runner.invoke(args=["init-db", "--force"]).exit_code == 0

    async def has_data() -> bool:
        try:
            return await database.has_data()
        finally:
            await database.close()

    assert asyncio.run(has_data()) is False


async def fill_blog(database: Database) -> None:
    """Users (two of one key, from before keys), posts with tags and images, likes, comments."""
    async with database.transaction() as tx:
        for name in ("alice", "Bob", "bob"):
            await tx.insert('INSERT INTO "user" (username, password) VALUES (?, ?)', (name, "h"))
    for number in range(1, 8):
        # Its variant's row holds its own name, width and bytes.
        variant = Variant(f"{'V' * 21}{number}.webp", 480, b"RIFF" + bytes([number]) * 1000)
        image = Image(
            f"{'A' * 21}{number}.png", b"\x89PNG" + bytes([number]) * 3000, 960, 720, (variant,)
        )
        await posts.insert_post(
            database,
            1 + number % 3,
            f"Post {number}",
            f"Body {number} about foxes",
            tags=[f"tag{number % 2}", "all"],
            image=image if number % 2 else None,
        )
    for post_id in (2, 3):
        await likes.like_post(database, post_id, 1)
        await likes.like_post(database, post_id, 3)
        await comments.insert_comment(database, post_id, 2, f"a comment on {post_id}")
    await posts.delete_post(database, 5)
    hashed = await database.fetch_one('SELECT password FROM "user" WHERE id = 1')
    assert hashed is not None
    await users.insert_login_session(
        database,
        "live",
        1,
        datetime.now(UTC) + timedelta(hours=1),
        "Firefox/140",
        checked_hash=hashed[0],
    )
    # Schema 10: a moderator who joined on a known day, a suspension in the log, a reset link.
    async with database.transaction() as tx:
        await tx.execute(
            'UPDATE "user" SET joined = ?, moderator = 1 WHERE id = 1', ("2024-01-02 03:04:05",)
        )
    await moderation.suspend_user(database, "alice", 3)
    await accounts.insert_password_reset(
        database, 2, "a token", datetime.now(UTC) + timedelta(hours=1)
    )


async def blog_as_shown(database: Database) -> list[object]:
    """What readers see of a blog: every page of posts, searches, images, comments, sessions."""
    shown: list[object] = [await posts.select_posts(database, limit=50)]
    shown.append(await posts.select_posts(database, limit=50, search="foxes post"))
    shown.append(await posts.select_posts(database, limit=50, tag="tag1"))
    for number in range(1, 8):
        shown.append(await images.select_image(database, f"{'A' * 21}{number}.png"))
        shown.append(await images.select_image(database, f"{'V' * 21}{number}.webp"))
        shown.append(await comments.select_comments(database, number, limit=1000, offset=0))
    shown.append(await users.select_login(database, "live"))
    shown.append(await users.select_user_by_name(database, "BOB"))
    shown.append(await users.select_account_by_name(database, "alice"))
    shown.append(await sessions.select_login_sessions(database, 1))
    shown.append(await moderation.select_suspended(database))
    shown.append(await moderation.select_log(database, limit=10))
    shown.append(await accounts.select_password_reset(database, "a token"))
    return shown


async def test_copy_from_sqlite_to_postgresql_and_back(
    pg_empty: PostgresDatabase, tmp_path: Path
) -> None:
    sqlite = SQLiteDatabase(str(tmp_path / "blog.sqlite"))
    back = SQLiteDatabase(str(tmp_path / "back.sqlite"))
    try:
        await sqlite.migrate()
        await fill_blog(sqlite)
        counts = await copy_blog(sqlite, pg_empty)
        assert counts == {
            "user": 3,
            "image": 3,
            "image_variant": 3,
            "post": 6,
            "tag": 3,
            "post_tag": 12,
            "post_like": 4,
            "comment": 2,
            "login_session": 1,
            "password_reset": 1,
            "moderation_log": 1,
        }
        original = await blog_as_shown(sqlite)
        assert await blog_as_shown(pg_empty) == original
        # New rows take the ids after the copied ones, on both sides.
        assert await copy_blog(pg_empty, back) == counts
        assert await blog_as_shown(back) == original
        for database in (pg_empty, back):
            assert await posts.insert_post(database, 1, "Next", "after the copy") == 8
            assert await users.insert_user(database, "carol", "h") == 4
        with pytest.raises(CopyError, match="already holds users and posts"):
            await copy_blog(sqlite, back)
    finally:
        await sqlite.close()
        await back.close()


async def test_copy_goes_on_past_its_first_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables longer than a batch are copied whole, keys of two columns included (post_tag)."""
    monkeypatch.setattr("quart_flaskr.db.copy.BATCH", 2)
    sqlite = SQLiteDatabase(str(tmp_path / "blog.sqlite"))
    copied = SQLiteDatabase(str(tmp_path / "copy.sqlite"))
    try:
        await sqlite.migrate()
        await fill_blog(sqlite)
        counts = await copy_blog(sqlite, copied)
        assert (counts["post"], counts["post_tag"], counts["post_like"]) == (6, 12, 4)
        assert await blog_as_shown(copied) == await blog_as_shown(sqlite)
    finally:
        await sqlite.close()
        await copied.close()


async def test_copy_refuses_a_source_at_another_schema(
    pg_empty: PostgresDatabase, tmp_path: Path
) -> None:
    sqlite = SQLiteDatabase(str(tmp_path / "blog.sqlite"))
    try:
        with pytest.raises(
            CopyError, match=f"schema version 0, not {SCHEMA_VERSION}: run 'migrate'"
        ):
            await copy_blog(sqlite, pg_empty)
    finally:
        await sqlite.close()


# The URL as ops may write it: "postgres://" names PostgreSQL too, not an SQLite file.
@pytest.mark.parametrize("scheme", ["postgresql://", "postgres://"])
def test_copy_db_command(postgres_url: str, tmp_path: Path, scheme: str) -> None:
    target = postgres_url.replace("postgresql://", scheme, 1)
    app = create_app(make_config(tmp_path))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    sqlite = SQLiteDatabase(app.config["DATABASE"])

    async def fill() -> None:
        await users.insert_user(sqlite, "alice", "h")
        await sqlite.close()

    asyncio.run(fill())
    result = runner.invoke(args=["copy-db", target])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Copied 1 user, 0 image, 0 image_variant, 0 post,")
    assert result.output.rstrip().endswith(f"into {target}.")
    assert not Path(target).exists()
    again = runner.invoke(args=["copy-db", target])
    assert again.exit_code == 1 and "already holds users and posts" in again.output
    back = runner.invoke(args=["copy-db", str(tmp_path / "back.sqlite")])
    assert back.exit_code == 0, back.output


async def test_hosts_starting_on_an_empty_database_create_the_tables(
    postgres_url: str, tmp_path: Path
) -> None:
    apps = [create_app(make_config(tmp_path, DATABASE_URL=postgres_url)) for _ in range(3)]
    try:
        await asyncio.gather(*(app.startup() for app in apps))
        for app in apps:
            assert await get_db(app).schema_version() == SCHEMA_VERSION
    finally:
        for app in apps:
            await app.shutdown()


async def plan(
    database: PostgresDatabase, sql: str, params: tuple[object, ...], *, in_order: bool = False
) -> str:
    """PostgreSQL's plan for a query, with sequential scans priced out of reach.

    A table of a few rows is cheaper to scan than any index: pricing scans out
    shows whether an index can answer the query at all, as it must on a big
    blog; ``in_order`` prices out bitmap scans too, which give rows unordered.
    """
    async with database.transaction() as tx:
        await tx.execute("SET LOCAL enable_seqscan = off")
        if in_order:
            await tx.execute("SET LOCAL enable_bitmapscan = off")
        rows = await tx.fetch_all("EXPLAIN " + sql, params)
    return "\n".join(row[0] for row in rows)


async def test_listings_and_searches_read_an_index_never_the_table(pg: PostgresDatabase) -> None:
    alice = await users.insert_user(pg, "alice", "hash")
    assert alice is not None
    for number in range(20):
        await posts.insert_post(pg, alice, f"Post {number}", "foxes", tags=["t"])
    # Each page by its OFFSET, or after a given post: the index is entered at its entry.
    for after in ((), (datetime(2026, 1, 1), 9)):
        sql = {
            dated.name: (dated.after if after else dated.by_offset)["postgresql"]
            for dated in (posts._NEWEST, posts._BY_TAG)
        }
        newest = await plan(pg, sql["newest"], (*after, 5, 0), in_order=True)
        assert "Index Only Scan using post_created" in newest and "Sort" not in newest, newest
        tagged = await plan(pg, sql["tag"], (*after, "t", 5, 0), in_order=True)
        assert "post_tag_listing" in tagged and "Sort" not in tagged, tagged
        for found in (newest, tagged):
            conditions = [line for line in found.splitlines() if "Index Cond" in line]
            assert bool(after) is any("ROW(created" in line for line in conditions), found
    search = posts._PG_SEARCH_IDS.format(tag="")
    for query, phrases in (("'fox'", []), ("'서버' & '버에'", [" 서버  버에 "])):
        matching = (query, phrases)
        counted = ([" fox "], [" fox "])
        params = (*counted, *matching, 50, 5, 0, *matching, 0, 50)
        searched = await plan(pg, search, params)
        assert "Seq Scan" not in searched, searched
        assert "post_search" in searched, searched
