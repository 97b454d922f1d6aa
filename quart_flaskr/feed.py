"""The RSS 2.0 feed of the newest posts, for feed readers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from email.utils import format_datetime
from urllib.parse import urljoin

from quart import Blueprint
from quart import request
from quart import Response
from quart import url_for

from quart_flaskr import markdown
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


async def _feed() -> bytes:
    """The newest posts as RSS 2.0, with absolute links and their bodies as HTML."""
    recent = await posts.select_posts(get_db(), limit=FEED_ITEMS)
    root = ET.Element("rss", version="2.0")
    channel = ET.SubElement(root, "channel")
    _add(channel, "title", "Flaskr")
    _add(channel, "link", url_for("blog.index", _external=True))
    _add(channel, "description", gettext("The newest posts on Flaskr."))
    _add(channel, "language", current_language())
    ET.SubElement(
        channel,
        f"{{{ATOM}}}link",
        href=url_for("feed.rss", _external=True),
        rel="self",
        type="application/rss+xml",
    )
    if recent:
        _add(channel, "lastBuildDate", format_datetime(recent[0].created, usegmt=True))
    for post in recent:
        link = url_for("blog.detail", id=post.id, _external=True)
        item = ET.SubElement(channel, "item")
        _add(item, "title", post.title)
        _add(item, "link", link)
        # The sanitised HTML, escaped as RSS wants it.
        _add(item, "description", _absolute(str(markdown.body_html(post)), link))
        _add(item, "guid", link, isPermaLink="true")
        _add(item, "pubDate", format_datetime(post.created, usegmt=True))
        _add(item, f"{{{DUBLIN_CORE}}}creator", post.username)
        for name in post.tags:
            _add(item, "category", name)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
