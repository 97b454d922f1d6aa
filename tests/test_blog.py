from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote as url_quote

import pytest
from quart import Quart

from quart_flaskr.db import Database
from quart_flaskr.models import likes
from quart_flaskr.models import posts
from quart_flaskr.models import tags as tag_queries
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token
from tests.helpers import post_form


async def test_index(client: Client, auth: AuthActions) -> None:
    page = await (await client.get("/")).get_data(as_text=True)
    assert "Log In" in page
    assert "Register" in page

    await auth.login()
    page = await (await client.get("/")).get_data(as_text=True)
    assert "test title" in page
    assert "by test on 2018-01-01" in page
    assert "test\nbody" in page
    assert 'href="/1/update"' in page


@pytest.mark.parametrize("path", ("/create", "/1/update", "/1/delete"))
async def test_login_required(client: Client, path: str) -> None:
    response = await post_form(client, path, {}, token_from="/auth/login")
    assert response.headers["Location"] == "/auth/login"


async def test_author_required(client: Client, auth: AuthActions, db: Database) -> None:
    # Give the post to another user.
    async with db.transaction() as tx:
        await tx.execute("UPDATE post SET author_id = 2 WHERE id = 1")

    await auth.login()
    # The current user can't change another user's post...
    assert (await post_form(client, "/1/update", {"title": "x", "body": ""})).status_code == 403
    assert (await post_form(client, "/1/delete", {})).status_code == 403
    # ...and sees no edit link for it.
    assert 'href="/1/update"' not in await (await client.get("/")).get_data(as_text=True)


@pytest.mark.parametrize("path", ("/2/update", "/2/delete", "/9223372036854775808/update"))
async def test_exists_required(client: Client, auth: AuthActions, path: str) -> None:
    await auth.login()
    response = await post_form(client, path, {"title": "x", "body": ""})
    assert response.status_code == 404


async def test_missing_post_message(client: Client, auth: AuthActions) -> None:
    await auth.login()
    response = await client.get("/2/update")
    assert "Post id 2 doesn&#39;t exist." in await response.get_data(as_text=True)


async def test_create(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    assert (await client.get("/create")).status_code == 200
    response = await post_form(client, "/create", {"title": "created", "body": ""})
    assert response.headers["Location"] == "/"
    count = await db.fetch_one("SELECT COUNT(id) FROM post")
    assert count is not None and count[0] == 2


async def test_update(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    assert (await client.get("/1/update")).status_code == 200
    await post_form(client, "/1/update", {"title": "updated", "body": ""})
    post = await db.fetch_one("SELECT * FROM post WHERE id = 1")
    assert post is not None and post["title"] == "updated"


@pytest.mark.parametrize("path", ("/create", "/1/update"))
@pytest.mark.parametrize(
    ("title", "body", "message"),
    (
        ("", "", "Title is required."),
        ("x" * 201, "", "Title must be at most 200 characters."),
        ("t", "x" * 20_001, "Body must be at most 20000 characters."),
    ),
)
async def test_create_update_validate(
    client: Client,
    auth: AuthActions,
    db: Database,
    path: str,
    title: str,
    body: str,
    message: str,
) -> None:
    await auth.login()
    response = await post_form(client, path, {"title": title, "body": body})
    page = await response.get_data(as_text=True)
    assert message in page
    # What the user typed is kept in the form.
    assert body[:50] in page
    post = await db.fetch_one("SELECT title, (SELECT COUNT(*) FROM post) FROM post WHERE id = 1")
    assert post is not None and tuple(post) == ("test title", 1)


async def test_delete(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    response = await post_form(client, "/1/delete", {}, token_from="/1/update")
    assert response.headers["Location"] == "/"
    assert await db.fetch_one("SELECT * FROM post WHERE id = 1") is None


async def test_user_content_is_escaped(client: Client, auth: AuthActions) -> None:
    await auth.login()
    await post_form(client, "/create", {"title": "<script>x</script>", "body": "<b>b</b>"})
    page = await (await client.get("/")).get_data(as_text=True)
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "&lt;b&gt;b&lt;/b&gt;" in page


async def test_csrf_token_is_on_every_form(client: Client, auth: AuthActions) -> None:
    await auth.login()
    for path in ("/create", "/1/update", "/"):
        assert await csrf_token(client, path)


async def add_posts(db: Database, count: int, author_id: int = 1, **fields: Any) -> list[int]:
    """Posts "post 1" … "post N", each a minute newer than the one before, after the seeded one."""
    ids = []
    for number in range(1, count + 1):
        post_id = await posts.insert_post(
            db, author_id, f"post {number}", f"body {number}", **fields
        )
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE post SET created = ? WHERE id = ?",
                (f"2019-01-01 00:{number:02d}:00", post_id),
            )
        ids.append(post_id)
    return ids


async def page_text(client: Client, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200, path
    return await response.get_data(as_text=True)


def titles(page: str) -> list[str]:
    """The titles of the posts a listing shows, in order."""
    return re.findall(r'<h1><a href="/\d+">([^<]*)</a></h1>', page)


async def test_titles_link_to_the_post(client: Client) -> None:
    page = await page_text(client, "/")
    assert '<a href="/1">test title</a>' in page


async def test_detail(client: Client, auth: AuthActions) -> None:
    page = await page_text(client, "/1")
    assert "<title>test title - Flaskr</title>" in page
    assert "by test on 2018-01-01" in page
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


async def test_tags(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    await post_form(
        client, "/create", {"title": "tagged", "body": "", "tags": " Python, web  Dev,python,,"}
    )
    page = await page_text(client, "/")
    assert '<a rel="tag" href="/tag/python">python</a>' in page
    assert '<a rel="tag" href="/tag/web%20dev">web dev</a>' in page

    for path in ("/tag/python", "/tag/PYTHON", "/tag/web%20dev"):
        page = await page_text(client, path)
        assert titles(page) == ["tagged"]
    assert "Tagged &#39;python&#39;" in await page_text(client, "/tag/Python")

    # The edit form shows the tags; changing them drops the tag no post has any more.
    assert 'value="python, web dev"' in await page_text(client, "/2/update")
    await post_form(client, "/2/update", {"title": "tagged", "body": "", "tags": "python, flask"})
    assert (await client.get("/tag/web%20dev")).status_code == 404
    assert titles(await page_text(client, "/tag/flask")) == ["tagged"]
    await post_form(client, "/1/update", {"title": "also", "body": "", "tags": "flask"})
    assert titles(await page_text(client, "/tag/flask")) == ["tagged", "also"]

    await post_form(client, "/2/delete", {}, token_from="/2/update")
    assert titles(await page_text(client, "/tag/flask")) == ["also"]
    assert (await client.get("/tag/python")).status_code == 404
    names = await db.fetch_all("SELECT name FROM tag")
    assert [row[0] for row in names] == ["flask"]


async def test_unicode_tags(client: Client, auth: AuthActions) -> None:
    await auth.login()
    tags = "Caf\u0065\u0301, \u0939\u093f\u0928\u094d\u0926\u0940, c++, c#, node.js"
    response = await post_form(client, "/create", {"title": "t", "body": "", "tags": tags})
    assert response.status_code == 302
    for name in ("caf\u00e9", "\u0939\u093f\u0928\u094d\u0926\u0940", "c++", "c#", "node.js"):
        path = url_quote(f"/tag/{name}")
        assert titles(await page_text(client, path)) == ["t"], name


@pytest.mark.parametrize(
    ("tags", "message"),
    (
        ("a/b", "Tags may hold letters, digits, spaces and - _ . + # only"),
        ("<script>", "Tags may hold letters, digits, spaces and - _ . + # only"),
        ("..", "at least one letter or digit"),
        ("x" * 33, "Tags must be at most 32 characters"),
        (",".join(f"t{number}" for number in range(11)), "A post can have at most 10 tags."),
    ),
)
@pytest.mark.parametrize("path", ("/create", "/1/update"))
async def test_bad_tags(
    client: Client, auth: AuthActions, db: Database, path: str, tags: str, message: str
) -> None:
    await auth.login()
    response = await post_form(client, path, {"title": "t", "body": "b", "tags": tags})
    assert response.status_code == 200
    page = await response.get_data(as_text=True)
    assert html.escape(message, quote=True) in page
    # What the user typed is kept in the form.
    assert f'value="{html.escape(tags)}"' in page
    post = await db.fetch_one("SELECT title, (SELECT COUNT(*) FROM post) FROM post WHERE id = 1")
    assert post is not None and tuple(post) == ("test title", 1)
    assert await db.fetch_one("SELECT 1 FROM tag") is None


async def test_unknown_tag(client: Client) -> None:
    response = await client.get("/tag/nothing")
    assert response.status_code == 404
    assert "No post is tagged" in await response.get_data(as_text=True)


async def test_search(client: Client, auth: AuthActions, db: Database) -> None:
    await posts.insert_post(db, 2, "Async ideas", "Quart runs on asyncio.")
    await posts.insert_post(db, 1, "Flask", "A post about flasks and async views.")
    await posts.insert_post(db, 1, "Unrelated", "Nothing to see.")

    # Ranked: a match in the title counts more than one in the body.
    assert titles(await page_text(client, "/?q=async")) == ["Async ideas", "Flask"]
    # Every word must match, in any column; words are stemmed and case does not matter.
    assert titles(await page_text(client, "/?q=ASYNC+flask")) == ["Flask"]
    assert titles(await page_text(client, "/?q=posts")) == ["Flask"]
    # The author's name is searched too.
    assert titles(await page_text(client, "/?q=other")) == ["Async ideas"]
    page = await page_text(client, "/?q=nowhere")
    assert titles(page) == []
    assert "No post matches your search." in page
    assert "<title>Search: nowhere - Flaskr</title>" in page
    # The search box keeps the words.
    assert 'name="q" id="search-q" value="nowhere"' in page
    # An empty search is the index.
    assert len(titles(await page_text(client, "/?q=+"))) == 4


async def test_search_ranking(client: Client, db: Database) -> None:
    # Oldest first, so that date alone would give the opposite order.
    # Control characters typed into a title are not taken for found words.
    await posts.insert_post(db, 1, "\x01" * 9 + "Odd", "Quart.")
    await posts.insert_post(db, 1, "Quart and Flask", "Old.")
    await posts.insert_post(db, 1, "On Quart", "Notes.")
    await posts.insert_post(db, 2, "Third", "About quart.")
    await posts.insert_post(db, 1, "Fourth", "Quart, quart and the other one.")
    await posts.insert_post(db, 1, "Flask", "Quart.")

    # The title first, then the author's name, then the body; newest first among equals.
    assert titles(await page_text(client, "/?q=quart")) == [
        "On Quart",
        "Quart and Flask",
        "Flask",
        "Fourth",
        "Third",
    ]
    assert titles(await page_text(client, "/?q=quart&page=2")) == ["\x01" * 9 + "Odd"]
    assert titles(await page_text(client, "/?q=other")) == ["Third", "Fourth"]
    # Each word found in the title counts.
    assert titles(await page_text(client, "/?q=quart+flask")) == ["Quart and Flask", "Flask"]


async def test_search_follows_edits(client: Client, auth: AuthActions) -> None:
    await auth.login()
    assert titles(await page_text(client, "/?q=test")) == ["test title"]
    await post_form(client, "/1/update", {"title": "renamed", "body": "fresh words"})
    assert titles(await page_text(client, "/?q=fresh")) == ["renamed"]
    assert titles(await page_text(client, "/?q=title")) == []
    await post_form(client, "/1/delete", {}, token_from="/1/update")
    assert titles(await page_text(client, "/?q=fresh")) == []


@pytest.mark.parametrize(
    "query",
    (
        '"',
        '"unbalanced',
        "'",
        "*",
        "a*",
        "^test",
        "NEAR(test body)",
        "NEAR(",
        "(",
        ")",
        "test OR",
        "AND",
        "NOT test",
        "-test",
        "title:test",
        "{title body}:test",
        "test + body",
        "\x00",
        "te\x00st",
        "\u00fcn\u00efc\u00f8d\u00e9 \u65e5\u672c\u8a9e \U0001f600",
        "%",
        "\\",
    ),
)
async def test_search_takes_any_text(client: Client, query: str) -> None:
    response = await client.get("/", query_string={"q": query})
    assert response.status_code == 200


async def test_search_finds_words_next_to_symbols(client: Client) -> None:
    assert titles(await page_text(client, '/?q="test"')) == ["test title"]
    assert titles(await page_text(client, "/?q=(test)")) == ["test title"]


async def test_search_ranks_the_newest_matches(
    client: Client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_posts(db, 4, tags=["t"])
    await posts.insert_post(db, 1, "Other", "A post.")
    await posts.insert_post(db, 1, "Newest", "Post.")
    monkeypatch.setattr(posts, "SEARCH_WINDOW", 3)
    # The three newest matches ranked (the title match first), then the older
    # matches by date, the page crossing from one to the other.
    page = await page_text(client, "/?q=post")
    assert titles(page) == ["post 4", "Newest", "Other", "post 3", "post 2"]
    assert 'rel="next"' in page
    page = await page_text(client, "/?q=post&page=2")
    assert titles(page) == ["post 1"]
    assert 'rel="next"' not in page
    # Within a tag, the three newest matches with the tag, then the older one.
    assert titles(await page_text(client, "/tag/t?q=post")) == [
        "post 4",
        "post 3",
        "post 2",
        "post 1",
    ]


@pytest.mark.parametrize("tagged", (False, True))
async def test_search_pages_show_every_match_once(
    db: Database, monkeypatch: pytest.MonkeyPatch, tagged: bool
) -> None:
    await add_posts(db, 7, tags=["t"])
    for number in range(5):
        await posts.insert_post(db, 2, f"other {number}", "About a post.", tags=["t"])
    await posts.insert_post(db, 1, "untagged", "A post.")
    await posts.insert_post(db, 1, "unrelated", "Nothing.")
    tag_id = await tag_queries.select_tag_id(db, "t") if tagged else None
    matching = await posts.select_posts(db, limit=100, tag_id=tag_id)
    expected = {post.id for post in matching if "post" in post.body.lower() + post.title}
    assert len(expected) == (12 if tagged else 13)

    for window in (1, 4, 5, 6, 12, 13, 50):
        monkeypatch.setattr(posts, "SEARCH_WINDOW", window)
        found = await posts.select_posts(db, limit=100, search="post", tag_id=tag_id)
        ids = [post.id for post in found]
        assert sorted(ids) == sorted(expected), window
        # The newest `window` matches come first, the title matches among them
        # first; the rest follow newest first.
        newest = sorted(expected, reverse=True)[:window]
        assert set(ids[:window]) == set(newest)
        ranked = [post.title.startswith("post") for post in found[:window]]
        assert ranked == sorted(ranked, reverse=True)
        assert ids[window:] == sorted(ids[window:], reverse=True)
        for size in (1, 2, 5):
            paged: list[int] = []
            for offset in range(0, len(ids) + size, size):
                page = await posts.select_posts(
                    db, limit=size, offset=offset, search="post", tag_id=tag_id
                )
                paged += [post.id for post in page]
            assert paged == ids, (window, size)


async def test_search_too_long(client: Client) -> None:
    response = await client.get("/", query_string={"q": "x" * 201})
    assert response.status_code == 400
    assert "at most 200 characters" in await response.get_data(as_text=True)


async def test_index_pages(client: Client, db: Database) -> None:
    await add_posts(db, 11)
    page = await page_text(client, "/")
    assert titles(page) == ["post 11", "post 10", "post 9", "post 8", "post 7"]
    assert 'rel="next" href="/?page=2"' in page
    assert 'rel="prev"' not in page

    page = await page_text(client, "/?page=2")
    assert titles(page) == ["post 6", "post 5", "post 4", "post 3", "post 2"]
    assert 'rel="prev" href="/"' in page
    assert 'rel="next" href="/?page=3"' in page
    assert "Page 2" in page

    page = await page_text(client, "/?page=3")
    assert titles(page) == ["post 1", "test title"]
    assert 'rel="next"' not in page

    response = await client.get("/?page=4")
    assert response.status_code == 404
    assert "There is no page 4" in await response.get_data(as_text=True)


async def test_a_single_page_has_no_pager(client: Client) -> None:
    assert 'class="pager"' not in await page_text(client, "/")


async def test_empty_index(client: Client, db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM post")
    page = await page_text(client, "/")
    assert "No posts yet." in page


@pytest.mark.parametrize(
    "page", ("0", "-1", "abc", "1e3", "1.5", "01", " 1", "\u0663", "", "9999999999", "2" * 30)
)
async def test_bad_page_numbers(client: Client, page: str) -> None:
    response = await client.get("/", query_string={"page": page})
    assert response.status_code == 404


async def test_search_pages(client: Client, db: Database) -> None:
    await add_posts(db, 7)
    page = await page_text(client, "/?q=post")
    assert len(titles(page)) == 5
    assert 'rel="next" href="/?q=post&amp;page=2"' in page
    page = await page_text(client, "/?q=post&page=2")
    assert len(titles(page)) == 2
    assert 'rel="prev" href="/?q=post"' in page


async def test_tag_pages(client: Client, db: Database) -> None:
    await add_posts(db, 6, tags=["many"])
    page = await page_text(client, "/tag/many")
    assert titles(page) == ["post 6", "post 5", "post 4", "post 3", "post 2"]
    assert 'rel="next" href="/tag/many?page=2"' in page
    page = await page_text(client, "/tag/many?page=2")
    assert titles(page) == ["post 1"]
    assert 'rel="prev" href="/tag/many"' in page
    assert (await client.get("/tag/many?page=3")).status_code == 404
    # A search within a tag.
    assert titles(await page_text(client, "/tag/many?q=body+3")) == ["post 3"]
    assert titles(await page_text(client, "/tag/many?q=nowhere")) == []


async def test_posts_per_page_is_configurable(app: Quart, client: Client, db: Database) -> None:
    app.config["POSTS_PER_PAGE"] = 2
    await add_posts(db, 2)
    assert titles(await page_text(client, "/")) == ["post 2", "post 1"]
    assert titles(await page_text(client, "/?page=2")) == ["test title"]


async def test_listing_costs_no_scan(db: Database) -> None:
    """Each page's posts come from an index, whatever the page: no table scan, no sort."""
    plans = {
        "newest": posts._NEWEST_IDS,
        "tag": posts._TAG_IDS,
    }
    for name, sql in plans.items():
        params = (1, 5, 0) if name == "tag" else (5, 0)
        rows = await db.fetch_all("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(row["detail"] for row in rows)
        assert "COVERING INDEX" in plan, (name, plan)
        assert "TEMP B-TREE" not in plan, (name, plan)


async def test_markdown_body(client: Client, auth: AuthActions) -> None:
    await auth.login()
    body = (
        "Some **bold** and a [link](https://example.com).\n\n"
        "<script>alert(1)</script> <img src=x onerror=alert(1)>"
        " [bad](javascript:alert(1)) [also bad](JAVASCRIPT:alert(1))"
    )
    await post_form(client, "/create", {"title": "md", "body": body})
    for path in ("/", "/2"):
        page = await page_text(client, path)
        assert "<strong>bold</strong>" in page
        assert (
            '<a href="https://example.com" rel="nofollow ugc noopener noreferrer">link</a>' in page
        )
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert 'href="javascript' not in page.lower()


async def test_body_html_is_stored_on_write(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    await post_form(client, "/1/update", {"title": "t", "body": "*new*"})
    row = await db.fetch_one("SELECT body_html FROM post WHERE id = 1")
    assert row is not None and row[0] == "<p><em>new</em></p>\n"


async def test_refused_create_and_update_show_the_form_again_as_flaskr(
    client: Client, auth: AuthActions
) -> None:
    await auth.login()
    for path in ("/create", "/1/update"):
        response = await post_form(client, path, {"title": "", "body": ""})
        assert response.status_code == 200
        assert "Title is required." in await response.get_data(as_text=True)


async def test_update_of_a_deleted_post_frees_its_new_image(db: Database) -> None:
    unused = await posts.update_post(db, 2, "t", "b", replace_image=True, image="new.png")
    assert unused == "new.png"
    assert await db.fetch_one("SELECT 1 FROM post WHERE id = 2") is None


async def test_thousands_of_tags_are_refused(client: Client, auth: AuthActions) -> None:
    await auth.login()
    tags = ",".join(f"t{number}" for number in range(20_000))
    response = await post_form(client, "/create", {"title": "t", "body": "", "tags": tags})
    assert "A post can have at most 10 tags." in await response.get_data(as_text=True)
