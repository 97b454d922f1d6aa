"""Markdown for post bodies and comments, rendered to HTML that is safe to show.

pulldown-cmark (through pyromark) parses CommonMark with tables and
strikethrough in linear time, whatever the input: markdown-it-py, used before,
took over a second on 20,000 characters of ``![``. Its events are written out
as HTML here, so that this module decides what each becomes: raw HTML is shown
as text, a picture becomes a link to it, and elements nested deeper than
``MAX_NESTING`` lose their tags but keep their text (HTML parsers, nh3's
included, slow down with the square of the depth). Then nh3 keeps only the
tags, attributes and URL schemes Markdown produces. Only nh3's output is
marked safe.
"""

from __future__ import annotations

import functools
import html as html_entities
import re
from dataclasses import dataclass
from typing import Protocol
from typing import TYPE_CHECKING
from urllib.parse import quote

import nh3
import pyromark
from markupsafe import escape
from markupsafe import Markup

from quart_flaskr import workers

if TYPE_CHECKING:
    # pyromark's stubs give the payloads of its events private names only.
    from pyromark.event import _LinkData
    from pyromark.event import _Tag

#: Elements open at once beyond which tags are dropped (as markdown-it's commonmark preset).
MAX_NESTING = 20

_parser = pyromark.Markdown(
    options=pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH
)

#: Opening and closing tags of the elements that carry no data.
_TAGS = {
    "Paragraph": ("<p>", "</p>\n"),
    "Item": ("<li>", "</li>\n"),
    "Emphasis": ("<em>", "</em>"),
    "Strong": ("<strong>", "</strong>"),
    "Strikethrough": ("<s>", "</s>"),
    # No line breaks between a table's tags: the sanitiser's parser handles
    # text there slowly (as misplaced content), and a table can have 10,000 cells.
    "TableHead": ("<thead><tr>", "</tr></thead>"),
    "TableRow": ("<tr>", "</tr>"),
    # Raw HTML is shown as the text it is, in a paragraph of its own.
    "HtmlBlock": ("<p>", "</p>\n"),
}
#: What line breaks and rules become.
_BREAKS = {"SoftBreak": "\n", "HardBreak": "<br>\n", "Rule": "<hr>\n"}
#: Characters left as they are in a link's URL; the rest is percent-encoded.
_URL_SAFE = "!#$%&'()*+,-./:;=?@[]_~"

#: What Markdown can produce; anything else is dropped by the sanitiser.
ALLOWED_TAGS = frozenset(
    {
        "a",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
#: No style attributes (the Content-Security-Policy forbids them) and no event handlers.
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: Links written by users earn no ranking and learn nothing about this site.
LINK_REL = "nofollow ugc noopener noreferrer"


def _link(data: _LinkData) -> str:
    url = data["dest_url"]
    if data["link_type"] == "Email":
        url = f"mailto:{url}"
    title = data["title"]
    title_attribute = f' title="{escape(title)}"' if title else ""
    return f'<a href="{escape(quote(url, safe=_URL_SAFE))}"{title_attribute}>'


def _start(tag: _Tag, in_table_head: bool) -> tuple[str, str]:
    """The opening and closing HTML of an element that has data, or of a table cell."""
    if isinstance(tag, str):
        if tag == "TableCell":
            cell = "th" if in_table_head else "td"
            return f"<{cell}>", f"</{cell}>"
        return _TAGS.get(tag, ("", ""))
    if "Heading" in tag:
        # One level down: the page's own title is its one <h1>, a post's a
        # listing's <h2>; six levels are all HTML has.
        level = min(int(tag["Heading"]["level"][1]) + 1, 6)
        return f"<h{level}>", f"</h{level}>\n"
    if "List" in tag:
        start = tag["List"]
        if start is None:
            return "<ul>\n", "</ul>\n"
        return ("<ol>\n" if start == 1 else f'<ol start="{start}">\n'), "</ol>\n"
    if "BlockQuote" in tag:
        return "<blockquote>\n", "</blockquote>\n"
    if "CodeBlock" in tag:
        return "<pre><code>", "</code></pre>\n"
    if "Link" in tag:
        return _link(tag["Link"]), "</a>"
    if "Image" in tag:
        # A picture from elsewhere would be blocked by the Content-Security-Policy
        # (img-src 'self') and would tell that site who reads the post: it is
        # shown as a link to itself, its description as plain text.
        return _link(tag["Image"]), "</a>"
    if "Table" in tag:
        return "<table>", "</table>\n"
    return "", ""  # pragma: no cover - extensions not enabled in the parser.


def to_html(text: str) -> str:
    """The HTML of a Markdown text, before sanitising."""
    out: list[str] = []
    #: The closing HTML of each element open, "" for one whose tags were dropped.
    closing: list[str] = []
    #: How many elements were open when a picture began: inside it, text only.
    picture_depth: int | None = None
    #: Whether each element open is a link, and how many are: a picture in one is
    #: its description alone (a link to the picture inside the link split it into
    #: two links, one of them empty).
    links: list[bool] = []
    open_links = 0
    in_table_head = table_has_body = False
    for event in _parser.events(text):
        if isinstance(event, str):
            out.append(_BREAKS[event] if picture_depth is None else " ")
        elif "Text" in event:
            out.append(escape(event["Text"]))
        elif "Start" in event:
            tag = event["Start"]
            is_link = isinstance(tag, dict) and "Link" in tag
            in_link = open_links > 0
            links.append(is_link)
            open_links += is_link
            if picture_depth is not None or len(closing) >= MAX_NESTING:
                closing.append("")
                continue
            if in_link and isinstance(tag, dict) and "Image" in tag:
                picture_depth = len(closing)
                closing.append("")
                continue
            if tag == "TableHead":
                in_table_head = True
            opening, close = _start(tag, in_table_head)
            if tag == "TableRow":
                in_table_head = False
                if not table_has_body:
                    # The table's closing tags are last but one on the stack.
                    table_has_body = True
                    opening = "<tbody>" + opening
                    closing[-1] = "</tbody>" + closing[-1]
            elif isinstance(tag, dict):
                if "Table" in tag:
                    table_has_body = False
                elif "Image" in tag:
                    picture_depth = len(closing)
            out.append(opening)
            closing.append(close)
        elif "End" in event:
            out.append(closing.pop())
            open_links -= links.pop()
            if picture_depth is not None and len(closing) <= picture_depth:
                picture_depth = None
        elif "Code" in event:
            code = escape(event["Code"])
            out.append(code if picture_depth is not None else f"<code>{code}</code>")
        elif "Html" in event:
            out.append(escape(event["Html"]))
        # The last kind of event the parser's options let it give: no other is
        # left to fall through.
        elif "InlineHtml" in event:  # pragma: no branch
            out.append(escape(event["InlineHtml"]))
    return "".join(out)


@functools.lru_cache(maxsize=256)
def render(text: str) -> Markup:
    """The sanitised HTML of a Markdown text (cached: the same text renders once)."""
    html = nh3.clean(
        to_html(text),
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
    )
    return Markup(html)  # noqa: S704 - the sanitiser's output, and only that.


#: One thread renders, whatever the number of writers: a render holds the GIL
#: for up to ~15 ms, and a burst of renders in several threads would take the
#: GIL in turns with the event loop that serves everyone else. Queued here,
#: they take it one at a time.
_pool = workers.Pool("markdown", 1)


#: Characters of a text up to which it is rendered on the event loop: the worst
#: of the pathological texts (emphasis runs, mixed delimiters) takes 0.4 ms at
#: 600 characters (0.6 ms at 1,000), a paragraph of prose 20 us, while handing a
#: render to the thread and back costs some 50 us of CPU. Most comments are shorter.
INLINE_MAX = 600


async def render_async(text: str) -> Markup:
    """Render a short text at once; a longer one away from the event loop (see ``_pool``)."""
    if len(text) <= INLINE_MAX:
        return render(text)
    return await _pool.run(render, text)


class Written(Protocol):
    """A post or comment: its Markdown, and its HTML once stored."""

    @property
    def body(self) -> str: ...

    @property
    def html(self) -> Markup | None: ...


def body_html(item: Written) -> Markup:
    """The HTML to show for a post or comment: as stored, else rendered now.

    Only rows saved before their HTML was stored have none, and only during an
    upgrade, until the data step after migrations (``migrations/data.py``)
    stores it: pages and the feed show those rendered on the spot.
    """
    return render(item.body) if item.html is None else item.html


#: Characters of a post's text a listing shows before "Read more".
EXCERPT_LENGTH = 300
#: Where a block of the HTML ends (a paragraph, an item, a line break): a new line of text.
_BLOCK_END = re.compile(r"<br\s*/?>|</(?:p|li|h[1-6]|pre|blockquote|tr|table|ul|ol)>")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Excerpt:
    """The beginning of a text, and whether there is more of it."""

    text: str
    cut: bool


@functools.lru_cache(maxsize=1024)
def _excerpt(html: str, length: int) -> Excerpt:
    text = html_entities.unescape(_TAG.sub("", _BLOCK_END.sub("\n", html)))
    lines = (" ".join(line.split()) for line in text.splitlines())
    text = "\n".join(line for line in lines if line)
    if len(text) <= length:
        return Excerpt(text, cut=False)
    beginning = text[:length]
    # At the last space, unless that loses much (Korean and Chinese may run on without one).
    space = max(beginning.rfind(" "), beginning.rfind("\n"))
    if space > length * 4 // 5:
        beginning = beginning[:space]
    return Excerpt(beginning.rstrip(" \n,.;:-") + "…", cut=True)


def excerpt(item: Written, length: int = EXCERPT_LENGTH) -> Excerpt:
    """The plain text a post's HTML shows, cut after about ``length`` characters at a word.

    Lines stay lines (a paragraph or list item each); tags go, entities become
    their characters (the page escapes the text again).
    """
    return _excerpt(str(body_html(item)), length)
