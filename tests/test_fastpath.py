"""Cached pages answered before the app: the same answers, never a stale or another reader's one."""

from __future__ import annotations

import time
from typing import Any
from typing import cast

import pytest
from hypercorn.typing import ASGIReceiveCallable
from hypercorn.typing import ASGIReceiveEvent
from hypercorn.typing import ASGISendCallable
from hypercorn.typing import ASGISendEvent
from hypercorn.typing import Scope
from quart import Quart
from quart import request
from quart import Response
from werkzeug.datastructures import Headers

from quart_flaskr import fastpath
from quart_flaskr import pagecache
from quart_flaskr.db import Database
from quart_flaskr.db import DatabaseUnavailableError
from quart_flaskr.db import get_db
from quart_flaskr.fastpath import FastPath
from quart_flaskr.models import posts
from quart_flaskr.models import sessions
from quart_flaskr.pagecache import get_page_cache
from tests.helpers import AppFactory
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import session_cookie


@pytest.fixture
def handled(app: Quart) -> list[str]:
    """The paths the app itself handled (the fast path answers the others)."""
    paths: list[str] = []

    @app.before_request
    async def count() -> None:
        paths.append(request.full_path)

    return paths


def fast_path(app: Quart) -> FastPath:
    front = app.asgi_app
    assert isinstance(front, FastPath)
    return front


async def answer(
    client: Client, path: str = "/", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    """The status, headers (by lower-case name) and body of the answer to a GET."""
    response = await client.get(path, headers=headers)
    named = {name.lower(): value for name, value in response.headers.items()}
    return response.status_code, named, await response.get_data(as_text=False)


async def in_front_of_a_page(
    app: Quart, language: str, owned: bool = False
) -> tuple[FastPath, list[str]]:
    """The fast path before an app that answers each request with a page the cache holds, in
    ``language`` (a login session's own when ``owned``); and the requests that reached that app."""
    sent: list[str] = []
    page = get_page_cache(app).put("a key", await get_db(app).data_version(), b"a page")

    async def inner(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        sent.append("app")
        cast(dict[str, object], scope)[pagecache.SERVED] = ("a key", page, language, owned)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a page", "more_body": False})

    return FastPath(app, inner, 4), sent


def request_scope(
    headers: list[tuple[bytes, bytes]] | None = None, query_string: bytes = b""
) -> Scope:
    """An anonymous GET / as a server hands it over."""
    scope = {"type": "http", "method": "GET", "scheme": "http", "path": "/"}
    return cast(Scope, {**scope, "headers": headers or [], "query_string": query_string})


async def test_a_repeated_anonymous_request_gets_the_same_answer_without_the_app(
    app: Quart, client: Client, handled: list[str]
) -> None:
    first = await answer(client)
    second = await answer(client)
    third = await answer(client)
    assert first == second == third
    assert first[0] == 200 and b"test title" in first[2]
    # Every header the app's hooks add is there the second time too.
    assert "content-security-policy" in second[1] and "etag" in second[1]
    assert handled == ["/?"]
    assert len(fast_path(app)) == 1


async def test_a_write_is_visible_to_the_next_request(
    app: Quart, client: Client, db: Database, handled: list[str]
) -> None:
    before = await answer(client)
    await answer(client)
    await posts.insert_post(db, 1, "written since", "body")
    after = await answer(client)
    assert b"written since" in after[2] and b"written since" not in before[2]
    assert after[1]["etag"] != before[1]["etag"]
    assert handled == ["/?", "/?"]
    # And the new page is remembered in turn.
    assert await answer(client) == after
    assert len(handled) == 2


async def test_what_the_page_depends_on_keeps_answers_apart(
    client: Client, handled: list[str]
) -> None:
    english = await answer(client)
    russian = await answer(client, **{"Accept-Language": "ru-RU,ru;q=0.9"})
    chosen = await answer(client, Cookie="lang=ko")
    compressed = await answer(client, **{"Accept-Encoding": "gzip"})
    other_page = await answer(client, "/?q=test")
    assert b'lang="en"' in english[2] and b'lang="ru"' in russian[2] and b'lang="ko"' in chosen[2]
    assert compressed[1]["content-encoding"] == "gzip" and "content-encoding" not in english[1]
    assert other_page[2] != english[2]
    assert len(handled) == 5
    # Each is then answered as it was, without the app.
    assert await answer(client, **{"Accept-Language": "ru-RU,ru;q=0.9"}) == russian
    assert await answer(client, Cookie="lang=ko") == chosen
    assert await answer(client, **{"Accept-Encoding": "gzip"}) == compressed
    assert await answer(client) == english
    assert len(handled) == 5


async def test_readers_with_cookies_of_their_own_share_the_answer(
    client: Client, handled: list[str]
) -> None:
    """A cookie the blog does not read (a proxy's, an analytics script's) changes nothing."""
    first = await answer(client, Cookie="_ga=GA1.1.1001")
    assert first[0] == 200 and b'lang="en"' in first[2]
    assert await answer(client, Cookie="_ga=GA1.1.1002") == first
    assert await answer(client, Cookie="consent=yes; _ga=GA1.1.1003") == first
    assert await answer(client) == first
    assert len(handled) == 1


async def test_browsers_asking_alike_share_the_answer(client: Client, handled: list[str]) -> None:
    """Headers worded differently that the app reads the same way: one answer, one render."""
    russian = await answer(client, **{"Accept-Language": "ru-RU,ru;q=0.9,en-US;q=0.8"})
    assert b'lang="ru"' in russian[2]
    assert await answer(client, **{"Accept-Language": "ru, en;q=0.5"}) == russian
    # Korean refused (q=0), so Russian: the app's own reading of the header.
    assert await answer(client, **{"Accept-Language": "ko;q=0, ru"}) == russian
    brotli = await answer(client, **{"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert brotli[1]["content-encoding"] == "br"
    assert await answer(client, **{"Accept-Encoding": "br;q=1.0, gzip;q=0.8"}) == brotli
    assert len(handled) == 2


async def test_the_language_cookie_is_read_as_the_app_reads_it(
    client: Client, handled: list[str]
) -> None:
    russian = {"Accept-Language": "ru"}
    # Not the language cookie, though its name ends the same: the browser's Russian.
    other = await answer(client, Cookie="xlang=ko", **russian)
    assert b'lang="ru"' in other[2]
    assert await answer(client, **russian) == other
    # The reader's choice, plain or quoted, over the browser's.
    chosen = await answer(client, Cookie="xlang=en; lang=ko", **russian)
    assert b'lang="ko"' in chosen[2]
    assert await answer(client, Cookie='lang="ko"', **russian) == chosen
    # A choice the blog does not speak leaves the browser's language.
    assert await answer(client, Cookie="lang=fr", **russian) == other
    assert len(handled) == 2


@pytest.mark.parametrize("cookie", ["lang =ko", "lang\t=ko", " lang= ko"])
async def test_a_language_cookie_written_oddly_counts_as_the_app_reads_it(
    client: Client, handled: list[str], cookie: str
) -> None:
    """Spaces around its name or value: the app reads the reader's choice, and so the fast
    path; the page in that language is never left for readers of the browser's."""
    chosen = await answer(client, Cookie=cookie, **{"Accept-Language": "ru"})
    assert b'lang="ko"' in chosen[2]
    assert await answer(client, Cookie=cookie, **{"Accept-Language": "ru"}) == chosen
    russian = await answer(client, **{"Accept-Language": "ru"})
    assert b'lang="ru"' in russian[2]
    assert len(handled) == 2


async def test_a_page_in_another_language_than_the_key_is_not_remembered(
    app: Quart, client: Client, handled: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the fast path ever read a request otherwise than the app, nothing is kept."""
    monkeypatch.setattr(fastpath, "language_for", lambda chosen, accepted: "en")
    korean = await answer(client, Cookie="lang=ko")
    assert b'lang="ko"' in korean[2]
    assert len(fast_path(app)) == 0
    assert b'lang="en"' in (await answer(client))[2]
    assert len(handled) == 2


async def test_cookies_that_are_not_utf_8_are_read_as_the_app_reads_them(app: Quart) -> None:
    """Bytes that are not UTF-8 in another cookie: read as Latin-1, as Quart reads headers."""
    front, sent = await in_front_of_a_page(app, "ko")
    headers = [(b"host", b"localhost"), (b"cookie", b"x=\xff\xfe; lang=ko")]
    for _ in range(2):
        await front(request_scope(headers=headers), receive_nothing, messages_to([]))
    assert sent == ["app"]


async def test_a_session_cookie_written_oddly_still_reaches_the_app(
    client: Client, handled: list[str]
) -> None:
    await answer(client)
    await answer(client, Cookie="session =whatever")
    await answer(client, Cookie="lang=en;session\t= whatever")
    assert len(handled) == 3


async def test_links_carrying_other_parameters_share_the_answer(
    app: Quart, client: Client, handled: list[str]
) -> None:
    """A link's utm_source or fbclid (each click its own) gets the answer kept for it without."""
    plain = await answer(client)
    assert await answer(client, "/?fbclid=IwAR1") == plain
    assert await answer(client, "/?utm_source=news&fbclid=IwAR2") == plain
    searched = await answer(client, "/?fbclid=IwAR3&q=test")
    assert searched[2] != plain[2]
    assert await answer(client, "/?q=test&utm_medium=email") == searched
    assert await answer(client, "/?q=test&q=other") == searched
    assert handled == ["/?", "/?fbclid=IwAR3&q=test"]
    assert len(fast_path(app)) == 2


async def test_searches_escaped_differently_each_get_their_own_page(
    client: Client, handled: list[str]
) -> None:
    """The parameters' values are kept as sent: a byte that is not UTF-8 (the app searches for
    "%FF" as written) never shares the page of the replacement character it does not mean."""
    replacement = await answer(client, "/?q=%EF%BF%BD")
    assert 'value="\N{REPLACEMENT CHARACTER}"'.encode() in replacement[2]
    written = await answer(client, "/?q=%FF")
    assert b'value="%FF"' in written[2]
    lower = await answer(client, "/?q=%c3%a9")
    upper = await answer(client, "/?q=%C3%A9")
    assert b'value="\xc3\xa9"' in lower[2] and b'value="\xc3\xa9"' in upper[2]
    assert len(handled) == 4


async def test_a_query_string_that_is_not_utf_8_reaches_the_app(app: Quart) -> None:
    front, sent = await in_front_of_a_page(app, "en")
    for _ in range(2):
        await front(request_scope(query_string=b"fbclid=\xff"), receive_nothing, messages_to([]))
    assert sent == ["app", "app"]
    assert len(front) == 0


async def logged_in_answer(client: Client, auth: AuthActions, username: str = "test") -> bytes:
    """Log in as ``username`` (whose password is the same) and read the index until its answer
    sets no cookie; its body."""
    await auth.login(username, username)
    for _ in range(3):
        _, headers, body = await answer(client)
        if "set-cookie" not in headers:
            assert f">{username}</a>".encode() in body
            return body
    raise AssertionError("every answer set a cookie")


async def test_a_logged_in_readers_repeated_request_gets_their_answer_without_the_app(
    client: Client, auth: AuthActions, handled: list[str]
) -> None:
    body = await logged_in_answer(client, auth)
    handled.clear()
    for _ in range(2):
        assert (await answer(client))[2] == body
    assert handled == []


async def test_each_login_gets_its_own_answer(
    app: Quart, client: Client, auth: AuthActions, handled: list[str]
) -> None:
    other = app.test_client()
    await logged_in_answer(client, auth)
    theirs = await logged_in_answer(other, AuthActions(other), "other")
    # Made again since the other login was written: a page's form token says when it was made.
    mine = (await answer(client))[2]
    handled.clear()
    for _ in range(2):
        assert (await answer(client))[2] == mine
        assert (await answer(other))[2] == theirs
        assert (await answer(app.test_client()))[2] not in (mine, theirs)
    assert handled == ["/?"]


async def test_a_session_cookie_with_characters_never_signed_reaches_the_app(
    app: Quart, client: Client, auth: AuthActions, handled: list[str]
) -> None:
    """The app takes the login's cookie with them added (its decoder skips them), so each
    such wording would be an answer of its own: the app answers them."""
    await logged_in_answer(client, auth)
    cookie = session_cookie(client)
    handled.clear()
    for added in ("!!", "!!", "!!!", "!!!"):
        fresh = app.test_client(use_cookies=False)
        _, _, body = await answer(fresh, Cookie=f"session={cookie}{added}")
        assert b"Log Out" in body
    assert len(handled) == 4
    assert len(fast_path(app)) == 1


async def test_a_copy_of_the_cookie_is_logged_out_with_its_browser(
    client: Client, auth: AuthActions, handled: list[str]
) -> None:
    """Logging out ends the login server-side: its cookie, replayed, no longer gets its page."""
    await logged_in_answer(client, auth)
    cookie = session_cookie(client)
    await auth.logout()
    handled.clear()
    _, _, body = await answer(client, Cookie=f"session={cookie}")
    assert b"Log Out" not in body and b"Log In" in body
    assert handled == ["/?"]


@pytest.mark.parametrize(
    ("due", "later", "by_the_app"),
    [
        # Before its use is to be recorded again (LAST_SEEN_SECONDS after it last was, as
        # stored: to the second), and after.
        (True, -1, False),
        (True, 1, True),
        # A clock set back: what the app answers then is the app's to say.
        (False, -1, True),
    ],
)
async def test_a_logged_in_answer_lasts_until_the_clock_would_change_it(
    app: Quart,
    db: Database,
    client: Client,
    auth: AuthActions,
    handled: list[str],
    monkeypatch: pytest.MonkeyPatch,
    due: bool,
    later: int,
    by_the_app: bool,
) -> None:
    body = await logged_in_answer(client, auth)
    (login,) = await sessions.select_login_sessions(db, 1)
    assert login.last_seen is not None
    seen = login.last_seen.timestamp() + app.config["LAST_SEEN_SECONDS"]
    now = seen if due else time.time()
    monkeypatch.setattr(time, "time", lambda: now + later)
    handled.clear()
    assert (await answer(client))[2] == body
    assert handled == (["/?"] if by_the_app else [])


async def test_a_cookie_due_to_be_signed_again_gets_it_from_the_app(
    app: Quart,
    client: Client,
    auth: AuthActions,
    handled: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await logged_in_answer(client, auth)
    now = time.time() + app.config["SESSION_REFRESH_SECONDS"]
    monkeypatch.setattr(time, "time", lambda: now + 1)
    handled.clear()
    _, headers, body = await answer(client)
    assert "set-cookie" in headers and b"Log Out" in body
    assert handled == ["/?"]


async def test_a_logins_page_is_remembered_only_under_a_session_cookie(app: Quart) -> None:
    """And an anonymous page only without one (see the cookies the app refuses, above)."""
    front, sent = await in_front_of_a_page(app, "en", owned=True)
    for cookie in (b"lang=en", b"lang=en", b"session=a.login", b"session=a.login"):
        headers = [(b"cookie", cookie)]
        await front(request_scope(headers=headers), receive_nothing, messages_to([]))
    assert sent == ["app", "app", "app"]


@pytest.mark.parametrize(
    "headers",
    [
        {"If-Modified-Since": "Fri, 04 Dec 2026 00:00:00 GMT"},
        {"If-Match": '"anything"'},
        {"Range": "bytes=0-10"},
        {"Cookie": "lang=en; session=whatever"},
    ],
)
async def test_conditional_requests_and_sessions_reach_the_app(
    client: Client, handled: list[str], headers: dict[str, str]
) -> None:
    await answer(client, **headers)
    await answer(client, **headers)
    assert len(handled) == 2


async def test_a_browser_checking_its_copy_gets_the_apps_304_again(
    client: Client, handled: list[str], db: Database
) -> None:
    """If-None-Match is part of the key: the page's ETag gets the 304 the app sent for it, any
    other the page; after a write, the same ETag gets the new page, from the app."""
    _, headers, body = await answer(client)
    etag = headers["etag"]
    not_modified = await answer(client, **{"If-None-Match": etag})
    assert not_modified[0] == 304 and not_modified[1]["etag"] == etag
    for _ in range(2):
        assert await answer(client, **{"If-None-Match": etag}) == not_modified
        assert await answer(client, **{"If-None-Match": '"another"'}) == (200, headers, body)
        assert await answer(client) == (200, headers, body)
    assert handled == ["/?", "/?", "/?"]
    await posts.insert_post(db, 1, "written since", "body")
    status, changed, _ = await answer(client, **{"If-None-Match": etag})
    assert status == 200 and changed["etag"] != etag
    assert len(handled) == 4


async def test_head_requests_and_other_methods_reach_the_app(
    client: Client, handled: list[str]
) -> None:
    await answer(client)
    await client.head("/")
    await client.head("/")
    assert len(handled) == 3


async def test_a_header_sent_twice_reaches_the_app(app: Quart, handled: list[str]) -> None:
    client = app.test_client()
    for _ in range(2):
        response = await client.get(
            "/", headers=Headers([("Accept-Language", "en"), ("Accept-Language", "ru")])
        )
        assert response.status_code == 200
    assert len(handled) == 2


async def test_pages_not_from_the_cache_are_not_remembered(
    app: Quart, client: Client, handled: list[str]
) -> None:
    for path in ("/hello", "/auth/login", "/no-such-page", "/1"):
        # Without cookies: the login page's session cookie would keep the others from the fast path.
        client = app.test_client(use_cookies=False)
        await client.get(path)
        await client.get(path)
    # All but the post page's second request: the cache keeps that page.
    assert len(handled) == 7 and handled[-1] == "/1?"
    assert len(fast_path(app)) == 1


async def test_an_answer_setting_a_cookie_is_not_remembered(app: Quart, handled: list[str]) -> None:
    @app.after_request
    async def set_cookie(response: Response) -> Response:
        response.set_cookie("seen", "yes")
        return response

    client = app.test_client(use_cookies=False)
    for _ in range(2):
        response = await client.get("/")
        assert response.headers["Set-Cookie"].startswith("seen=yes")
    assert len(handled) == 2


async def test_refused_hosts_are_never_answered(make_app: AppFactory) -> None:
    app = await make_app(ALLOWED_HOSTS=["blog.example"])
    client = app.test_client()
    allowed = await client.get("/", headers={"Host": "blog.example"})
    assert allowed.status_code == 200
    await client.get("/", headers={"Host": "blog.example"})
    for _ in range(2):
        refused = await client.get("/", headers={"Host": "evil.example"})
        assert refused.status_code == 400
    assert len(fast_path(app)) == 1


async def test_an_unavailable_database_is_the_apps_to_answer(
    app: Quart, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    await answer(client)
    await answer(client)

    async def unavailable(*args: Any) -> int:
        raise DatabaseUnavailableError("the database is down")

    monkeypatch.setattr(type(get_db(app)), "data_version", unavailable)
    status, headers, _ = await answer(client)
    assert status == 503 and headers["retry-after"] == "5"
    monkeypatch.undo()
    assert (await answer(client))[0] == 200


async def test_the_oldest_answers_make_room(make_app: AppFactory) -> None:
    app = await make_app(PAGE_CACHE_SIZE=1)
    client = app.test_client()
    front = fast_path(app)
    assert front.size == 4
    for number in range(6):
        await client.get(f"/?q=word{number}")
    assert len(front) == 4


async def test_without_a_page_cache_there_is_no_fast_path(make_app: AppFactory) -> None:
    app = await make_app(PAGE_CACHE_SIZE=0)
    client = app.test_client()
    await client.get("/")
    await client.get("/")
    assert len(fast_path(app)) == 0


async def test_an_answer_is_remembered_whole_from_every_part_sent(app: Quart) -> None:
    """Bodies sent in parts are remembered joined; other messages (trailers) are passed on."""
    database = get_db(app)
    page = get_page_cache(app).put("a key", await database.data_version(), b"whole page")
    sent: list[str] = []

    async def inner(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        sent.append("app")
        cast(dict[str, object], scope)[pagecache.SERVED] = ("a key", page, "en", False)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"x-one", b"1")],
                "trailers": True,
            }
        )
        await send({"type": "http.response.body", "body": b"whole ", "more_body": True})
        await send({"type": "http.response.body", "body": b"page", "more_body": False})
        await send({"type": "http.response.trailers", "headers": [], "more_trailers": False})

    front = FastPath(app, inner, 4)
    scope = {"type": "http", "method": "GET", "scheme": "http", "path": "/", "query_string": b""}
    for _ in range(2):
        messages: list[ASGISendEvent] = []
        await front(cast(Scope, {**scope, "headers": []}), receive_nothing, messages_to(messages))
        bodies = [message.get("body", b"") for message in messages]
        assert b"".join(body for body in bodies if isinstance(body, bytes)) == b"whole page"
    assert sent == ["app"]


async def receive_nothing() -> ASGIReceiveEvent:
    raise AssertionError("nothing is read")


def messages_to(messages: list[ASGISendEvent]) -> ASGISendCallable:
    async def send(message: ASGISendEvent) -> None:
        messages.append(message)

    return send


async def test_header_names_in_any_case_are_read(app: Quart) -> None:
    """A session cookie sent as ``Cookie`` (ASGI has names in lower case) still reaches the app."""
    front, sent = await in_front_of_a_page(app, "en")
    for _ in range(2):
        headers = [(b"Cookie", b"session=someone's")]
        await front(request_scope(headers=headers), receive_nothing, messages_to([]))
    assert sent == ["app", "app"]


async def test_each_scheme_behind_a_proxy_gets_its_own_page(make_app: AppFactory) -> None:
    """Pages link to themselves absolutely: one asked for over https is not shown to http."""
    app = await make_app(PROXY_TRUSTED_HOPS=1)
    client = app.test_client(use_cookies=False)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"}
    for _ in range(2):
        secure = await (await client.get("/", headers=forwarded)).get_data(as_text=True)
        assert '<link rel="canonical" href="https://' in secure
        plain = await (await client.get("/")).get_data(as_text=True)
        assert '<link rel="canonical" href="http://' in plain


async def test_what_the_app_answers_itself_goes_straight_to_it(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After one 200 that is no cached page, a path and query get the app's send untouched."""
    monkeypatch.setattr("quart_flaskr.fastpath._NOT_PAGES", 2)
    page = get_page_cache(app).put("a key", await get_db(app).data_version(), b"a page")
    given: list[tuple[str, bool]] = []

    async def inner(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        path = cast(dict[str, str], scope)["path"]
        given.append((path, send is original))
        if path == "/page":
            cast(dict[str, object], scope)[pagecache.SERVED] = ("a key", page, "en", False)
        if path == "/rendered":
            # A cached page's view that rendered without the cache this time.
            cast(dict[str, object], scope)[pagecache.PAGE_VIEW] = True
        status = 404 if path == "/missing" else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"text", "more_body": False})

    original = messages_to([])
    front = FastPath(app, inner, 4)

    async def get(path: str, query: bytes = b"") -> None:
        scope = {"type": "http", "method": "GET", "scheme": "http", "path": path}
        await front(
            cast(Scope, {**scope, "query_string": query, "headers": []}), receive_nothing, original
        )

    long = "/" + "x" * 512
    for path in ("/hello", "/hello", "/missing", "/missing", "/rendered", "/rendered"):
        await get(path)
    for path in ("/page", "/page", long, long):
        await get(path)
    assert given == [
        ("/hello", False),
        ("/hello", True),
        # Not a 200, or a cached page's view: tried again, as a page may yet be there.
        ("/missing", False),
        ("/missing", False),
        ("/rendered", False),
        ("/rendered", False),
        # A cached page is remembered, and then answered without the app.
        ("/page", False),
        # Too long to be worth remembering.
        (long, False),
        (long, False),
    ]
    # Each query string on its own; the oldest forgotten past the most kept.
    given.clear()
    for query in (b"a=1", b"a=2", b"a=1"):
        await get("/hello", query)
    await get("/hello")
    assert given == [("/hello", False), ("/hello", False), ("/hello", True), ("/hello", False)]
