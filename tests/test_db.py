from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from datetime import datetime
from datetime import UTC
from pathlib import Path

import aiosqlite
import pytest
from quart import Quart
from quart.testing import QuartCliRunner
from quart.testing.app import LifespanError

from quart_flaskr import create_app
from quart_flaskr.db import check_schema
from quart_flaskr.db import Database
from quart_flaskr.db import DatabaseBusyError
from quart_flaskr.db import DatabaseUnavailableError
from quart_flaskr.db import get_db
from quart_flaskr.db import ReferenceGoneError
from quart_flaskr.db import SCHEMA_VERSION
from quart_flaskr.db import SchemaError
from quart_flaskr.db import sqlite as db_module
from quart_flaskr.db import SQLiteDatabase
from quart_flaskr.db.schema import _split_script
from quart_flaskr.db.schema import load_migrations
from quart_flaskr.db.sqlite_connect import connect
from quart_flaskr.models import posts
from tests.harness.databases import old_database
from tests.helpers import CONSTRAINT_ERRORS
from tests.helpers import DATA_SQL
from tests.helpers import make_config


def aiosqlite_threads() -> int:
    """Connection threads still running (a closed one ends right after close returns)."""
    for thread in threading.enumerate():
        if "_connection_worker_thread" in thread.name:
            thread.join(timeout=0.5)
    return sum(
        "_connection_worker_thread" in thread.name and thread.is_alive()
        for thread in threading.enumerate()
    )


async def test_get_db_is_the_apps_database(app: Quart, db: Database) -> None:
    async with app.app_context():
        assert get_db() is db


async def test_connections_are_closed_when_serving_stops(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path))
    database = get_db(app)
    await database.reset()
    await database.close()
    assert aiosqlite_threads() == 0
    async with app.test_app():
        assert (await app.test_client().get("/")).status_code == 200
        # The reader and the writer (used by the start-up migration).
        assert aiosqlite_threads() == 2
    assert aiosqlite_threads() == 0
    # A closed database opens again on next use.
    assert await database.schema_version() == SCHEMA_VERSION
    await database.close()
    assert aiosqlite_threads() == 0


async def test_timestamps_are_datetimes(db: Database) -> None:
    post = await posts.select_post(db, 1)
    assert post is not None
    assert post.created == datetime(2018, 1, 1, tzinfo=UTC)


async def test_failed_transaction_rolls_back(db: Database) -> None:
    with pytest.raises(CONSTRAINT_ERRORS):
        async with db.transaction() as tx:
            await tx.execute("UPDATE post SET title = 'changed' WHERE id = 1")
            await tx.execute("INSERT INTO \"user\" (username, password) VALUES ('test', 'x')")
    row = await db.fetch_one("SELECT title FROM post WHERE id = 1")
    assert row is not None and row[0] == "test title"


@pytest.mark.sqlite_only
async def test_foreign_keys_wal_and_busy_timeout_on_every_connection(db: Database) -> None:
    assert (await db.fetch_one("PRAGMA foreign_keys"))[0] == 1  # type: ignore[index]
    assert (await db.fetch_one("PRAGMA journal_mode"))[0] == "wal"  # type: ignore[index]
    assert (await db.fetch_one("PRAGMA busy_timeout"))[0] == 10_000  # type: ignore[index]
    async with db.transaction() as tx:
        assert await tx.fetch_all("PRAGMA foreign_keys") != []
        with pytest.raises(ReferenceGoneError):
            await tx.insert("INSERT INTO post (title, body, author_id) VALUES ('t', '', 99)")


async def test_a_statement_outside_begin_is_committed_at_once(tmp_path: Path) -> None:
    """Connections open no implicit transaction: only transaction()'s BEGIN holds the lock."""
    path = str(tmp_path / "autocommit.sqlite")
    conn = await connect(path)
    try:
        await conn.execute("CREATE TABLE t (x)")
        await conn.execute("INSERT INTO t VALUES (1)")
        with closing(sqlite3.connect(path)) as other:
            assert other.execute("SELECT x FROM t").fetchall() == [(1,)]
            # No write lock is left behind either.
            other.execute("INSERT INTO t VALUES (2)")
            other.commit()
    finally:
        await conn.close()


async def test_cursors_kept_alive_leave_no_statement_in_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit goes through though every cursor lives on, as a profiler, a debugger or a kept
    traceback keeps them: those of the statements run for their effect are closed."""
    kept: list[aiosqlite.Cursor] = []
    made = aiosqlite.Cursor.__init__

    def keeping(cursor: aiosqlite.Cursor, *args: object) -> None:
        made(cursor, *args)  # type: ignore[arg-type]
        kept.append(cursor)

    monkeypatch.setattr(aiosqlite.Cursor, "__init__", keeping)
    database = SQLiteDatabase(str(tmp_path / "kept.sqlite"))
    try:
        await database.reset()
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO tag (name) VALUES ('kept')")
        assert [tuple(row) for row in await database.fetch_all("SELECT name FROM tag")] == [
            ("kept",)
        ]
    finally:
        await database.close()
    assert kept


async def test_database_file_is_private(tmp_path: Path) -> None:
    database = SQLiteDatabase(str(tmp_path / "new.sqlite"))
    await database.reset()
    await database.close()
    assert (tmp_path / "new.sqlite").stat().st_mode & 0o077 == 0


@pytest.mark.sqlite_only
def test_init_db_command(runner: QuartCliRunner, cli_app: Quart) -> None:
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Initialized the database." in result.output
    with sqlite3.connect(cli_app.config["DATABASE"]) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute('SELECT COUNT(*) FROM "user"').fetchone()[0] == 0
    conn.close()


def _add_user(path: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO \"user\" (username, password) VALUES ('kept', 'x')")
    conn.close()


def _users(path: str) -> list[str]:
    conn = sqlite3.connect(path)
    names = [row[0] for row in conn.execute('SELECT username FROM "user" ORDER BY id')]
    conn.close()
    return names


@pytest.mark.sqlite_only
def test_init_db_refuses_to_erase_data(runner: QuartCliRunner, cli_app: Quart) -> None:
    path = cli_app.config["DATABASE"]
    assert runner.invoke(args=["init-db"]).exit_code == 0
    _add_user(path)
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 1
    assert "already holds users and posts" in result.output
    assert "init-db --force" in result.output
    assert _users(path) == ["kept"]

    result = runner.invoke(args=["init-db", "--force"])
    assert result.exit_code == 0, result.output
    assert _users(path) == []


#: The schema Flaskr's own init-db makes; it records no version.
FLASKR_SCHEMA = 1


@pytest.mark.sqlite_only
def test_migrate_upgrades_a_flaskr_database_in_place(
    runner: QuartCliRunner, cli_app: Quart
) -> None:
    path = cli_app.config["DATABASE"]
    old_database(path, FLASKR_SCHEMA, script=DATA_SQL)
    result = runner.invoke(args=["migrate"])
    assert result.exit_code == 0, result.output
    # The post's HTML and search terms, and each user's key.
    assert result.output == (
        f"Upgraded the database from schema version 1 to {SCHEMA_VERSION},"
        " and brought 4 rows up to date.\n"
    )
    assert _users(path) == ["test", "other"]
    conn = sqlite3.connect(path)
    # The body's HTML, which Flaskr did not store, is rendered and stored.
    assert conn.execute("SELECT title, body_html FROM post").fetchall() == [
        ("test title", "<p>test\nbody</p>\n")
    ]
    conn.close()
    result = runner.invoke(args=["migrate"])
    assert result.output == f"The database is up to date (schema version {SCHEMA_VERSION}).\n"


@pytest.mark.sqlite_only
def test_migrate_finishes_the_data_step_a_stopped_one_left(
    runner: QuartCliRunner, cli_app: Quart
) -> None:
    """The schema is current, but a start stopped half-way left a post without its HTML."""
    path = cli_app.config["DATABASE"]
    old_database(path, FLASKR_SCHEMA, script=DATA_SQL)
    assert runner.invoke(args=["migrate"]).exit_code == 0
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE post SET body_html = NULL")
    result = runner.invoke(args=["migrate"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith(
        f"The database's schema was up to date (version {SCHEMA_VERSION});"
        " brought 1 row up to date.\n"
    )
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT body_html FROM post").fetchall() == [("<p>test\nbody</p>\n",)]


async def test_serving_migrates_an_old_database(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    old_database(config["DATABASE"], FLASKR_SCHEMA, script=DATA_SQL)
    app = create_app(config)
    async with app.test_app():
        page = await (await app.test_client().get("/")).get_data(as_text=True)
        assert "test title" in page
        assert await get_db(app).schema_version() == SCHEMA_VERSION


async def test_serving_refuses_a_database_without_tables(tmp_path: Path) -> None:
    database = SQLiteDatabase(str(tmp_path / "empty.sqlite"))
    with pytest.raises(SchemaError, match="init-db") as caught:
        await check_schema(database)
    await database.close()
    assert str(caught.value) == (
        f"The database {database.path} has no tables: run 'quart --app quart_flaskr init-db' first."
    )


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    database = SQLiteDatabase(str(tmp_path / "new.sqlite"))
    await database.reset()
    async with database.transaction() as tx:
        await tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaError, match="newer than this release"):
        await database.migrate()
    await database.close()


async def test_workers_migrating_together_apply_each_step_once(tmp_path: Path) -> None:
    path = str(tmp_path / "old.sqlite")
    old_database(path, FLASKR_SCHEMA, script=DATA_SQL)
    workers = [SQLiteDatabase(path) for _ in range(4)]
    results = await asyncio.gather(*(worker.migrate() for worker in workers))
    assert sorted(result.old for result in results) == [
        1,
        SCHEMA_VERSION,
        SCHEMA_VERSION,
        SCHEMA_VERSION,
    ]
    for worker in workers:
        await worker.close()


@pytest.mark.sqlite_only
def test_backup_command(runner: QuartCliRunner, cli_app: Quart, tmp_path: Path) -> None:
    assert runner.invoke(args=["init-db"]).exit_code == 0
    _add_user(cli_app.config["DATABASE"])
    target = tmp_path / "backup.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert f"Backed up the database to {target}." in result.output
    assert _users(str(target)) == ["kept"]
    assert target.stat().st_mode & 0o077 == 0
    # A run killed outright left its partial copy, readable by all: the next is private.
    partial = tmp_path / "backup.sqlite.partial"
    partial.write_bytes(target.read_bytes())
    partial.chmod(0o644)
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    assert _users(str(target)) == ["kept"] and not partial.exists()
    assert target.stat().st_mode & 0o077 == 0
    # Or no database at all.
    partial.write_text("half a file")
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    assert _users(str(target)) == ["kept"]


@pytest.mark.sqlite_only
async def test_backup_while_serving_is_consistent(app: Quart, db: Database, tmp_path: Path) -> None:
    async def write_posts() -> None:
        for number in range(50):
            await posts.insert_post(db, 1, f"post {number}", "body")

    target = tmp_path / "live-backup.sqlite"
    writer = asyncio.create_task(write_posts())
    await db.backup(str(target))
    await writer
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    count = conn.execute("SELECT COUNT(*) FROM post").fetchone()[0]
    conn.close()
    assert 1 <= count <= 51


def test_split_script_keeps_trigger_bodies_and_a_last_statement_without_semicolon() -> None:
    script = (
        "CREATE TABLE a (x);\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  DELETE FROM a; SELECT 1;\nEND;\n"
        "SELECT 2"
    )
    assert _split_script(script) == [
        "CREATE TABLE a (x);",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  DELETE FROM a; SELECT 1;\nEND;",
        "SELECT 2",
    ]


def test_the_schema_scripts_load_in_version_order() -> None:
    # schema.sql is version 1, each migrations/NNNN_name.sql version NNNN;
    # every script opens with a comment that says which version it is.
    migrations = load_migrations()
    assert [version for version, _ in migrations] == list(range(1, SCHEMA_VERSION + 1))
    for version, statements in migrations:
        assert statements[0].startswith(f"-- Schema version {version}: ")
    assert "CREATE TABLE user (" in migrations[0][1][0]


async def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "not-a-database.sqlite"
    path.write_bytes(b"this is not SQLite" * 100)
    database = SQLiteDatabase(str(path))
    with pytest.raises(DatabaseUnavailableError, match="not a database"):
        await database.fetch_one("SELECT 1")
    # The half-opened connection was closed, thread and all.
    assert aiosqlite_threads() == 0


@pytest.mark.sqlite_only
async def test_requests_arriving_together_share_one_reader(db: Database) -> None:
    await db.close()
    results = await asyncio.gather(*(db.fetch_one("SELECT 1") for _ in range(5)))
    assert [tuple(row) for row in results if row is not None] == [(1,)] * 5
    assert aiosqlite_threads() == 1


async def test_failed_start_closes_the_database(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path))
    with pytest.raises(LifespanError, match="init-db"):
        async with app.test_app():
            pass  # pragma: no cover - start-up fails
    assert aiosqlite_threads() == 0


async def test_a_cancelled_write_leaves_the_writer_usable(db: Database) -> None:
    """A client that goes away mid-request cancels it, wherever it is."""

    async def write() -> None:
        async with db.transaction() as tx:
            await tx.execute("UPDATE post SET title = 'cancelled' WHERE id = 1")
            await asyncio.sleep(10)

    # Cancelled at every step: while BEGIN is on its way, inside the block...
    for steps in range(6):
        task = asyncio.create_task(write())
        for _ in range(steps):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # ...and the next write works, and the cancelled one left nothing.
        await posts.update_post(db, 1, f"after {steps}", "")
        row = await db.fetch_one("SELECT title FROM post WHERE id = 1")
        assert row is not None and row[0] == f"after {steps}"


@pytest.mark.sqlite_only
async def test_a_transaction_left_open_is_ended_first(db: SQLiteDatabase) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE post SET title = 'kept' WHERE id = 1")
    writer = db._writer
    assert writer is not None
    await writer.execute("BEGIN")
    await writer.execute("UPDATE post SET title = 'left open' WHERE id = 1")
    await posts.update_post(db, 1, "after", "")
    row = await db.fetch_one("SELECT title FROM post WHERE id = 1")
    assert row is not None and row[0] == "after"


def sqlite_error(message: str, code: int | None) -> sqlite3.OperationalError:
    """An error as SQLite reports it, with its result code (None: one raised by Python)."""
    error = sqlite3.OperationalError(message)
    if code is not None:
        error.sqlite_errorcode = code
    return error


async def test_switching_to_wal_waits_for_other_connections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers opening a pre-WAL database together find it locked for the switch."""
    import aiosqlite

    execute = aiosqlite.Connection.execute
    refusals = [sqlite_error("database is locked", sqlite3.SQLITE_BUSY)] * 2

    def locked_at_first(self: aiosqlite.Connection, sql: str, *args: object) -> object:
        if sql == "PRAGMA journal_mode = WAL" and refusals:
            raise refusals.pop()
        return execute(self, sql, *args)

    monkeypatch.setattr(aiosqlite.Connection, "execute", locked_at_first)
    database = SQLiteDatabase(str(tmp_path / "old.sqlite"))
    assert await database.fetch_one("PRAGMA journal_mode") is not None
    assert refusals == []
    await database.close()

    # Any other error is not waited out; nor is a lock that outlasts the timeout.
    # Locks are told by SQLite's code (here an extended one), not by the message.
    monkeypatch.setattr("quart_flaskr.db.sqlite_connect.BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr("quart_flaskr.db.sqlite_connect.WAL_RETRY_MS", 1)
    for error, code, attempts, raised in (
        ("disk I/O error", sqlite3.SQLITE_IOERR, 1, DatabaseUnavailableError),
        ("database is locked", sqlite3.SQLITE_BUSY_RECOVERY, 10_000, DatabaseBusyError),
        ("database is locked", None, 1, sqlite3.OperationalError),
    ):
        refusals[:] = [sqlite_error(error, code)] * attempts
        with pytest.raises(raised, match=error) as caught:
            await SQLiteDatabase(str(tmp_path / "other.sqlite")).fetch_one("SELECT 1")
        assert caught.type is raised
    assert aiosqlite_threads() == 0


@pytest.mark.sqlite_only
async def test_data_version_moves_with_every_commit_of_any_process(
    db: SQLiteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_query(sql: str, params: object = ()) -> None:
        raise AssertionError(sql)

    await db.close()
    # The first request of a process opens the reader, and maps the header.
    first = await db.data_version()
    # Read from shared memory: no query.
    monkeypatch.setattr(db, "fetch_all", no_query)
    assert await db.data_version() == first
    # This process's writer.
    await posts.insert_post(db, 1, "new", "post")
    second = await db.data_version()
    assert second != first
    assert await db.data_version() == second
    # Another process's connection.
    conn = sqlite3.connect(db.path)
    with conn:
        conn.execute("UPDATE post SET title = 'renamed' WHERE id = 1")
    conn.close()
    assert await db.data_version() not in (first, second)


def test_no_wal_index_to_map(tmp_path: Path) -> None:
    assert db_module.WalIndex.open(str(tmp_path / "none.sqlite")) is None
    (tmp_path / "short.sqlite-shm").write_bytes(b"")
    short = db_module.WalIndex.open(str(tmp_path / "short.sqlite"))
    assert short is not None and short.read() is None
    short.close()


@pytest.mark.sqlite_only
async def test_data_version_without_the_wal_index_is_the_pragma(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where SQLite's shared memory cannot be mapped, the query is used.
    monkeypatch.setattr(db_module.WalIndex, "read", lambda self: None)
    await db.close()
    before = await db.data_version()
    row = await db.fetch_one("PRAGMA data_version")
    assert row is not None and before == row[0]
    assert await db.data_version() == before
    await posts.insert_post(db, 1, "new", "post")
    assert await db.data_version() != before


LOCK_PROBE = """
import fcntl, sys
for path in sys.argv[1:]:
    with open(path, "rb+") as file:
        try:
            fcntl.lockf(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            print("held", path)
        else:
            print("free", path)
"""


@pytest.mark.sqlite_only
async def test_another_process_sees_the_locks_of_an_open_database(db: SQLiteDatabase) -> None:
    # SQLite's locks are per process: closing any descriptor of a database
    # file drops them all, and then another process opening the database
    # resets the shared memory under the open connections (a bus error).
    await db.close()
    await db.data_version()  # Opens the reader and maps the WAL index.
    async with db.transaction() as tx:  # Opens the writer.
        await tx.execute("UPDATE post SET title = title")
    await db.fetch_one("SELECT 1")
    files = [db.path, db.path + "-shm"]
    probe = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", LOCK_PROBE, *files],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.splitlines() == [f"held {path}" for path in files]


@pytest.mark.sqlite_only
async def test_a_reader_cancelled_while_it_opens_is_closed(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The request that opens the reader is cancelled while the WAL header is
    # mapped (its client went away): the connection it opened is closed, its
    # thread ended, and the next request opens a reader of its own.
    await db.close()
    mapping = threading.Event()
    release = threading.Event()
    opened: list[aiosqlite.Connection] = []
    real_open = db_module.WalIndex.open
    real_connect = connect

    def slow_open(path: str) -> db_module.WalIndex | None:
        mapping.set()
        release.wait(5)
        return real_open(path)

    async def recorded_connect(path: str) -> aiosqlite.Connection:
        conn = await real_connect(path)
        opened.append(conn)
        return conn

    monkeypatch.setattr(db_module.WalIndex, "open", slow_open)
    monkeypatch.setattr(db_module, "connect", recorded_connect)
    request = asyncio.ensure_future(db.fetch_all("SELECT 1"))
    await asyncio.to_thread(mapping.wait, 5)
    request.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await request
    (conn,) = opened
    with pytest.raises(ValueError, match="no active connection"):
        await conn.execute("SELECT 1")
    monkeypatch.setattr(db_module.WalIndex, "open", real_open)
    assert [tuple(row) for row in await db.fetch_all("SELECT 1")] == [(1,)]
    assert len(opened) == 2
