"""Listings shown a page at a time: ``?page=N`` in the URL, previous and next links; and the
query parameters a page is made from."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic
from typing import TypeVar
from urllib.parse import urlencode

from quart import abort
from quart import request

T = TypeVar("T")

#: The query parameters pages are made from: a search's words and a listing's
#: page number. Any other (``utm_source``, ``fbclid``: what sites and mail add to
#: the links they pass on) changes nothing on a page, so the page cache keeps a
#: page under these alone and a link shared with them is served the same page.
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
    value = request.args.get("page", "1")
    if not _PAGE_NUMBER.fullmatch(value):
        abort(404, "There is no such page: pages are numbered 1, 2, 3 and on.")
    return int(value)


def page_query() -> str:
    """The request's query string as far as its page depends on it: those of ``PARAMETERS``
    it has, each with its first value (the one views read), url-encoded; "" for none."""
    return encode_page_query(request.args)


def encode_page_query(first_values: Mapping[str, str]) -> str:
    """:func:`page_query` of parameters given by their first values (as ``request.args[name]``)."""
    return urlencode([(name, first_values[name]) for name in PARAMETERS if name in first_values])


def offset(number: int, per_page: int) -> int:
    """How many items come before page ``number``."""
    return (number - 1) * per_page


def make_page(
    found: Sequence[T], number: int, per_page: int, url_for_page: Callable[[int], str]
) -> Page[T]:
    """A page from up to ``per_page + 1`` items: the extra one only shows that a next page exists.

    :raise 404: when a page after the first has nothing on it
    """
    if number > 1 and not found:
        abort(404, f"There is no page {number}: the listing ends before it.")
    # The links are made here, not in properties, so that they are built once
    # per page (the template asks for each twice) and mutation testing reaches
    # them (mutmut skips decorated functions).
    return Page(
        items=found[:per_page],
        number=number,
        url=url_for_page(number),
        previous_url=url_for_page(number - 1) if number > 1 else None,
        next_url=url_for_page(number + 1) if len(found) > per_page else None,
    )
