from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import pytest
from quart import Quart
from quart import Response
from werkzeug.datastructures import MultiDict

from quart_flaskr import pagecache
from quart_flaskr.db import Database
from quart_flaskr.db import get_db
from quart_flaskr.models import posts
from quart_flaskr.pagecache import cache_key
from quart_flaskr.pagecache import get_page_cache
from quart_flaskr.pagecache import PageCache
from tests.harness.forms import csrf_token_in
from tests.helpers import another_connection
from tests.helpers import AppFactory
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import post_form


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the times a listing is read from the database."""
    calls: list[int] = []
    select_posts = posts.select_posts

    async def counting(*args: object, **kwargs: object) -> list[posts.Post]:
        calls.append(1)
        return await select_posts(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(posts, "select_posts", counting)
    return calls


def cache_of(app: Quart) -> PageCache:
    return get_page_cache(app)


async def text(client: Client, path: str) -> str:
    return await (await client.get(path)).get_data(as_text=True)


async def test_anonymous_pages_are_rendered_once(
    app: Quart, client: Client, renders: list[int]
) -> None:
    first = await text(client, "/")
    second = await text(client, "/")
    assert first == second and "test title" in first
    assert len(renders) == 1
    await text(client, "/?q=test")
    assert len(renders) == 2
    assert len(cache_of(app)) == 2


async def test_a_link_shared_with_other_parameters_is_served_the_kept_page(
    app: Quart, client: Client, renders: list[int]
) -> None:
    """utm_source, fbclid (each click its own) and the like: one page, rendered once."""
    plain = await text(client, "/")
    assert await text(client, "/?utm_source=newsletter&fbclid=IwAR1") == plain
    assert await text(client, "/?fbclid=IwAR2") == plain
    searched = await text(client, "/?q=test")
    assert await text(client, "/?fbclid=IwAR3&q=test") == searched
    # The first of a parameter given twice, as the view reads it.
    assert await text(client, "/?q=test&q=other") == searched
    assert len(renders) == 2
    assert len(cache_of(app)) == 2


@pytest.mark.parametrize(
    ("path", "shared"),
    [
        ("/", "/?utm_source=newsletter&utm_medium=email"),
        ("/?q=test", "/?q=test&fbclid=IwAR1"),
        ("/?q=nothing+matches", "/?gclid=1&q=nothing+matches"),
        ("/1", "/1?ref=home"),
        ("/u/test", "/u/test?utm_campaign=x&ref=home"),
        ("/?page=1", "/?page=1&utm_campaign=x"),
    ],
)
async def test_pages_are_the_same_whatever_else_their_link_carries(
    make_app: AppFactory, path: str, shared: str
) -> None:
    """What keeping them under the page's own parameters rests on: rendered afresh (no page
    cache), each page is the same with the other parameters as without."""
    client = (await make_app(PAGE_CACHE_SIZE=0)).test_client()
    assert await text(client, shared) == await text(client, path)


async def test_a_tag_page_is_the_same_whatever_else_its_link_carries(make_app: AppFactory) -> None:
    app = await make_app(PAGE_CACHE_SIZE=0)
    writer = app.test_client()
    await AuthActions(writer).login()
    await post_form(writer, "/create", {"title": "tagged", "body": "words", "tags": "news"})
    client = app.test_client()
    page = await text(client, "/tag/news")
    assert "tagged" in page
    assert await text(client, "/tag/news?utm_source=feed&fbclid=IwAR1") == page


async def test_a_write_is_visible_to_the_next_read(
    app: Quart, client: Client, auth: AuthActions, renders: list[int]
) -> None:
    reader = app.test_client()
    assert "written now" not in await text(reader, "/")
    await auth.login()
    await post_form(client, "/create", {"title": "written now", "body": ""})
    assert "written now" in await text(reader, "/")


async def test_a_write_by_another_process_is_visible(
    client: Client, db: Database, renders: list[int]
) -> None:
    assert "from elsewhere" not in await text(client, "/")
    elsewhere = another_connection(db)
    try:
        async with elsewhere.transaction() as tx:
            await tx.execute("UPDATE post SET title = 'from elsewhere' WHERE id = 1")
    finally:
        await elsewhere.close()
    assert "from elsewhere" in await text(client, "/")


async def test_logged_in_pages_are_their_own(
    app: Quart, client: Client, auth: AuthActions, renders: list[int]
) -> None:
    await text(app.test_client(), "/")
    await auth.login()
    page = await text(client, "/")
    assert 'title="Your account">test</a>' in page and 'href="/1/update"' in page
    assert len(renders) == 2
    # Logging in wrote to the database: the anonymous page is rendered anew.
    assert 'title="Your account">test</a>' not in await text(app.test_client(), "/")
    assert len(renders) == 3
    # The session's own copy serves it again...
    assert await text(client, "/") == page
    assert len(renders) == 3
    # ...but another session of the same user has its own form token.
    elsewhere = app.test_client()
    await AuthActions(elsewhere).login()
    other_page = await text(elsewhere, "/")
    assert 'title="Your account">test</a>' in other_page and other_page != page
    assert len(renders) == 4


async def test_a_like_shows_at_once_on_the_users_own_page(
    client: Client, auth: AuthActions
) -> None:
    await auth.login()
    assert "0 likes" in await text(client, "/")
    await post_form(client, "/1/like", {"next": "/"})
    page = await text(client, "/")
    assert "1 like" in page and "Unlike" in page


async def test_a_pending_message_is_shown_not_cached(
    app: Quart, client: Client, renders: list[int]
) -> None:
    await text(app.test_client(), "/")
    async with client.session_transaction() as session:
        session["_flashes"] = [("message", "A note for you.")]
    assert "A note for you." in await text(client, "/")
    assert "A note for you." not in await text(app.test_client(), "/")


async def test_etag_gives_304(client: Client) -> None:
    response = await client.get("/")
    etag = response.headers["ETag"]
    again = await client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert await again.get_data() == b""
    other = await client.get("/", headers={"If-None-Match": '"something else"'})
    assert other.status_code == 200


async def test_a_changed_page_has_a_new_etag(app: Quart, client: Client) -> None:
    etag = (await client.get("/")).headers["ETag"]
    # Another page, or the same one after a write, is sent in full.
    other = await client.get("/1", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag
    await posts.insert_post(get_db(app), 1, "written since", "")
    again = await client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert "written since" in await again.get_data(as_text=True)
    assert again.headers["ETag"] != etag


async def test_errors_are_not_cached(app: Quart, client: Client) -> None:
    assert (await client.get("/99")).status_code == 404
    assert len(cache_of(app)) == 0


async def test_least_recently_used_pages_go_first(make_app: AppFactory) -> None:
    app = await make_app(PAGE_CACHE_SIZE=2)
    client = app.test_client()
    for path in ("/", "/1", "/", "/?q=x"):
        assert (await client.get(path)).status_code == 200
    cache = cache_of(app)
    version = await get_db(app).data_version()
    assert cache.get(cache_key(None, "en", "http", "localhost", "", "/?"), version) is not None
    assert cache.get(cache_key(None, "en", "http", "localhost", "", "/1?"), version) is None


async def test_pages_expire(make_app: AppFactory, renders: list[int]) -> None:
    app = await make_app(PAGE_CACHE_SECONDS=-1)
    client = app.test_client()
    await text(client, "/")
    await text(client, "/")
    assert len(renders) == 2


def test_a_page_is_kept_for_max_age_seconds_and_no_longer(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    # The cache's own clock, not the one the event loop reads.
    monkeypatch.setattr(pagecache, "time", SimpleNamespace(monotonic=lambda: now[0]))
    cache = PageCache(8, 300)
    page = cache.put("k", 1, b"page")
    now[0] += 300
    assert cache.get("k", 1) is page
    now[0] += 0.5
    assert cache.get("k", 1) is None
    assert len(cache) == 0


async def test_cache_can_be_switched_off(make_app: AppFactory, renders: list[int]) -> None:
    app = await make_app(PAGE_CACHE_SIZE=0)
    client = app.test_client()
    await text(client, "/")
    await text(client, "/")
    assert len(renders) == 2
    async with app.app_context():
        assert len(get_page_cache()) == 0


async def test_pages_of_a_post_a_tag_and_an_author_render_with_the_cache_off(
    make_app: AppFactory, db: Database
) -> None:
    # Their views take the URL's parts as arguments, which the cache passes on.
    client = (await make_app(PAGE_CACHE_SIZE=0)).test_client()
    await posts.insert_post(db, 1, "Tagged", "body", tags=["topic"])
    for path, shown in (("/1", "test title"), ("/tag/topic", "Tagged"), ("/u/test", "test title")):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert shown in await response.get_data(as_text=True), path


async def test_only_200_pages_are_cached(app: Quart, client: Client) -> None:
    from quart_flaskr.pagecache import cached_page

    @app.route("/accepted")
    @cached_page
    async def accepted() -> tuple[str, int]:
        return "queued", 202

    response = await client.get("/accepted")
    assert response.status_code == 202
    assert len(cache_of(app)) == 0


async def test_a_forged_host_does_not_change_others_pages(app: Quart) -> None:
    forged = await app.test_client().get("/", headers={"Host": "evil.example"})
    assert "http://evil.example/feed.xml" in await forged.get_data(as_text=True)
    page = await text(app.test_client(), "/")
    assert "evil.example" not in page
    assert "http://localhost/feed.xml" in page


async def test_a_cached_page_carries_a_token_its_session_accepts(
    client: Client, auth: AuthActions
) -> None:
    """Two tabs rendering at once can leave the browser with another form secret."""
    await auth.login()
    await text(client, "/")
    async with client.session_transaction() as session:
        session["csrf_token"] = "a secret set by the other tab"
    page = await text(client, "/")
    token = csrf_token_in(page)
    assert token is not None
    response = await client.post("/1/like", form={"csrf_token": token, "next": "/"})
    assert response.status_code == 302


@pytest.fixture
def slow_renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts renders of cached views, each made to take a while so that requests overlap it."""
    calls: list[int] = []
    render = pagecache._render

    async def slow(*args: Any, **kwargs: Any) -> Response:
        calls.append(1)
        await asyncio.sleep(0.05)
        return await render(*args, **kwargs)

    monkeypatch.setattr(pagecache, "_render", slow)
    return calls


async def test_readers_arriving_during_a_render_wait_for_it(
    app: Quart, slow_renders: list[int]
) -> None:
    pages = await asyncio.gather(*(text(app.test_client(), "/") for _ in range(10)))
    assert len(set(pages)) == 1 and "test title" in pages[0]
    assert len(slow_renders) == 1
    # Not the readers of another page, nor of this one after a write.
    other = await asyncio.gather(text(app.test_client(), "/?q=test"), text(app.test_client(), "/"))
    assert len(slow_renders) == 2 and "test title" in other[0]
    await posts.insert_post(get_db(app), 1, "new", "post")
    pages = await asyncio.gather(*(text(app.test_client(), "/") for _ in range(3)))
    assert len(slow_renders) == 3 and all("new" in page for page in pages)


async def test_readers_render_for_themselves_when_the_render_keeps_nothing(
    app: Quart, slow_renders: list[int]
) -> None:
    # An unknown tag's listing is a 404: nothing is kept, so each renders it.
    responses = await asyncio.gather(*(app.test_client().get("/tag/none") for _ in range(3)))
    assert [response.status_code for response in responses] == [404] * 3
    assert len(slow_renders) == 3


async def test_a_render_that_fails_or_is_overtaken_lets_go_of_the_page() -> None:
    cache = PageCache(8, 60)
    with pytest.raises(RuntimeError), cache.rendering("k", 1) as failed:
        assert cache.under_way("k", 1) is failed
        assert cache.under_way("k", 2) is None
        raise RuntimeError
    # Those waiting get nothing and render for themselves.
    assert failed.result() is None
    assert cache.under_way("k", 1) is None

    with cache.rendering("k", 1) as old:
        with cache.rendering("k", 2) as new:
            # A render after a write takes the page over; the older one, ending
            # first, leaves it be.
            assert cache.under_way("k", 1) is None
        assert cache.under_way("k", 2) is None
    assert old.result() is None and new.result() is None


@pytest.mark.parametrize("path", ("/1", "/feed.xml", "/sitemap.xml"))
async def test_each_mount_point_has_its_own_pages(app: Quart, path: str) -> None:
    client = app.test_client()
    mounted = await client.get("/blog" + path, root_path="/blog")
    assert mounted.status_code == 200
    assert "/blog/" in await mounted.get_data(as_text=True)
    plain = await client.get(path)
    assert plain.status_code == 200
    assert "/blog/" not in await plain.get_data(as_text=True)


#: Views reading the query string in ways the page cache's key does not hold,
#: each with two queries that must get different pages.
_READS_OUTSIDE = {
    "another parameter": (lambda args: args.get("sort", "date"), "?sort=title", "?sort=likes"),
    "another, by name": (lambda args: args["sort"] if "sort" in args else "", "?sort=a", "?sort=b"),
    "another, typed": (lambda args: args.get("n", default=0, type=int), "?n=1", "?n=2"),
    "every value of one": (lambda args: ",".join(args.getlist("q")), "?q=a&q=b", "?q=a&q=c"),
    "every parameter": (lambda args: ",".join(args), "?q=a&x=1", "?q=a&y=1"),
    "their count": (lambda args: len(args), "?q=a&x=1", "?q=a"),
    "all of them": (lambda args: args.to_dict(), "?q=a&x=1", "?q=a&x=2"),
}


@pytest.mark.parametrize("read", _READS_OUTSIDE.values(), ids=_READS_OUTSIDE.keys())
async def test_a_view_that_reads_what_the_key_does_not_hold_has_no_page_kept(
    app: Quart, client: Client, caplog: pytest.LogCaptureFixture, read: Any
) -> None:
    from quart import request

    from quart_flaskr.pagecache import cached_page

    reading, first, second = read

    @app.route("/reading")
    @cached_page
    async def reading_view() -> str:
        return f"made from {reading(request.args)}"

    # Kept under the key of "q" and "page" alone, the first would be served the second.
    one = await text(client, f"/reading{first}")
    other = await text(client, f"/reading{second}")
    assert one == f"made from {reading(MultiDict(parse_qsl(first[1:])))}"
    assert other == f"made from {reading(MultiDict(parse_qsl(second[1:])))}"
    assert one != other
    assert len(cache_of(app)) == 0
    warned = [r.getMessage() for r in caplog.records if "page cache does not key" in r.message]
    assert len(warned) == 1 and "reading_view" in warned[0]


async def test_a_view_that_reads_only_the_keys_parameters_has_its_page_kept(
    app: Quart, client: Client
) -> None:
    from quart import request

    from quart_flaskr.pagecache import cached_page

    args_after: list[object] = []
    made: list[int] = []

    @app.route("/searched")
    @cached_page
    async def searched() -> str:
        made.append(1)
        args = request.args
        page = args["page"] if "page" in args else "1"
        return f"{args.get('q', '')} page {page} of {args.get('page', default=1, type=int)}"

    @app.after_request
    async def note_args(response: Response) -> Response:
        args_after.append(request.args)
        return response

    first = await text(client, "/searched?q=x&page=2&utm_source=mail")
    again = await text(client, "/searched?page=2&fbclid=1&q=x")
    assert first == again == "x page 2 of 2"
    assert len(made) == 1 and len(cache_of(app)) == 1
    # The view's stand-in is gone once it has made the page.
    assert all(isinstance(args, MultiDict) for args in args_after)


async def test_a_body_made_as_it_is_sent_is_watched_too(app: Quart, client: Client) -> None:
    from quart import request

    from quart_flaskr.pagecache import cached_page

    @app.route("/made-as-sent")
    @cached_page
    async def made_as_sent() -> AsyncIterator[str]:
        async def body() -> AsyncIterator[str]:
            yield f"sorted by {request.args.get('sort')}"

        return body()

    assert await text(client, "/made-as-sent?sort=a") == "sorted by a"
    assert await text(client, "/made-as-sent?sort=b") == "sorted by b"
    assert len(cache_of(app)) == 0


def test_the_app_reads_the_query_string_only_through_request_args() -> None:
    """Only ``request.args`` is watched while a page is made (``paging.ReadArgs``): anything
    reading the query string another way could put other parameters on a kept page."""
    package = Path(pagecache.__file__).parent
    other_ways = re.compile(
        r"request\s*\.\s*(query_string|full_path|url|values)\b"
        r"|request\s*\[\s*['\"](query_string|full_path|url|values)"
        r"|\.scope\s*\[\s*['\"]query_string"
    )
    sources = [*package.rglob("*.py"), *package.rglob("*.html")]
    assert len(sources) > 50
    found = [
        f"{source.relative_to(package)}: {match.group(0)}"
        for source in sources
        for match in other_ways.finditer(source.read_text("utf-8"))
    ]
    assert not found
