from __future__ import annotations

import pytest
from quart import Quart

from quart_flaskr.db import Database
from tests.conftest import AuthActions
from tests.conftest import Client
from tests.conftest import post_form
from tests.conftest import replay_cookie


async def test_register(client: Client, auth: AuthActions, db: Database) -> None:
    assert (await client.get("/auth/register")).status_code == 200
    response = await auth.register("a", "a long enough password")
    assert response.headers["Location"] == "/auth/login"
    assert await db.fetch_one("SELECT * FROM user WHERE username = 'a'") is not None


@pytest.mark.parametrize(
    ("username", "password", "message"),
    (
        ("", "", "Username is required."),
        ("a", "", "Password is required."),
        ("test", "long enough", "User test is already registered."),
        ("x" * 33, "long enough", "Username must be at most 32 characters."),
        ("a", "x" * 257, "Password must be at most 256 characters."),
        ("a", "short", "Password must be at least 8 characters."),
        (" a", "long enough", "Username cannot start or end with spaces."),
    ),
)
async def test_register_validate_input(
    auth: AuthActions, db: Database, username: str, password: str, message: str
) -> None:
    response = await auth.register(username, password)
    assert message in await response.get_data(as_text=True)
    count = await db.fetch_one("SELECT COUNT(*) FROM user")
    assert count is not None and count[0] == 2


async def test_login(client: Client, auth: AuthActions) -> None:
    assert (await client.get("/auth/login")).status_code == 200
    response = await auth.login()
    assert response.headers["Location"] == "/"
    page = await (await client.get("/")).get_data(as_text=True)
    assert "<span>test</span>" in page
    assert "Log Out" in page


@pytest.mark.parametrize(
    ("username", "password", "message"),
    (
        ("a", "test", "Incorrect username."),
        ("test", "a", "Incorrect password."),
        ("", "a", "Username is required."),
        ("test", "", "Password is required."),
    ),
)
async def test_login_validate_input(
    auth: AuthActions, username: str, password: str, message: str
) -> None:
    response = await auth.login(username, password)
    assert message in await response.get_data(as_text=True)


async def test_logout(client: Client, auth: AuthActions) -> None:
    await auth.login()
    response = await auth.logout()
    assert response.headers["Location"] == "/"
    page = await (await client.get("/")).get_data(as_text=True)
    assert "Log In" in page and "Log Out" not in page


async def test_logout_ends_the_session_server_side(
    app: Quart, client: Client, auth: AuthActions
) -> None:
    await auth.login()
    stolen = replay_cookie(app, client)
    assert (await stolen.get("/create")).status_code == 200
    await auth.logout()
    # The copy taken before logout no longer logs anyone in.
    response = await stolen.get("/create")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"


async def test_login_required_redirects(client: Client) -> None:
    response = await client.get("/create")
    assert response.headers["Location"] == "/auth/login"


async def test_logout_is_post_only(client: Client) -> None:
    assert (await client.get("/auth/logout")).status_code == 405


async def test_logout_without_login(client: Client) -> None:
    response = await post_form(client, "/auth/logout", {}, token_from="/auth/login")
    assert response.headers["Location"] == "/"
