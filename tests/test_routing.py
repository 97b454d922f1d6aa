from __future__ import annotations

from quart import Quart

from quart_flaskr.routing import CachedURLs


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


async def test_templates_use_cached_urls(app: Quart) -> None:
    assert isinstance(app.jinja_env.globals["url_for"], CachedURLs)
