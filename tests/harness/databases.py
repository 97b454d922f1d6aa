"""Databases as an older release left them, for the tests of migrations and upgrades."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from quart_flaskr.db import MIGRATIONS


def old_database(
    path: str | Path, version: int, *, script: str = "", **tables: Sequence[Mapping[str, object]]
) -> None:
    """Write a database as schema version ``version`` left it, holding the rows given.

    Every schema script up to ``version`` is applied, and the version recorded
    as that release recorded it: Flaskr's own init-db (version 1) recorded none.

    :param script: SQL run after the rows are in, such as Flaskr's ``data.sql``.
    :param tables: each table's rows, every row a mapping of column to value.
    """
    with closing(sqlite3.connect(path)) as conn, conn:
        for number, statements in MIGRATIONS:
            if number <= version:
                for statement in statements:
                    conn.execute(statement)
        if version > 1:
            conn.execute(f"PRAGMA user_version = {int(version)}")
        for table, rows in tables.items():
            for row in rows:
                columns = ", ".join(row)
                values = ", ".join(f":{column}" for column in row)
                # The table's and columns' names are the test's own.
                conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({values})", row)  # noqa: S608
        if script:
            conn.executescript(script)
