"""Markdown for post bodies and comments, rendered to HTML that is safe to show.

Two layers: markdown-it's "js-default" preset escapes any raw HTML in the
source and refuses ``javascript:``-style links, then nh3 keeps only the tags,
attributes and URL schemes Markdown produces. Only nh3's output is marked safe.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType
from markdown_it.utils import OptionsDict
from markupsafe import Markup

_markdown = MarkdownIt("js-default")


def _image_as_link(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Show ``![text](url)`` as a link to the picture.

    Pictures come with a post as an upload, served by this site: an image from
    elsewhere would be blocked by the Content-Security-Policy (img-src 'self')
    and would tell that site who reads the post.
    """
    token = tokens[idx]
    text = renderer.renderInlineAsText(token.children or [], options, env)
    return f'<a href="{escapeHtml(str(token.attrGet("src") or ""))}">{escapeHtml(text)}</a>'


_markdown.add_render_rule("image", _image_as_link)

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


@functools.lru_cache(maxsize=256)
def render(text: str) -> Markup:
    """The sanitised HTML of a Markdown text (cached: the same text renders once)."""
    html = nh3.clean(
        _markdown.render(text),
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
    )
    return Markup(html)  # noqa: S704 - the sanitiser's output, and only that.


async def render_in_thread(text: str) -> Markup:
    """Render away from the event loop: some inputs take markdown-it a second or more."""
    return await asyncio.to_thread(render, text)
