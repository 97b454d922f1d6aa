"""Schema migrations: the SQL scripts in version order, and bringing a database up to them.

``quart_flaskr/schema.sql`` is version 1, the schema Flaskr itself creates; each
``quart_flaskr/migrations/NNNN_name.sql`` upgrades the schema to version NNNN.
After them, the database's data step (``migrations/data.py``) brings rows up to
date where SQL cannot. The scripts are SQLite's: a second backend brings its own.
"""

from __future__ import annotations

import sqlite3
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quart_flaskr.db.interface import Database

#: Each schema version and the statements that upgrade the one before it to it.
Migrations = list[tuple[int, list[str]]]


class SchemaError(RuntimeError):
    """The database has no schema, or one newer than this code knows."""


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


def load_migrations() -> Migrations:
    """Read the schema scripts shipped with the package, in version order."""
    package = resources.files("quart_flaskr")
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


async def migrate(database: Database) -> tuple[int, int]:
    """Bring the schema up to date in place, then the data; return (old, new) versions.

    :raise SchemaError: when the database's schema is newer than this code's
    """
    async with database.transaction() as tx:
        # Read the version inside the write transaction so that two workers
        # starting together cannot both apply the same migration.
        start = await tx.schema_version()
        if start > SCHEMA_VERSION:
            raise SchemaError(
                f"The database {database.location} has schema version {start}, newer"
                f" than this release knows ({SCHEMA_VERSION}): upgrade quart_flaskr."
            )
        for version, statements in MIGRATIONS:
            if version > start:
                for statement in statements:
                    await tx.execute(statement)
        await tx.set_schema_version(SCHEMA_VERSION)
    await database.upgrade_data(database)
    return start, SCHEMA_VERSION


async def reset(database: Database) -> None:
    """Drop every table, then create the current schema."""
    async with database.transaction() as tx:
        await tx.drop_tables()
        await tx.set_schema_version(0)
    await migrate(database)


async def has_data(database: Database) -> bool:
    """Whether the database holds any user (posts cannot exist without one)."""
    if await database.schema_version() == 0:
        return False
    return await database.fetch_one('SELECT 1 FROM "user" LIMIT 1') is not None


async def check_schema(database: Database) -> None:
    """Upgrade the schema at start-up, or refuse to serve a database that has none.

    :raise SchemaError: when the database has no tables, or a newer schema
    """
    if await database.schema_version() == 0:
        raise SchemaError(
            f"The database {database.location} has no tables: run"
            " 'quart --app quart_flaskr init-db' first."
        )
    await database.migrate()
