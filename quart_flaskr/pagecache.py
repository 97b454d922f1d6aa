"""Rendered pages, kept until the database next changes.

Readers see the same page for the same URL until someone writes: anonymous
readers of one language all share one copy, and each logged-in session (whose
page shows its user's name, buttons and form token) has its own per language.
A page is rendered once and then served from memory. Each entry remembers the
database's data version when it was rendered (``Database.data_version``): it
moves on whenever any connection (this worker's writer, or another process)
commits, so a write is visible to the very next read, in every worker.
Pages also carry an ETag, so a browser that has one gets a 304. While a page
is being rendered, other requests for it wait for that render instead of
making their own: after a write, a crowd of readers costs one render, not one
each. A page is compressed once for each encoding readers ask for, and the
compressed bytes are kept with it.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import cast
from typing import ParamSpec

from quart import abort
from quart import current_app
from quart import get_flashed_messages
from quart import make_response
from quart import Quart
from quart import request
from quart import Response

from quart_flaskr import compression
from quart_flaskr.db import request_data_version
from quart_flaskr.i18n import current_language
from quart_flaskr.login import login_session_id
from quart_flaskr.paging import page_query
from quart_flaskr.paging import PARAMETERS
from quart_flaskr.paging import reading_args
from quart_flaskr.security import csrf_secret

P = ParamSpec("P")

_EXTENSION = "quart_flaskr.pagecache"

#: Where the cache names, in the request's ASGI scope, the page it answered with: its key,
#: the page, its language and whether it is a login session's own (read by fastpath.py).
SERVED = "quart_flaskr.pagecache.served"
#: Set in the scope of every request a cached page's view handles, served from the cache
#: or not: fastpath.py never takes its path for one the app answers alone.
PAGE_VIEW = "quart_flaskr.pagecache.page_view"


@dataclass(frozen=True, slots=True)
class Page:
    data_version: int
    rendered_at: float
    body: bytes
    etag: str
    #: The body in each encoding it was sent in ("br", "gzip"), made at the first request for it.
    encoded: dict[str, bytes] = field(default_factory=dict)

    async def encode(self, encoding: str) -> bytes:
        """The body in ``encoding``, compressed now if it has not been yet."""
        return await compression.compress_once(
            self.encoded, self.body, encoding, compression.CACHED_LEVELS
        )


class PageCache:
    """The newest ``size`` pages, least recently used out first."""

    def __init__(self, size: int, max_age: float) -> None:
        self.size = size
        self.max_age = max_age
        self._pages: OrderedDict[str, Page] = OrderedDict()
        #: Renders under way: the data version each renders at, and what it gives.
        self._rendering: dict[str, tuple[int, asyncio.Future[Page | None]]] = {}
        #: The views warned of for reading what pages are not kept by (see ``_not_kept``).
        self.warned: set[str | None] = set()

    def get(self, key: str, data_version: int) -> Page | None:
        page = self._pages.get(key)
        if page is None:
            return None
        if page.data_version != data_version or time.monotonic() - page.rendered_at > self.max_age:
            del self._pages[key]
            return None
        self._pages.move_to_end(key)
        return page

    def put(self, key: str, data_version: int, body: bytes) -> Page:
        etag = hashlib.blake2b(body, digest_size=16).hexdigest()
        page = self._pages[key] = Page(data_version, time.monotonic(), body, etag)
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)
        return page

    def __len__(self) -> int:
        return len(self._pages)

    def under_way(self, key: str, data_version: int) -> asyncio.Future[Page | None] | None:
        """The render of this page at this data version that is under way, if any."""
        entry = self._rendering.get(key)
        return entry[1] if entry is not None and entry[0] == data_version else None

    @contextmanager
    def rendering(self, key: str, data_version: int) -> Iterator[asyncio.Future[Page | None]]:
        """Say a render of the page is under way, for other requests to wait for.

        Its future gets the page once kept, or None if the render gives no page
        to keep (not a 200, an error, the request cancelled): then each waiting
        request renders for itself.
        """
        future: asyncio.Future[Page | None] = asyncio.get_running_loop().create_future()
        entry = self._rendering[key] = (data_version, future)
        try:
            yield future
        finally:
            if not future.done():
                future.set_result(None)
            # A render at a newer version may have taken the key meanwhile.
            if self._rendering.get(key) is entry:
                del self._rendering[key]


def get_page_cache(app: Quart | None = None) -> PageCache:
    """The page cache of ``app``, by default the current app."""
    cache: PageCache = (current_app if app is None else app).extensions[_EXTENSION]
    return cache


async def _render(
    view: Callable[P, Awaitable[object]], *args: P.args, **kwargs: P.kwargs
) -> Response:
    return cast(Response, await make_response(await view(*args, **kwargs)))


async def kept_if_made(
    cache: PageCache, key: str, make: Callable[[], Awaitable[bytes | None]]
) -> Page | None:
    """The document kept under ``key`` while the database is unchanged, else the one ``make`` gives.

    What ``make`` gives is kept in turn; when it gives None, nothing is, and None is
    returned. While one request makes the document, others asking for it at the same
    data version wait for that one instead of making their own: after a write, a crowd
    of readers costs one render. If it keeps nothing (None, an error, the request
    cancelled), each of them makes its own.
    """
    data_version = await request_data_version()
    page = cache.get(key, data_version)
    if page is None and (under_way := cache.under_way(key, data_version)) is not None:
        page = await asyncio.shield(under_way)
    if page is None:
        with cache.rendering(key, data_version) as rendered:
            body = await make()
            if body is None:
                return None
            page = cache.put(key, data_version, body)
            rendered.set_result(page)
    return page


async def kept(cache: PageCache, key: str, make: Callable[[], Awaitable[bytes | None]]) -> Page:
    """:func:`kept_if_made`'s document.

    :raise NotFound: ``make`` gives nothing (None)
    """
    page = await kept_if_made(cache, key, make)
    if page is None:
        abort(404)
    return page


async def page_response(page: Page, content_type: str) -> Response:
    """A kept page as a response: its ETag, and its body compressed as the browser accepts."""
    response = Response(page.body, content_type=content_type)
    response.set_etag(page.etag)
    mimetype = content_type.partition(";")[0]
    encoding = compression.choose_encoding(len(page.body), mimetype, response.headers)
    if encoding is not None:
        compression.set_encoded_body(response, await page.encode(encoding), encoding)
    return response


def cache_key(
    owner: str | None, language: str, scheme: str, host: str, root_path: str, full_path: str
) -> str:
    """Where a page is kept: by its owner (None for anonymous readers), language and URL.

    The scheme, host and mount point are part of it: pages hold links built
    from them (behind a proxy, from its X-Forwarded- headers), and a request
    with a forged Host header must not change what others are served.
    """
    return f"{owner or ''} {language} {scheme}://{host}{root_path} {full_path}"


async def _served_from_cache(
    view: Callable[P, Awaitable[object]], *args: P.args, **kwargs: P.kwargs
) -> Response:
    """The view's page as :func:`cached_page` serves it (a function of its own, not
    nested, so that mutation testing reaches it)."""
    cast(dict[str, object], request.scope)[PAGE_VIEW] = True
    cache = get_page_cache()
    # Taken from the session now, they are the ones the page then shows.
    if not cache.size or get_flashed_messages():
        return await _render(view, *args, **kwargs)
    owner = None
    login_id = login_session_id()
    if login_id is not None:
        # The login session and its form secret, not the user: a page holds
        # a form token that only this session's secret accepts. Made now
        # if missing, so that the page is kept under the secret it uses.
        owner = f"{login_id} {csrf_secret()}"
    query = page_query()
    language = current_language()
    key = cache_key(
        owner,
        language,
        request.scheme,
        request.host,
        request.root_path,
        f"{request.path}?{query}",
    )
    # The response this request rendered, if it did.
    rendered: list[Response] = []

    async def body() -> bytes | None:
        with reading_args() as read:
            response = await _render(view, *args, **kwargs)
            rendered.append(response)
            if response.status_code != 200:
                return None
            # Read while the view's reads are noted: a body made as it is sent
            # (a generator) reads the request as it goes.
            data = await response.get_data(as_text=False)
        if read.outside:
            # Its body is read: the answer is sent from these bytes.
            response.set_data(data)
            _not_kept(cache, read.outside)
            return None
        return data

    page = await kept_if_made(cache, key, body)
    if page is None:
        # Not a 200: that answer as it is, kept for nobody.
        return rendered[0]
    # ASGI scopes are plain dicts; middleware may add its own keys.
    cast(dict[str, object], request.scope)[SERVED] = (key, page, language, owner is not None)
    response = await page_response(page, "text/html; charset=utf-8")
    if "If-None-Match" in request.headers:
        return await response.make_conditional(request)
    return response


def _not_kept(cache: PageCache, outside: list[str]) -> None:
    """Warn, once a view, that its pages are not kept: it read what their key does not hold."""
    if request.endpoint not in cache.warned:
        cache.warned.add(request.endpoint)
        current_app.logger.warning(
            "%s read the query parameters %s, which the page cache does not key pages on"
            " (paging.PARAMETERS: %s): its pages are made anew for every request.",
            request.endpoint,
            ", ".join(dict.fromkeys(outside)),
            ", ".join(PARAMETERS),
        )


def cached_page(
    view: Callable[P, Awaitable[object]],
) -> Callable[P, Awaitable[Response]]:
    """Serve the view's 200 pages from the cache, per login session.

    Anyone with a message waiting to be flashed (a form they sent said what it
    did, then redirected here) has their page rendered, showing it, and not kept.
    Their session cookie holds the message, so the fast path, which remembers
    answers by the cookie, has none for them either.
    """

    @functools.wraps(view)
    async def wrapped_view(*args: P.args, **kwargs: P.kwargs) -> Response:
        return await _served_from_cache(view, *args, **kwargs)

    return wrapped_view


def init_app(app: Quart) -> None:
    app.extensions[_EXTENSION] = PageCache(
        app.config["PAGE_CACHE_SIZE"], app.config["PAGE_CACHE_SECONDS"]
    )
