from __future__ import annotations

import asyncio
import threading
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from quart import Quart

from quart_flaskr import feed
from quart_flaskr import markdown
from quart_flaskr.db import Database
from quart_flaskr.models import posts
from tests.helpers import AppFactory
from tests.helpers import Client

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"


async def read_feed(client: Client) -> ET.Element:
    response = await client.get("/feed.xml")
    assert response.status_code == 200
    assert response.content_type == "application/rss+xml; charset=utf-8"
    body = await response.get_data(as_text=False)
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    # Our own output, parsed to check that it is well-formed XML.
    return ET.fromstring(body)  # noqa: S314


async def test_feed(client: Client, db: Database) -> None:
    await posts.insert_post(db, 2, "Second <post>", "*Markdown* & more", tags=["news"])
    rss = await read_feed(client)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Flaskr"
    assert channel.findtext("link") == "http://localhost/"
    assert channel.findtext("description")
    self_link = channel.find(f"{ATOM}link")
    assert self_link is not None and self_link.get("href") == "http://localhost/feed.xml"
    assert self_link.get("rel") == "self"

    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == ["Second <post>", "test title"]
    newest, oldest = items
    assert newest.findtext("link") == "http://localhost/2"
    guid = newest.find("guid")
    assert guid is not None and guid.text == "http://localhost/2"
    assert guid.get("isPermaLink") == "true"
    assert newest.findtext("description") == "<p><em>Markdown</em> &amp; more</p>\n"
    assert newest.findtext(f"{DC}creator") == "other"
    assert newest.findtext("category") == "news"
    assert oldest.findtext("pubDate") == "Mon, 01 Jan 2018 00:00:00 GMT"
    assert parsedate_to_datetime(channel.findtext("lastBuildDate") or "") == parsedate_to_datetime(
        newest.findtext("pubDate") or ""
    )


async def test_feed_has_the_newest_20(client: Client, db: Database) -> None:
    for number in range(25):
        await posts.insert_post(db, 1, f"post {number}", "")
    items = (await read_feed(client)).findall("channel/item")
    assert [item.findtext("title") for item in items] == [f"post {n}" for n in range(24, 4, -1)]


async def test_empty_feed(client: Client, db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM post")
    channel = (await read_feed(client)).find("channel")
    assert channel is not None
    assert channel.find("item") is None
    assert channel.find("lastBuildDate") is None


async def test_feed_drops_characters_xml_cannot_hold(client: Client, db: Database) -> None:
    await posts.insert_post(db, 1, "bell\x07 and \x1b escape", "form\x0cfeed")
    items = (await read_feed(client)).findall("channel/item")
    assert items[0].findtext("title") == "bell and  escape"


async def test_links_in_a_post_are_absolute_in_the_feed(client: Client, db: Database) -> None:
    """RSS gives a description no base URL: a reader would take /1 against its own."""
    body = (
        "See [the first](/1), [a note](notes#two), [that site](https://example.org/a?b=1&c=2),"
        " [mail](mailto:someone@example.org) and ![a diagram](/static/favicon.svg)."
    )
    post_id = await posts.insert_post(db, 1, "Links", body, html=markdown.render(body))
    items = (await read_feed(client)).findall("channel/item")
    description = items[0].findtext("description") or ""
    assert items[0].findtext("link") == f"http://localhost/{post_id}"
    for address in (
        'href="http://localhost/1"',
        'href="http://localhost/notes#two"',
        'href="https://example.org/a?b=1&amp;c=2"',
        'href="mailto:someone@example.org"',
        'href="http://localhost/static/favicon.svg"',
    ):
        assert address in description, address
    assert 'href="/' not in description


async def test_every_page_advertises_the_feed(client: Client) -> None:
    for path in ("/", "/1", "/auth/login", "/nowhere"):
        page = await (await client.get(path)).get_data(as_text=True)
        assert (
            '<link rel="alternate" type="application/rss+xml" title="Flaskr: newest posts"'
            ' href="http://localhost/feed.xml">'
        ) in page, path


async def test_the_feed_is_kept_until_the_database_changes(
    client: Client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    select_posts = posts.select_posts

    async def counting(database: Database, **kwargs: object) -> object:
        reads.append(1)
        return await select_posts(database, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(posts, "select_posts", counting)
    first = await client.get("/feed.xml")
    again = await client.get("/feed.xml")
    assert await again.get_data(as_text=False) == await first.get_data(as_text=False)
    assert len(reads) == 1
    # Feed readers that send back the ETag are told nothing changed.
    etag = first.headers["ETag"]
    assert (await client.get("/feed.xml", headers={"If-None-Match": etag})).status_code == 304
    await posts.insert_post(db, 2, "Fresh", "news")
    titles = [item.findtext("title") for item in (await read_feed(client)).iter("item")]
    assert titles[0] == "Fresh" and len(reads) == 2
    response = await client.get("/feed.xml", headers={"If-None-Match": etag})
    assert response.status_code == 200


async def test_the_feed_is_kept_per_language_and_host(client: Client) -> None:
    english = await read_feed(client)
    russian = await client.get("/feed.xml", headers={"Accept-Language": "ru"})
    assert b"<language>ru</language>" in await russian.get_data(as_text=False)
    assert english.findtext("channel/language") == "en"
    other = await client.get("/feed.xml", headers={"Host": "blog.example.com"})
    assert b"<link>http://blog.example.com/</link>" in await other.get_data(as_text=False)
    assert (await read_feed(client)).findtext("channel/link") == "http://localhost/"


async def test_the_feed_over_https_behind_a_proxy_is_not_shown_over_http(
    make_app: AppFactory,
) -> None:
    app = await make_app(PROXY_TRUSTED_HOPS=1)
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"}
    for _ in range(2):
        secure = await client.get("/feed.xml", headers=forwarded)
        assert b"<link>https://localhost/</link>" in await secure.get_data(as_text=False)
        assert (await read_feed(client)).findtext("channel/link") == "http://localhost/"


async def test_without_a_page_cache_the_feed_is_made_for_each_request(
    make_app: AppFactory, db: Database
) -> None:
    client = (await make_app(PAGE_CACHE_SIZE=0)).test_client()
    assert len((await read_feed(client)).findall("channel/item")) == 1
    await posts.insert_post(db, 2, "Fresh", "news")
    assert len((await read_feed(client)).findall("channel/item")) == 2


async def test_feed_readers_arriving_while_it_is_made_wait_for_it(
    app: Quart, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[int] = []
    make = feed._feed

    async def slow() -> bytes:
        made.append(1)
        await asyncio.sleep(0.05)
        return await make()

    monkeypatch.setattr(feed, "_feed", slow)

    async def poll() -> list[str | None]:
        return [
            item.findtext("title") for item in (await read_feed(app.test_client())).iter("item")
        ]

    polls = await asyncio.gather(*(poll() for _ in range(5)))
    assert polls == [["test title"]] * 5 and len(made) == 1
    # After a write, the crowd waits for one new feed again.
    await posts.insert_post(db, 2, "Fresh", "news")
    polls = await asyncio.gather(*(poll() for _ in range(5)))
    assert polls == [["Fresh", "test title"]] * 5 and len(made) == 2


async def test_the_feed_is_written_off_the_event_loop(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Megabytes of links made absolute and escaped: the loop goes on answering meanwhile.
    written_in: list[str] = []
    written = feed._written

    def recording(*args: Any) -> bytes:
        written_in.append(threading.current_thread().name)
        return written(*args)

    monkeypatch.setattr(feed, "_written", recording)
    channel = (await read_feed(client)).find("channel")
    assert channel is not None and channel.findtext("item/title") == "test title"
    assert len(written_in) == 1 and written_in[0].startswith("feed"), written_in
