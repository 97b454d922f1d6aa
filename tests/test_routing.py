from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from werkzeug.exceptions import NotFound
from werkzeug.routing import MapAdapter
from werkzeug.routing import Rule

from quart_flaskr.routing import BlogMap
from quart_flaskr.routing import CachedURLs
from quart_flaskr.routing import MATCHED_PATH_MAX
from quart_flaskr.routing import SQLITE_MAX_INT
from tests.helpers import Client


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
        # A third one makes room by forgetting the oldest, the first.
        assert urls("blog.detail", id=3) == "/3"
        assert urls("blog.detail", id=3) == "/3"
        assert urls("blog.detail", id=2) == "/2"
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


@pytest.mark.parametrize(
    "path",
    (
        "/01",
        "/٣",  # ARABIC-INDIC DIGIT THREE
        "/１",  # FULLWIDTH DIGIT ONE
        "/01/update",
        "/moderation/post/01/delete",
        "/sitemap-posts-01.xml",
        "/sitemap-tags-١.xml",
    ),
)
async def test_a_number_is_found_only_as_the_blog_writes_it(
    app: Quart, client: Client, path: str
) -> None:
    # Post 1 is there (the test data): only "/1" shows it.
    assert (await client.get("/1")).status_code == 200
    adapter = app.url_map.bind("localhost")
    with pytest.raises(NotFound):
        adapter.match(path, method="POST" if path.endswith("delete") else "GET")
    assert (await client.get(path)).status_code == 404


def _blog_map(app: Quart) -> BlogMap:
    assert isinstance(app.url_map, BlogMap)
    return app.url_map


async def test_a_path_is_matched_once(app: Quart, monkeypatch: pytest.MonkeyPatch) -> None:
    matched: list[str] = []
    match = MapAdapter.match

    def counting(self: MapAdapter, *args: Any, **kwargs: Any) -> Any:
        matched.append(self.path_info)
        return match(self, *args, **kwargs)

    monkeypatch.setattr(MapAdapter, "match", counting)
    client = app.test_client()
    for _ in range(2):
        assert (await client.get("/tag/bench")).status_code == 404  # no post is tagged so
        assert (await client.get("/1")).status_code == 200
    assert matched == ["/tag/bench", "/1"]
    # Another method, another match; a HEAD is answered as a GET is.
    assert (await client.head("/1")).status_code == 200
    assert matched == ["/tag/bench", "/1", "/1"]


async def test_each_request_gets_its_own_view_arguments(app: Quart) -> None:
    url_map = _blog_map(app)
    async with app.test_request_context("/tag/bench") as context:
        adapter = context.url_adapter
        assert adapter is not None
        first = url_map.match_request(adapter)
        first[1]["name"] = "changed"
        rule, args = url_map.match_request(adapter)
    assert rule is first[0]
    assert rule.endpoint == "blog.tag"
    assert args == {"name": "bench"}


@pytest.mark.parametrize(
    ("path", "status"),
    (
        ("/no/such/page", 404),
        ("/0", 404),
        ("/1/delete", 405),
        ("/auth/login/", 404),
    ),
)
async def test_what_matches_no_route_is_never_remembered(
    app: Quart, path: str, status: int
) -> None:
    client = app.test_client()
    for _ in range(2):
        assert (await client.get(path)).status_code == status
    assert _blog_map(app)._matched == {}


async def test_a_redirect_is_never_remembered(app: Quart) -> None:
    # A rule with a trailing slash: its path without one is redirected there.
    app.add_url_rule("/folder/", "folder", lambda: "folder")
    client = app.test_client()
    for _ in range(2):
        response = await client.get("/folder")
        assert response.status_code == 308
        assert response.location.endswith("/folder/")
    assert _blog_map(app)._matched == {}
    assert await (await client.get("/folder/")).get_data(as_text=True) == "folder"


async def test_hosts_and_paths_are_told_apart(app: Quart) -> None:
    client = app.test_client()
    for host in ("blog.example", "other.example"):
        assert (await client.get("/1", headers={"Host": host})).status_code == 200
    assert (await client.get("/tag/a")).status_code == 404  # no post is tagged so
    assert sorted((key[0], key[2]) for key in _blog_map(app)._matched) == [
        ("blog.example", "/1"),
        ("localhost", "/tag/a"),
        ("other.example", "/1"),
    ]


async def test_long_paths_are_matched_afresh(app: Quart) -> None:
    client = app.test_client()
    longest = "/tag/" + "a" * (MATCHED_PATH_MAX - len("/tag/"))
    for path in (longest, longest + "a"):
        assert (await client.get(path)).status_code == 404  # no post is tagged so
    assert [key[2] for key in _blog_map(app)._matched] == [longest]


async def test_the_oldest_match_is_forgotten_when_full(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BlogMap, "matched_size", 2)
    client = app.test_client()
    for path in ("/tag/a", "/tag/b", "/tag/c"):
        assert (await client.get(path)).status_code == 404  # no post is tagged so
    # The oldest is forgotten first.
    assert [key[2] for key in _blog_map(app)._matched] == ["/tag/b", "/tag/c"]


def test_a_rule_added_replaces_what_was_matched() -> None:
    url_map = BlogMap([Rule("/<name>", endpoint="named")])
    rule, args = url_map.match_request(url_map.bind("blog.example", path_info="/about"))
    assert (rule.endpoint, args) == ("named", {"name": "about"})
    url_map.add(Rule("/about", endpoint="about"))
    rule, args = url_map.match_request(url_map.bind("blog.example", path_info="/about"))
    assert (rule.endpoint, args) == ("about", {})
