"""Tags: given when writing, checked, shown as links, each with its own listing."""

from __future__ import annotations

import html
from urllib.parse import quote as url_quote

import pytest

from quart_flaskr.blog import parse_tags
from quart_flaskr.db import Database
from quart_flaskr.i18n import COOKIE
from quart_flaskr.limits import TAG_MAX
from quart_flaskr.limits import TAGS_FIELD_MAX
from quart_flaskr.limits import TAGS_MAX
from tests.helpers import add_posts
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import page_text
from tests.helpers import post_form
from tests.helpers import titles


async def test_tags(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    await post_form(
        client, "/create", {"title": "tagged", "body": "", "tags": " Python, web  Dev,python,,"}
    )
    page = await page_text(client, "/")
    assert '<a rel="tag" href="/tag/python">python</a>' in page
    assert '<a rel="tag" href="/tag/web%20dev">web dev</a>' in page

    for path in ("/tag/python", "/tag/PYTHON", "/tag/web%20dev"):
        page = await page_text(client, path)
        assert titles(page) == ["tagged"]
    assert "Tagged &#39;python&#39;" in await page_text(client, "/tag/Python")

    # The edit form shows the tags; changing them drops the tag no post has any more.
    assert 'value="python, web dev"' in await page_text(client, "/2/update")
    await post_form(client, "/2/update", {"title": "tagged", "body": "", "tags": "python, flask"})
    assert (await client.get("/tag/web%20dev")).status_code == 404
    # The post's listed tags and its edit form follow the change.
    assert 'value="flask, python"' in await page_text(client, "/2/update")
    page = await page_text(client, "/")
    assert '<a rel="tag" href="/tag/flask">flask</a>' in page
    assert "/tag/web%20dev" not in page
    assert titles(await page_text(client, "/tag/flask")) == ["tagged"]
    await post_form(client, "/1/update", {"title": "also", "body": "", "tags": "flask"})
    assert titles(await page_text(client, "/tag/flask")) == ["tagged", "also"]

    # Every tag taken off: none listed, none in the form.
    await post_form(client, "/1/update", {"title": "also", "body": "", "tags": ""})
    assert 'name="tags" id="tags" value=""' in await page_text(client, "/1/update")
    assert titles(await page_text(client, "/tag/flask")) == ["tagged"]
    await post_form(client, "/1/update", {"title": "also", "body": "", "tags": "flask"})

    await post_form(client, "/2/delete", {}, token_from="/2/update")
    assert titles(await page_text(client, "/tag/flask")) == ["also"]
    assert (await client.get("/tag/python")).status_code == 404
    names = await db.fetch_all("SELECT name FROM tag")
    assert [row[0] for row in names] == ["flask"]


async def test_unicode_tags(client: Client, auth: AuthActions) -> None:
    await auth.login()
    tags = "Caf\u0065\u0301, \u0939\u093f\u0928\u094d\u0926\u0940, c++, c#, node.js"
    response = await post_form(client, "/create", {"title": "t", "body": "", "tags": tags})
    assert response.status_code == 302
    for name in ("caf\u00e9", "\u0939\u093f\u0928\u094d\u0926\u0940", "c++", "c#", "node.js"):
        path = url_quote(f"/tag/{name}")
        assert titles(await page_text(client, path)) == ["t"], name


@pytest.mark.parametrize(
    ("tags", "message"),
    (
        ("a/b", "Tags may hold letters, digits, spaces and - _ . + # only"),
        ("<script>", "Tags may hold letters, digits, spaces and - _ . + # only"),
        ("..", "at least one letter or digit"),
        ("x" * 33, "Tags must be at most 32 characters"),
        (",".join(f"t{number}" for number in range(11)), "A post can have at most 10 tags."),
        # One tag over and over is one tag, but more than the field lets a browser type.
        ("a," * 200 + "a", "The tags must be at most 400 characters in all."),
    ),
)
@pytest.mark.parametrize("path", ("/create", "/1/update"))
async def test_bad_tags(
    client: Client, auth: AuthActions, db: Database, path: str, tags: str, message: str
) -> None:
    await auth.login()
    response = await post_form(client, path, {"title": "t", "body": "b", "tags": tags})
    assert response.status_code == 200
    page = await response.get_data(as_text=True)
    assert html.escape(message, quote=True) in page
    # What the user typed is kept in the form.
    assert f'value="{html.escape(tags)}"' in page
    post = await db.fetch_one("SELECT title, (SELECT COUNT(*) FROM post) FROM post WHERE id = 1")
    assert post is not None and tuple(post) == ("test title", 1)
    assert await db.fetch_one("SELECT 1 FROM tag") is None


async def test_unknown_tag(client: Client) -> None:
    # Named as the reader wrote it.
    response = await client.get("/tag/Nothing")
    assert response.status_code == 404
    assert "No post is tagged &#39;Nothing&#39;." in await response.get_data(as_text=True)


async def test_tag_pages(client: Client, db: Database) -> None:
    await add_posts(db, 6, tags=["many"])
    page = await page_text(client, "/tag/many")
    assert titles(page) == ["post 6", "post 5", "post 4", "post 3", "post 2"]
    assert 'rel="next" href="/tag/many?page=2"' in page
    page = await page_text(client, "/tag/many?page=2")
    assert titles(page) == ["post 1"]
    assert 'rel="prev" href="/tag/many"' in page
    assert (await client.get("/tag/many?page=3")).status_code == 404
    # The pages of a tag written otherwise link to the tag's own pages.
    assert 'rel="next" href="/tag/many?page=2"' in await page_text(client, "/tag/MANY")
    # A search within a tag.
    assert titles(await page_text(client, "/tag/many?q=body+3")) == ["post 3"]
    assert titles(await page_text(client, "/tag/many?q=nowhere")) == []


async def test_thousands_of_tags_are_refused(client: Client, auth: AuthActions) -> None:
    await auth.login()
    tags = ",".join(f"t{number}" for number in range(20_000))
    response = await post_form(client, "/create", {"title": "t", "body": "", "tags": tags})
    assert "The tags must be at most 400 characters in all." in await response.get_data(
        as_text=True
    )
    # The whole field is what a browser lets anyone type: ten of the longest tags fit.
    tags = ", ".join(f"{number}" * 32 for number in range(10))
    assert len(tags) <= TAGS_FIELD_MAX
    response = await post_form(client, "/create", {"title": "t", "body": "", "tags": tags})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("text", "names"),
    (
        # Empty parts and repeats are skipped, and the tags after them kept.
        ("b, , B,a,, c ", ["b", "a", "c"]),
        # At the limits: a tag of TAG_MAX characters, TAGS_MAX tags.
        ("x" * TAG_MAX, ["x" * TAG_MAX]),
        (",".join(f"t{number}" for number in range(TAGS_MAX)), [f"t{n}" for n in range(TAGS_MAX)]),
    ),
)
def test_parse_tags_keeps_every_tag_up_to_the_limits(text: str, names: list[str]) -> None:
    assert parse_tags(text) == (names, None)


TOO_LONG = "X" * (TAG_MAX + 1)


@pytest.mark.parametrize(
    ("tags", "quoted"),
    (
        # An emoji of several characters reads as one, not as Python's escapes.
        ("👨\u200d👩\u200d👧" * 12, "'" + ("👨\u200d👩\u200d👧" * 12)[:39] + "…'"),
        ("x" * TAGS_FIELD_MAX, "'" + "x" * 39 + "…'"),
        ("c" * 33, "'" + "c" * 33 + "'"),
    ),
)
def test_a_tag_too_long_is_quoted_as_it_reads_and_at_most_40_characters(
    tags: str, quoted: str
) -> None:
    assert parse_tags(tags) == (
        [],
        f"Tags must be at most 32 characters: {quoted} is longer.",
    )


TOO_MANY = ",".join(f"t{number}" for number in range(TAGS_MAX + 1))


@pytest.mark.parametrize(
    ("language", "tags", "message"),
    (
        # The tag is named as stored: in lower case.
        (
            "en",
            TOO_LONG,
            f"Tags must be at most 32 characters: &#39;{TOO_LONG.lower()}&#39; is longer.",
        ),
        (
            "ru",
            TOO_LONG,
            f"Метка должна быть не длиннее 32 символов, а &#39;{TOO_LONG.lower()}&#39; длиннее.",
        ),
        (
            "en",
            "fine, a/b",
            "Tags may hold letters, digits, spaces and - _ . + # only,"
            " and at least one letter or digit: &#39;a/b&#39; does not.",
        ),
        (
            "ru",
            "fine, a/b",
            "В метке могут быть только буквы, цифры, пробелы и знаки - _ . + #,"
            " и хотя бы одна буква или цифра, а в &#39;a/b&#39; это не так.",
        ),
        ("en", TOO_MANY, "A post can have at most 10 tags."),
        ("ru", TOO_MANY, "У записи может быть не больше 10 меток."),
    ),
)
async def test_bad_tags_are_refused_in_the_readers_language(
    client: Client, auth: AuthActions, language: str, tags: str, message: str
) -> None:
    client.set_cookie("localhost", COOKIE, language)
    await auth.login()
    response = await post_form(client, "/create", {"title": "t", "body": "b", "tags": tags})
    assert response.status_code == 200
    page = await response.get_data(as_text=True)
    assert f'<div class="flash" role="alert">{message}</div>' in page
