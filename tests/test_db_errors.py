"""The SQLite backend raises the data layer's own errors when the database cannot answer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from quart_flaskr.db import DatabaseBusyError
from quart_flaskr.db import DatabaseUnavailableError
from quart_flaskr.db import SQLiteDatabase


async def test_a_write_lock_held_past_the_busy_timeout_is_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("quart_flaskr.db.sqlite_connect.BUSY_TIMEOUT_MS", 50)
    database = SQLiteDatabase(str(tmp_path / "locked.sqlite"))
    try:
        await database.reset()
        other = sqlite3.connect(database.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(DatabaseBusyError, match="locked") as caught:
            async with database.transaction():
                pass
        # Reads go on meanwhile (WAL).
        assert await database.fetch_one('SELECT 1 FROM "user"') is None
        other.execute("ROLLBACK")
        other.close()
        # Told by SQLite's code, kept as the cause.
        cause = caught.value.__cause__
        assert isinstance(cause, sqlite3.OperationalError)
        assert cause.sqlite_errorname == "SQLITE_BUSY"
        # The writer works once the lock is gone.
        async with database.transaction() as tx:
            assert (
                await tx.execute("INSERT INTO \"user\" (username, password) VALUES ('u', 'x')") == 1
            )
    finally:
        await database.close()


async def test_a_connection_closed_under_a_query_is_unavailable(tmp_path: Path) -> None:
    database = SQLiteDatabase(str(tmp_path / "closed.sqlite"))
    try:
        await database.fetch_all("SELECT 1")
        reader = database._reader
        assert reader is not None
        await reader.close()
        with pytest.raises(DatabaseUnavailableError) as caught:
            await database.fetch_all("SELECT 1")
        assert isinstance(caught.value.__cause__, ValueError)
    finally:
        await database.close()
