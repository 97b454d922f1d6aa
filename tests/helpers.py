"""What the in-process tests share: the test app's settings and rows, and a browser's ways.

The fixtures that use these are in ``tests/fixtures/app.py``; a test imports
from here what it calls itself.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from typing import TypeVar

import psycopg
from quart import Quart
from quart import Response
from quart.typing import TestClientProtocol

from quart_flaskr.db import Database
from quart_flaskr.db import get_db
from quart_flaskr.db import SCHEMA_VERSION
from quart_flaskr.db import SQLiteDatabase
from quart_flaskr.db.interface import Queries
from quart_flaskr.db.postgres import PostgresDatabase
from quart_flaskr.db.postgres import PostgresWriter
from quart_flaskr.models import posts
from tests.harness.forms import CSRF_FIELD
from tests.harness.forms import csrf_token_in

#: The test client's type, under a name pytest does not try to collect.
Client = TestClientProtocol
#: Makes an app with other settings over the seeded test database (the ``make_app`` fixture).
AppFactory = Callable[..., Awaitable[Quart]]
#: Flaskr's test data: the users ``test`` and ``other`` and one post by ``test``.
DATA_SQL = (Path(__file__).parent / "data.sql").read_text("utf-8")
#: A broken constraint, as each backend's driver raises it.
CONSTRAINT_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)
#: Cheap hashes keep the suite fast; test_passwords checks the real method.
FAST_HASH = "pbkdf2:sha256:1000"
T = TypeVar("T")


def make_config(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """The test app's settings: its database in ``tmp_path``, cheap password hashes."""
    return {
        "TESTING": True,
        "DATABASE": str(tmp_path / "test.sqlite"),
        "PASSWORD_HASH_METHOD": FAST_HASH,
        **overrides,
    }


async def seed(database: Database) -> None:
    """Create the schema and the users and post the tests expect.

    A PostgreSQL database the run shares, already at the current schema, is
    emptied instead of created anew: a tenth of the time.
    """
    if database.dialect == "postgresql" and await database.schema_version() == SCHEMA_VERSION:
        async with database.transaction() as tx:
            tables = ", ".join(f'"{name}"' for name in await table_names(tx) if name not in KEPT)
            await tx.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    else:
        await database.reset()
    async with database.transaction() as tx:
        for statement in DATA_SQL.split(";"):
            if statement.strip():
                await tx.execute(statement)


#: The tables emptying a PostgreSQL test database keeps as they are.
KEPT = {"schema_version", "data_version"}
#: The others, each before the tables it references.
EMPTIED = (
    "post_like",
    "comment",
    "post_tag",
    "tag",
    "login_session",
    "rate_limit",
    "image",
    "post",
    "user",
)


@asynccontextmanager
async def serving(app: Quart) -> AsyncIterator[Quart]:
    """The app serving on the seeded test database, its connections closed in every case.

    test_app runs the start-up and shut-down hooks, which migrate the schema
    and close the database's connections; but Quart skips the shut-down hooks
    when the start-up fails, and the seeding opened the connections before it:
    left open, their threads would keep pytest from exiting.
    """
    try:
        async with app.app_context():
            await seed(get_db(app))
        async with app.test_app():
            yield app
    finally:
        await get_db(app).close()


def on_database(app: Quart, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` on the app's database, as the command line does, then close it."""

    async def main() -> T:
        async with app.app_context():
            database = get_db(app)
            try:
                return await work(database)
            finally:
                await database.close()

    return asyncio.run(main())


async def csrf_token(client: Client, path: str = "/auth/login") -> str:
    """The CSRF token a page's form carries, as a browser would read it."""
    response = await client.get(path)
    token = csrf_token_in(await response.get_data(as_text=True))
    assert token is not None, f"no CSRF token on {path}"
    return token


class AuthActions:
    """Registers, logs in and out through the forms, as Flaskr's tests do."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def register(self, username: str, password: str) -> Response:
        return await post_form(
            self._client,
            "/auth/register",
            {"username": username, "password": password},
            token_from="/auth/register",
        )

    async def login(self, username: str = "test", password: str = "test") -> Response:
        return await post_form(
            self._client,
            "/auth/login",
            {"username": username, "password": password},
            token_from="/auth/login",
        )

    async def logout(self) -> Response:
        return await post_form(self._client, "/auth/logout", {})


async def post_form(
    client: Client, path: str, form: dict[str, str], token_from: str = "/"
) -> Response:
    """Submit a form with a valid CSRF token, read from the page ``token_from``."""
    return await client.post(path, form={**form, CSRF_FIELD: await csrf_token(client, token_from)})


def session_cookie(client: Client) -> str:
    """The raw value of the client's session cookie."""
    assert client.cookie_jar is not None
    values = [cookie.value for cookie in client.cookie_jar if cookie.name == "session"]
    assert values and values[0] is not None, "no session cookie"
    return values[0]


def replay_cookie(app: Quart, client: Client) -> Client:
    """Another browser that sends a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("localhost", "session", session_cookie(client))
    return thief


async def page_text(client: Client, path: str) -> str:
    """The page at ``path``, which must answer 200."""
    response = await client.get(path)
    assert response.status_code == 200, path
    return await response.get_data(as_text=True)


def titles(page: str) -> list[str]:
    """The titles of the posts a listing shows, in order."""
    return re.findall(r'<h2><a href="/\d+">([^<]*)</a></h2>', page)


async def add_posts(db: Database, count: int, author_id: int = 1, **fields: Any) -> list[int]:
    """Posts "post 1" … "post N", each a minute newer than the one before, after the seeded one."""
    ids = []
    for number in range(1, count + 1):
        post_id = await posts.insert_post(
            db, author_id, f"post {number}", f"body {number}", **fields
        )
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE post SET created = ? WHERE id = ?",
                (f"2019-01-01 00:{number:02d}:00", post_id),
            )
        ids.append(post_id)
    return ids


def another_connection(database: Database) -> Database:
    """The same database through connections of its own, as another process or host has."""
    if isinstance(database, PostgresDatabase):
        return PostgresDatabase(database.url)
    assert isinstance(database, SQLiteDatabase)
    return SQLiteDatabase(database.path)


async def table_names(database: Queries) -> list[str]:
    """The tables of the blog's schema (SQLite's full-text index's own left out)."""
    if isinstance(database, (PostgresDatabase, PostgresWriter)):
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
    else:
        sql = (
            "SELECT name FROM sqlite_master AS t WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND sql NOT LIKE 'CREATE VIRTUAL%' AND NOT EXISTS (SELECT 1 FROM sqlite_master AS v"
            " WHERE v.sql LIKE 'CREATE VIRTUAL%' AND t.name LIKE v.name || '\\_%' ESCAPE '\\')"
            " ORDER BY 1"
        )
    return [row[0] for row in await database.fetch_all(sql)]
