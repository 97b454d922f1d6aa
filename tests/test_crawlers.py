"""robots.txt and the sitemaps: every post and tag, with absolute URLs, split past a size."""

from __future__ import annotations

import gzip
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime

import pytest
from quart import Quart

from quart_flaskr import crawlers
from quart_flaskr.db import Database
from quart_flaskr.db import get_db
from quart_flaskr.models import posts
from quart_flaskr.models import sitemap as sitemap_queries
from tests.helpers import add_posts
from tests.helpers import AppFactory
from tests.helpers import Client

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
#: Tags whose names need quoting in a URL and escaping in XML.
TAGS = ("python", "q&a", "блог", "c++ / rust")


async def test_robots_txt_points_to_the_sitemap(client: Client) -> None:
    response = await client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    lines = (await response.get_data(as_text=True)).splitlines()
    assert lines[0] == "User-agent: *"
    assert "Sitemap: http://localhost/sitemap.xml" in lines
    disallowed = {line.split(": ", 1)[1] for line in lines if line.startswith("Disallow:")}
    assert disallowed == {"/create", "/*/update", "/auth/logout", "/healthz", "/*?q=", "/*&q="}
    # Nothing a reader reads is closed to crawlers.
    assert "Allow: /" in lines


async def sitemap_urls(client: Client, path: str) -> dict[str, str | None]:
    """A sitemap's URLs, each with its lastmod (None for none)."""
    response = await client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "application/xml"
    root = ET.fromstring(await response.get_data(as_text=False))  # noqa: S314
    assert root.tag == f"{{{NS['sm']}}}urlset"
    return {
        url.findtext("sm:loc", namespaces=NS) or "": url.findtext("sm:lastmod", namespaces=NS)
        for url in root.findall("sm:url", NS)
    }


async def add_tagged_posts(db: Database) -> list[int]:
    ids = await add_posts(db, len(TAGS))
    for post_id, name in zip(ids, TAGS, strict=True):
        await posts.update_post(db, post_id, f"tagged {name}", "b", tags=[name])
    return ids


async def test_the_sitemap_lists_the_front_page_every_tag_and_every_post(
    app: Quart, client: Client, db: Database
) -> None:
    ids = await add_tagged_posts(db)
    urls = await sitemap_urls(client, "/sitemap.xml")
    async with app.test_request_context("/"):
        from quart import url_for

        expected = [url_for("blog.index", _external=True)]
        expected += [url_for("blog.tag", name=name, _external=True) for name in TAGS]
        expected += [url_for("blog.detail", id=post_id, _external=True) for post_id in [1, *ids]]
    assert list(urls) == expected
    assert "http://localhost/tag/q&a" in urls
    assert "http://localhost/tag/c++%20/%20rust" in urls
    # The newest post's time, on the front page and on its tags' pages.
    assert urls["http://localhost/"] == "2019-01-01T00:04:00+00:00"
    assert urls["http://localhost/tag/python"] == "2019-01-01T00:01:00+00:00"
    assert urls["http://localhost/tag/q&a"] == "2019-01-01T00:02:00+00:00"
    assert urls["http://localhost/1"] == "2018-01-01T00:00:00+00:00"
    assert urls[f"http://localhost/{ids[3]}"] == "2019-01-01T00:04:00+00:00"


async def test_a_blog_without_posts_lists_its_front_page(client: Client, db: Database) -> None:
    await posts.delete_post(db, 1)
    assert await sitemap_urls(client, "/sitemap.xml") == {"http://localhost/": None}
    assert (await client.get("/sitemap-posts-1.xml")).status_code == 404
    assert await sitemap_urls(client, "/sitemap-tags-1.xml") == {"http://localhost/": None}


@pytest.mark.parametrize("size", (1, 2, 3, 5))
async def test_a_big_blog_has_an_index_of_sitemaps_of_at_most_the_size(
    make_app: AppFactory, size: int
) -> None:
    # Both on the same database, which each app made empties and seeds.
    whole = await make_app(SITEMAP_URLS=100)
    app = await make_app(SITEMAP_URLS=size)
    async with app.app_context():
        await add_tagged_posts(get_db(app))
    client = app.test_client()
    everything = await sitemap_urls(whole.test_client(), "/sitemap.xml")
    response = await client.get("/sitemap.xml")
    root = ET.fromstring(await response.get_data(as_text=False))  # noqa: S314
    assert root.tag == f"{{{NS['sm']}}}sitemapindex"
    locations = [loc.text or "" for loc in root.iterfind("sm:sitemap/sm:loc", NS)]
    # Ids 0 (the front page) to 4 for tags, 1 to 5 for posts.
    files = {"tags": (4 - 0) // size + 1, "posts": (5 - 1) // size + 1}
    assert locations == [
        f"http://localhost/sitemap-{kind}-{number}.xml"
        for kind, count in files.items()
        for number in range(1, count + 1)
    ]
    found: dict[str, str | None] = {}
    for location in locations:
        urls = await sitemap_urls(client, location.removeprefix("http://localhost"))
        assert 0 < len(urls) <= size
        assert not found.keys() & urls.keys()
        found |= urls
    assert found == everything
    for kind, count in files.items():
        assert (await client.get(f"/sitemap-{kind}-{count + 1}.xml")).status_code == 404
    assert (await client.get("/sitemap-posts-0.xml")).status_code == 404


async def test_a_sitemap_is_kept_until_the_database_changes(
    client: Client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    select = sitemap_queries.select_post_times

    async def counting(database: Database, first_id: int, end_id: int) -> object:
        reads.append(first_id)
        return await select(database, first_id, end_id)

    monkeypatch.setattr(sitemap_queries, "select_post_times", counting)
    first = await client.get("/sitemap.xml")
    again = await client.get("/sitemap.xml")
    assert await again.get_data(as_text=False) == await first.get_data(as_text=False)
    assert len(reads) == 1
    assert first.headers["Cache-Control"] == "public, max-age=3600"
    response = await client.get("/sitemap.xml", headers={"If-None-Match": first.headers["ETag"]})
    assert response.status_code == 304
    (new,) = await add_posts(db, 1)
    urls = await sitemap_urls(client, "/sitemap.xml")
    assert f"http://localhost/{new}" in urls
    assert len(reads) == 2


async def test_a_sitemap_is_compressed_once_with_its_own_etag(client: Client, db: Database) -> None:
    await add_posts(db, 20)
    plain = await client.get("/sitemap.xml")
    response = await client.get("/sitemap.xml", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(await response.get_data(as_text=False)) == await plain.get_data(
        as_text=False
    )
    etag = response.headers["ETag"]
    assert etag != plain.headers["ETag"]
    headers = {"Accept-Encoding": "gzip", "If-None-Match": etag}
    assert (await client.get("/sitemap.xml", headers=headers)).status_code == 304


async def test_sitemaps_are_built_for_the_host_asked(client: Client) -> None:
    # Kept per host: the one made for another host first is not served.
    response = await client.get("/sitemap.xml")
    assert b"<loc>http://localhost/</loc>" in await response.get_data(as_text=False)
    response = await client.get("/sitemap.xml", headers={"Host": "blog.example.com"})
    assert b"<loc>http://blog.example.com/</loc>" in await response.get_data(as_text=False)
    response = await client.get("/robots.txt", headers={"Host": "blog.example.com"})
    assert "Sitemap: http://blog.example.com/sitemap.xml" in await response.get_data(as_text=True)


async def test_a_sitemap_over_https_behind_a_proxy_is_not_shown_over_http(
    make_app: AppFactory,
) -> None:
    """Its URLs are absolute: the one made for https is kept apart from http's."""
    client = (await make_app(PROXY_TRUSTED_HOPS=1)).test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"}
    for _ in range(2):
        secure = await client.get("/sitemap.xml", headers=forwarded)
        assert b"<loc>https://localhost/</loc>" in await secure.get_data(as_text=False)
        plain = await client.get("/sitemap.xml")
        assert b"<loc>http://localhost/</loc>" in await plain.get_data(as_text=False)


async def test_sitemaps_are_written_off_the_event_loop(
    app: Quart, client: Client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 10,000 URLs are 20 ms of formatting: the loop goes on answering meanwhile.
    await add_tagged_posts(db)
    written_in: list[str] = []
    urlset = crawlers._urlset

    def recording(urls: Iterable[tuple[str, datetime | None]]) -> str:
        written_in.append(threading.current_thread().name)
        return urlset(urls)

    monkeypatch.setattr(crawlers, "_urlset", recording)
    app.config["SITEMAP_URLS"] = 3
    for path in ("/sitemap.xml", "/sitemap-tags-1.xml", "/sitemap-posts-1.xml"):
        assert (await client.get(path)).status_code == 200
    # The index names the sitemaps, no URL of a page: it is written where it is asked for.
    assert len(written_in) == 2
    assert all(name.startswith("sitemaps") for name in written_in), written_in
