"""URL converters, paths matched once, and URLs built once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import cast

from quart import current_app
from quart import Quart
from quart import request
from quart.ctx import RequestContext
from quart.routing import QuartMap
from quart.routing import QuartRule
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map
from werkzeug.routing import MapAdapter
from werkzeug.routing import RuleFactory

from quart_flaskr import bounded

#: SQLite's largest integer; a larger id in a URL cannot name a row.
SQLITE_MAX_INT = 2**63 - 1


class DecimalConverter(IntegerConverter):
    """``<int:name>``: an integer as the blog writes it in its URLs, ASCII digits without
    leading zeros, else 404.

    Werkzeug's own also matches leading zeros and any script's digits, so that
    ``/01``, ``/٣`` (Arabic-Indic) and ``/１`` (fullwidth) each showed a post under an
    address of its own, which its canonical link then repeated.
    """

    regex = "0|[1-9][0-9]*"


class RowIdConverter(DecimalConverter):
    """``<id:name>``: a positive integer that fits in an SQLite row id, else 404."""

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=SQLITE_MAX_INT)


#: The longest path whose match is remembered; a longer one is matched afresh each time.
MATCHED_PATH_MAX = 256

_MatchKey = tuple[str, str | None, str, str, bool]
#: A rule of the blog's map (Quart's kind) and its view arguments.
_Matched = tuple[QuartRule, Mapping[str, Any]]


class BlogMap(QuartMap):
    """Quart's URL map, remembering what it matched for each path.

    Werkzeug matches a path a part at a time, and a variable part (a tag's
    name, a post's id) through a regular expression and a converter: on the tag
    page that cost more than the page's own query. A path asked for again is
    looked up instead. Only matches are kept, never an exception (no route, a
    method not allowed, a redirect), and only for paths of at most
    :data:`MATCHED_PATH_MAX` characters; at most ``matched_size`` of them, the
    oldest forgotten first; and all forgotten when a rule is added.
    """

    matched_size = 2048

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Before Map's own __init__, which adds the rules it is given.
        self._matched: dict[_MatchKey, _Matched] = {}
        super().__init__(*args, **kwargs)

    def add(self, rulefactory: RuleFactory) -> None:
        super().add(rulefactory)
        self._matched.clear()

    def match_request(self, adapter: MapAdapter) -> tuple[QuartRule, dict[str, Any]]:
        """The rule and view arguments ``adapter``'s request matches, as
        ``adapter.match(return_rule=True)`` gives them.

        :raise HTTPException: as ``adapter.match`` does.
        """
        key = (
            adapter.server_name,
            adapter.subdomain,
            adapter.path_info,
            adapter.default_method,
            adapter.websocket,
        )
        found = self._matched.get(key)
        if found is None:
            found = cast(_Matched, adapter.match(return_rule=True))
            if len(adapter.path_info) <= MATCHED_PATH_MAX:
                bounded.put(self._matched, key, found, self.matched_size)
        rule, args = found
        # The view's own copy: a view or URL processor may change it.
        return rule, dict(args)


class BlogRequestContext(RequestContext):
    """Quart's request context, matching the request through :class:`BlogMap`."""

    def match_request(self) -> None:
        request = self.request_websocket
        url_map = cast(BlogMap, self.app.url_map)
        try:
            request.url_rule, request.view_args = url_map.match_request(
                cast(MapAdapter, self.url_adapter)
            )
        except HTTPException as exception:
            request.routing_exception = exception


class CachedURLs:
    """``url_for`` for templates, remembering the URLs it built.

    A listing builds several links per post on every view; building a URL
    from the routing map costs far more than looking it up. Only plain
    internal URLs are kept (no ``_external``, ``_anchor`` or other options, no
    blueprint-relative names), keyed by the app's mount point as well; at
    most ``size`` of them, the oldest forgotten first.
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
            bounded.put(self._urls, key, url, self._size)
        return url


_EXTENSION = "quart_flaskr.routing"


def url_for(endpoint: str, **values: Any) -> str:
    """``url_for`` through the app's kept URLs, for views as templates have it (a pager's links)."""
    urls: CachedURLs = current_app.extensions[_EXTENSION]
    return urls(endpoint, **values)


def init_app(app: Quart) -> None:
    """Give ``app`` its URL converters (before the routes that use them are added) and its
    cached ``url_for``."""
    app.url_map.converters["int"] = DecimalConverter
    app.url_map.converters["id"] = RowIdConverter
    urls = app.extensions[_EXTENSION] = CachedURLs(app)
    app.jinja_env.globals["url_for"] = urls
