"""The listings: the index of posts, a page at a time, newest first."""

from __future__ import annotations

import pytest
from quart import Quart

from quart_flaskr.db import Database
from quart_flaskr.models import posts
from tests.helpers import add_posts
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import page_text
from tests.helpers import titles


async def test_index(client: Client, auth: AuthActions) -> None:
    page = await (await client.get("/")).get_data(as_text=True)
    assert "Log In" in page
    assert "Register" in page

    await auth.login()
    page = await (await client.get("/")).get_data(as_text=True)
    assert "test title" in page
    assert 'by <a href="/u/test">test</a> on 2018-01-01' in page
    assert "test\nbody" in page
    assert 'href="/1/update"' in page


async def test_titles_link_to_the_post(client: Client) -> None:
    page = await page_text(client, "/")
    assert '<a href="/1">test title</a>' in page


async def test_empty_index(client: Client, db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM post")
    page = await page_text(client, "/")
    assert "No posts yet." in page


async def test_a_single_page_has_no_pager(client: Client) -> None:
    assert 'class="pager"' not in await page_text(client, "/")


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


@pytest.mark.parametrize(
    "page", ("0", "-1", "abc", "1e3", "1.5", "01", " 1", "\u0663", "", "9999999999", "2" * 30)
)
async def test_bad_page_numbers(client: Client, page: str) -> None:
    response = await client.get("/", query_string={"page": page})
    assert response.status_code == 404


async def test_the_index_is_headed_posts(client: Client) -> None:
    page = await page_text(client, "/")
    assert "<h1>Posts</h1>" in page
    assert "<title>Posts - Flaskr</title>" in page


async def test_posts_per_page_is_configurable(app: Quart, client: Client, db: Database) -> None:
    app.config["POSTS_PER_PAGE"] = 2
    await add_posts(db, 2)
    assert titles(await page_text(client, "/")) == ["post 2", "post 1"]
    assert titles(await page_text(client, "/?page=2")) == ["test title"]


async def test_pages_walked_again_move_on_when_a_post_is_added(
    app: Quart, client: Client, db: Database
) -> None:
    """Pages after the first start where the page before ended, until anything is written."""
    app.config["POSTS_PER_PAGE"] = 2
    await add_posts(db, 4)

    async def walk(path: str, pages: tuple[int, ...] = (1, 2, 3)) -> list[list[str]]:
        return [titles(await page_text(client, f"{path}?page={n}")) for n in pages]

    for path in ("/", "/u/test"):
        expected = [["post 4", "post 3"], ["post 2", "post 1"], ["test title"]]
        assert await walk(path) == expected
        assert await walk(path) == expected
    await posts.insert_post(db, 1, "post 5", "body")
    for path in ("/", "/u/test"):
        # The last pages first: where they started before is not where they start now.
        moved = [["post 1", "test title"], ["post 3", "post 2"], ["post 5", "post 4"]]
        assert await walk(path, (3, 2, 1)) == moved


@pytest.mark.sqlite_only
async def test_listing_costs_no_scan(db: Database) -> None:
    """Each page's posts come from an index, whatever the page: no table scan, no sort.

    Passing over suspended users' posts reads no user but the suspended ones.
    """
    filters = {"newest": (), "tag": ("t",), "author": (1,)}
    for dated in (posts._NEWEST, posts._BY_TAG, posts._BY_AUTHOR):
        # By OFFSET, and after a given post (its date and id first).
        for sql, given in (
            (dated.by_offset["sqlite"], []),
            (dated.after["sqlite"], ["2026-01-01 00:00:00", 9]),
        ):
            name = (dated.name, sql)
            params = dated.params("sqlite", [], [*given, *filters[dated.name], 5, 0])
            rows = await db.fetch_all("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(row["detail"] for row in rows)
            assert "COVERING INDEX" in plan, (name, plan)
            assert "TEMP B-TREE" not in plan, (name, plan)
            assert "SCAN user" not in plan, (name, plan)
            # After a post: the index is entered at that post's entry.
            assert not given or "created<" in plan or "(created," in plan, (name, plan)
