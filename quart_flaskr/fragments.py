"""Pieces of pages rendered once and shared by every page and reader that shows them.

A listing shows each post the same way to everyone who reads it in one
language: its title, byline, picture, beginning, tags and counts. Rendering
those for 50 posts is most of a listing's cost, and without this it was paid
on every page that missed the page cache: every logged-in reader's own copy,
every tag, search and page number, and every read after any write. Here
each post's pieces are rendered once and kept, keyed by everything they
are made from (the post's row as selected, the macro, the language and the
app's mount point), so a changed post, a new like or comment, or another
language simply makes a new key; nothing is invalidated. What differs by
reader (the edit link, the like button and its form token) stays out of
them: templates put it between the pieces.

A listing's pieces are kept as the UTF-8 bytes a response sends. A page
rendered by :func:`render_page` holds a placeholder where its listing goes,
and its bytes take that place once the rest of the page is encoded: 50 posts'
text is never joined, copied and encoded as one string again at every
request. (Every page names its languages, Русский and 한국어, so each page is a
string of two bytes a character, which UTF-8 encodes a character at a
time.)
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any
from typing import cast
from typing import Protocol
from typing import TypeVar

from markupsafe import Markup
from quart import current_app
from quart import Quart
from quart import render_template
from quart import request

from quart_flaskr import bounded
from quart_flaskr.i18n import current_language

_EXTENSION = "quart_flaskr.fragments"
#: Where a listing goes in a page that :func:`render_page` renders, until its bytes
#: take the place: an HTML comment, which no reader's text can make (autoescaping
#: turns its "<" into "&lt;"), holding a secret of this process's besides.
_PLACE = "<!--listing {} " + secrets.token_hex(16) + "-->"
#: The listings of the page :func:`render_page` is rendering: each one's place and bytes.
_listings: ContextVar[list[tuple[bytes, bytes]] | None] = ContextVar(
    "quart_flaskr.fragments.listings", default=None
)
#: What a piece is kept as: rendered text, or a listing's UTF-8 bytes.
_Piece = TypeVar("_Piece", Markup, bytes)


class Macro(Protocol):
    """A Jinja macro, as a template passes it: called with the post and options."""

    name: str

    def __call__(self, *args: object) -> str: ...


class Listed(Hashable, Protocol):
    """A post as listings show it; only these of its fields decide options here."""

    @property
    def image(self) -> str | None: ...

    @property
    def author_id(self) -> int: ...


class Reader(Protocol):
    @property
    def id(self) -> int: ...


class FragmentCache:
    """Rendered pieces kept up to ``size`` bytes; the oldest out first when it is full.

    Oldest rather than least recently used: a lookup then costs one hash of
    its key, and a piece still in use is soon rendered and kept again. A
    piece's weight counts its key's text as well (a post's key holds its
    whole body, up to 20,000 characters), so long posts keep fewer.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._pieces: bounded.WeighedTable[Hashable, Markup | bytes] = bounded.WeighedTable(size)

    @property
    def weight(self) -> int:
        """The bytes kept, as ``sys.getsizeof`` counts the keys' texts and the pieces."""
        return self._pieces.weight

    def piece(self, key: Hashable, render: Callable[[], _Piece]) -> _Piece:
        """The piece kept under ``key``, or what ``render`` gives, then kept."""
        found = self._pieces.get(key)
        if found is not None:
            # A key is kept with what its own render gives: text, or bytes.
            return cast(_Piece, found)
        rendered = render()
        self._pieces.put(key, rendered, _weight(key) + sys.getsizeof(rendered))
        return rendered

    def __len__(self) -> int:
        return len(self._pieces)


def _weight(value: object) -> int:
    """The bytes of the text ``value`` holds, in (nested) tuples: a key's share of memory."""
    if isinstance(value, str):
        return sys.getsizeof(value)
    if isinstance(value, tuple):
        return sum(map(_weight, value))
    return 0


class Fragments:
    """The fragment cache as one request's templates use it: in its language and mount point.

    The macros given must show nothing that depends on the reader but what
    their options say: the item, the options, the language and the app's URLs.
    """

    __slots__ = ("_cache", "_where")

    def __init__(self, cache: FragmentCache, language: str, root_path: str) -> None:
        self._cache = cache
        self._where = (language, root_path)

    def one(self, item: Hashable, macro: Macro, options: tuple[object, ...] = ()) -> Markup:
        """What ``macro(item, *options)`` renders, rendered once for all readers."""
        return self._cache.piece(
            (item, options, macro.name, self._where),
            lambda: Markup(macro(item, *options)),  # noqa: S704 - Jinja's output
        )

    def encoded(self, item: Hashable, macro: Macro, options: tuple[object, ...]) -> bytes:
        """What ``macro(item, *options)`` renders, in UTF-8, rendered once for all readers."""
        return self._cache.piece(
            (item, options, macro.name, self._where, "utf-8"),
            lambda: macro(item, *options).encode(),
        )

    def listing(
        self, posts: Sequence[Listed], macro: Macro, bylines: bool, reader: Reader | None
    ) -> Markup:
        """Each post as ``macro(post, bylines, eager, like, edit)`` renders it, between rules.

        ``eager``: whether it is the first post with a picture, which browsers
        fetch at once (the others' wait until they come into view); ``like``:
        whether ``reader`` is logged in, to like it; ``edit``: whether it is
        theirs to edit. All a reader's own (their form token) stays out.
        """
        first_pictured = next((post for post in posts if post.image), None)
        like = reader is not None
        reader_id = None if reader is None else reader.id
        listing = b"\n    <hr>\n".join(
            [
                self.encoded(
                    post,
                    macro,
                    (bylines, post is first_pictured, like, post.author_id == reader_id),
                )
                for post in posts
            ]
        )
        listings = _listings.get()
        if listings is None:
            # Not in a page render_page renders: the listing itself.
            return Markup(listing.decode())  # noqa: S704 - pieces of Jinja's output
        place = _PLACE.format(len(listings))
        listings.append((place.encode(), listing))
        return Markup(place)  # noqa: S704 - a comment of our own


async def render_page(template_name: str, **context: Any) -> bytes:
    """The template rendered, as the UTF-8 bytes of a response, its listings put in place."""
    listings: list[tuple[bytes, bytes]] = []
    rendering = _listings.set(listings)
    try:
        body = (await render_template(template_name, **context)).encode()
    finally:
        _listings.reset(rendering)
    for place, listing in listings:
        body = body.replace(place, listing)
    return body


def get_fragment_cache(app: Quart | None = None) -> FragmentCache:
    """The fragment cache of ``app``, by default the current app."""
    cache: FragmentCache = (current_app if app is None else app).extensions[_EXTENSION]
    return cache


def fragments() -> Fragments:
    """For templates: the fragment cache, in this request's language and mount point."""
    return Fragments(get_fragment_cache(), current_language(), request.root_path)


def init_app(app: Quart) -> None:
    app.extensions[_EXTENSION] = FragmentCache(app.config["FRAGMENT_CACHE_BYTES"])
    app.add_template_global(fragments)
