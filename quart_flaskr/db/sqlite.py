"""The SQLite backend: a reader and a writer connection per process, through aiosqlite.

Each worker process holds two connections for its whole life instead of one per
request: a reader shared by all requests (SQLite in WAL mode lets it read while
another connection writes) and a writer that runs one write at a time and
commits the writes that queued for it together (``writes.py``). Both are
opened on first use and closed when the app stops serving.
"""

from __future__ import annotations

import asyncio
import mmap
import os
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager

import aiosqlite

from quart_flaskr.db.interface import Database
from quart_flaskr.db.interface import no_data_upgrade
from quart_flaskr.db.interface import Params
from quart_flaskr.db.interface import Row
from quart_flaskr.db.interface import Transaction
from quart_flaskr.db.sqlite_connect import connect
from quart_flaskr.db.sqlite_connect import create_private_file
from quart_flaskr.db.sqlite_connect import run
from quart_flaskr.db.sqlite_errors import translated_errors
from quart_flaskr.db.writes import LoopLock
from quart_flaskr.db.writes import WriteQueue
from quart_flaskr.db.writes import Writer

#: The first copy of SQLite's WAL-index header: the first 48 bytes of the
#: database's ``-shm`` file, rewritten by every commit (its iChange field counts
#: transactions; see https://sqlite.org/walformat.html). Writers write it last,
#: so once a commit has returned, every reader of it sees the change.
WAL_INDEX_HEADER = 48


async def _read_schema_version(fetch_one: Callable[[str], Awaitable[Row | None]]) -> int:
    """The schema version of the file, read with ``fetch_one``; a Flaskr database counts as 1."""
    row = await fetch_one("PRAGMA user_version")
    version = int(row[0]) if row else 0
    if version == 0 and await fetch_one(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'user'"
    ):
        return 1
    return version


class WalIndex:
    """The WAL-index header of a database, mapped read-only from its ``-shm`` file.

    Open it only while one of this process's connections is open (that keeps
    SQLite from truncating the file, which would make reading the map fail),
    and close it only once they are all closed: SQLite's locks on the file are
    POSIX locks, which closing *any* descriptor of the file in the process
    releases. Released early, another process opening the database believes
    it is the first, resets the shared memory under this one's connections,
    and SQLite dies of a bus error on the next access.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        try:
            self._header: mmap.mmap | None = mmap.mmap(fd, WAL_INDEX_HEADER, prot=mmap.PROT_READ)
        except (OSError, ValueError):  # Too short to be one.
            self._header = None

    @classmethod
    def open(cls, path: str) -> WalIndex | None:
        """Open ``path``'s ``-shm`` file, or None where there is none."""
        try:
            return cls(os.open(path + "-shm", os.O_RDONLY))
        except FileNotFoundError:
            return None

    def read(self) -> int | None:
        """The header as a number, or None where the file could not be mapped."""
        if self._header is None:
            return None
        return int.from_bytes(self._header[:WAL_INDEX_HEADER], "little")

    def close(self) -> None:
        """Unmap and close the file: only once this process's connections to it are closed."""
        if self._header is not None:
            self._header.close()
        os.close(self._fd)


class SQLiteWriter(Writer):
    """The writer connection while writes hold it."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def begin(self) -> None:
        with translated_errors():
            if self._conn.in_transaction:
                # A transaction whose rollback failed, or was itself cancelled: end it.
                await self._conn.rollback()
            await run(self._conn, "BEGIN IMMEDIATE")

    async def savepoint(self, name: str) -> None:
        with translated_errors():
            await run(self._conn, f"SAVEPOINT {name}")

    async def rollback_to(self, name: str) -> None:
        await run(self._conn, f"ROLLBACK TO {name}")

    async def commit(self) -> None:
        with translated_errors():
            await self._conn.commit()

    async def rollback(self) -> None:
        await self._conn.rollback()

    async def execute(self, sql: str, params: Params = ()) -> int:
        with translated_errors():
            async with self._conn.execute(sql, params) as cursor:
                return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        with translated_errors():
            row_id = (await self._conn.execute_insert(sql, params) or (0,))[0]
        return int(row_id)

    async def execute_many(self, sql: str, params: Iterable[Params]) -> None:
        with translated_errors():
            await self._conn.executemany(sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        with translated_errors():
            return list(await self._conn.execute_fetchall(sql, params))

    async def schema_version(self) -> int:
        return await _read_schema_version(self.fetch_one)

    async def set_schema_version(self, version: int) -> None:
        # PRAGMA does not take parameters; the version is our own integer.
        await self.execute(f"PRAGMA user_version = {version}")

    async def follow_ids(self, table: str) -> None:
        """Nothing to do: SQLite's next id always follows the highest stored one."""

    async def drop_tables(self) -> None:
        while True:
            # Newest first, so tables go before the tables they reference.
            # Dropping a full-text index also drops its shadow tables, so
            # list again after each drop; triggers and indexes go with tables.
            row = await self.fetch_one(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%'"
                " ORDER BY sql LIKE 'CREATE VIRTUAL%' DESC, rowid DESC"
            )
            if row is None:
                break
            await self.execute(f'DROP TABLE "{row[0]}"')


class SQLiteDatabase(Database):
    """The connections of one worker process to one SQLite file."""

    dialect = "sqlite"

    def __init__(
        self, path: str, upgrade_data: Callable[[Database], Awaitable[int]] = no_data_upgrade
    ) -> None:
        super().__init__(upgrade_data)
        self.path = path
        self._reader: aiosqlite.Connection | None = None
        self._writer: aiosqlite.Connection | None = None
        self._open_lock = LoopLock()
        self._writes = WriteQueue(self._open_writer, self._keep_writer, location=path)
        #: The WAL-index header, mapped while the reader is open.
        self._wal_index: WalIndex | None = None

    @property
    def location(self) -> str:
        return self.path

    async def _open_writer(self) -> SQLiteWriter:
        if self._writer is None:
            self._writer = await connect(self.path)
        return SQLiteWriter(self._writer)

    @staticmethod
    async def _keep_writer(writer: SQLiteWriter) -> None:
        """Nothing to do between transactions: the one writer stays open for the next."""

    async def _get_reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            async with self._open_lock():
                # Another request may have opened it while this one waited.
                self._reader = self._reader or await self._open_reader()
        return self._reader

    async def _open_reader(self) -> aiosqlite.Connection:
        conn = await connect(self.path)
        try:
            # Once a connection is open, SQLite's shared memory exists.
            self._wal_index = await asyncio.to_thread(WalIndex.open, self.path)
        except BaseException:
            # Cancelled (a client gone) or failed here, the connection would
            # be nobody's, and its thread would run on: closed first.
            await conn.close()
            raise
        return conn

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a read-only query on the shared reader connection."""
        reader = await self._get_reader()
        with translated_errors():
            return list(await reader.execute_fetchall(sql, params))

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
        if self._wal_index is not None and (version := self._wal_index.read()) is not None:
            return version
        row = await self.fetch_one("PRAGMA data_version")
        return int(row[0]) if row else 0

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Hold the writer for one transaction, committed with the writes queued behind it.

        The writer opens the transaction with ``BEGIN IMMEDIATE``, which takes
        SQLite's write lock up front, so a transaction that reads before it
        writes never fails half-way with "database is locked". See
        :mod:`quart_flaskr.db.writes` for how writes queue and commit together.
        """
        return self._writes.transaction()

    async def schema_version(self) -> int:
        """The schema version of the file; a Flaskr database counts as 1."""
        return await _read_schema_version(self.fetch_one)

    async def backup(self, target: str) -> None:
        """Write a consistent copy of the database with SQLite's online backup.

        The copy holds password hashes: like the database, it is its owner's only.
        """
        await asyncio.to_thread(create_private_file, target)
        async with aiosqlite.connect(target) as dest:
            reader = await self._get_reader()
            with translated_errors():
                await reader.backup(dest)

    async def close(self) -> None:
        """Commit the writes waiting, close both connections (and threads), then the map.

        All while holding the writer: a write that comes meanwhile waits, then
        opens a connection of its own.
        """
        async with self._writes.drained():
            for conn in (self._reader, self._writer):
                if conn is not None:
                    await conn.close()
            if self._wal_index is not None:
                # After the connections: closing the file releases their locks.
                self._wal_index.close()
            self._reader = self._writer = self._wal_index = None
