from __future__ import annotations

import unicodedata

import pytest
from quart import Quart

from quart_flaskr.db import Database
from quart_flaskr.models import users
from quart_flaskr.usernames import username_key
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import post_form
from tests.helpers import replay_cookie


async def test_register(client: Client, auth: AuthActions, db: Database) -> None:
    assert (await client.get("/auth/register")).status_code == 200
    response = await auth.register("a", "a long enough password")
    assert response.headers["Location"] == "/auth/login"
    assert await db.fetch_one("SELECT * FROM \"user\" WHERE username = 'a'") is not None


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
    count = await db.fetch_one('SELECT COUNT(*) FROM "user"')
    assert count is not None and count[0] == 2


INVISIBLE = "Username cannot contain invisible or formatting characters"
PYOTR = "\u041f\u0451\u0442\u0440"  # Пётр, as keyboards type it (NFC).
PYOTR_DECOMPOSED = unicodedata.normalize("NFD", PYOTR)


@pytest.mark.parametrize(
    ("username", "message"),
    (
        ("Test", "User Test is already registered."),
        ("TEST", "User TEST is already registered."),
        ("\uff54\uff45\uff53\uff54", "User test is already registered."),
        ("test\u200b", f"{INVISIBLE} (U+200B ZERO WIDTH SPACE)."),
        ("\ufefftest", f"{INVISIBLE} (U+FEFF ZERO WIDTH NO-BREAK SPACE)."),
        ("\u202etset", f"{INVISIBLE} (U+202E RIGHT-TO-LEFT OVERRIDE)."),
        ("test\x07", "Username cannot contain control characters (U+0007)."),
        ("t\u0435st", "Username cannot mix letters of different scripts (Latin, Cyrillic)."),
        ("te st", "Username cannot contain spaces."),
    ),
)
async def test_register_refuses_names_that_pass_for_another(
    auth: AuthActions, db: Database, username: str, message: str
) -> None:
    response = await auth.register(username, "long enough")
    assert response.status_code == 200
    assert message in await response.get_data(as_text=True)
    count = await db.fetch_one('SELECT COUNT(*) FROM "user"')
    assert count is not None and count[0] == 2


@pytest.mark.parametrize(
    ("username", "stored"),
    (
        (PYOTR, PYOTR),
        (PYOTR_DECOMPOSED, PYOTR),
        ("\ube14\ub85c\uadf8", "\ube14\ub85c\uadf8"),  # 블로그
        ("kim\ube14\ub85c\uadf8", "kim\ube14\ub85c\uadf8"),
        ("\uff50\uff45\uff54\uff45\uff52", "peter"),
        ("jean-luc_2.0", "jean-luc_2.0"),
    ),
)
async def test_register_stores_the_normalised_name(
    auth: AuthActions, db: Database, username: str, stored: str
) -> None:
    response = await auth.register(username, "long enough")
    assert response.headers["Location"] == "/auth/login"
    row = await db.fetch_one('SELECT username, username_key FROM "user" WHERE id = 3')
    assert row is not None and tuple(row) == (stored, username_key(stored))


@pytest.mark.parametrize(
    ("username", "typed"),
    (
        (PYOTR, PYOTR_DECOMPOSED),
        (PYOTR_DECOMPOSED, PYOTR),
        (PYOTR, PYOTR.lower()),
        ("peter", "PETER"),
        ("peter", "\uff50\uff45\uff54\uff45\uff52"),
    ),
)
async def test_login_compares_names_as_registration_does(
    auth: AuthActions, username: str, typed: str
) -> None:
    await auth.register(username, "long enough")
    response = await auth.login(typed, "long enough")
    assert response.headers["Location"] == "/"


async def test_accounts_sharing_a_name_from_before_keep_their_exact_names(
    auth: AuthActions, db: Database
) -> None:
    # "Test" stored beside "test" by a release before usernames were compared
    # by key, with the password of "other".
    async with db.transaction() as tx:
        await tx.execute(
            'INSERT INTO "user" (username, password)'
            " SELECT 'Test', password FROM \"user\" WHERE username = 'other'"
        )
    await users.store_missing_username_keys(db)
    for username, password in (("Test", "other"), ("test", "test")):
        response = await auth.login(username, password)
        assert response.headers["Location"] == "/", username
        await auth.logout()
    response = await auth.login("TEST", "test")
    assert "Incorrect username." in await response.get_data(as_text=True)


async def test_login(client: Client, auth: AuthActions) -> None:
    assert (await client.get("/auth/login")).status_code == 200
    response = await auth.login()
    assert response.headers["Location"] == "/"
    page = await (await client.get("/")).get_data(as_text=True)
    assert 'title="Your account">test</a>' in page
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
