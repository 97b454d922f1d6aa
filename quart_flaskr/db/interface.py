"""What the models and the app use of a database, whichever backend holds it.

A backend (``sqlite.py``, ``postgres.py``) implements :class:`Database` and
:class:`Transaction`, returns rows that read by column name or position, and
raises :class:`DatabaseBusyError` or :class:`DatabaseUnavailableError` (never
its driver's own exceptions) when the database cannot answer now, and
:class:`ReferenceGoneError` when a foreign key refuses a statement. Other
driver errors, such as another broken constraint, are the statement's own and
pass through.
"""

from __future__ import annotations

from abc import ABC
from abc import abstractmethod
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any
from typing import Protocol

from quart_flaskr.db import schema

#: Query parameters, in the order of the statement's ``?`` placeholders.
Params = Sequence[Any]


class Row(Protocol):
    """One row of a result: ``row["title"]`` or ``row[0]``."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...

    def keys(self) -> list[str]: ...


class DatabaseUnavailableError(Exception):
    """The database cannot answer now: it cannot be opened, read or written, or was closed."""


class DatabaseBusyError(DatabaseUnavailableError):
    """Another connection held a lock this one needed for longer than the busy timeout."""


class ReferenceGoneError(Exception):
    """A row the statement refers to (a post, an account) was deleted meanwhile.

    A foreign key refused the statement, which changed nothing: another
    transaction deleted the row after this one last looked for it.
    """


class Queries(ABC):
    """What reads rows: a transaction, or the database outside any."""

    @abstractmethod
    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a query and return its rows."""

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None


class Transaction(Queries):
    """One connection while a transaction holds it: every statement is part of the transaction."""

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement and return the number of rows it changed."""

    @abstractmethod
    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT and return the new row's id."""

    @abstractmethod
    async def execute_many(self, sql: str, params: Iterable[Params]) -> None:
        """Run a statement once for each set of parameters."""

    async def insert_rows(self, table: str, columns: Sequence[str], rows: Iterable[Params]) -> None:
        """Insert ``rows``, each the values of ``columns``, into ``table`` (a copy's batch).

        One INSERT a row here; a backend may do it in one statement (see
        ``postgres.py``), so that a trigger run for each statement runs once.
        """
        listed, marks = ", ".join(columns), ", ".join("?" * len(columns))
        await self.execute_many(f'INSERT INTO "{table}" ({listed}) VALUES ({marks})', rows)  # noqa: S608

    @abstractmethod
    async def schema_version(self) -> int:
        """The version of the schema the database holds; 0 when it holds none."""

    @abstractmethod
    async def set_schema_version(self, version: int) -> None:
        """Record that the database holds this version of the schema."""

    @abstractmethod
    async def follow_ids(self, table: str) -> None:
        """Have ``table``'s next new row take an id above every stored one.

        For rows inserted with their ids, as a copy does.
        """

    @abstractmethod
    async def drop_tables(self) -> None:
        """Drop every table (with their indexes and triggers), leaving an empty database."""

    async def lift_time_limits(self) -> None:
        """Let the rest of this transaction's statements and lock waits take as long as they need.

        For the schema's steps, which rewrite whole tables once (at start-up or
        in ``migrate``), not for requests. SQLite sets no such limit.
        """


async def no_data_upgrade(database: Database) -> int:
    """Nothing to bring up to date beyond what the schema migrations do: no row."""
    return 0


class Database(Queries):
    """One process's connections to one database.

    Reads (:meth:`fetch_all`, :meth:`fetch_one`) run outside any transaction;
    writes run in :meth:`transaction`, which the backend gives to one caller
    at a time.
    """

    #: Which SQL the backend speaks beyond what both do ("sqlite", "postgresql"):
    #: the schema scripts and the few queries written twice choose by it.
    dialect: str

    def __init__(self, upgrade_data: Callable[[Database], Awaitable[int]]) -> None:
        """
        :param upgrade_data: run after every :meth:`migrate`, for what the
            schema scripts cannot bring up to date, giving how many rows it
            brought (the factory passes
            ``quart_flaskr.migrations.data.upgrade_data``)
        """
        self.upgrade_data = upgrade_data

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the database is (a file, an address), as messages to operators name it."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A transaction that commits when the block ends and rolls back if it raises.

        It holds the database's write lock from its start, so that a
        transaction that reads before it writes never fails half-way.
        """

    @abstractmethod
    async def data_version(self) -> int:
        """A number that changes whenever any connection, in any process, commits a change."""

    @abstractmethod
    async def schema_version(self) -> int:
        """The version of the schema the database holds; 0 when it holds none."""

    @abstractmethod
    async def backup(self, target: str) -> None:
        """Write a consistent copy of the database to ``target``, even while serving."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connections; the next query opens them again."""

    async def has_data(self) -> bool:
        """Whether the database holds any user (posts cannot exist without one)."""
        return await schema.has_data(self)

    async def migrate(self) -> schema.Migrated:
        """Bring the schema, then the data, up to date in place; say what it did."""
        return await schema.migrate(self)

    async def reset(self) -> None:
        """Drop every table, then create the current schema."""
        await schema.reset(self)
