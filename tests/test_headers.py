"""Response headers: what every page gets, what a view's own headers keep, and public files."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from datetime import UTC

from quart import Quart

from quart_flaskr.db import Database
from quart_flaskr.models import accounts
from quart_flaskr.models import moderation
from quart_flaskr.security import public_view
from tests.helpers import AppFactory
from tests.helpers import AuthActions
from tests.helpers import Client


async def test_pages_vary_on_the_cookie_and_stay_private(client: Client) -> None:
    response = await client.get("/hello")
    assert response.headers["Vary"] == "Cookie, Accept-Language"
    assert response.headers["Cache-Control"] == "private, no-cache"


async def test_a_views_own_headers_are_kept(make_app: AppFactory) -> None:
    app = await make_app(HSTS_SECONDS=31536000)
    own = {
        "Strict-Transport-Security": "max-age=60",
        "Cache-Control": "no-store",
        "X-Frame-Options": "SAMEORIGIN",
    }

    @app.route("/own")
    async def own_headers() -> tuple[str, dict[str, str]]:
        return "", own

    response = await app.test_client().get("/own")
    for name, value in own.items():
        # Sent once: not followed by the default that would contradict it.
        assert response.headers.getlist(name) == [value]


async def test_a_view_marked_public_serves_everyone_alike(
    app: Quart, client: Client, auth: AuthActions
) -> None:
    @app.route("/shared")
    @public_view
    async def shared() -> tuple[str, dict[str, str]]:
        return "same for all", {"Cache-Control": "public, max-age=60"}

    await auth.login()
    response = await client.get("/shared")
    assert await response.get_data(as_text=True) == "same for all"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "Vary" not in response.headers
    assert "Set-Cookie" not in response.headers


async def test_every_page_moves_the_login_on_when_told_to(
    app: Quart, client: Client, auth: AuthActions
) -> None:
    # By default a login's cookie is sent again once an hour old (test_security).
    app.config["SESSION_REFRESH_SECONDS"] = 0
    await auth.login()
    for _ in range(3):
        # Pages that change nothing in the session still push its expiry on.
        response = await client.get("/hello")
        assert "Expires=" in response.headers["Set-Cookie"]


async def test_pages_of_what_is_the_readers_alone_are_not_stored(
    client: Client, auth: AuthActions, db: Database
) -> None:
    """Back, after logging out on a shared computer, does not show them from the browser's
    cache; other pages, logged in or not, are kept and checked before each use."""
    await accounts.insert_password_reset(db, 2, "a-token", datetime.now(UTC) + timedelta(hours=1))
    response = await client.get("/account/reset/a-token")
    assert response.status_code == 200
    assert response.headers.getlist("Cache-Control") == ["private, no-store"]
    await moderation.set_moderator(db, "test", True)
    await auth.login()
    for path in ("/account", "/account/password", "/account/sessions", "/account/delete"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers.getlist("Cache-Control") == ["private, no-store"], path
        assert "Cookie, Accept-Language" in response.headers["Vary"], path
    response = await client.get("/moderation/")
    assert response.headers.getlist("Cache-Control") == ["private, no-store"]
    for path in ("/", "/1", "/u/test", "/create"):
        response = await client.get(path)
        assert response.headers.getlist("Cache-Control") == ["private, no-cache"], path
