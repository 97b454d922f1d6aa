"""A post's or comment's HTML is rendered by the view that saves it and stored with it.

Models only store and read it (``Post.html``, ``Comment.html``); a row without
it (saved before it was stored, until the data step after migrations) is shown
rendered on the spot: see test_upgrade.py.
"""

from __future__ import annotations

from quart_flaskr import markdown
from quart_flaskr.db import Database
from quart_flaskr.models import comments
from quart_flaskr.models import posts
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import post_form


async def stored_html(db: Database, sql: str) -> list[str | None]:
    return [row[0] for row in await db.fetch_all(sql)]


async def test_writing_a_post_stores_its_html(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    await post_form(client, "/create", {"title": "new", "body": "*made* at once"})
    query = "SELECT body_html FROM post ORDER BY id"
    assert (await stored_html(db, query))[1:] == ["<p><em>made</em> at once</p>\n"]
    await post_form(client, "/1/update", {"title": "edited", "body": "**again**"})
    assert (await stored_html(db, query))[0] == "<p><strong>again</strong></p>\n"


async def test_commenting_stores_the_comments_html(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    await post_form(client, "/1/comment", {"body": "*made* at once"}, token_from="/1")
    query = "SELECT body_html FROM comment"
    assert await stored_html(db, query) == ["<p><em>made</em> at once</p>\n"]


async def test_models_store_and_read_what_they_are_given(db: Database) -> None:
    html = markdown.render("*given*")
    post_id = await posts.insert_post(db, 1, "t", "*given*", html=html)
    post = await posts.select_post(db, post_id)
    assert post is not None and post.html == html
    # Without HTML, none is stored: the data step makes it.
    post = await posts.select_post(db, await posts.insert_post(db, 1, "t", "*later*"))
    assert post is not None and post.html is None
    added = await comments.insert_comment(db, post_id, 1, "*given*", html=html)
    assert added is not None
    comment = await comments.select_comment(db, added.id)
    assert comment is not None and comment.html == html
    added = await comments.insert_comment(db, post_id, 1, "*later*")
    assert added is not None
    comment = await comments.select_comment(db, added.id)
    assert comment is not None and comment.html is None
