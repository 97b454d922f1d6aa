"""The RSS 2.0 feed of the newest posts, for feed readers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urljoin

from quart import Blueprint
from quart import request
from quart import Response
from quart import url_for

from quart_flaskr import markdown
from quart_flaskr import workers
from quart_flaskr.db import get_db
from quart_flaskr.i18n import current_language
from quart_flaskr.i18n import gettext
from quart_flaskr.models import posts
from quart_flaskr.pagecache import cache_key
from quart_flaskr.pagecache import get_page_cache
from quart_flaskr.pagecache import kept
from quart_flaskr.pagecache import page_response

bp = Blueprint("feed", __name__)

#: How many posts the feed carries, newest first.
FEED_ITEMS = 20
CONTENT_TYPE = "application/rss+xml; charset=utf-8"
ATOM = "http://www.w3.org/2005/Atom"
DUBLIN_CORE = "http://purl.org/dc/elements/1.1/"
#: A link's or picture's address in sanitised HTML (nh3 writes every attribute in
#: double quotes, and escapes any inside).
_ADDRESS = re.compile(r'(\s(?:href|src)=")([^"]*)"')
#: Characters XML 1.0 cannot hold at all, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

#: The thread feeds are written in.
_pool = workers.Pool("feed", 1)

ET.register_namespace("atom", ATOM)
ET.register_namespace("dc", DUBLIN_CORE)


def _add(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = _NOT_XML.sub("", text)
    return element


def _absolute(html: str, base: str) -> str:
    """``html`` with each link's and picture's address made absolute against ``base``, the
    post's own: RSS gives a description no base, and readers differ in what they take."""
    return _ADDRESS.sub(lambda found: f'{found[1]}{urljoin(base, found[2])}"', html)


@bp.route("/feed.xml")
async def rss() -> Response:
    """The newest posts as RSS 2.0, kept until the database changes (feed readers poll it)."""
    # Per language (its description is translated), scheme and host (its URLs are absolute).
    key = cache_key(
        None, current_language(), request.scheme, request.host, request.root_path, request.path
    )
    response = await page_response(await kept(get_page_cache(), key, _feed), CONTENT_TYPE)
    return await response.make_conditional(request)


@dataclass(frozen=True, slots=True)
class _Item:
    """A post as the feed carries it: what the request's context gives, read on the loop."""

    title: str
    link: str
    html: str
    created: datetime
    author: str
    tags: tuple[str, ...]


async def _feed() -> bytes:
    """The newest posts as RSS 2.0, with absolute links and their bodies as HTML.

    Written in a thread: 20 posts of 20,000 characters of links each are a
    feed of megabytes, whose links made absolute and whose escaping would keep
    the event loop from every reader for a third of a second.
    """
    recent = await posts.select_posts(get_db(), limit=FEED_ITEMS)
    items = [
        _Item(
            post.title,
            url_for("blog.detail", id=post.id, _external=True),
            str(markdown.body_html(post)),
            post.created,
            post.username,
            post.tags,
        )
        for post in recent
    ]
    return await _pool.run(
        _written,
        url_for("blog.index", _external=True),
        url_for("feed.rss", _external=True),
        gettext("The newest posts on Flaskr."),
        current_language(),
        items,
    )


def _written(home: str, itself: str, description: str, language: str, items: list[_Item]) -> bytes:
    """The feed of ``items``, for the blog at ``home``, read at ``itself``."""
    root = ET.Element("rss", version="2.0")
    channel = ET.SubElement(root, "channel")
    _add(channel, "title", "Flaskr")
    _add(channel, "link", home)
    _add(channel, "description", description)
    _add(channel, "language", language)
    ET.SubElement(channel, f"{{{ATOM}}}link", href=itself, rel="self", type="application/rss+xml")
    if items:
        _add(channel, "lastBuildDate", format_datetime(items[0].created, usegmt=True))
    for post in items:
        item = ET.SubElement(channel, "item")
        _add(item, "title", post.title)
        _add(item, "link", post.link)
        # The sanitised HTML, escaped as RSS wants it.
        _add(item, "description", _absolute(post.html, post.link))
        _add(item, "guid", post.link, isPermaLink="true")
        _add(item, "pubDate", format_datetime(post.created, usegmt=True))
        _add(item, f"{{{DUBLIN_CORE}}}creator", post.author)
        for name in post.tags:
            _add(item, "category", name)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
