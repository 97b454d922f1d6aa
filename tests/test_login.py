"""Who is logged in: the typed current user, and the login session the page cache asks for."""

from __future__ import annotations

import pytest
from quart import Quart

from quart_flaskr.db import Database
from quart_flaskr.login import current_user
from quart_flaskr.login import logged_in_user
from quart_flaskr.login import login_session_id
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
        assert login_session_id() == row["id"]


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
