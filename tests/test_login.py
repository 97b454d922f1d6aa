"""Who is logged in: the typed current user, and the login session the page cache asks for."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from datetime import UTC

import pytest
from quart import Quart

from quart_flaskr.db import Database
from quart_flaskr.db import SCHEMA_VERSION
from quart_flaskr.login import current_user
from quart_flaskr.login import KnownLogins
from quart_flaskr.login import logged_in_user
from quart_flaskr.login import login_session_id
from quart_flaskr.login import stored_id
from quart_flaskr.models import posts
from quart_flaskr.models import users
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import session_cookie


async def test_anonymous_requests_have_no_user(app: Quart) -> None:
    async with app.test_request_context("/"):
        # Nobody, even before the user is loaded.
        assert current_user() is None
        await app.preprocess_request()
        assert current_user() is None
        assert login_session_id() is None
        with pytest.raises(RuntimeError, match="login_required"):
            logged_in_user()


async def test_a_logged_in_request_has_its_user_and_session(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    row = await db.fetch_one("SELECT id FROM login_session")
    assert row is not None
    cookie = f"session={session_cookie(client)}"
    async with app.test_request_context("/", headers={"Cookie": cookie}):
        await app.preprocess_request()
        user = current_user()
        assert user is not None and user.username == "test"
        assert logged_in_user() is user
        login_id = login_session_id()
        # The database keeps the id's SHA-256, not the id.
        assert login_id is not None and stored_id(login_id) == row["id"] != login_id


async def test_a_login_ended_elsewhere_has_no_user(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM login_session")
    cookie = f"session={session_cookie(client)}"
    async with app.test_request_context("/", headers={"Cookie": cookie}):
        await app.preprocess_request()
        assert current_user() is None
        assert login_session_id() is None


async def test_a_copy_of_the_database_logs_nobody_in(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    row = await db.fetch_one("SELECT id FROM login_session")
    assert row is not None
    thief = app.test_client()
    async with thief.session_transaction() as session:
        session["login_id"] = row["id"]
    assert (await thief.get("/account")).status_code == 302
    # The cookie's own id still logs its owner in, and logging out ends the row.
    assert (await client.get("/account")).status_code == 200
    await auth.logout()
    assert await db.fetch_one("SELECT id FROM login_session") is None


async def test_the_upgrade_to_stored_ids_ends_every_login(
    client: Client, auth: AuthActions, db: Database
) -> None:
    """Sessions kept by their plain id before schema 15 are ended: a copy of the database
    taken before holds those ids, which then log nobody in."""
    await auth.login()
    async with db.transaction() as tx:
        await tx.set_schema_version(14)
    assert await db.migrate() == (14, SCHEMA_VERSION, 0)
    assert await db.fetch_one("SELECT id FROM login_session") is None
    assert (await client.get("/account")).status_code == 302


@pytest.mark.parametrize("login_id", (["x"], {"x": 1}, 1, None))
async def test_a_session_holding_no_login_id_string_is_anonymous(
    client: Client, login_id: object
) -> None:
    # A session signed with the blog's key whose login id is not the string log_in
    # stores (another app's cookie under the same key, say): read as nobody's, never a 500.
    async with client.session_transaction() as session:
        session["login_id"] = login_id
    for path in ("/", "/1"):
        response = await client.get(path)
        assert response.status_code == 200
        assert "Log Out" not in await response.get_data(as_text=True)
    assert (await client.get("/account")).status_code == 302


async def test_a_login_found_live_is_not_looked_up_again_until_a_write(
    app: Quart, client: Client, auth: AuthActions, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await auth.login()
    lookups: list[str] = []
    select_login = users.select_login

    async def counting(database: Database, login_id: str) -> users.Login | None:
        lookups.append(login_id)
        return await select_login(database, login_id)

    monkeypatch.setattr(users, "select_login", counting)
    for _ in range(3):
        assert b"Log Out" in await (await client.get("/")).get_data()
    assert len(lookups) == 1
    # Any write moves the data version: the next request looks again.
    await posts.insert_post(db, 2, "written", "body")
    assert b"Log Out" in await (await client.get("/")).get_data()
    assert len(lookups) == 2
    # Ended from elsewhere (a write too): the very next request has no user.
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM login_session")
    assert b"Log Out" not in await (await client.get("/")).get_data()


async def test_a_logged_in_read_asks_for_the_data_version_once(
    app: Quart, client: Client, auth: AuthActions, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The login and the page cache share one read: on PostgreSQL each is a query."""
    await auth.login()
    reads: list[int] = []
    data_version = type(db).data_version

    async def counting(database: Database) -> int:
        reads.append(version := await data_version(database))
        return version

    monkeypatch.setattr(type(db), "data_version", counting)
    assert b"Log Out" in await (await client.get("/")).get_data()
    assert len(reads) == 1
    # Served from the cache the second time, with the same single read.
    assert b"Log Out" in await (await client.get("/")).get_data()
    assert len(reads) == 2 and reads[0] == reads[1]


def make_login(expires_in: timedelta) -> users.Login:
    user = users.User(1, "test", "hash")
    return users.Login(user, None, datetime.now(UTC) + expires_in)


def test_known_logins_forget_expired_and_older_ones() -> None:
    known = KnownLogins(2)
    live = make_login(timedelta(hours=1))
    known.put("a", 7, live)
    assert known.get("a", 7) is live
    assert known.get("a", 8) is None  # the database changed since
    assert known.get("b", 7) is None
    known.put("b", 7, make_login(-timedelta(seconds=1)))
    assert known.get("b", 7) is None  # expired since it was found
    known.put("c", 7, live)
    assert len(known) == 2 and known.get("a", 7) is None  # the oldest made room
    known.put("c", 9, live)
    assert len(known) == 2 and known.get("c", 9) is live
