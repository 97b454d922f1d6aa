"""Opening a connection to an SQLite file: private to its owner, in WAL mode, waiting for locks.

Every connection has WAL (readers and one writer at once), a busy timeout (a
writer waits for another process's write lock instead of failing at once) and
foreign keys on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

import aiosqlite

from quart_flaskr.db.sqlite_errors import is_busy
from quart_flaskr.db.sqlite_errors import translated_errors

#: How long a writer waits for another process's write lock, in milliseconds.
BUSY_TIMEOUT_MS = 10_000
#: How often to try again to switch a locked database into WAL mode, in milliseconds.
WAL_RETRY_MS = 20


def create_private_file(path: str) -> None:
    """Create the database file readable by its owner only, if it is missing.

    SQLite gives the -wal and -shm files it creates the same permissions. A
    file that exists is never opened here: SQLite's locks are POSIX locks,
    which closing any descriptor of the file releases for the whole process,
    connections already open included.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


async def run(conn: aiosqlite.Connection, sql: str) -> None:
    """Run ``sql`` for what it does, its cursor closed at once.

    A cursor left to the garbage collector keeps its statement in progress
    until collected (a PRAGMA's row unread), and SQLite refuses to commit
    while one is: anything keeping the frame alive a moment longer (a
    profiler, a debugger, a kept traceback) made the next commit fail.
    """
    async with conn.execute(sql):
        pass


async def _switch_to_wal(conn: aiosqlite.Connection) -> None:
    """Put the file in WAL mode (a no-op once it is: the mode is kept in the file).

    Switching needs every other connection out of the way, and SQLite does not
    wait for that with the busy timeout when connections open together (workers
    starting on a database from before WAL), so wait here, as long as it would.
    """
    for _ in range(BUSY_TIMEOUT_MS // WAL_RETRY_MS):
        try:
            await run(conn, "PRAGMA journal_mode = WAL")
            return
        except aiosqlite.OperationalError as error:
            if not is_busy(error):
                raise
            await asyncio.sleep(WAL_RETRY_MS / 1000)
    await run(conn, "PRAGMA journal_mode = WAL")


async def connect(path: str) -> aiosqlite.Connection:
    """A connection with WAL, the busy timeout and foreign keys, to a file only its owner reads."""
    with translated_errors():
        await asyncio.to_thread(create_private_file, path)
        # isolation_level=None: no implicit transactions; writes say BEGIN.
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await run(conn, f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await _switch_to_wal(conn)
            await run(conn, "PRAGMA foreign_keys = ON")
        except BaseException:
            await conn.close()
            raise
    return conn
