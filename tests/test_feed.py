from __future__ import annotations

import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime

from quart_flaskr.db import Database
from quart_flaskr.models import posts
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


async def test_every_page_advertises_the_feed(client: Client) -> None:
    for path in ("/", "/1", "/auth/login", "/nowhere"):
        page = await (await client.get(path)).get_data(as_text=True)
        assert (
            '<link rel="alternate" type="application/rss+xml" title="Flaskr: newest posts"'
            ' href="http://localhost/feed.xml">'
        ) in page, path
