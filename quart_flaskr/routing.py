"""URL converters, and URLs built once."""

from __future__ import annotations

from typing import Any

from quart import current_app
from quart import Quart
from quart import request
from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map

#: SQLite's largest integer; a larger id in a URL cannot name a row.
SQLITE_MAX_INT = 2**63 - 1


class RowIdConverter(IntegerConverter):
    """``<id:name>``: a positive integer that fits in an SQLite row id, else 404."""

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=SQLITE_MAX_INT)


class CachedURLs:
    """``url_for`` for templates, remembering the URLs it built.

    A listing builds several links per post on every view; building a URL
    from the routing map costs far more than looking it up. Only plain
    internal URLs are kept (no ``_external``, ``_anchor`` or other options, no
    blueprint-relative names), keyed by the app's mount point as well.
    """

    def __init__(self, app: Quart, size: int = 4096) -> None:
        self._app = app
        self._size = size
        self._urls: dict[tuple[object, ...], str] = {}

    def __call__(self, endpoint: str, **values: Any) -> str:
        if endpoint.startswith(".") or any(name.startswith("_") for name in values):
            return self._app.url_for(endpoint, **values)
        key = (request.root_path, endpoint, *sorted(values.items()))
        url = self._urls.get(key)
        if url is None:
            url = self._app.url_for(endpoint, **values)
            if len(self._urls) >= self._size:
                self._urls.clear()
            self._urls[key] = url
        return url


_EXTENSION = "quart_flaskr.routing"


def url_for(endpoint: str, **values: Any) -> str:
    """``url_for`` through the app's kept URLs, for views as templates have it (a pager's links)."""
    urls: CachedURLs = current_app.extensions[_EXTENSION]
    return urls(endpoint, **values)


def init_app(app: Quart) -> None:
    urls = app.extensions[_EXTENSION] = CachedURLs(app)
    app.jinja_env.globals["url_for"] = urls
