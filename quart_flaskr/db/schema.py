"""Schema migrations: the SQL scripts in version order, and bringing a database up to them.

``quart_flaskr/schema.sql`` is version 1, the schema Flaskr itself creates; each
``quart_flaskr/migrations/NNNN_name.sql`` upgrades the schema to version NNNN.
After them, the database's data step (``migrations/data.py``) brings rows up to
date where SQL cannot. PostgreSQL has its own scripts in
``migrations/postgresql/``, for the same versions.
"""

from __future__ import annotations

import logging
import sqlite3
from importlib import resources
from typing import NamedTuple
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from quart_flaskr.db.interface import Database

logger = logging.getLogger(__name__)

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
    """Read SQLite's schema scripts shipped with the package, in version order."""
    package = resources.files("quart_flaskr")
    scripts = [(1, package.joinpath("schema.sql").read_text("utf-8"))]
    scripts += _versioned_scripts(package.joinpath("migrations"))
    scripts.sort()
    return [(version, _split_script(script)) for version, script in scripts]


def load_postgres_migrations() -> Migrations:
    """Read PostgreSQL's schema scripts, in version order: each runs as one statement.

    The first creates the whole schema of its version; PostgreSQL runs a
    script of several statements (function bodies included) in one call.
    """
    folder = resources.files("quart_flaskr").joinpath("migrations", "postgresql")
    return [(version, [script]) for version, script in sorted(_versioned_scripts(folder))]


def _versioned_scripts(folder: Traversable) -> list[tuple[int, str]]:
    """The ``NNNN_name.sql`` scripts in ``folder``: (NNNN, text)."""
    return [
        (int(entry.name.split("_", 1)[0]), entry.read_text("utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]


MIGRATIONS = load_migrations()
SCHEMA_VERSION = MIGRATIONS[-1][0]
#: Each backend's scripts, by its dialect.
MIGRATIONS_BY_DIALECT = {"sqlite": MIGRATIONS, "postgresql": load_postgres_migrations()}


class Migrated(NamedTuple):
    """What a migration did."""

    #: The schema version the database had, and the one it has.
    old: int
    new: int
    #: Rows the data step brought up to date (rendered, analysed, measured).
    rows: int


async def migrate(database: Database) -> Migrated:
    """Bring the schema up to date in place, then the data; say what it did.

    A process that starts while another runs a step (which takes as long as it
    needs, see below) waits for it, however long, then finds the schema current.

    :raise SchemaError: when the database's schema is newer than this code's
    """
    # Here, not at the top: the interface module imports this one.
    from quart_flaskr.db.interface import DatabaseBusyError

    while True:
        try:
            start = await _migrate_schema(database)
            break
        except DatabaseBusyError:
            # Only the wait for the write lock is limited: another process holds it.
            logger.warning(
                "Waiting for another process's schema step on %s to end.", database.location
            )
    rows = await database.upgrade_data(database)
    return Migrated(start, SCHEMA_VERSION, rows)


async def _migrate_schema(database: Database) -> int:
    """Run the schema's steps the database lacks, in one transaction; return its old version."""
    async with database.transaction() as tx:
        # Read the version inside the write transaction so that two workers
        # starting together cannot both apply the same migration.
        start = await tx.schema_version()
        if start > SCHEMA_VERSION:
            raise SchemaError(
                f"The database {database.location} has schema version {start}, newer"
                f" than this release knows ({SCHEMA_VERSION}): upgrade quart_flaskr."
            )
        if start < SCHEMA_VERSION:
            # A step may rewrite every post (schema 11 and 12 do): no request's time limit.
            await tx.lift_time_limits()
        for version, statements in MIGRATIONS_BY_DIALECT[database.dialect]:
            if version > start:
                for statement in statements:
                    await tx.execute(statement)
        await tx.set_schema_version(SCHEMA_VERSION)
    return start


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
    """Upgrade the schema at start-up, or refuse to serve an SQLite file that has none.

    An SQLite file without tables is most likely a mistyped ``DATABASE`` (SQLite
    creates what it is asked to open), so it takes ``init-db`` to make a blog
    of it. A PostgreSQL database exists only once an operator has created it:
    the first host to start on an empty one creates the tables, while any
    other starting at the same time waits for it (see :func:`migrate`).

    :raise SchemaError: when an SQLite database has no tables, or any has a newer schema
    """
    if database.dialect == "sqlite" and await database.schema_version() == 0:
        raise SchemaError(
            f"The database {database.location} has no tables: run"
            " 'quart --app quart_flaskr init-db' first."
        )
    await database.migrate()
