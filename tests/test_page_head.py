"""What a page says of itself to search engines and link previews, and the shape of its headings."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from quart.datastructures import FileStorage

from quart_flaskr.db import Database
from quart_flaskr.models import posts
from tests.harness.images import png
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token
from tests.helpers import page_text


class Head(HTMLParser):
    """A page's <meta> and <link> elements, and the levels of its headings."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.headings: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "meta" and "content" in values:
            self.meta[values.get("name") or values.get("property", "")] = values["content"]
        elif tag == "link":
            self.links[values["rel"]] = values["href"]
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(tag)


async def test_the_index_describes_the_blog(client: Client) -> None:
    head = Head(await page_text(client, "/"))
    assert head.meta["description"].startswith("Flaskr, a blog")
    assert head.links["canonical"] == "http://localhost/"
    assert head.meta["og:type"] == "website"
    assert head.meta["og:title"] == "Posts"
    assert head.meta["og:url"] == "http://localhost/"
    assert head.meta["og:description"] == head.meta["description"]
    assert head.meta["twitter:card"] == "summary"
    assert "robots" not in head.meta
    # One <h1>, the page's; each post's title is an <h2> under it.
    assert head.headings == ["h1", "h2"]


async def test_a_page_of_the_index_is_its_own_canonical_page(client: Client, db: Database) -> None:
    for number in range(6):
        await posts.insert_post(db, 1, f"post {number}", "text")
    head = Head(await page_text(client, "/?page=2&utm_source=x"))
    assert head.links["canonical"] == "http://localhost/?page=2"


async def test_search_results_are_not_indexed(client: Client) -> None:
    head = Head(await page_text(client, "/?q=test"))
    assert head.meta["robots"] == "noindex"


async def test_a_post_is_described_by_its_beginning_and_its_image(
    client: Client, auth: AuthActions
) -> None:
    await auth.login()
    # Its Markdown's headings come under the page's one <h1>, the title.
    body = "A **walk** in the hills. " * 20 + "\n\n# The way back\n\n## At the top\n"
    image = png(8, 8, lambda y: bytes([0, 128, 255] * 8))
    response = await client.post(
        "/create",
        form={"title": "Hills", "body": body, "image_alt": "Green hills", "tags": ""},
        files={"image": FileStorage(io.BytesIO(image), filename="hills.png", name="image")},
        headers={"X-CSRF-Token": await csrf_token(client, "/create")},
    )
    assert response.status_code == 302
    page = await page_text(client, "/2")
    head = Head(page)
    description = head.meta["description"]
    assert description.startswith("A walk in the hills. A walk") and description.endswith("…")
    assert len(description) <= 161
    assert head.meta["og:type"] == "article"
    assert head.meta["og:title"] == "Hills"
    assert head.links["canonical"] == head.meta["og:url"] == "http://localhost/2"
    name = re.search(r'src="/uploads/([^"]+)"', page)
    assert name is not None
    assert head.meta["og:image"] == f"http://localhost/uploads/{name[1]}"
    assert head.meta["og:image:alt"] == "Green hills"
    assert head.meta["twitter:card"] == "summary_large_image"
    assert head.headings.count("h1") == 1
    assert "<h2>The way back</h2>" in page and "<h3>At the top</h3>" in page


async def test_a_listing_shows_the_beginning_of_each_post(client: Client, db: Database) -> None:
    await posts.insert_post(db, 1, "Long", "word " * 100)
    page = await page_text(client, "/")
    long_post, short_post = page.split('<article class="post" id="post-1">')
    assert '<p class="excerpt">word word' in long_post
    assert '<a class="more" href="/2">Read more<span class="visually-hidden">: Long</span>' in (
        long_post
    )
    # Flaskr's own post, shown whole: no "Read more".
    assert '<p class="excerpt">test\nbody</p>' in short_post and "Read more" not in short_post


async def test_every_page_links_its_feed(client: Client) -> None:
    page = await page_text(client, "/auth/login")
    assert '<a href="/feed.xml">RSS feed</a>' in page
    assert Head(page).headings == ["h1"]


async def test_a_title_with_quotes_stays_whole_in_its_meta_tags(
    client: Client, auth: AuthActions, db: Database
) -> None:
    """The editor's title is 'Edit "<title>"': the quotes are the message's, and the
    attribute holding it must escape them (it ended at the first)."""
    post_id = await posts.insert_post(db, 1, 'A "quoted" <b>title</b> & more', "text")
    await auth.login()
    head = Head(await page_text(client, f"/{post_id}/update"))
    assert head.meta["og:title"] == 'Edit "A "quoted" <b>title</b> & more"'


async def test_a_title_on_several_lines_is_one_line_in_its_card(
    client: Client, db: Database
) -> None:
    """A title holding tabs and line breaks (the form does not take them out) is shown in a
    link's preview on one line, its apostrophe as it is."""
    post_id = await posts.insert_post(db, 1, " Hills\t and\n\n  the  sea's edge ", "text")
    head = Head(await page_text(client, f"/{post_id}"))
    assert head.meta["og:title"] == "Hills and the sea's edge"
