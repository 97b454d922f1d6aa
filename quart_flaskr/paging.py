"""Listings shown a page at a time: ``?page=N`` in the URL, previous and next links; and the
query parameters a page is made from."""

from __future__ import annotations

import re
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from typing import Generic
from typing import TypeVar
from urllib.parse import quote_plus
from urllib.parse import unquote_plus

from quart import abort
from quart import request
from werkzeug.datastructures import MultiDict

from quart_flaskr import lookup
from quart_flaskr.i18n import gettext

T = TypeVar("T")

#: The query parameters pages are made from: a search's words and a listing's
#: page number. Any other (``utm_source``, ``fbclid``: what sites and mail add to
#: the links they pass on) changes nothing on a page, so the page cache keeps a
#: page under these alone and a link shared with them is served the same page.
#: A cached view that reads another has its pages made anew for each request
#: (see :class:`ReadArgs`) until it is added here.
PARAMETERS = ("q", "page")

#: Page numbers as people write them; nine digits keep every offset small.
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int
    #: This page's URL, and its neighbours' (None where there is none).
    url: str
    previous_url: str | None
    next_url: str | None


def page_number() -> int:
    """The page the request asks for, 1 if it names none.

    :raise 404: for anything but a page number (0, -1, abc, 1e3, …)
    """
    value = lookup.value(request.args, "page", "1")
    if not _PAGE_NUMBER.fullmatch(value):
        abort(404, gettext("There is no such page: pages are numbered 1, 2, 3 and on."))
    return int(value)


def page_query() -> str:
    """The request's query string as far as its page depends on it: those of ``PARAMETERS``
    it has, each with its first value (the one views read), url-encoded; "" for none."""
    args = request.args
    # The names need no escaping; each value is escaped as urlencode would.
    return "&".join(f"{name}={quote_plus(args[name])}" for name in PARAMETERS if name in args)


def raw_page_query(raw: bytes) -> bytes | None:
    """A query string as sent, cut to the pairs of ``PARAMETERS`` its page is made from.

    The first pair named each, in ``PARAMETERS``' order, its value left as
    sent; None when the query string is not UTF-8 (the app cannot read it).
    Two query strings with the same result give the views the same values
    (the same bytes, decoded alike), whatever else they carry; two that differ
    only in how a value is escaped give different results, never a wrong page.
    """
    if not raw:  # most requests: nothing to cut
        return raw
    try:
        raw.decode()
    except UnicodeDecodeError:
        return None
    kept: dict[str, bytes] = {}
    for pair in raw.split(b"&"):
        name, _, _ = pair.partition(b"=")
        decoded = unquote_plus(name.decode())
        if pair and decoded in PARAMETERS and decoded not in kept:
            kept[decoded] = pair
    return b"&".join(kept[name] for name in PARAMETERS if name in kept)


class ReadArgs:
    """``request.args`` as a view reads it while its page is made: what it reads is noted.

    The page cache keeps a page under ``PARAMETERS`` alone. A page made from
    anything else of the query string (another parameter, present or not; the
    second value of one; the whole of it) must not be kept under that key, or
    a request with other values would be served it. So each read the key
    does not hold is noted in ``outside``, and a page with any is not kept.
    Any other use of the parameters (iterating them, counting them,
    ``to_dict()``) is passed on as well, and noted as a read of all of them.
    Only ``request.args`` is watched: the query string read any other way
    (the request's ``query_string``, ``full_path``, ``url`` or ``values``)
    would not be noted, and nothing in the app reads it so (a test checks).
    """

    __slots__ = ("_args", "outside")

    def __init__(self, args: MultiDict[str, str]) -> None:
        self._args = args
        #: The reads the page cache's key does not hold, in the order made.
        self.outside: list[str] = []

    def _read(self, name: str) -> None:
        if name not in PARAMETERS:
            self.outside.append(name)

    def get(self, key: str, *default_and_type: Any, **named: Any) -> Any:
        self._read(key)
        return self._args.get(key, *default_and_type, **named)

    def __getitem__(self, key: str) -> str:
        self._read(key)
        return self._args[key]

    def __contains__(self, key: object) -> bool:
        self._read(str(key))
        return key in self._args

    def getlist(self, key: str, *type_: Any, **named: Any) -> Any:
        self.outside.append(f"every {key}")
        return self._args.getlist(key, *type_, **named)

    def __iter__(self) -> Iterator[str]:
        self.outside.append("every parameter")
        return iter(self._args)

    def __len__(self) -> int:
        self.outside.append("every parameter")
        return len(self._args)

    def __getattr__(self, name: str) -> object:
        self.outside.append(f"every parameter ({name})")
        return getattr(self._args, name)


@contextmanager
def reading_args() -> Iterator[ReadArgs]:
    """``request.args`` replaced by a :class:`ReadArgs` of it until the block ends."""
    args = request.args
    read = ReadArgs(args)
    request.args = read  # type: ignore[assignment]
    try:
        yield read
    finally:
        request.args = args


def offset(number: int, per_page: int) -> int:
    """How many items come before page ``number``."""
    return (number - 1) * per_page


def page_url(first: str, number: int) -> str:
    """Page ``number``'s URL, from the first page's (the listing's own URL, with no page)."""
    if number == 1:
        return first
    return f"{first}{'&' if '?' in first else '?'}page={number}"


def make_page(found: Sequence[T], number: int, per_page: int, first_url: str) -> Page[T]:
    """A page from up to ``per_page + 1`` items: the extra one only shows that a next page exists.

    ``first_url``: the listing's first page's URL, from which the others' are made.

    :raise 404: when a page after the first has nothing on it
    """
    if number > 1 and not found:
        abort(404, gettext("There is no page %(num)d: the listing ends before it.", num=number))
    # The links are made here, not in properties, so that they are built once
    # per page (the template asks for each twice) and mutation testing reaches
    # them (mutmut skips decorated functions).
    return Page(
        items=found[:per_page],
        number=number,
        url=page_url(first_url, number),
        previous_url=page_url(first_url, number - 1) if number > 1 else None,
        next_url=page_url(first_url, number + 1) if len(found) > per_page else None,
    )
