from __future__ import annotations

import pytest

from quart_flaskr.db import Database
from tests.conftest import AppFactory
from tests.conftest import AuthActions
from tests.conftest import Client


@pytest.mark.parametrize(
    ("path", "allowed"),
    (("/auth/login", 10), ("/auth/register", 10)),
)
async def test_form_submissions_are_limited_per_client(
    make_app: AppFactory, path: str, allowed: int
) -> None:
    app = await make_app()
    client = app.test_client()
    auth = AuthActions(client)
    attempt = auth.login if path == "/auth/login" else auth.register
    for _ in range(allowed):
        response = await attempt("nobody", "wrong password")
        assert response.status_code in (200, 302)
    response = await attempt("nobody", "wrong password")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too Many Requests" in await response.get_data(as_text=True)
    # Showing the form is not limited.
    assert (await client.get(path)).status_code == 200


async def test_limits_are_shared_through_the_database(
    make_app: AppFactory,
) -> None:
    app = await make_app()
    db: Database = app.extensions["quart_flaskr.db"]
    auth = AuthActions(app.test_client())
    await auth.login("nobody", "wrong")
    rows = await db.fetch_all("SELECT key FROM rate_limit")
    assert len(rows) == 1 and "login" in rows[0][0]


async def test_limits_can_be_switched_off(make_app: AppFactory) -> None:
    app = await make_app(QUART_RATE_LIMITER_ENABLED=False)
    auth = AuthActions(app.test_client())
    for _ in range(12):
        assert (await auth.login("nobody", "wrong password")).status_code == 200


async def test_other_clients_are_not_limited(
    make_app: AppFactory,
) -> None:
    app = await make_app(PROXY_TRUSTED_HOPS=1)
    for number in range(11):
        client: Client = app.test_client()
        response = await client.post(
            "/auth/login",
            form={"username": "x", "password": "y", "csrf_token": "n/a"},
            headers={"X-Forwarded-For": f"198.51.100.{number}"},
        )
        # Refused for its missing token, never for the rate.
        assert response.status_code == 400
