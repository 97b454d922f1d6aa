"""The app's database: made from the config, checked at start-up, closed at the end."""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from quart import current_app
from quart import g
from quart import Quart

from quart_flaskr.db.interface import Database
from quart_flaskr.db.interface import no_data_upgrade
from quart_flaskr.db.schema import check_schema
from quart_flaskr.db.sqlite import SQLiteDatabase
from quart_flaskr.stopping import stoppable

_EXTENSION = "quart_flaskr.db"
_DATA_VERSION = "quart_flaskr_data_version"


def get_db(app: Quart | None = None) -> Database:
    """The database of ``app``, by default the current app."""
    database: Database = (current_app if app is None else app).extensions[_EXTENSION]
    return database


async def request_data_version() -> int:
    """The database's data version as this request first read it.

    The login and the page cache both ask; on PostgreSQL each read is a
    query. A request that writes and then asks again gets the version from
    before its write: what it then caches is found stale by the next request.
    """
    version: int | None = g.get(_DATA_VERSION)
    if version is None:
        version = await get_db().data_version()
        setattr(g, _DATA_VERSION, version)
    return version


def database_from_config(
    config: Mapping[str, Any],
    upgrade_data: Callable[[Database], Awaitable[int]] = no_data_upgrade,
) -> Database:
    """The database the config names: ``DATABASE_URL`` when set (PostgreSQL), else ``DATABASE``.

    :raise ValueError: ``DATABASE_URL`` is not a PostgreSQL URL
    """
    url = config["DATABASE_URL"]
    if not url:
        return SQLiteDatabase(config["DATABASE"], upgrade_data)
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValueError(
            f"DATABASE_URL must start with postgresql:// (got {url.split(':', 1)[0]}:...);"
            " leave it unset to use the SQLite file DATABASE."
        )
    from quart_flaskr.db.postgres import PostgresDatabase

    return PostgresDatabase(
        url,
        upgrade_data,
        pool_size=config["DATABASE_POOL_SIZE"],
        timeout=config["DATABASE_TIMEOUT"],
        prepared_statements=config["DATABASE_PREPARED_STATEMENTS"],
    )


def init_app(
    app: Quart, upgrade_data: Callable[[Database], Awaitable[int]] = no_data_upgrade
) -> Database:
    """Attach the database to the app and its life to the app's.

    :param upgrade_data: what brings rows up to date after the schema migrations
    """
    database = database_from_config(app.config, upgrade_data)
    app.extensions[_EXTENSION] = database

    @app.before_serving
    async def open_database() -> None:
        try:
            async with stoppable(
                "bringing the database up to date",
                "the next start goes on from where this one stopped.",
            ):
                await check_schema(database)
        except BaseException:
            # Quart skips after_serving when start-up fails; an open
            # connection's thread would keep the process from exiting.
            await database.close()
            raise

    @app.after_serving
    async def close_database() -> None:
        await database.close()

    return database
