"""Cached pages served before the framework sees the request.

The page cache keeps each rendered page until the database changes, but a
request for a kept page still went through the whole of Quart: a request
context, the host and CSRF checks, the session, the user, the view, then
every ``after_request`` hook adding its headers. Here the first request
for a kept page goes that way, and its answer (status, headers and body, as
Quart hands them to the server) is remembered. A later request that would
be answered the same way is answered with them at once, as long as the page
is still the one the cache holds (no write since, not too old).

"The same way" is decided from the request as it arrives: the same method
(GET), scheme, mount point, path and Host header; the same pairs of the query
string that pages are made from, as sent (:func:`quart_flaskr.paging.raw_page_query`:
a link's ``utm_source`` or ``fbclid`` changes nothing); the same language, as the app
chooses it from the ``lang`` cookie and the Accept-Language header
(:func:`quart_flaskr.i18n.language_for`); the same encoding, as the app
negotiates it from Accept-Encoding (:func:`quart_flaskr.compression.negotiate`);
the same session cookie, to the letter, or none; the same If-None-Match, or
none (a browser checking its copy of the page is answered the app's 304 again);
and no other conditional or range request. An anonymous page's answer depends
on nothing else, so the answer remembered is the answer the app would give, and
readers whose browsers word those headers differently, who carry cookies of
their own (a proxy's, an analytics script's) or who follow a link with a click
id of its own, share it.
The page cache says which language it rendered the page in, and an answer is
remembered only under a key that says the same. Answers that set a cookie, or
are not a 200 or a 304, are not remembered.

A logged-in reader's page is their login session's own, and so is its answer:
it is remembered under their session cookie, only when the page cache says the
page is that login's (a cookie the app refused, or an anonymous session's, goes
to the app every time), and only until the clock would change it
(``expiry.py``: the cookie due to be signed again, the login's end, its use to
be recorded). Logging out, a suspension or a new password are writes: the data
version tells the fast path of them as it tells the page cache.

A path and query string the app answered with a 200 from a view that serves
no cached pages (``/hello``, a static file, an image, a feed) go straight to
the app from then on, without the key, the lookup and the recording (a tenth
of ``/hello``'s cost): the app answers them anyway. Nothing but speed hangs
on it, so a few thousand short ones are remembered, the oldest forgotten first.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import cast

from hypercorn.typing import ASGIFramework
from hypercorn.typing import ASGIReceiveCallable
from hypercorn.typing import ASGISendCallable
from hypercorn.typing import ASGISendEvent
from hypercorn.typing import HTTPResponseStartEvent
from hypercorn.typing import HTTPScope
from hypercorn.typing import Scope
from quart import Quart
from werkzeug.sansio.http import parse_cookie

from quart_flaskr import bounded
from quart_flaskr import expiry
from quart_flaskr import lookup
from quart_flaskr.compression import negotiate
from quart_flaskr.db import get_db
from quart_flaskr.i18n import COOKIE as LANGUAGE_COOKIE
from quart_flaskr.i18n import language_for
from quart_flaskr.pagecache import get_page_cache
from quart_flaskr.pagecache import Page
from quart_flaskr.pagecache import PAGE_VIEW
from quart_flaskr.pagecache import SERVED
from quart_flaskr.paging import raw_page_query

#: The request headers a page's answer depends on (the cookies through the session and the
#: language, Accept-Language through the language, Accept-Encoding through the encoding;
#: If-None-Match makes it a 304 when it names the page's ETag).
_KEYED_HEADERS = (b"host", b"cookie", b"accept-language", b"accept-encoding", b"if-none-match")
#: Where a request's key holds the language it was answered in, and the session cookie.
_LANGUAGE, _SESSION = 5, 7
#: A session cookie as the app signs it. The signature's decoder skips other characters, so
#: one login's cookie with any run of them added still opens, each a key of its own.
_SIGNED = re.compile(r"[A-Za-z0-9_.\-]*")

#: Request headers that make an answer other than the remembered one: the app's to give.
_CONDITIONAL_HEADERS = frozenset(
    (b"if-modified-since", b"if-match", b"if-unmodified-since", b"range")
)

#: Paths and query strings kept as answered by the app with something other than a cached page,
#: and the longest kept (a longer one is not: 4,096 of 64 KiB could hold a quarter of a GiB).
_NOT_PAGES = 4096
_NOT_PAGE_LENGTH = 512


@dataclass(frozen=True, slots=True)
class Answer:
    """A page's answer as the app sent it: the cache's key and page, and what was sent."""

    key: str
    page: Page
    #: 200, or 304 for a browser whose copy (If-None-Match) is the page.
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    #: While the clock reads from when it was made until when it may change (seconds since
    #: the epoch; ``expiry.py``), it is the answer; a clock set back leaves it to the app.
    made: float
    until: float


class FastPath:
    """ASGI middleware answering repeated requests for cached pages itself."""

    def __init__(self, app: Quart, asgi_app: ASGIFramework, size: int) -> None:
        self.app = app
        self.asgi_app = asgi_app
        self.size = size
        self._session_cookie = app.config["SESSION_COOKIE_NAME"]
        self._answers: dict[tuple[object, ...], Answer] = {}
        #: Path and query string of the requests the app answered with a 200 of no cached page.
        self._not_pages: dict[tuple[str, bytes], None] = {}

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        request_key = self._request_key(scope) if self.size else None
        if request_key is None:
            await self.asgi_app(scope, receive, send)
            return
        answer = self._answers.get(request_key)
        if answer is not None:
            if answer.made <= time.time() < answer.until and await self._still_current(answer):
                start: HTTPResponseStartEvent = {
                    "type": "http.response.start",
                    "status": answer.status,
                    "headers": answer.headers,
                }
                await send(start)
                await send({"type": "http.response.body", "body": answer.body, "more_body": False})
                return
            # Unless another request dropped it, or remembered a newer one, meanwhile.
            if self._answers.get(request_key) is answer:
                del self._answers[request_key]
        await self.asgi_app(
            scope, receive, self._recording(cast(HTTPScope, scope), request_key, send)
        )

    def __len__(self) -> int:
        return len(self._answers)

    def _request_key(self, scope: Scope) -> tuple[object, ...] | None:
        """What the answer to this request depends on, or None when it is not to be remembered."""
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or (scope["path"], scope["query_string"]) in self._not_pages
        ):
            return None
        values: dict[bytes, bytes] = {}
        for raw_name, value in scope["headers"]:
            # Lower case, as ASGI has servers send them; whatever sends otherwise.
            name = raw_name.lower()
            if name in _CONDITIONAL_HEADERS:
                return None
            if name in _KEYED_HEADERS:
                if name in values:  # the same header twice: leave it to the app
                    return None
                values[name] = value
        # The pairs the page is made from, as sent (a link's fbclid left out).
        query = raw_page_query(scope["query_string"])
        if query is None:
            return None
        chosen = session = None
        cookie = values.get(b"cookie")
        if cookie:
            # Read as the app reads them (request.cookies), spaces and all.
            cookies = parse_cookie(cookie.decode("latin-1"))
            chosen = lookup.value(cookies, LANGUAGE_COOKIE, None)
            session = lookup.value(cookies, self._session_cookie, None)
            if session is not None and not _SIGNED.fullmatch(session):
                return None
        return (
            scope["scheme"],
            scope.get("root_path", ""),
            scope["path"],
            query,
            values.get(b"host"),
            language_for(chosen, _text(values.get(b"accept-language"))),
            negotiate(_text(values.get(b"accept-encoding"))),
            session,
            values.get(b"if-none-match"),
        )

    async def _still_current(self, answer: Answer) -> bool:
        """Whether the page answered with is still the one the page cache holds.

        False too when the database cannot say (PostgreSQL down): the app
        answers then, with the page that explains it.
        """
        try:
            data_version = await get_db(self.app).data_version()
        except Exception:  # the app answers instead, with its own error page
            return False
        return get_page_cache(self.app).get(answer.key, data_version) is answer.page

    def _recording(
        self, scope: HTTPScope, request_key: tuple[object, ...], send: ASGISendCallable
    ) -> ASGISendCallable:
        """``send``, remembering a cached page's answer as it goes by."""
        started: list[HTTPResponseStartEvent] = []
        chunks: list[bytes] = []

        async def recording_send(message: ASGISendEvent) -> None:
            await send(message)
            if message["type"] == "http.response.start":
                # Only a cached page's 200 or 304 is remembered; a 200 from a view
                # that serves no cached pages sends the next such requests straight on.
                if message["status"] in (200, 304) and SERVED in scope:
                    started.append(message)
                elif message["status"] == 200 and PAGE_VIEW not in scope:
                    self._not_a_page(scope)
            elif message["type"] == "http.response.body" and started:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self._remember(scope, request_key, started[0], b"".join(chunks))

        return recording_send

    def _not_a_page(self, scope: HTTPScope) -> None:
        """Send the requests for this path and query string straight to the app from now on."""
        request = scope["path"], scope["query_string"]
        if len(request[0]) + len(request[1]) > _NOT_PAGE_LENGTH:
            return
        bounded.put(self._not_pages, request, None, _NOT_PAGES)

    def _remember(
        self,
        scope: HTTPScope,
        request_key: tuple[object, ...],
        start: HTTPResponseStartEvent,
        body: bytes,
    ) -> None:
        served = cast(dict[str, object], scope)[SERVED]
        key, page, language, owned = cast(tuple[str, Page, str, bool], served)
        headers = list(start["headers"])
        # The language too, lest a request the app read otherwise than the key
        # says leave its page for the readers of another language; and a login's
        # own page only under the cookie of that login, as anonymous pages under none.
        if (
            language != request_key[_LANGUAGE]
            or owned != (request_key[_SESSION] is not None)
            or any(name.lower() == b"set-cookie" for name, _ in headers)
        ):
            return
        answer = Answer(key, page, start["status"], headers, body, time.time(), expiry.until(scope))
        bounded.put(self._answers, request_key, answer, self.size)


def _text(value: bytes | None) -> str | None:
    """A header's value as the app reads it."""
    return None if value is None else value.decode("latin-1")


def init_app(app: Quart) -> None:
    """Put the fast path in front of the app (inside any proxy middleware added later)."""
    app.asgi_app = FastPath(  # type: ignore[method-assign]
        app, app.asgi_app, 4 * app.config["PAGE_CACHE_SIZE"]
    )
