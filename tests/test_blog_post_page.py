"""A post's own page."""

from __future__ import annotations

import re

import pytest

from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import page_text
from tests.helpers import post_form


async def test_detail(client: Client, auth: AuthActions) -> None:
    page = await page_text(client, "/1")
    assert "<title>test title - Flaskr</title>" in page
    assert 'by <a href="/u/test">test</a> on 2018-01-01' in page
    assert "test\nbody" in page
    assert 'href="/1/update"' not in page
    assert "No comments yet." in page
    assert "Log in</a> to comment" in page

    await auth.login()
    page = await page_text(client, "/1")
    assert 'href="/1/update"' in page
    assert 'action="/1/comment"' in page


@pytest.mark.parametrize("path", ("/2", "/0", "/-1", "/9223372036854775808", "/abc"))
async def test_detail_of_a_missing_post(client: Client, path: str) -> None:
    assert (await client.get(path)).status_code == 404


async def test_a_missing_post_says_which(client: Client) -> None:
    response = await client.get("/2")
    assert response.status_code == 404
    assert "Post id 2 doesn&#39;t exist." in await response.get_data(as_text=True)


async def test_the_post_page_forms(client: Client, auth: AuthActions) -> None:
    await auth.login()
    page = await page_text(client, "/1")
    # Liking the post comes back to this page; the comment form starts empty.
    assert '<input type="hidden" name="next" value="/1">' in page
    assert 'maxlength="5000" required></textarea>' in page


async def test_a_like_on_the_post_page_comes_back_to_it(client: Client, auth: AuthActions) -> None:
    await auth.login()
    page = await page_text(client, "/1")
    # The page to come back to is the one the likes form sends (the page has
    # other forms with a "next" field, the language switcher's).
    found = re.search(
        r'<form class="inline" id="likes" [^>]*>.*?name="next" value="([^"]*)"', page, re.S
    )
    assert found is not None and found[1] == "/1"
    response = await post_form(client, "/1/like", {"next": found[1]}, token_from="/1")
    assert response.headers["Location"] == "/1#post-1"
