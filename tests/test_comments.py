from __future__ import annotations

import re

import pytest
from quart import Quart

from quart_flaskr.db import Database
from quart_flaskr.models import comments
from quart_flaskr.models import moderation
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import post_form


async def comment_bodies(client: Client, path: str = "/1") -> list[str]:
    """The text of each comment the post's page at ``path`` shows, in order."""
    page = await (await client.get(path)).get_data(as_text=True)
    return re.findall(r'<article class="comment" id="comment-\d+">.*?<p>(.*?)</p>', page, re.S)


async def test_comment(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    response = await post_form(client, "/1/comment", {"body": "First!"}, token_from="/1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/1#comment-1"
    await post_form(client, "/1/comment", {"body": "Second, *with* Markdown"}, token_from="/1")
    # Newest last.
    assert await comment_bodies(client) == ["First!", "Second, <em>with</em> Markdown"]
    page = await (await client.get("/1")).get_data(as_text=True)
    assert '<a href="/u/test">test</a> on ' in page
    assert "2 comments" in await (await client.get("/")).get_data(as_text=True)
    row = await db.fetch_one("SELECT comment_count FROM post WHERE id = 1")
    assert row is not None and row[0] == 2


async def test_one_comment_is_singular(client: Client, auth: AuthActions) -> None:
    await auth.login()
    await post_form(client, "/1/comment", {"body": "Only"}, token_from="/1")
    assert ">1 comment<" in await (await client.get("/")).get_data(as_text=True)


async def test_comment_requires_login(client: Client, db: Database) -> None:
    response = await post_form(client, "/1/comment", {"body": "x"}, token_from="/auth/login")
    assert response.headers["Location"] == "/auth/login"
    assert await db.fetch_one("SELECT 1 FROM comment") is None


@pytest.mark.parametrize(
    ("body", "message"),
    (
        ("", "A comment cannot be empty."),
        (" \n\t ", "A comment cannot be empty."),
        ("\u200b\n\u3164", "A comment cannot be empty."),
        ("x" * 5_001, "A comment must be at most 5000 characters."),
    ),
)
async def test_bad_comment(
    client: Client, auth: AuthActions, db: Database, body: str, message: str
) -> None:
    await auth.login()
    response = await post_form(client, "/1/comment", {"body": body}, token_from="/1")
    assert response.status_code == 400
    page = await response.get_data(as_text=True)
    assert message in page
    # The post is shown, and what the user typed is kept in the form.
    assert "test title" in page
    assert f">{body[:50]}" in page
    assert await db.fetch_one("SELECT 1 FROM comment") is None


async def test_comment_on_a_missing_post(client: Client, auth: AuthActions) -> None:
    await auth.login()
    for body in ("x", ""):
        response = await post_form(client, "/2/comment", {"body": body}, token_from="/1")
        assert response.status_code == 404


async def test_comment_is_sanitised(client: Client, auth: AuthActions) -> None:
    await auth.login()
    body = '<script>alert(1)</script> [x](javascript:alert(1)) <a href="/" onclick="x()">a</a>'
    await post_form(client, "/1/comment", {"body": body}, token_from="/1")
    page = await (await client.get("/1")).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert 'href="javascript' not in page
    assert '<a href="/" onclick' not in page


async def delete_comment(client: Client, comment_id: int) -> int:
    response = await post_form(client, f"/comment/{comment_id}/delete", {}, token_from="/1")
    return response.status_code


async def test_author_deletes_own_comment(client: Client, auth: AuthActions, db: Database) -> None:
    await comments.insert_comment(db, 1, 2, "by other")
    await auth.login("other", "other")
    page = await (await client.get("/1")).get_data(as_text=True)
    assert 'action="/comment/1/delete"' in page
    response = await post_form(client, "/comment/1/delete", {}, token_from="/1")
    assert response.headers["Location"] == "/1#comments"
    assert await db.fetch_one("SELECT 1 FROM comment") is None
    row = await db.fetch_one("SELECT comment_count FROM post WHERE id = 1")
    assert row is not None and row[0] == 0


async def test_post_author_deletes_any_comment(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await comments.insert_comment(db, 1, 2, "by other")
    await auth.login()
    assert await delete_comment(client, 1) == 302
    assert await db.fetch_one("SELECT 1 FROM comment") is None


async def test_others_cannot_delete_a_comment(
    client: Client, auth: AuthActions, db: Database
) -> None:
    # "other" comments on a post by "test"; a third user can neither see a
    # delete button nor delete it.
    await auth.register("third", "third pass")
    await comments.insert_comment(db, 1, 2, "by other")
    await auth.login("third", "third pass")
    page = await (await client.get("/1")).get_data(as_text=True)
    assert "/comment/1/delete" not in page
    assert await delete_comment(client, 1) == 403
    assert await db.fetch_one("SELECT 1 FROM comment") is not None


async def test_anonymous_sees_no_delete_button(client: Client, db: Database) -> None:
    await comments.insert_comment(db, 1, 2, "by other")
    page = await (await client.get("/1")).get_data(as_text=True)
    assert "by other" in page
    assert "/comment/1/delete" not in page


@pytest.mark.parametrize("comment_id", ("2", "99999999999999999999", "0"))
async def test_delete_missing_comment(client: Client, auth: AuthActions, comment_id: str) -> None:
    await auth.login()
    response = await post_form(client, f"/comment/{comment_id}/delete", {}, token_from="/1")
    assert response.status_code == 404


async def test_delete_comment_requires_login(client: Client, db: Database) -> None:
    await comments.insert_comment(db, 1, 2, "by other")
    response = await post_form(client, "/comment/1/delete", {}, token_from="/auth/login")
    assert response.headers["Location"] == "/auth/login"


async def test_comments_go_with_their_post(client: Client, auth: AuthActions, db: Database) -> None:
    await comments.insert_comment(db, 1, 2, "by other")
    await auth.login()
    await post_form(client, "/1/delete", {}, token_from="/1/update")
    assert await db.fetch_one("SELECT 1 FROM comment") is None


async def test_insert_comment_on_a_missing_post(db: Database) -> None:
    assert await comments.insert_comment(db, 2, 1, "x") is None


async def test_comments_come_a_page_at_a_time(
    app: Quart, client: Client, auth: AuthActions
) -> None:
    """Oldest first, COMMENTS_PER_PAGE a page; a new comment's link leads to its page."""
    app.config["COMMENTS_PER_PAGE"] = 2
    await auth.login()
    locations = []
    for number in range(1, 6):
        response = await post_form(client, "/1/comment", {"body": f"c{number}"}, token_from="/1")
        locations.append(response.headers["Location"])
    assert locations == [
        "/1#comment-1",
        "/1#comment-2",
        "/1?page=2#comment-3",
        "/1?page=2#comment-4",
        "/1?page=3#comment-5",
    ]
    assert await comment_bodies(client) == ["c1", "c2"]
    assert await comment_bodies(client, "/1?page=2") == ["c3", "c4"]
    assert await comment_bodies(client, "/1?page=3") == ["c5"]
    second = await (await client.get("/1?page=2")).get_data(as_text=True)
    assert 'rel="prev" href="/1"' in second and 'rel="next" href="/1?page=3"' in second
    # The post itself, and the form to comment, on every page.
    assert "<h1>test title</h1>" in second and 'action="/1/comment"' in second
    # A like sent from a page of comments comes back to that page.
    assert 'name="next" value="/1?page=2"' in second
    missing = await client.get("/1?page=4")
    assert missing.status_code == 404
    assert "There is no page 4" in await missing.get_data(as_text=True)


async def test_a_comments_page_counts_only_the_comments_shown(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    """Those of a suspended user are not counted in the page a new comment is on."""
    app.config["COMMENTS_PER_PAGE"] = 1
    await auth.login("other", "other")
    await post_form(client, "/1/comment", {"body": "hidden soon"}, token_from="/1")
    assert await moderation.suspend_user(db, "test", 2)
    await auth.login()
    response = await post_form(client, "/1/comment", {"body": "shown"}, token_from="/1")
    assert response.headers["Location"] == "/1#comment-2"
    # The next one is second among those shown, the third written.
    assert await comments.insert_comment(db, 1, 1, "next") == comments.NewComment(3, 2)
