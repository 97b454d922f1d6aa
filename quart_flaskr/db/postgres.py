"""The PostgreSQL backend: a pool of psycopg connections per process, shared by every host.

Reads run in autocommit on any pooled connection; a write takes a connection
for one transaction, which first takes the blog's advisory lock: writers go
one at a time across every process of every host, as SQLite's ``BEGIN
IMMEDIATE`` makes them go on one machine, so the models' read-then-write
transactions (a username's check, a post's tags) mean the same on both.

The pool is opened on first use and waits at most ``timeout`` seconds for a
connection, and every statement at most as long: a database that is down or
stuck gives :class:`DatabaseUnavailableError` within seconds, and the pool
connects again by itself once the database is back. The server ends a
statement that runs too long itself; one that says nothing at all (frozen, or
behind a network that drops everything) is given up on ``ANSWER_MARGIN_S``
later: its connection is cut off, and the pool makes a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import select
import shutil
import socket
import sys
import time
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from contextlib import AbstractContextManager
from contextlib import asynccontextmanager
from contextlib import contextmanager
from typing import Any
from typing import ClassVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.conninfo import make_conninfo
from psycopg.rows import RowMaker
from psycopg_pool import AsyncConnectionPool

from quart_flaskr.db.interface import Database
from quart_flaskr.db.interface import DatabaseBusyError
from quart_flaskr.db.interface import DatabaseUnavailableError
from quart_flaskr.db.interface import no_data_upgrade
from quart_flaskr.db.interface import Params
from quart_flaskr.db.interface import ReferenceGoneError
from quart_flaskr.db.interface import Row
from quart_flaskr.db.interface import Transaction
from quart_flaskr.db.sqlite_connect import create_private_file
from quart_flaskr.db.writes import LoopLock
from quart_flaskr.db.writes import WriteQueue
from quart_flaskr.db.writes import Writer

#: How much longer than a statement may run (the server's ``statement_timeout``) the
#: client waits for its answer before it gives the server up.
ANSWER_MARGIN_S = 1.0
#: The advisory lock every write transaction holds ("qfwr"): one writer at a time.
WRITE_LOCK = 0x71667772
#: What opens a write transaction: the transaction and its lock, in one trip to the server.
_BEGIN_WRITE = f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
#: The placeholders and literals of the models' SQL: ``?``, ``%`` and quoted text;
#: a placeholder after LIMIT or OFFSET is told apart (group 1).
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|(\b(?:LIMIT|OFFSET)\s+)?\?|%")


def _has_input(socket: int) -> bool:
    """Whether anything waits to be read on ``socket``, without waiting for it."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(socket, select.POLLIN)
        return bool(poller.poll(0))
    # Windows has no poll(); its select() takes a socket of any number.
    return bool(select.select([socket], [], [], 0)[0])


def _seen(future: asyncio.Future[Any]) -> None:
    """Mark a shared read's failure as seen: each caller still waiting gets it too."""
    if not future.cancelled():
        future.exception()


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """The models' SQL (``?`` placeholders) in psycopg's: ``%s``, and ``%`` written ``%%``.

    A ``?`` in quotes is text and stays; psycopg reads ``%`` everywhere, quotes included.
    """
    return "%s".join(_parsed(sql)[0])


def statement(sql: str, params: Params) -> tuple[str, Params]:
    """What to send psycopg for ``sql`` with ``params``: LIMIT counts and OFFSET 0 written in.

    PostgreSQL cannot estimate the rows a LIMIT or OFFSET parameter leaves, so
    the plan it keeps for a prepared statement looks costly beside one made for
    the values given, and it plans such a statement anew at every run: for a
    listing, planning cost four times running it (0.33 of 0.41 ms of the
    server's CPU). With the counts in the text, the plan it keeps is as good as
    a new one and is used. A LIMIT is a page's size (or a batch's), a handful
    of values; an OFFSET is written in only when it is 0, the first page, read
    most: deeper pages stay one statement with a parameter, not a statement
    (and a kept plan on the server) for every page number a URL can name.
    Only whole numbers are written in; anything else stays a parameter.
    """
    counts = _parsed(sql)[1]
    if not counts or max(counts) >= len(params):
        return to_pyformat(sql), params
    values = tuple(_written(params[number], offset) for number, offset in counts.items())
    if all(value is None for value in values):
        return to_pyformat(sql), params
    written = {number for number, value in zip(counts, values, strict=True) if value is not None}
    rest = [value for number, value in enumerate(params) if number not in written]
    return _with_counts(sql, values), rest


def _written(value: object, offset: bool) -> int | None:
    """A count as it is written into a statement; None where it stays a parameter."""
    if type(value) is not int or (offset and value != 0):
        return None
    return value


@functools.lru_cache(maxsize=512)
def _parsed(sql: str) -> tuple[tuple[str, ...], dict[int, bool]]:
    """``sql`` in psycopg's form split at each placeholder; those that follow LIMIT or OFFSET,
    by number (True for OFFSET's)."""
    pieces: list[str] = []
    counts: dict[int, bool] = {}
    text: list[str] = []
    position = 0
    for match in _TOKENS.finditer(sql):
        literal = match.group()
        text.append(sql[position : match.start()])
        position = match.end()
        if not literal.endswith("?"):
            # Quoted text (a ? in it stays), or a % (psycopg reads % everywhere).
            text.append(literal.replace("%", "%%"))
            continue
        keyword = match.group(1)
        if keyword:
            counts[len(pieces)] = keyword.startswith("OFFSET")
            text.append(keyword)
        pieces.append("".join(text))
        text = []
    text.append(sql[position:])
    pieces.append("".join(text))
    return tuple(pieces), counts


@functools.lru_cache(maxsize=1024)
def _with_counts(sql: str, values: tuple[int | None, ...]) -> str:
    """``sql`` in psycopg's form with ``values`` written for its counts (None: a parameter)."""
    pieces, counts = _parsed(sql)
    written = dict(zip(counts, values, strict=True))
    text = [pieces[0]]
    for number, piece in enumerate(pieces[1:]):
        value = written.get(number)
        text.append("%s" if value is None else str(value))
        text.append(piece)
    return "".join(text)


class PostgresRow(tuple[Any, ...]):
    """A row read by position or by column name, as SQLite's rows are.

    A tuple, made by psycopg's own code without a Python call per row; each
    shape of result has a class of its own (``row_class``) that knows the names.
    """

    __slots__ = ()
    #: Each column's position, by its name.
    columns: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any, /) -> Any:
        return super().__getitem__(self.columns[key] if isinstance(key, str) else key)

    def keys(self) -> list[str]:
        return list(self.columns)


#: A process's pool of connections.
Pool = AsyncConnectionPool[psycopg.AsyncConnection[PostgresRow]]


@functools.lru_cache(maxsize=512)
def row_class(names: tuple[bytes | None, ...]) -> type[PostgresRow]:
    """The class of the rows of a result with these column names, as libpq gives them (the
    models' names are ASCII): one class for each shape of result."""
    columns = {(name or b"").decode(): position for position, name in enumerate(names)}
    return type("PostgresRow", (PostgresRow,), {"__slots__": (), "columns": columns})


def _row_maker(cursor: psycopg.AsyncCursor[Any]) -> RowMaker[PostgresRow]:
    # The names straight from the result: cursor.description makes an object
    # for each column, with its type looked up (a tenth of psycopg's work for
    # a listing's query).
    result = cursor.pgresult
    assert result is not None  # psycopg asks for a row maker once it has a result.
    return row_class(tuple(map(result.fname, range(result.nfields))))


@contextmanager
def translated_errors(location: str) -> Iterator[None]:
    """Raise the data layer's errors for a database that cannot answer now.

    A statement cancelled by ``statement_timeout`` or a lock not granted in
    time is busy; anything else about the connection (refused, lost, the
    server shutting down, no pooled connection in time, a server that takes
    no writes) is unavailable. A foreign key that refused a statement is a
    row deleted meanwhile.
    """
    try:
        yield
    except (pg_errors.QueryCanceled, pg_errors.LockNotAvailable) as error:
        raise DatabaseBusyError(f"{location}: {error}") from error
    except pg_errors.ForeignKeyViolation as error:
        raise ReferenceGoneError(f"{location}: {error}") from error
    except (
        psycopg.OperationalError,
        pg_errors.IdleInTransactionSessionTimeout,
        pg_errors.UndefinedTable,
        pg_errors.ReadOnlySqlTransaction,
    ) as error:
        # The second: the server ended a session left idle in a write (see
        # _configure). The third: the blog's tables are not there (yet), as
        # while ``init-db --force`` makes them anew. The fourth: a standby, or
        # a primary demoted during a failover, which the next connection after
        # it may not be.
        raise DatabaseUnavailableError(f"{location}: {error}") from error


@contextmanager
def answered_within(
    conn: psycopg.AsyncConnection[Any], seconds: float | None, location: str
) -> Iterator[None]:
    """Cut the connection off when the server has not answered within ``seconds`` (None: as
    long as it takes), and raise :class:`DatabaseUnavailableError`.

    Cut off, not cancelled: psycopg answers a cancelled query by asking the
    server to cancel it, then waiting for it, 10 s more from a server that
    says nothing. The socket shut down, what waits on it fails at once, and the
    pool replaces the connection.
    """
    if seconds is None:
        yield
        return
    passed: list[bool] = []

    def cut_off() -> None:
        passed.append(True)
        _shut_down(conn.pgconn.socket)

    deadline = asyncio.get_running_loop().call_later(seconds, cut_off)
    try:
        yield
    except psycopg.Error as error:
        if passed:
            message = f"{location}: no answer within {seconds:g} s"
            raise DatabaseUnavailableError(message) from error
        raise
    finally:
        deadline.cancel()


def _shut_down(fd: int) -> None:
    """End the connection of the socket ``fd`` both ways, the descriptor left to its owner."""
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fd)) as sock:
        sock.shutdown(socket.SHUT_RDWR)


class PostgresWriter(Writer):
    """One pooled connection while writes hold it."""

    def __init__(
        self,
        pool: Pool,
        conn: psycopg.AsyncConnection[PostgresRow],
        location: str,
        answer_seconds: float,
    ) -> None:
        self.pool = pool
        self.conn = conn
        self._location = location
        self._answer_seconds = answer_seconds

    def _answered(self) -> AbstractContextManager[None]:
        """Each statement's answer waited for as long as the server lets it run: without
        limit once ``lift_time_limits`` has lifted the server's."""
        seconds = None if self.ungrouped else self._answer_seconds
        return answered_within(self.conn, seconds, self._location)

    async def begin(self) -> None:
        """``BEGIN`` and taking the write lock go to the server together, one trip."""
        self.ungrouped = False
        await self.execute(_BEGIN_WRITE)

    async def savepoint(self, name: str) -> None:
        await self.execute(f"SAVEPOINT {name}")

    async def rollback_to(self, name: str) -> None:
        await self.execute(f"ROLLBACK TO SAVEPOINT {name}")

    async def commit(self) -> None:
        """Commit; a transaction a failed statement aborted is rolled back instead, and says so.

        PostgreSQL answers such a COMMIT with ``ROLLBACK`` and no error: a write
        that caught a statement's error and went on would otherwise be told its
        group was stored.
        """
        with translated_errors(self._location):
            with self._answered():
                cursor = await self.conn.execute(b"COMMIT")
        if cursor.statusmessage != "COMMIT":
            raise DatabaseUnavailableError(
                f"{self._location}: the transaction was rolled back: a statement in it failed"
            )

    async def rollback(self) -> None:
        # The pool rolls back, or drops, a connection this could not.
        with contextlib.suppress(psycopg.Error):
            await self.conn.execute(b"ROLLBACK")

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; without parameters, as written (a whole schema script may be one)."""
        with translated_errors(self._location):
            with self._answered():
                if params:
                    cursor = await self.conn.execute(*statement(sql, params))
                else:
                    cursor = await self.conn.execute(sql.encode())
            return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        with translated_errors(self._location):
            with self._answered():
                cursor = await self.conn.execute(to_pyformat(sql) + " RETURNING id", params)
                row = await cursor.fetchone()
        assert row is not None  # An INSERT ... VALUES that succeeds returns its row.
        return int(row[0])

    async def execute_many(self, sql: str, params: Iterable[Params]) -> None:
        with translated_errors(self._location):
            with self._answered():
                async with self.conn.cursor() as cursor:
                    await cursor.executemany(to_pyformat(sql), list(params))

    async def insert_rows(self, table: str, columns: Sequence[str], rows: Iterable[Params]) -> None:
        """``COPY ... FROM STDIN``: one statement for all the rows.

        An INSERT a row moved data_version once a row (its trigger runs for each
        statement), and each move of that one row in one transaction is slower
        than the last: copying 200,000 posts took 7.5 minutes against 33 s for
        50,000. With COPY the trigger runs once a batch.
        """
        statement = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
        with translated_errors(self._location):
            with self._answered():
                async with self.conn.cursor() as cursor, cursor.copy(statement) as copy:
                    for row in rows:
                        await copy.write_row(row)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[PostgresRow]:  # type: ignore[override]
        with translated_errors(self._location):
            with self._answered():
                cursor = await self.conn.execute(*statement(sql, params))
                return await cursor.fetchall()

    async def schema_version(self) -> int:
        return await _read_schema_version(self.fetch_one)

    async def set_schema_version(self, version: int) -> None:
        if version == 0:
            return  # Only ever after drop_tables: no table left to say so.
        await self.execute("UPDATE schema_version SET version = ?", (version,))

    async def follow_ids(self, table: str) -> None:
        """Move the table's identity sequence past its highest id (or back to 1 when empty)."""
        last = f'SELECT max(id) FROM "{table}"'  # noqa: S608 - a table of the schema's own
        await self.execute(
            f"SELECT setval(pg_get_serial_sequence(?, 'id'), coalesce(({last}), 1),"
            f" ({last}) IS NOT NULL)",
            (f'"{table}"',),
        )

    async def lift_time_limits(self) -> None:
        """The connection's statement and lock timeouts (see ``_configure``) off until the end
        of the transaction: a step over a million posts' table takes longer than a request may."""
        await self.execute("SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0")
        self.ungrouped = True

    async def drop_tables(self) -> None:
        # What the schema scripts create: tables, then functions (with the
        # triggers and aggregates that use them), then the text search objects
        # of a database still at schema 7 (version 8 dropped them, but
        # "init-db --force" must also empty an older database, whose script 7
        # then creates them again); extensions' own functions stay.
        await self.execute(_DROP_EVERYTHING)


_DROP_EVERYTHING = """
DO $$
DECLARE
  statement TEXT;
BEGIN
  FOR statement IN
    SELECT 'DROP TABLE IF EXISTS ' || quote_ident(tablename) || ' CASCADE'
    FROM pg_tables WHERE schemaname = current_schema()
  LOOP
    EXECUTE statement;
  END LOOP;
  FOR statement IN
    SELECT 'DROP FUNCTION IF EXISTS ' || p.oid::regprocedure::text || ' CASCADE'
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = current_schema() AND p.prokind = 'f'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE statement;
  END LOOP;
  DROP TEXT SEARCH CONFIGURATION IF EXISTS quart_flaskr_search;
  DROP TEXT SEARCH DICTIONARY IF EXISTS quart_flaskr_english;
END
$$
"""


async def _read_schema_version(fetch_one: Callable[[str], Awaitable[Row | None]]) -> int:
    """The version the schema_version table records; 0 where there is no such table."""
    row = await fetch_one("SELECT to_regclass('schema_version') IS NOT NULL")
    if not row or not row[0]:
        return 0
    row = await fetch_one("SELECT version FROM schema_version")
    return int(row[0]) if row else 0


async def _configure(conn: psycopg.AsyncConnection[Any], milliseconds: int) -> None:
    """Set up a new connection: UTC, and every statement, lock wait and write bounded.

    The schema stores UTC timestamps without a zone, as SQLite does, and the
    models compare them with ``CURRENT_TIMESTAMP``: in UTC, they mean the same.
    A transaction idle four times the timeout belongs to a host that stopped
    mid-write (frozen, cut off) while holding every host's write lock: the
    server ends its session, and the lock with it.
    """
    await conn.execute("SET TIME ZONE 'UTC'")
    await conn.execute(f"SET statement_timeout = {milliseconds}")
    await conn.execute(f"SET lock_timeout = {milliseconds}")
    await conn.execute(f"SET idle_in_transaction_session_timeout = {4 * milliseconds}")


def _ended_with_this_process(program: str) -> list[str]:
    """How to start ``program`` so that it ends when this process does, however that ends.

    A command stopped by a signal it can catch ends the program itself; one
    killed (``kill -9``, the out-of-memory killer) cannot, and the program would
    write on alone. On Linux, util-linux's ``setpriv`` gives the program a
    parent-death signal, then runs it in its own place: SIGTERM once its parent
    is gone. Elsewhere, or without ``setpriv``, the program as it is.
    """
    setpriv = shutil.which("setpriv") if sys.platform == "linux" else None
    return [program] if setpriv is None else [setpriv, "--pdeathsig", "TERM", "--", program]


class PostgresDatabase(Database):
    """One process's pool of connections to one PostgreSQL database."""

    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        upgrade_data: Callable[[Database], Awaitable[int]] = no_data_upgrade,
        *,
        pool_size: int = 10,
        timeout: float = 5.0,
        prepared_statements: bool = False,
    ) -> None:
        """
        :param url: a libpq connection string or ``postgresql://`` URL
        :param pool_size: most connections this process holds
        :param timeout: seconds to wait for a connection, to connect, and
            for any statement to finish
        :param prepared_statements: keep each statement a connection has run
            a few times prepared on the server, planned once; not behind a
            pooler that cannot follow them (PgBouncer before 1.21, or with
            ``max_prepared_statements = 0``)
        """
        super().__init__(upgrade_data)
        self.url = url
        self._pool_size = pool_size
        self._timeout = timeout
        self._prepared_statements = prepared_statements
        self._pool: Pool | None = None
        self._open_lock = LoopLock()
        # A write waiting its turn longer than any statement may take is busy too.
        self._writes = WriteQueue(
            self._open_writer, self._release_writer, location=self.location, timeout=timeout
        )
        #: Done when the data version's read under way is; the read callers now wait for.
        self._version_read: asyncio.Future[None] | None = None
        self._next_version_read: asyncio.Future[int] | None = None

    @functools.cached_property
    def location(self) -> str:
        """The URL without its password, if it has one."""
        return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", self.url)

    def _new_pool(self) -> Pool:
        milliseconds = int(self._timeout * 1000)
        return AsyncConnectionPool(
            self.url,
            connection_class=psycopg.AsyncConnection[PostgresRow],
            kwargs={
                "autocommit": True,
                "row_factory": _row_maker,
                # psycopg's default: prepared at the fifth run on a connection.
                # None prepares nothing, for any pooler between.
                "prepare_threshold": 5 if self._prepared_statements else None,
                "connect_timeout": max(1, round(self._timeout)),
            },
            configure=functools.partial(_configure, milliseconds=milliseconds),
            min_size=1,
            max_size=self._pool_size,
            timeout=self._timeout,
            # A connection that cannot be made is tried again after 1 s, 2 s,
            # 4 s...: with the default (5 minutes), after an outage of a minute
            # the next try could be a minute away. Given up after the timeout,
            # its place goes to the next request that waits, which tries at once.
            reconnect_timeout=self._timeout,
            # Connections are checked as requests take them (_live_connection).
            open=False,
            name="quart_flaskr",
        )

    async def _get_pool(self) -> Pool:
        pool = self._pool
        if pool is None:
            async with self._open_lock():
                # Another request may have opened it while this one waited.
                pool = self._pool = self._pool or await self._open_pool()
        return pool

    async def _open_pool(self) -> Pool:
        pool = self._new_pool()
        # Connecting goes on in the background; the first request waits for
        # a connection at most the timeout.
        await pool.open(wait=False)
        return pool

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[PostgresRow]]:
        pool = await self._get_pool()
        with translated_errors(self.location):
            conn = await self._live_connection(pool)
            try:
                # Handed back as it is: the pool rolls back what a failure left open.
                yield conn
            finally:
                await pool.putconn(conn)

    async def _live_connection(self, pool: Pool) -> psycopg.AsyncConnection[PostgresRow]:
        """A pooled connection the server has not ended, within the timeout.

        A connection the server closed (a restart, ``pg_terminate_backend``)
        has the server's last words or the end of the stream waiting on its
        socket: it is closed, handed back for the pool to replace, and the
        next one tried at once. An idle connection has nothing to read, so
        telling costs one look at the socket, not a round trip. (The pool's
        own check is a round trip, and waits a second, then two, between
        tries: with a few ended connections in the pool, a request waited
        past its timeout for a database that answered.)
        """
        deadline = time.monotonic() + self._timeout
        while True:
            conn = await pool.getconn(timeout=max(deadline - time.monotonic(), 0.0))
            if not _has_input(conn.pgconn.socket):
                return conn
            await conn.close()
            await pool.putconn(conn)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[PostgresRow]:  # type: ignore[override]
        """Run a read-only query on a pooled connection, in autocommit."""
        async with self._connection() as conn:
            with answered_within(conn, self._timeout + ANSWER_MARGIN_S, self.location):
                cursor = await conn.execute(*statement(sql, params))
                return await cursor.fetchall()

    async def data_version(self) -> int:
        """The counter the schema's triggers move with every write to a table pages show.

        Callers share reads. One that asks while a read is on its way waits
        for the next read, which starts when that one is done and answers
        everyone who asked meanwhile. So each caller gets a value read after
        it asked (every write committed before then is counted), and a burst
        of requests costs the server two queries, not one each.
        """
        if self._next_version_read is None:
            if self._version_read is None:
                # Nothing under way: read now, in the caller's own task.
                return await self._read_data_version()
            self._next_version_read = asyncio.ensure_future(
                self._read_next_data_version(self._version_read)
            )
            # Its callers may all have given up (timed out, gone) when it fails.
            self._next_version_read.add_done_callback(_seen)
        try:
            # The read under way may itself take the whole timeout: a caller
            # waits no longer than its own. And one caller's cancellation must
            # not cancel the read the others wait for.
            async with asyncio.timeout(self._timeout):
                return await asyncio.shield(self._next_version_read)
        except TimeoutError as error:
            raise DatabaseUnavailableError(
                f"{self.location}: no answer within {self._timeout:g} s"
            ) from error

    async def _read_data_version(self) -> int:
        done = self._version_read = asyncio.get_running_loop().create_future()
        try:
            row = await self.fetch_one("SELECT version FROM data_version")
        finally:
            self._version_read = None
            done.set_result(None)
        return int(row[0]) if row else 0

    async def _read_next_data_version(self, under_way: asyncio.Future[None]) -> int:
        try:
            # Shielded: cancelling this read must not cancel the one under way.
            await asyncio.shield(under_way)
        finally:
            # Whoever asks from now on waits for the read after this one.
            self._next_version_read = None
        return await self._read_data_version()

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """One transaction holding the write lock from its start, committed with the writes
        of this process queued behind it (see :mod:`quart_flaskr.db.writes`).

        The group holds one pooled connection until its commit: a post takes
        four trips to the server, where it took five, and a burst of posts
        commits once.
        """
        return self._writes.transaction()

    async def _open_writer(self) -> PostgresWriter:
        pool = await self._get_pool()
        with translated_errors(self.location):
            return PostgresWriter(
                pool,
                await self._live_connection(pool),
                self.location,
                self._timeout + ANSWER_MARGIN_S,
            )

    @staticmethod
    async def _release_writer(writer: PostgresWriter) -> None:
        """Hand the connection back: the pool rolls back what a failure left open."""
        await writer.pool.putconn(writer.conn)

    async def schema_version(self) -> int:
        return await _read_schema_version(self.fetch_one)

    async def backup(self, target: str) -> None:
        """A consistent snapshot by PostgreSQL's own ``pg_dump``, in its format for ``pg_restore``.

        pg_dump reads in one repeatable-read transaction, so the copy is
        consistent while every host keeps serving. Like the database, the
        file is its owner's only. The password goes to pg_dump in its
        environment, never on its command line, which other users may read.

        :raise DatabaseUnavailableError: pg_dump is not installed, or failed
        """
        program = shutil.which("pg_dump")
        if program is None:
            raise DatabaseUnavailableError(
                "pg_dump is not installed: install PostgreSQL's client programs"
                " (Debian: apt-get install postgresql-client) of the server's version or newer."
            )
        await asyncio.to_thread(create_private_file, target)
        settings = conninfo_to_dict(self.url)
        password = settings.pop("password", None)
        environment = dict(os.environ)
        if password is not None:
            environment["PGPASSWORD"] = str(password)
        process = await asyncio.create_subprocess_exec(
            *_ended_with_this_process(program),
            "--format=custom",
            f"--file={target}",
            f"--dbname={make_conninfo('', **settings)}",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
        )
        try:
            _, errors = await process.communicate()
        except BaseException:
            # Cancelled (the command stopped): pg_dump must not write on alone.
            with contextlib.suppress(ProcessLookupError):  # it has just ended
                process.kill()
            await process.wait()
            raise
        if process.returncode != 0:
            raise DatabaseUnavailableError(
                f"pg_dump of {self.location} failed: {errors.decode(errors='replace').strip()}"
            )

    async def close(self) -> None:
        """Commit the writes waiting, then close the pool and its connections; the next
        query opens a new one."""
        async with self._writes.drained():
            pool, self._pool = self._pool, None
            if pool is not None:
                await pool.close()
