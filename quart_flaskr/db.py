"""The database: aiosqlite connections, transactions, schema migrations and the CLI.

Each worker process holds two connections for its whole life instead of one per
request: a reader shared by all requests (SQLite in WAL mode lets it read while
another connection writes) and a writer used by one transaction at a time.
Both are opened on first use and closed when the app stops serving.
"""

from __future__ import annotations

import asyncio
import mmap
import os
import sqlite3
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any
from typing import cast

import aiosqlite
import click
from quart import current_app
from quart import Quart
from quart.cli import pass_script_info
from quart.cli import ScriptInfo

Row = aiosqlite.Row
Params = Sequence[Any]

#: How long a writer waits for another process's write lock, in milliseconds.
BUSY_TIMEOUT_MS = 10_000
#: How often to try again to switch a locked database into WAL mode, in milliseconds.
WAL_RETRY_MS = 20


class SchemaError(RuntimeError):
    """The database file has no schema, or one newer than this code knows."""


def _split_script(script: str) -> list[str]:
    """Split an SQL script into statements, keeping trigger bodies whole."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements


def load_migrations() -> list[tuple[int, list[str]]]:
    """Read the schema scripts shipped with the package, in version order.

    ``schema.sql`` is version 1, the schema Flaskr itself creates; each
    ``migrations/NNNN_name.sql`` upgrades the schema to version NNNN.
    """
    package = resources.files(__package__)
    scripts = [(1, package.joinpath("schema.sql").read_text("utf-8"))]
    scripts += [
        (int(entry.name.split("_", 1)[0]), entry.read_text("utf-8"))
        for entry in package.joinpath("migrations").iterdir()
        if entry.name.endswith(".sql")
    ]
    scripts.sort()
    return [(version, _split_script(script)) for version, script in scripts]


MIGRATIONS = load_migrations()
SCHEMA_VERSION = MIGRATIONS[-1][0]


def _create_private_file(path: str) -> None:
    """Create the database file readable by its owner only, if it is missing.

    SQLite gives the -wal and -shm files it creates the same permissions.
    """
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


async def _switch_to_wal(conn: aiosqlite.Connection) -> None:
    """Put the file in WAL mode (a no-op once it is: the mode is kept in the file).

    Switching needs every other connection out of the way, and SQLite does not
    wait for that with the busy timeout when connections open together (workers
    starting on a database from before WAL), so wait here, as long as it would.
    """
    for _ in range(BUSY_TIMEOUT_MS // WAL_RETRY_MS):
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            await asyncio.sleep(WAL_RETRY_MS / 1000)
    await conn.execute("PRAGMA journal_mode = WAL")


async def _read_schema_version(fetch_one: Callable[[str], Awaitable[Row | None]]) -> int:
    """The schema version of the file, read with ``fetch_one``; a Flaskr database counts as 1."""
    row = await fetch_one("PRAGMA user_version")
    version = int(row[0]) if row else 0
    if version == 0 and await fetch_one(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'user'"
    ):
        return 1
    return version


class Transaction:
    """The writer connection while one transaction holds it."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement and return the number of rows it changed."""
        async with self._conn.execute(sql, params) as cursor:
            return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT and return the new row's id."""
        row_id = (await self._conn.execute_insert(sql, params) or (0,))[0]
        return int(row_id)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def execute_many(self, sql: str, params: Iterable[Params]) -> None:
        await self._conn.executemany(sql, params)


#: The first copy of SQLite's WAL-index header: the first 48 bytes of the
#: database's ``-shm`` file, rewritten by every commit (its iChange field counts
#: transactions; see https://sqlite.org/walformat.html). Writers write it last,
#: so once a commit has returned, every reader of it sees the change.
WAL_INDEX_HEADER = 48


def _map_wal_index(path: str) -> mmap.mmap | None:
    """Map the WAL-index header read-only, or None where there is none to map.

    Only while one of this process's connections is open: it keeps SQLite from
    truncating the file, which would make reading the map fail.
    """
    try:
        with open(path + "-shm", "rb") as file:
            return mmap.mmap(file.fileno(), WAL_INDEX_HEADER, prot=mmap.PROT_READ)
    except (OSError, ValueError):  # No such file, or too short to be one.
        return None


async def _no_data_upgrade(database: Database) -> None:
    """Nothing to bring up to date beyond what the SQL migrations do."""


class Database:
    """The connections of one worker process to one SQLite file."""

    def __init__(
        self, path: str, upgrade_data: Callable[[Database], Awaitable[object]] = _no_data_upgrade
    ) -> None:
        """
        :param upgrade_data: run after every :meth:`migrate`, for what SQL
            cannot bring up to date (the factory passes the models' step)
        """
        self.path = path
        self._upgrade_data = upgrade_data
        self._reader: aiosqlite.Connection | None = None
        self._writer: aiosqlite.Connection | None = None
        self._open_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        #: The WAL-index header, mapped while the reader is open.
        self._wal_index: mmap.mmap | None = None

    async def _connect(self) -> aiosqlite.Connection:
        await asyncio.to_thread(_create_private_file, self.path)
        # isolation_level=None: no implicit transactions; writes say BEGIN.
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await _switch_to_wal(conn)
            await conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _get_reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            async with self._open_lock:
                # Another request may have opened it while this one waited.
                self._reader = self._reader or await self._open_reader()
        return self._reader

    async def _open_reader(self) -> aiosqlite.Connection:
        conn = await self._connect()
        # Once a connection is open, SQLite's shared memory exists.
        self._wal_index = await asyncio.to_thread(_map_wal_index, self.path)
        return conn

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a read-only query on the shared reader connection."""
        reader = await self._get_reader()
        return list(await reader.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def data_version(self) -> int:
        """A number that changes whenever any connection commits a change.

        Read from SQLite's WAL-index header in shared memory, which every
        commit of any connection in any process rewrites: no query, no lock,
        no trip to a connection's thread. Where it cannot be mapped, SQLite's
        ``PRAGMA data_version`` on the reader, which never writes (so this
        process's writer moves it too).
        """
        if self._reader is None:
            await self._get_reader()
        if self._wal_index is not None:
            return int.from_bytes(self._wal_index[:WAL_INDEX_HEADER], "little")
        row = await self.fetch_one("PRAGMA data_version")
        return int(row[0]) if row else 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Hold the writer for one ``BEGIN IMMEDIATE`` transaction.

        IMMEDIATE takes SQLite's write lock up front, so a transaction that
        reads before it writes never fails half-way with "database is locked".
        It commits when the block ends and rolls back if the block raises.
        """
        async with self._write_lock:
            if self._writer is None:
                self._writer = await self._connect()
            writer = self._writer
            if writer.in_transaction:
                # A transaction whose rollback was itself cancelled: end it.
                await writer.rollback()
            try:
                # Inside the try: a request cancelled (a client gone) while
                # BEGIN is on its way still has the statement run, by the
                # connection's thread, and must roll it back.
                await writer.execute("BEGIN IMMEDIATE")
                yield Transaction(writer)
            except BaseException:
                # Shielded, so that cancelling the request cannot stop it half-way.
                await asyncio.shield(writer.rollback())
                raise
            await writer.commit()

    async def close(self) -> None:
        """Close both connections, ending their threads."""
        if self._wal_index is not None:
            # Before the connections: the file is SQLite's once they are closed.
            self._wal_index.close()
            self._wal_index = None
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    async def schema_version(self) -> int:
        """The schema version of the file; a Flaskr database counts as 1."""
        return await _read_schema_version(self.fetch_one)

    async def has_data(self) -> bool:
        """Whether the database holds any user (posts cannot exist without one)."""
        if await self.schema_version() == 0:
            return False
        return await self.fetch_one("SELECT 1 FROM user LIMIT 1") is not None

    async def migrate(self) -> tuple[int, int]:
        """Bring the schema up to date in place; return (old, new) versions."""
        async with self.transaction() as tx:
            # Read the version inside the write transaction so that two workers
            # starting together cannot both apply the same migration.
            start = await _read_schema_version(tx.fetch_one)
            if start > SCHEMA_VERSION:
                raise SchemaError(
                    f"The database {self.path} has schema version {start}, newer"
                    f" than this release knows ({SCHEMA_VERSION}): upgrade quart_flaskr."
                )
            for version, statements in MIGRATIONS:
                if version > start:
                    for statement in statements:
                        await tx.execute(statement)
            # PRAGMA does not take parameters; the version is our own integer.
            await tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        await self._upgrade_data(self)
        return start, SCHEMA_VERSION

    async def reset(self) -> None:
        """Drop every table, then create the current schema."""
        async with self.transaction() as tx:
            while True:
                # Newest first, so tables go before the tables they reference.
                # Dropping a full-text index also drops its shadow tables, so
                # list again after each drop; triggers and indexes go with tables.
                row = await tx.fetch_one(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%'"
                    " ORDER BY sql LIKE 'CREATE VIRTUAL%' DESC, rowid DESC"
                )
                if row is None:
                    break
                await tx.execute(f'DROP TABLE "{row[0]}"')
            await tx.execute("PRAGMA user_version = 0")
        await self.migrate()

    async def backup(self, target: str) -> None:
        """Write a consistent copy of the database with SQLite's online backup.

        The copy holds password hashes: like the database, it is its owner's only.
        """
        await asyncio.to_thread(_create_private_file, target)
        async with aiosqlite.connect(target) as dest:
            reader = await self._get_reader()
            await reader.backup(dest)


def get_db() -> Database:
    """The current app's database."""
    return cast(Database, current_app.extensions["quart_flaskr.db"])


async def check_schema(database: Database) -> None:
    """Upgrade the schema at start-up, or refuse to serve a database that has none."""
    if await database.schema_version() == 0:
        raise SchemaError(
            f"The database {database.path} has no tables: run"
            " 'quart --app quart_flaskr init-db' first."
        )
    await database.migrate()


def init_app(app: Quart, upgrade_data: Callable[[Database], Awaitable[object]]) -> Database:
    """Attach the database to the app, its life to the app's, and its commands to the CLI.

    :param upgrade_data: what brings rows up to date after the schema migrations
    """
    database = Database(app.config["DATABASE"], upgrade_data)
    app.extensions["quart_flaskr.db"] = database

    @app.before_serving
    async def open_database() -> None:
        try:
            await check_schema(database)
        except BaseException:
            # Quart skips after_serving when start-up fails; an open
            # connection's thread would keep the process from exiting.
            await database.close()
            raise

    @app.after_serving
    async def close_database() -> None:
        await database.close()

    app.cli.add_command(init_db_command)
    app.cli.add_command(migrate_command)
    app.cli.add_command(backup_command)
    return database


def _run(app: Quart, work: Any) -> Any:
    """Run a coroutine function with the app's context and database, then close it.

    Quart's ``with_appcontext`` already runs commands inside an event loop, so
    these commands are plain click commands that start their own.
    """

    async def main() -> Any:
        async with app.app_context():
            try:
                return await work(get_db())
            finally:
                await get_db().close()

    return asyncio.run(main())


@click.command("init-db")
@click.option("--force", is_flag=True, help="Erase a database that already holds data.")
@pass_script_info
def init_db_command(info: ScriptInfo, force: bool) -> None:
    """Create the database tables (refuses to erase existing data without --force)."""

    async def work(database: Database) -> bool:
        if await database.has_data() and not force:
            return False
        await database.reset()
        return True

    if not _run(info.load_app(), work):
        raise click.ClickException(
            "The database already holds users and posts; init-db would erase them."
            " Run 'init-db --force' to erase it, or 'migrate' to upgrade it in place."
        )
    click.echo("Initialized the database.")


@click.command("migrate")
@pass_script_info
def migrate_command(info: ScriptInfo) -> None:
    """Upgrade the database schema in place, keeping its data."""
    start, end = _run(info.load_app(), Database.migrate)
    if start == end:
        click.echo(f"The database is up to date (schema version {end}).")
    else:
        click.echo(f"Upgraded the database from schema version {start} to {end}.")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, writable=True))
@pass_script_info
def backup_command(info: ScriptInfo, target: str) -> None:
    """Write a consistent copy of the database to TARGET, even while serving."""

    async def work(database: Database) -> None:
        await database.backup(target)

    _run(info.load_app(), work)
    click.echo(f"Backed up the database to {target}.")
