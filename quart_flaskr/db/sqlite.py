"""The SQLite backend: a reader and a writer connection per process, through aiosqlite.

Each worker process holds two connections for its whole life instead of one per
request: a reader shared by all requests (SQLite in WAL mode lets it read while
another connection writes) and a writer that runs one write at a time and
commits the writes that queued for it together (``transaction``). Both are
opened on first use and closed when the app stops serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import mmap
import os
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from contextlib import asynccontextmanager

import aiosqlite

from quart_flaskr.db.interface import Database
from quart_flaskr.db.interface import DatabaseUnavailableError
from quart_flaskr.db.interface import no_data_upgrade
from quart_flaskr.db.interface import Params
from quart_flaskr.db.interface import Row
from quart_flaskr.db.interface import Transaction
from quart_flaskr.db.sqlite_connect import connect
from quart_flaskr.db.sqlite_connect import create_private_file
from quart_flaskr.db.sqlite_errors import translated_errors

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


class _CommitGroup:
    """The writes that share one SQLite transaction and learn together how its commit went."""

    def __init__(self, writer: aiosqlite.Connection) -> None:
        self.writer = writer
        #: Writes that joined after the first, each from a savepoint named after its number.
        self.savepoints = 0
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # A write cancelled while it waits for the commit leaves nobody to read a failure.
        self.committed.add_done_callback(_retrieve)
        #: The task that commits the group when its turn for the writer comes.
        self.committer: asyncio.Task[None] | None = None

    def tell(self, error: BaseException | None) -> None:
        """Give the writes the outcome, once: a later one is of a transaction already ended."""
        with contextlib.suppress(asyncio.InvalidStateError):
            if error is None:
                self.committed.set_result(None)
            else:
                self.committed.set_exception(error)

    async def commit(self) -> None:
        """Commit, then tell the writes; a failed commit is rolled back after telling them."""
        try:
            with translated_errors():
                await self.writer.commit()
        except BaseException as error:
            self.tell(error)
            # A commit that fails may leave the transaction open. Where even the
            # rollback fails, the next write finds it open and tries again.
            with contextlib.suppress(Exception):
                await self.writer.rollback()
        else:
            self.tell(None)


def _retrieve(future: asyncio.Future[None]) -> None:
    """Mark a group's outcome as read, so that asyncio does not log it as never retrieved."""
    future.exception()


class SQLiteTransaction(Transaction):
    """The writer connection while one transaction holds it."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

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
        self, path: str, upgrade_data: Callable[[Database], Awaitable[object]] = no_data_upgrade
    ) -> None:
        super().__init__(upgrade_data)
        self.path = path
        self._reader: aiosqlite.Connection | None = None
        self._writer: aiosqlite.Connection | None = None
        self._open_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._write_lock_loop: asyncio.AbstractEventLoop | None = None
        #: The writes that share the open transaction, until it commits.
        self._group: _CommitGroup | None = None
        #: The WAL-index header, mapped while the reader is open.
        self._wal_index: WalIndex | None = None

    @property
    def location(self) -> str:
        return self.path

    def _writing(self) -> asyncio.Lock:
        """The lock a write holds the writer with: one per event loop.

        The command line runs each command in a loop of its own on the same
        Database, and an asyncio lock that has once been waited for belongs to
        the loop it was waited for in.
        """
        loop = asyncio.get_running_loop()
        if self._write_lock_loop is not loop:
            self._write_lock, self._write_lock_loop = asyncio.Lock(), loop
        return self._write_lock

    async def _get_reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            async with self._open_lock:
                # Another request may have opened it while this one waited.
                self._reader = self._reader or await self._open_reader()
        return self._reader

    async def _open_reader(self) -> aiosqlite.Connection:
        conn = await connect(self.path)
        # Once a connection is open, SQLite's shared memory exists.
        self._wal_index = await asyncio.to_thread(WalIndex.open, self.path)
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

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Hold the writer for one transaction, committed with the writes queued behind it.

        Writes take the writer one at a time. The first opens a ``BEGIN
        IMMEDIATE`` transaction (IMMEDIATE takes SQLite's write lock up front, so
        a transaction that reads before it writes never fails half-way with
        "database is locked"); each write that was waiting for the writer
        meanwhile goes on in that transaction, from a savepoint of its own; then
        they all commit at once (group commit). Every write still commits or
        rolls back as a whole, and returns only once it is committed; a busy
        blog pays one commit (SQLite's journal writes, the search index's flush,
        the disk's sync) for a queue of writes instead of one each.
        """
        async with self._writing():
            if self._writer is None:
                self._writer = await connect(self.path)
            writer = self._writer
            group = self._group
            savepoint = ""
            try:
                # Inside the try: a request cancelled (a client gone) while
                # BEGIN is on its way still has the statement run, by the
                # connection's thread, and must roll it back.
                with translated_errors():
                    if group is None:
                        if writer.in_transaction:
                            # A transaction whose rollback was itself cancelled: end it.
                            await writer.rollback()
                        await writer.execute("BEGIN IMMEDIATE")
                    else:
                        group.savepoints += 1
                        savepoint = f"write_{group.savepoints}"
                        # Never released: the group's COMMIT ends every savepoint.
                        await writer.execute(f"SAVEPOINT {savepoint}")
                yield SQLiteTransaction(writer)
            except BaseException:
                # Shielded, so that cancelling the request cannot stop it half-way.
                await asyncio.shield(self._undo(writer, group, savepoint))
                raise
            group = group or self._start_group(writer)
        await asyncio.shield(group.committed)

    def _start_group(self, writer: aiosqlite.Connection) -> _CommitGroup:
        """Open a group on the transaction a write just began; it commits after those queued."""
        group = self._group = _CommitGroup(writer)
        # Waits for the writer behind the writes already waiting for it.
        group.committer = asyncio.create_task(self._commit_in_turn(group))
        return group

    async def _undo(
        self, writer: aiosqlite.Connection, group: _CommitGroup | None, savepoint: str
    ) -> None:
        """Undo a write that raised: to its savepoint, or the whole transaction if it began it."""
        if group is not None:
            try:
                await writer.execute(f"ROLLBACK TO {savepoint}")
                return
            except Exception:
                # The failure ended the transaction (SQLite rolls back the whole
                # of it on a full disk, say): the group's writes are lost too.
                self._group = None
                group.tell(
                    DatabaseUnavailableError("the write was lost with another in its transaction")
                )
        await writer.rollback()

    async def _commit_in_turn(self, group: _CommitGroup) -> None:
        """Commit ``group`` once the writes queued before this call have joined it."""
        async with self._writing():
            if self._group is group:
                await self._commit(group)

    async def _commit(self, group: _CommitGroup) -> None:
        """Commit the group (the caller holds the writer); shielded, so that cancelling
        the caller (a server stopping) leaves no write without its answer."""
        self._group = None
        await asyncio.shield(group.commit())

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
        async with self._writing():
            if self._group is not None:
                await self._commit(self._group)
            for conn in (self._reader, self._writer):
                if conn is not None:
                    await conn.close()
            if self._wal_index is not None:
                # After the connections: closing the file releases their locks.
                self._wal_index.close()
            self._reader = self._writer = self._wal_index = None
