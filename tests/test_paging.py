"""Listings a page at a time: numbers in the URL, the links between pages, the pages' edges."""

from __future__ import annotations

import pytest
from quart import Quart
from werkzeug.exceptions import NotFound

from quart_flaskr.db import Database
from quart_flaskr.paging import make_page
from quart_flaskr.paging import offset
from quart_flaskr.paging import page_number
from quart_flaskr.paging import page_url
from quart_flaskr.paging import raw_page_query
from tests.helpers import add_posts
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import page_text
from tests.helpers import post_form
from tests.helpers import titles

NO_SUCH_PAGE = "There is no such page: pages are numbered 1, 2, 3 and on."


@pytest.mark.parametrize(
    ("found", "number", "items", "previous_url", "next_url"),
    (
        # One more than a page: the extra item only shows that there is a next page.
        (range(6), 1, range(5), None, "/list?page=2"),
        # Exactly a page: no next page to link to.
        (range(5), 1, range(5), None, None),
        (range(4), 1, range(4), None, None),
        (range(6), 2, range(5), "/list", "/list?page=3"),
        (range(1), 2, range(1), "/list", None),
        (range(5), 3, range(5), "/list?page=2", None),
        # An empty listing still has its first page.
        (range(0), 1, range(0), None, None),
    ),
)
def test_make_page(
    found: range, number: int, items: range, previous_url: str | None, next_url: str | None
) -> None:
    page = make_page(found, number, 5, "/list")
    assert list(page.items) == list(items)
    assert page.number == number
    assert page.url == ("/list" if number == 1 else f"/list?page={number}")
    assert page.previous_url == previous_url
    assert page.next_url == next_url


@pytest.mark.parametrize(
    ("first", "number", "expected"),
    (
        ("/tag/a%20b", 1, "/tag/a%20b"),
        ("/tag/a%20b", 2, "/tag/a%20b?page=2"),
        # A search's pages keep its words, the page number after them.
        ("/?q=cats+%26+dogs", 1, "/?q=cats+%26+dogs"),
        ("/?q=cats+%26+dogs", 12, "/?q=cats+%26+dogs&page=12"),
    ),
)
def test_page_url(first: str, number: int, expected: str) -> None:
    assert page_url(first, number) == expected


@pytest.mark.parametrize("number", (2, 3))
def test_a_page_past_the_end_is_not_found(number: int) -> None:
    with pytest.raises(NotFound) as raised:
        make_page([], number, 5, "/list")
    description = f"There is no page {number}: the listing ends before it."
    assert raised.value.description == description


@pytest.mark.parametrize(
    ("number", "per_page", "expected"), ((1, 5, 0), (2, 5, 5), (3, 5, 10), (4, 2, 6))
)
def test_offset(number: int, per_page: int, expected: int) -> None:
    assert offset(number, per_page) == expected


@pytest.mark.parametrize(
    ("query", "number"),
    (("", 1), ("?page=1", 1), ("?page=2", 2), ("?page=999999999", 999999999)),
)
async def test_page_number(app: Quart, query: str, number: int) -> None:
    async with app.test_request_context(f"/{query}"):
        assert page_number() == number


@pytest.mark.parametrize("page", ("0", "-1", "abc", "01", "1000000000"))
async def test_bad_page_numbers_say_how_pages_are_numbered(client: Client, page: str) -> None:
    response = await client.get("/", query_string={"page": page})
    assert response.status_code == 404
    assert f'<p class="error">{NO_SUCH_PAGE}</p>' in await response.get_data(as_text=True)


async def test_a_listing_of_exactly_one_page_has_no_next_page(client: Client, db: Database) -> None:
    # The seeded post and four more: POSTS_PER_PAGE exactly.
    await add_posts(db, 4)
    page = await page_text(client, "/")
    assert len(titles(page)) == 5
    assert 'rel="next"' not in page
    assert 'class="pager"' not in page
    response = await client.get("/?page=2")
    assert response.status_code == 404
    assert "There is no page 2" in await response.get_data(as_text=True)


async def test_the_last_of_exact_pages_has_no_next_page(client: Client, db: Database) -> None:
    await add_posts(db, 9)
    page = await page_text(client, "/?page=2")
    assert len(titles(page)) == 5
    assert 'rel="prev" href="/"' in page
    assert 'rel="next"' not in page
    assert (await client.get("/?page=3")).status_code == 404


async def test_page_two_of_a_single_page_listing_is_not_found(client: Client) -> None:
    assert (await client.get("/?page=2")).status_code == 404


async def test_a_like_on_page_two_returns_to_page_two(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await add_posts(db, 5)
    await auth.login()
    page = await page_text(client, "/?page=2")
    assert titles(page) == ["test title"]
    # The like form says where to come back to: this page, not the first.
    assert '<input type="hidden" name="next" value="/?page=2">' in page
    response = await post_form(client, "/1/like", {"next": "/?page=2"}, token_from="/?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/?page=2#post-1"
    assert "1 like<" in await page_text(client, "/?page=2")


async def test_the_first_page_links_to_itself_without_a_number(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await add_posts(db, 5)
    await auth.login()
    page = await page_text(client, "/?page=1")
    assert '<input type="hidden" name="next" value="/">' in page
    assert 'rel="prev"' not in page
    assert 'rel="next" href="/?page=2"' in page


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        (b"", b""),
        (b"fbclid=IwAR1&utm_source=news", b""),
        # The first of each, in the order the page key lists them, as sent.
        (b"page=2&utm_source=news&q=a+b&q=other", b"q=a+b&page=2"),
        (b"&&q=%D0%B4%D0%B0&&", b"q=%D0%B4%D0%B0"),
        # Named as the app reads names: escaped, or with no value at all.
        (b"%71=x", b"%71=x"),
        (b"q", b"q"),
        (b"qq=1&q%20=2&Q=3", b""),
        # What the app cannot read is not for the fast path to key.
        (b"q=\xff", None),
    ],
)
def test_raw_page_query_keeps_the_pairs_pages_are_made_from(raw: bytes, kept: bytes | None) -> None:
    assert raw_page_query(raw) == kept
