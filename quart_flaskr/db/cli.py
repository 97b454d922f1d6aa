"""The database's commands: init-db, migrate, backup and copy-db.

Quart's ``with_appcontext`` already runs commands inside an event loop, so
these are plain click commands that start their own (see :func:`_run`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from typing import Any
from typing import TypeVar

import click
from quart import Quart
from quart.cli import pass_script_info
from quart.cli import ScriptInfo

from quart_flaskr.db.copy import copy_blog
from quart_flaskr.db.copy import CopyError
from quart_flaskr.db.extension import database_from_config
from quart_flaskr.db.extension import get_db
from quart_flaskr.db.interface import Database
from quart_flaskr.db.interface import DatabaseUnavailableError
from quart_flaskr.db.schema import SchemaError
from quart_flaskr.progress import Progress
from quart_flaskr.stopping import stoppable
from quart_flaskr.stopping import StoppedError

T = TypeVar("T")

MIB = 2**20
#: Seconds between two looks at the size of a backup being written.
BACKUP_POLL = 1.0


def run_command(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's work; a database that cannot answer (down, unreachable, no such
    database or role) or whose schema this release cannot use ends the command with its
    message, not a traceback. SIGTERM or Ctrl-C cancels the work, which undoes what it must
    (see ``stopping.py``), and ends the command with a message saying so."""

    async def stoppable_work() -> T:
        async with stoppable(f"running {click.get_current_context().info_name}"):
            return await work

    try:
        return asyncio.run(stoppable_work())
    except (DatabaseUnavailableError, SchemaError, StoppedError) as error:
        raise click.ClickException(str(error)) from error


async def using_database(app: Quart, work: Callable[[Database], Awaitable[T]]) -> T:
    """``work`` on the app's database within the app's context; the database closed after."""
    database = get_db(app)
    async with app.app_context():
        try:
            return await work(database)
        finally:
            await database.close()


def run_on_database(app: Quart, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` on the app's database as a command (``run_command``)."""
    return run_command(using_database(app, work))


@click.command("init-db")
@click.option("--force", is_flag=True, help="Erase a database that already holds data.")
@pass_script_info
def init_db_command(info: ScriptInfo, force: bool) -> None:
    """Create the database tables (refuses to erase existing data without --force)."""

    async def work(database: Database) -> bool:
        if await database.has_data() and not force:
            return False
        await database.reset()
        return True

    if not run_on_database(info.load_app(), work):
        raise click.ClickException(
            "The database already holds users and posts; init-db would erase them."
            " Run 'init-db --force' to erase it, or 'migrate' to upgrade it in place."
        )
    click.echo("Initialized the database.")


@click.command("migrate")
@pass_script_info
def migrate_command(info: ScriptInfo) -> None:
    """Upgrade the database schema in place, keeping its data."""
    migrated = run_on_database(info.load_app(), Database.migrate)
    rows = f"{migrated.rows:,} row{'' if migrated.rows == 1 else 's'}"
    if migrated.old != migrated.new:
        done = f", and brought {rows} up to date" if migrated.rows else ""
        click.echo(
            f"Upgraded the database from schema version {migrated.old} to {migrated.new}{done}."
        )
    elif migrated.rows:
        # The data step a stopped start or migrate left half done, finished.
        click.echo(
            f"The database's schema was up to date (version {migrated.new}); brought {rows}"
            " up to date."
        )
    else:
        click.echo(f"The database is up to date (schema version {migrated.new}).")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, writable=True))
@pass_script_info
def backup_command(info: ScriptInfo, target: str) -> None:
    """Write a consistent copy of the database to TARGET, even while serving."""
    # Written beside it, then put in its place once whole: a backup that fails
    # (the database away, the disk full, Ctrl-C) leaves TARGET as it was, such as
    # the backup before, and no file that would pass for one.
    partial = f"{target}.partial"
    # One left by a run that was killed outright is written anew, not into: it
    # may be open to other users, or no database at all.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(partial)
    try:
        run_on_database(info.load_app(), lambda database: backup_with_progress(database, partial))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    os.replace(partial, target)
    click.echo(f"Backed up the database to {target}.")


async def _database_bytes(database: Database) -> int | None:
    """How large a copy of an SQLite database is; None on PostgreSQL, whose dump is compressed."""
    if database.dialect != "sqlite":
        return None
    row = await database.fetch_one(
        "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
    )
    return int(row[0]) if row else None


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


async def backup_with_progress(database: Database, target: str) -> None:
    """Back up ``database`` to ``target``, showing how much of the copy is written meanwhile.

    The backup itself runs as before (in one step: a step-by-step SQLite backup
    would start again at every write the blog takes while it runs); its
    progress is read from the size of the file it writes.
    """
    total = await _database_bytes(database)
    progress = Progress("backup", "", None if total is None else total // MIB, unit="MiB")
    task = asyncio.create_task(database.backup(target))
    finished: set[asyncio.Task[None]] = set()
    while not finished:
        finished, _ = await asyncio.wait({task}, timeout=BACKUP_POLL)
        await progress.reach(await asyncio.to_thread(_file_size, target) // MIB)
    await task


@click.command("copy-db")
@click.argument("target")
@pass_script_info
def copy_db_command(info: ScriptInfo, target: str) -> None:
    """Copy the blog into TARGET, an empty database: a postgresql:// URL or an SQLite file.

    Stop serving writes first: what is written meanwhile may be missed.
    """
    app = info.load_app()
    if target.startswith(("postgresql://", "postgres://")):
        settings = {**app.config, "DATABASE_URL": target}
    else:
        settings = {**app.config, "DATABASE_URL": None, "DATABASE": target}
    destination = database_from_config(settings)

    async def work(database: Database) -> dict[str, int]:
        try:
            return await copy_blog(database, destination)
        finally:
            await destination.close()

    try:
        counts = run_on_database(app, work)
    except CopyError as error:
        raise click.ClickException(str(error)) from error
    copied = ", ".join(f"{count} {table}" for table, count in counts.items())
    click.echo(f"Copied {copied} into {destination.location}.")


def init_app(app: Quart) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(migrate_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(copy_db_command)
