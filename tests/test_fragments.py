"""Listed posts rendered once and shared: the same pages, each reader's own parts their own."""

from __future__ import annotations

import re

from quart import Quart
from quart import render_template

from quart_flaskr import paging
from quart_flaskr.db import get_db
from quart_flaskr.fragments import get_fragment_cache
from quart_flaskr.fragments import render_page
from quart_flaskr.models import likes
from quart_flaskr.models import posts
from tests.harness.forms import csrf_token_in
from tests.helpers import AppFactory
from tests.helpers import AuthActions
from tests.helpers import page_text

#: A form token's value: different in every render, whatever else is the same.
TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')


async def add_posts(app: Quart, count: int) -> None:
    db = get_db(app)
    for number in range(count):
        await posts.insert_post(db, 2, f"post {number}", f"body {number}", tags=[f"tag{number}"])


async def pages(app: Quart, login: str | None = None) -> list[str]:
    """The index, a tag, a search and a profile, as anonymous or as ``login`` sees them."""
    client = app.test_client()
    if login is not None:
        await AuthActions(client).login(login, login)
    paths = ("/", "/tag/tag1", "/?q=post", "/u/other")
    return [TOKEN.sub("", await page_text(client, path)) for path in paths]


async def test_pages_are_the_same_with_and_without_kept_pieces(make_app: AppFactory) -> None:
    kept = await make_app(PAGE_CACHE_SIZE=0)
    rendered = await make_app(PAGE_CACHE_SIZE=0, FRAGMENT_CACHE_BYTES=0)
    await add_posts(kept, 3)
    await likes.like_post(get_db(kept), 1, 1)
    for login in (None, "test", "other"):
        expected = await pages(rendered, login)
        assert await pages(kept, login) == expected
        # And again, from the pieces kept the first time.
        assert await pages(kept, login) == expected
    assert len(get_fragment_cache(rendered)) == 0
    assert len(get_fragment_cache(kept)) > 0


async def test_pieces_are_rendered_once_for_every_page_and_reader(make_app: AppFactory) -> None:
    app = await make_app(PAGE_CACHE_SIZE=0)
    await add_posts(app, 3)
    cache = get_fragment_cache(app)
    client = app.test_client()
    await page_text(client, "/")
    # Four posts as anonymous readers see them, and the four pieces every page
    # shares: the head's links, the search form, the guest's links, the languages.
    assert len(cache) == 8
    await page_text(client, "/")
    await page_text(app.test_client(), "/")
    await page_text(client, "/1")
    assert len(cache) == 8
    # A logged-in reader's posts have like buttons; their author's, edit links too.
    auth = AuthActions(client)
    await auth.login()
    await page_text(client, "/")
    assert len(cache) == 12
    await auth.logout()
    await auth.login("other", "other")
    await page_text(client, "/")
    assert len(cache) == 16
    # A search shows its words in its own search form.
    assert 'value="body"' in await page_text(client, "/?q=body")
    assert len(cache) == 17


async def test_a_changed_post_is_shown_as_it_now_is(make_app: AppFactory) -> None:
    app = await make_app(PAGE_CACHE_SIZE=0)
    client = app.test_client()
    assert "0 likes" in await page_text(client, "/")
    await likes.like_post(get_db(app), 1, 2)
    assert "1 like<" in await page_text(client, "/")
    await posts.update_post(get_db(app), 1, "a new title", "a new body")
    page = await page_text(client, "/")
    assert "a new title" in page and "test title" not in page


async def test_each_language_has_its_own_pieces(make_app: AppFactory) -> None:
    app = await make_app(PAGE_CACHE_SIZE=0)
    client = app.test_client()
    assert "0 likes" in await page_text(client, "/")
    response = await client.get("/", headers={"Accept-Language": "ru"})
    page = await response.get_data(as_text=True)
    assert "0 отметок «Нравится»" in page and "0 likes" not in page


async def test_the_oldest_pieces_make_room(make_app: AppFactory) -> None:
    app = await make_app(PAGE_CACHE_SIZE=0, POSTS_PER_PAGE=50, FRAGMENT_CACHE_BYTES=8_000)
    await add_posts(app, 8)
    cache = get_fragment_cache(app)
    page = await page_text(app.test_client(), "/")
    assert all(f"post {number}" in page for number in range(8)) and "test title" in page
    assert 0 < len(cache) < 9 and 0 < cache.weight <= cache.size


async def test_a_long_posts_piece_weighs_its_text_too(make_app: AppFactory) -> None:
    app = await make_app(PAGE_CACHE_SIZE=0, FRAGMENT_CACHE_BYTES=30_000)
    cache = get_fragment_cache(app)
    await page_text(app.test_client(), "/")
    assert len(cache) == 5  # the post, and the four pieces every page shares
    await posts.insert_post(get_db(app), 1, "long", "word " * 4_000)
    page = await page_text(app.test_client(), "/")
    assert "long" in page and "test title" in page
    # The long post's piece weighs the 20,000 characters of its key too.
    assert len(cache) == 6 and cache.weight > 20_000
    # A piece heavier than the whole cache is rendered, and not kept.
    small = await make_app(PAGE_CACHE_SIZE=0, FRAGMENT_CACHE_BYTES=200)
    assert "test title" in await page_text(small.test_client(), "/")
    assert len(get_fragment_cache(small)) == 0


async def test_each_reader_sees_their_own_likes_and_edit_links(make_app: AppFactory) -> None:
    app = await make_app(PAGE_CACHE_SIZE=0)
    await likes.like_post(get_db(app), 1, 1)
    anonymous = await page_text(app.test_client(), "/")
    assert 'class="like"' not in anonymous and 'id="likes"' not in anonymous
    author = app.test_client()
    await AuthActions(author).login()
    page = await page_text(author, "/")
    assert 'formaction="/1/unlike"' in page and 'aria-pressed="true"' in page
    assert 'href="/1/update"' in page
    reader = app.test_client()
    await AuthActions(reader).login("other", "other")
    page = await page_text(reader, "/")
    assert 'formaction="/1/like"' in page and 'aria-pressed="false"' in page
    assert 'href="/1/update"' not in page


async def test_a_like_button_sends_the_pages_likes_form(make_app: AppFactory) -> None:
    app = await make_app()
    client = app.test_client()
    await AuthActions(client).login("other", "other")
    page = await page_text(client, "/")
    form = re.search(r'<form class="inline" id="likes" method="post">(.*?)</form>', page, re.S)
    assert form is not None
    assert 'name="next" value="/"' in form.group(1)
    assert re.search(r'<button type="submit" form="likes" formaction="/1/like"', page)
    token = csrf_token_in(form.group(0))
    assert token is not None
    response = await client.post("/1/like", form={"csrf_token": token, "next": "/"})
    assert response.status_code == 302 and response.headers["Location"] == "/#post-1"
    assert 'formaction="/1/unlike"' in await page_text(client, "/")


async def test_a_listing_goes_into_its_page_as_bytes(make_app: AppFactory) -> None:
    """render_page puts each listing's bytes where the page has its place: the page is what
    Quart's render_template makes of the same template, where the listing is text."""
    app = await make_app(PAGE_CACHE_SIZE=0)
    await add_posts(app, 3)
    found = await posts.select_posts(get_db(app), limit=3)
    async with app.test_request_context("/"):
        page = paging.make_page(found, 1, 2, "/")
        context = {"title": "Posts", "page": page, "posts": page.items, "search": None}
        spliced = await render_page("blog/index.html", **context)
        text = await render_template("blog/index.html", **context)
        # The same pieces again, kept from the first render.
        assert await render_page("blog/index.html", **context) == spliced
    assert spliced.decode() == text
    assert "post 2" in text and "post 1" in text and "post 0" not in text
    assert "<!--listing" not in text
