"""No response that shared caches may keep carries a session cookie, on any route."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from quart import Quart
from quart.datastructures import FileStorage
from werkzeug.routing import Rule

from quart_flaskr.db import get_db
from quart_flaskr.images import CACHE_SECONDS
from quart_flaskr.security import is_public
from tests import pictures
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token

PNG = pictures.png()
#: What each form-taking route is sent; other POST routes take no fields.
FORMS: dict[str, dict[str, str]] = {
    "auth.register": {"username": "newcomer", "password": "newcomer-password"},
    "auth.login": {"username": "test", "password": "test"},
    "blog.create": {"title": "another", "body": "b"},
    "blog.update": {"title": "edited", "body": "b"},
    "comments.create": {"body": "a comment"},
}


class Site:
    """The seeded site plus what every route needs: a tagged post with an image, a
    post to delete and a comment, all by the user ``test``."""

    def __init__(self, upload: str) -> None:
        self.upload = upload

    def arguments(self, rule: Rule) -> dict[str, Any]:
        """Values for the rule's variables, each naming something that exists."""
        by_endpoint: dict[str, dict[str, Any]] = {
            "static": {"filename": "style.css"},
            "blog.tag": {"name": "pictures"},
            "images.serve": {"name": self.upload},
            # Post 3 is the one to delete, comment 1 on post 1.
            "blog.delete": {"id": 3},
            "comments.delete": {"id": 1},
            "crawlers.tags": {"number": 1},
            "crawlers.posts": {"number": 1},
            "account.profile": {"username": "test"},
            "account.end_session": {"ref": "0123"},
            "account.reset": {"token": "a-token"},
        }
        values = by_endpoint.get(rule.endpoint, {"id": 2})
        return {name: values[name] for name in rule.arguments}


def requests(app: Quart, site: Site) -> Iterator[tuple[str, str, str]]:
    """Every route with every method it takes: (endpoint, method, path), logging out last."""
    adapter = app.url_map.bind("localhost")
    found = [
        (rule.endpoint, method, adapter.build(rule.endpoint, site.arguments(rule)))
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods or ())
    ]
    return iter(sorted(found, key=lambda request: request[0] == "auth.logout"))


async def make_site(app: Quart, client: Client) -> Site:
    token = await csrf_token(client, "/create")
    pictured = {"title": "pictured", "body": "b", "tags": "pictures", "csrf_token": token}
    image = FileStorage(io.BytesIO(PNG), filename="photo.png", name="image")
    response = await client.post("/create", form=pictured, files={"image": image})
    assert response.status_code == 302
    doomed = {"title": "doomed", "body": "b", "csrf_token": token}
    assert (await client.post("/create", form=doomed)).status_code == 302
    comment = {"body": "first", "csrf_token": token}
    assert (await client.post("/1/comment", form=comment)).status_code == 302
    (upload,) = (row[0] for row in await get_db(app).fetch_all("SELECT name FROM image"))
    return Site(upload)


@pytest.mark.parametrize("logged_in", (True, False))
async def test_no_public_response_sets_a_cookie(
    app: Quart, client: Client, auth: AuthActions, logged_in: bool
) -> None:
    await auth.login()
    site = await make_site(app, client)
    if not logged_in:
        await auth.logout()
    public = set()
    for endpoint, method, path in requests(app, site):
        if method == "POST":
            token = await csrf_token(client, "/" if logged_in else "/auth/login")
            form = {**FORMS.get(endpoint, {}), "csrf_token": token}
            response = await client.post(path, form=form)
        else:
            send = {"GET": client.get, "HEAD": client.head, "OPTIONS": client.options}[method]
            response = await send(path)
        where = f"{method} {path}"
        assert response.status_code < 500, where
        if is_public(response.headers):
            public.add(endpoint)
            assert "Set-Cookie" not in response.headers, where
        if logged_in and not endpoint.startswith("auth."):
            # The login held all along, though public files never refreshed it.
            assert response.headers.get("Location") != "/auth/login", where
    # The walk did meet the public files: static files, uploaded images, and
    # what crawlers read.
    assert public == {
        "static",
        "images.serve",
        "crawlers.robots",
        "crawlers.sitemap",
        "crawlers.tags",
        "crawlers.posts",
    }


async def test_style_sheet_has_no_cookie_for_a_logged_in_user(
    client: Client, auth: AuthActions
) -> None:
    await auth.login()
    response = await client.get("/static/style.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=43200"
    assert "Set-Cookie" not in response.headers


async def test_uploaded_image_has_no_cookie_for_a_logged_in_user(
    app: Quart, client: Client, auth: AuthActions
) -> None:
    await auth.login()
    site = await make_site(app, client)
    response = await client.get(f"/uploads/{site.upload}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == f"public, max-age={CACHE_SECONDS}, immutable"
    assert "Set-Cookie" not in response.headers
