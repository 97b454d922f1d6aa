"""The data layer: what the models use of a database, SQLite behind it, migrations, commands.

- ``interface.py``: :class:`Database` and :class:`Transaction`, the rows they
  return, and the errors that mean the database cannot answer now;
- ``writes.py``: how a process writes on either backend, in turn and committed in groups;
- ``sqlite.py`` (with ``sqlite_connect.py`` and ``sqlite_errors.py``): the SQLite backend;
- ``postgres.py``: the PostgreSQL backend;
- ``schema.py``: the schema scripts and the migration runner;
- ``cli.py``: the init-db, migrate and backup commands;
- ``extension.py``: the app's database, opened and checked at start-up.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable

from quart import Quart

from quart_flaskr.db import cli
from quart_flaskr.db import extension
from quart_flaskr.db.extension import get_db
from quart_flaskr.db.extension import request_data_version
from quart_flaskr.db.interface import Database
from quart_flaskr.db.interface import DatabaseBusyError
from quart_flaskr.db.interface import DatabaseUnavailableError
from quart_flaskr.db.interface import no_data_upgrade
from quart_flaskr.db.interface import Params
from quart_flaskr.db.interface import ReferenceGoneError
from quart_flaskr.db.interface import Row
from quart_flaskr.db.interface import Transaction
from quart_flaskr.db.schema import check_schema
from quart_flaskr.db.schema import MIGRATIONS
from quart_flaskr.db.schema import SCHEMA_VERSION
from quart_flaskr.db.schema import SchemaError
from quart_flaskr.db.sqlite import SQLiteDatabase

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Database",
    "DatabaseBusyError",
    "DatabaseUnavailableError",
    "Params",
    "ReferenceGoneError",
    "Row",
    "SQLiteDatabase",
    "SchemaError",
    "Transaction",
    "check_schema",
    "get_db",
    "init_app",
    "request_data_version",
]


def init_app(
    app: Quart, upgrade_data: Callable[[Database], Awaitable[int]] = no_data_upgrade
) -> Database:
    """Attach the database to the app, its life to the app's, and its commands to the CLI.

    :param upgrade_data: what brings rows up to date after the schema migrations
    """
    database = extension.init_app(app, upgrade_data)
    cli.init_app(app)
    return database
