from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from werkzeug.exceptions import NotFound

from quart_flaskr.routing import CachedURLs
from quart_flaskr.routing import SQLITE_MAX_INT


async def test_cached_urls_match_url_for(app: Quart) -> None:
    urls = CachedURLs(app, size=2)
    async with app.test_request_context("/", root_path="/blog"):
        assert urls("blog.detail", id=1) == app.url_for("blog.detail", id=1) == "/blog/1"
        assert urls("blog.detail", id=1) == "/blog/1"
        assert urls("blog.detail", id=2) == "/blog/2"
        # Full: the oldest go, and URLs are still right.
        assert urls("blog.tag", name="a b") == "/blog/tag/a%20b"
        assert urls("blog.detail", id=1) == "/blog/1"
        # Options and relative names are passed through, never kept.
        assert urls("blog.detail", id=1, _anchor="comments") == "/blog/1#comments"
        assert urls("blog.detail", id=1, _external=True) == "http://localhost/blog/1"
    async with app.test_request_context("/"):
        # Another mount point, another URL.
        assert urls("blog.detail", id=1) == "/1"
        # A name relative to the request's blueprint.
        assert urls(".detail", id=1) == "/1"


async def test_external_urls_name_each_requests_host(app: Quart) -> None:
    # Every page's feed link is one: a host's page must not name another host.
    urls = CachedURLs(app)
    for host in ("blog.example", "other.example"):
        async with app.test_request_context("/", headers={"Host": host}):
            assert urls("feed.rss", _external=True) == f"http://{host}/feed.xml"


async def test_templates_use_cached_urls(app: Quart) -> None:
    assert isinstance(app.jinja_env.globals["url_for"], CachedURLs)


async def test_relative_names_follow_the_request_blueprint(app: Quart) -> None:
    urls = CachedURLs(app)
    # Both the blog and the comments have a "delete" view.
    async with app.test_request_context("/1"):
        assert urls(".delete", id=1) == "/1/delete"
    async with app.test_request_context("/comment/1/delete", method="POST"):
        assert urls(".delete", id=1) == "/comment/1/delete"


async def test_cached_urls_build_each_url_once(app: Quart, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[tuple[str, dict[str, Any]]] = []
    url_for = app.url_for

    def counting(endpoint: str, **values: Any) -> str:
        built.append((endpoint, values))
        return url_for(endpoint, **values)

    monkeypatch.setattr(app, "url_for", counting)
    urls = CachedURLs(app, size=2)
    async with app.test_request_context("/"):
        for _ in range(3):
            assert urls("blog.detail", id=1) == "/1"
        assert urls("blog.detail", id=2) == "/2"
        assert built == [("blog.detail", {"id": 1}), ("blog.detail", {"id": 2})]
        # Two URLs kept, the most it may: both are still looked up.
        assert urls("blog.detail", id=1) == "/1"
        assert len(built) == 2
        # A third one makes room by forgetting the others.
        assert urls("blog.detail", id=3) == "/3"
        assert urls("blog.detail", id=3) == "/3"
        assert len(built) == 3
        assert urls("blog.detail", id=1) == "/1"
        assert len(built) == 4


@pytest.mark.parametrize(
    ("path", "row_id"),
    (("/1", 1), (f"/{SQLITE_MAX_INT}", SQLITE_MAX_INT)),
)
def test_row_ids_in_urls(app: Quart, path: str, row_id: int) -> None:
    adapter = app.url_map.bind("localhost")
    assert adapter.match(path) == ("blog.detail", {"id": row_id})


@pytest.mark.parametrize("path", ("/0", "/00", f"/{SQLITE_MAX_INT + 1}", "/-1", "/1.0"))
def test_row_ids_out_of_range_match_no_route(app: Quart, path: str) -> None:
    adapter = app.url_map.bind("localhost")
    with pytest.raises(NotFound):
        adapter.match(path)
