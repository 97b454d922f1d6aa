"""What search engines' crawlers read: robots.txt, and sitemaps of every post and tag.

``/sitemap.xml`` lists the front page, every tag's page and every post, each
with the time of its newest post, while they number at most
``SITEMAP_URLS``. A bigger blog's ``/sitemap.xml`` is a sitemap index of
sitemaps of up to that many each: ``/sitemap-tags-N.xml`` (the front page, then
tags by id) and ``/sitemap-posts-N.xml`` (posts by id), each read by its own
range of ids (``models/sitemap.py``), so no request reads more rows than one
sitemap holds. URLs are absolute, built from the request's host, as the feed's.
A sitemap is kept, as sent and compressed, until the database changes.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from datetime import datetime
from itertools import chain
from xml.sax.saxutils import escape

from quart import Blueprint
from quart import current_app
from quart import Quart
from quart import request
from quart import Response
from quart import url_for

from quart_flaskr import workers
from quart_flaskr.db import get_db
from quart_flaskr.models import sitemap as sitemap_queries
from quart_flaskr.pagecache import cache_key
from quart_flaskr.pagecache import kept
from quart_flaskr.pagecache import page_response
from quart_flaskr.pagecache import PageCache
from quart_flaskr.security import public_view

bp = Blueprint("crawlers", __name__)

_EXTENSION = "quart_flaskr.crawlers"
#: Sitemaps kept at once: crawlers read them rarely, one after another.
KEPT_SITEMAPS = 4
XML = "application/xml; charset=utf-8"
SITEMAP_NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
#: How long browsers and shared caches may keep robots.txt and the sitemaps:
#: crawlers come back for them rarely, and a new post waits an hour at most.
ROBOTS_CACHE_SECONDS = 24 * 3600
SITEMAP_CACHE_SECONDS = 3600
#: Where crawlers have nothing to read: the writers' forms, and search results
#: (a space of pages without end, each a listing of posts the sitemap lists one
#: by one). ``*`` matches any characters (RFC 9309); listings' other pages stay
#: open, and so do the login and register pages, which readers search for.
DISALLOWED = ("/create", "/*/update", "/auth/logout", "/healthz", "/*?q=", "/*&q=")
#: An id no post or tag holds, which URLs are built around.
_PLACEHOLDER = "4815162342"
#: The thread sitemaps are written in: one at a time, as crawlers read them.
_pool = workers.Pool("sitemaps", 1)


@bp.route("/robots.txt")
@public_view
async def robots() -> Response:
    """Crawlers may read every page but forms and searches; the sitemap says where they are."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED), "Allow: /"]
    lines += ["", f"Sitemap: {url_for('crawlers.sitemap', _external=True)}", ""]
    response = Response("\n".join(lines), content_type="text/plain; charset=utf-8")
    response.headers["Cache-Control"] = f"public, max-age={ROBOTS_CACHE_SECONDS}"
    return response


#: The first id of each kind's first sitemap: the front page is the tags' id 0.
_FIRST_ID = {"tags": 0, "posts": 1}


def _sitemap_count(kind: str, last_id: int) -> int:
    """How many sitemaps of a kind hold its ids up to ``last_id``."""
    if last_id < _FIRST_ID[kind]:
        return 0
    size: int = current_app.config["SITEMAP_URLS"]
    return (last_id - _FIRST_ID[kind]) // size + 1


def _id_range(kind: str, number: int) -> tuple[int, int]:
    """The first id of the kind's sitemap ``number``, and the id past its last."""
    size: int = current_app.config["SITEMAP_URLS"]
    first = _FIRST_ID[kind] + (number - 1) * size
    return first, first + size


def _lastmod(moment: datetime | None) -> str:
    return "" if moment is None else f"<lastmod>{moment.isoformat(timespec='seconds')}</lastmod>"


def _url(location: str, moment: datetime | None) -> str:
    return f"<url><loc>{escape(location)}</loc>{_lastmod(moment)}</url>"


def _urlset(urls: Iterable[tuple[str, datetime | None]]) -> str:
    """A sitemap of each URL and when its page last changed (in a thread: see ``_written``)."""
    lines = (_url(location, moment) for location, moment in urls)
    return f'<urlset xmlns="{SITEMAP_NAMESPACE}">\n' + "\n".join(lines) + "\n</urlset>\n"


async def _written(urls: Iterable[tuple[str, datetime | None]]) -> str:
    """The sitemap of ``urls``, whose addresses are built as it is written, in a thread.

    A sitemap of 10,000 URLs is 20 ms of formatting and escaping: the event
    loop would answer nobody for as long.
    """
    return await _pool.run(_urlset, urls)


async def _tag_urls(
    first_id: int, end_id: int, newest: datetime | None
) -> Iterator[tuple[str, datetime | None]]:
    """The front page (the first sitemap's position 0), then the tags with ids in the range."""
    front = [(url_for("blog.index", _external=True), newest)] if first_id == 0 else []
    # Werkzeug's own quoting of a path part, as url_for would, without a build per tag.
    quote = current_app.url_map.converters["default"](current_app.url_map).to_url
    before, after = url_for("blog.tag", name=_PLACEHOLDER, _external=True).split(_PLACEHOLDER)
    tags = await sitemap_queries.select_tags(get_db(), max(first_id, 1), end_id)
    return chain(front, ((f"{before}{quote(tag.name)}{after}", tag.newest) for tag in tags))


async def _post_urls(first_id: int, end_id: int) -> Iterator[tuple[str, datetime | None]]:
    before, after = url_for("blog.detail", id=int(_PLACEHOLDER), _external=True).split(_PLACEHOLDER)
    posts = await sitemap_queries.select_post_times(get_db(), first_id, end_id)
    return ((f"{before}{post_id}{after}", written) for post_id, written in posts)


async def _sitemap_index() -> str:
    """Every URL in one sitemap while they fit, else an index of sitemaps of ranges of ids."""
    size = current_app.config["SITEMAP_URLS"]
    extent = await sitemap_queries.select_extent(get_db())
    # Ids bound the rows' numbers: the front page, the tags and the posts fit.
    if 1 + extent.last_tag_id + extent.last_post_id <= size:
        tag_urls = await _tag_urls(0, size, extent.newest)
        return await _written(chain(tag_urls, await _post_urls(1, size)))
    locations = [
        url_for(f"crawlers.{kind}", number=number, _external=True)
        for kind, last_id in (("tags", extent.last_tag_id), ("posts", extent.last_post_id))
        for number in range(1, _sitemap_count(kind, last_id) + 1)
    ]
    entries = "\n".join(f"<sitemap><loc>{escape(loc)}</loc></sitemap>" for loc in locations)
    return f'<sitemapindex xmlns="{SITEMAP_NAMESPACE}">\n{entries}\n</sitemapindex>\n'


async def _tags_sitemap(number: int) -> str | None:
    extent = await sitemap_queries.select_extent(get_db())
    if number > _sitemap_count("tags", extent.last_tag_id):
        return None
    return await _written(await _tag_urls(*_id_range("tags", number), extent.newest))


async def _posts_sitemap(number: int) -> str | None:
    extent = await sitemap_queries.select_extent(get_db())
    if number > _sitemap_count("posts", extent.last_post_id):
        return None
    return await _written(await _post_urls(*_id_range("posts", number)))


async def _kept(make: Callable[[], Awaitable[str | None]]) -> Response:
    """The sitemap ``make`` writes, kept until the database changes; 404 when it gives none."""

    async def document() -> bytes | None:
        text = await make()
        return None if text is None else f'<?xml version="1.0" encoding="UTF-8"?>\n{text}'.encode()

    cache: PageCache = current_app.extensions[_EXTENSION]
    # In any language alike, for this scheme and host (its URLs are absolute).
    key = cache_key(None, "", request.scheme, request.host, request.root_path, request.path)
    response = await page_response(await kept(cache, key, document), XML)
    response.headers["Cache-Control"] = f"public, max-age={SITEMAP_CACHE_SECONDS}"
    return await response.make_conditional(request)


@bp.route("/sitemap.xml")
@public_view
async def sitemap() -> Response:
    return await _kept(_sitemap_index)


@bp.route("/sitemap-tags-<int(min=1):number>.xml")
@public_view
async def tags(number: int) -> Response:
    return await _kept(lambda: _tags_sitemap(number))


@bp.route("/sitemap-posts-<int(min=1):number>.xml")
@public_view
async def posts(number: int) -> Response:
    return await _kept(lambda: _posts_sitemap(number))


def init_app(app: Quart) -> None:
    app.extensions[_EXTENSION] = PageCache(KEPT_SITEMAPS, app.config["PAGE_CACHE_SECONDS"])
    app.register_blueprint(bp)
