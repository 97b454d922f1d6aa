"""Likes: once per user and post, counted on every listing, back to where the reader was."""

from __future__ import annotations

import pytest

from quart_flaskr.db import Database
from quart_flaskr.limits import SEARCH_MAX
from quart_flaskr.limits import TAG_MAX
from quart_flaskr.models import likes
from quart_flaskr.security import LOCAL_PATH_MAX
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import page_text
from tests.helpers import post_form


async def test_like_and_unlike(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    page = await page_text(client, "/")
    assert "0 likes" in page
    assert 'action="/1/like"' in page and ">Like<" in page

    response = await post_form(client, "/1/like", {"next": "/?page=1"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/?page=1#post-1"
    # Liking twice counts once.
    await post_form(client, "/1/like", {"next": "/"})
    row = await db.fetch_one("SELECT like_count, (SELECT COUNT(*) FROM post_like) FROM post")
    assert row is not None and tuple(row) == (1, 1)
    for path in ("/", "/1"):
        page = await page_text(client, path)
        assert "1 like<" in page
        assert 'action="/1/unlike"' in page and ">Unlike<" in page
        assert 'aria-pressed="true"' in page

    # Another user's like adds to the count; the first user's state is their own.
    await auth.logout()
    await auth.login("other", "other")
    assert 'action="/1/like"' in await page_text(client, "/")
    await post_form(client, "/1/like", {"next": "/1"})
    assert "2 likes" in await page_text(client, "/1")

    await post_form(client, "/1/unlike", {"next": "/1"})
    # Taking back a like that is not there changes nothing.
    response = await post_form(client, "/1/unlike", {"next": "/1"})
    assert response.headers["Location"] == "/1#post-1"
    row = await db.fetch_one("SELECT like_count, (SELECT COUNT(*) FROM post_like) FROM post")
    assert row is not None and tuple(row) == (1, 1)


async def test_anonymous_sees_likes_but_no_button(client: Client, db: Database) -> None:
    await likes.like_post(db, 1, 2)
    page = await page_text(client, "/")
    assert "1 like<" in page
    assert "/1/like" not in page


@pytest.mark.parametrize("path", ("/1/like", "/1/unlike"))
async def test_like_requires_login(client: Client, db: Database, path: str) -> None:
    response = await post_form(client, path, {}, token_from="/auth/login")
    assert response.headers["Location"] == "/auth/login"
    assert await db.fetch_one("SELECT 1 FROM post_like") is None


@pytest.mark.parametrize("path", ("/2/like", "/2/unlike", "/99999999999999999999/like"))
async def test_like_a_missing_post(client: Client, auth: AuthActions, path: str) -> None:
    await auth.login()
    assert (await post_form(client, path, {})).status_code == 404


@pytest.mark.parametrize(
    "next_url",
    (
        "",
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\x7f/evil.example",
        "/ok path",
        "/caf\u00e9",
        "javascript:alert(1)",
    ),
)
async def test_like_never_redirects_off_site(
    client: Client, auth: AuthActions, next_url: str
) -> None:
    await auth.login()
    response = await post_form(client, "/1/like", {"next": next_url})
    assert response.headers["Location"] == "/1"


async def test_like_goes_back_to_any_printable_path(client: Client, auth: AuthActions) -> None:
    await auth.login()
    # "!" and "~", the first and last printable ASCII characters after the space.
    response = await post_form(client, "/1/like", {"next": "/!~?q=a"})
    assert response.headers["Location"] == "/!~?q=a#post-1"


async def test_like_goes_back_to_a_page_of_any_length_a_page_has(
    client: Client, auth: AuthActions
) -> None:
    await auth.login()
    # The longest a page's own address is: a tag's listing searched for SEARCH_MAX
    # characters of four bytes each, every byte escaped.
    longest = f"/tag/{'%F0%9F%98%80' * TAG_MAX}?q={'%F0%9F%98%80' * SEARCH_MAX}&page=999999999"
    assert len(longest) <= LOCAL_PATH_MAX
    response = await post_form(client, "/1/like", {"next": longest})
    assert response.headers["Location"] == f"{longest}#post-1"
    # Longer, it is no page of this site: the post's own page instead.
    response = await post_form(client, "/1/like", {"next": "/" + "a" * LOCAL_PATH_MAX})
    assert response.headers["Location"] == "/1"


@pytest.mark.parametrize("path", ("/1/like", "/1/unlike"))
async def test_a_like_form_without_a_page_to_go_back_to_goes_to_the_post(
    client: Client, auth: AuthActions, path: str
) -> None:
    await auth.login()
    response = await post_form(client, path, {})
    assert response.status_code == 302
    assert response.headers["Location"] == "/1"
