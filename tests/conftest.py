from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from collections.abc import Awaitable
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart import Response
from quart.testing import QuartCliRunner
from quart.typing import TestClientProtocol

from quart_flaskr import create_app
from quart_flaskr.db import Database
from quart_flaskr.db import get_db

#: The test client's type, under a name pytest does not try to collect.
Client = TestClientProtocol
DATA_SQL = (Path(__file__).parent / "data.sql").read_text("utf-8")
#: Cheap hashes keep the suite fast; test_passwords checks the real method.
FAST_HASH = "pbkdf2:sha256:1000"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def instance_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every app a test makes keeps its instance folder in the test's temporary directory.

    So no test reads or writes the checkout's own instance/ (where "tasks.py
    serve" keeps a developer's database and key).
    """
    folder = tmp_path / "instance"
    monkeypatch.setattr(Quart, "auto_find_instance_path", lambda self: str(folder))
    return folder


def make_config(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE": str(tmp_path / "test.sqlite"),
        "PASSWORD_HASH_METHOD": FAST_HASH,
        **overrides,
    }


async def seed(database: Database) -> None:
    """Create the schema and the users and post the tests expect."""
    await database.reset()
    async with database.transaction() as tx:
        for statement in DATA_SQL.split(";"):
            if statement.strip():
                await tx.execute(statement)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncGenerator[Quart]:
    app = create_app(make_config(tmp_path))
    async with app.app_context():
        await seed(get_db())
    # test_app runs the start-up and shut-down hooks, which migrate the
    # schema and close the database's connections.
    async with app.test_app():
        yield app


AppFactory = Callable[..., Awaitable[Quart]]


@pytest.fixture
async def make_app(tmp_path: Path) -> AsyncGenerator[AppFactory]:
    """Make apps with other settings, over the seeded test database; closed afterwards."""
    apps: list[Quart] = []

    async def factory(**overrides: Any) -> Quart:
        app = create_app(make_config(tmp_path, **overrides))
        apps.append(app)
        async with app.app_context():
            await seed(get_db())
        return app

    yield factory
    for app in apps:
        await app.extensions["quart_flaskr.db"].close()


@pytest.fixture
def client(app: Quart) -> TestClientProtocol:
    return app.test_client()


@pytest.fixture
def db(app: Quart) -> Database:
    return app.extensions["quart_flaskr.db"]  # type: ignore[no-any-return]


@pytest.fixture
def cli_app(tmp_path: Path) -> Quart:
    """An app for the command line: its commands open and close the database themselves."""
    return create_app(make_config(tmp_path))


@pytest.fixture
def runner(cli_app: Quart) -> QuartCliRunner:
    return cli_app.test_cli_runner()


async def csrf_token(client: TestClientProtocol, path: str = "/auth/login") -> str:
    """The CSRF token a page's form carries, as a browser would read it."""
    response = await client.get(path)
    match = _TOKEN.search(await response.get_data(as_text=True))
    assert match is not None, f"no CSRF token on {path}"
    return match.group(1)


class AuthActions:
    def __init__(self, client: TestClientProtocol) -> None:
        self._client = client

    async def register(self, username: str, password: str) -> Response:
        return await self._client.post(
            "/auth/register",
            form={
                "username": username,
                "password": password,
                "csrf_token": await csrf_token(self._client, "/auth/register"),
            },
        )

    async def login(self, username: str = "test", password: str = "test") -> Response:
        return await self._client.post(
            "/auth/login",
            form={
                "username": username,
                "password": password,
                "csrf_token": await csrf_token(self._client),
            },
        )

    async def logout(self) -> Response:
        return await self._client.post(
            "/auth/logout", form={"csrf_token": await csrf_token(self._client, "/")}
        )


@pytest.fixture
def auth(client: TestClientProtocol) -> AuthActions:
    return AuthActions(client)


async def post_form(
    client: TestClientProtocol, path: str, form: dict[str, str], token_from: str = "/"
) -> Response:
    """Submit a form with a valid CSRF token, read from the page ``token_from``."""
    return await client.post(
        path, form={**form, "csrf_token": await csrf_token(client, token_from)}
    )


def session_cookie(client: TestClientProtocol) -> str:
    """The raw value of the client's session cookie."""
    assert client.cookie_jar is not None
    values = [cookie.value for cookie in client.cookie_jar if cookie.name == "session"]
    assert values and values[0] is not None, "no session cookie"
    return values[0]


def replay_cookie(app: Quart, client: TestClientProtocol) -> TestClientProtocol:
    """Another browser that sends a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("localhost", "session", session_cookie(client))
    return thief


from tests.live import *  # noqa: E402, F403
