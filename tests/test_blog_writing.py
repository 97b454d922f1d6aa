"""Writing, editing and deleting posts: logged in, as their author, with valid input."""

from __future__ import annotations

import pytest

from quart_flaskr import markdown
from quart_flaskr.db import Database
from quart_flaskr.i18n import COOKIE
from quart_flaskr.limits import BODY_MAX
from quart_flaskr.limits import IMAGE_ALT_MAX
from quart_flaskr.limits import TITLE_MAX
from quart_flaskr.models import posts
from quart_flaskr.models.images import Image
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token
from tests.helpers import page_text
from tests.helpers import post_form


@pytest.mark.parametrize("path", ("/create", "/1/update", "/1/delete"))
async def test_login_required(client: Client, path: str) -> None:
    response = await post_form(client, path, {}, token_from="/auth/login")
    assert response.headers["Location"] == "/auth/login"


async def test_author_required(client: Client, auth: AuthActions, db: Database) -> None:
    # Give the post to another user.
    async with db.transaction() as tx:
        await tx.execute("UPDATE post SET author_id = 2 WHERE id = 1")

    await auth.login()
    # The current user can't change another user's post...
    assert (await post_form(client, "/1/update", {"title": "x", "body": ""})).status_code == 403
    assert (await post_form(client, "/1/delete", {})).status_code == 403
    # ...and sees no edit link for it.
    assert 'href="/1/update"' not in await (await client.get("/")).get_data(as_text=True)


@pytest.mark.parametrize("path", ("/2/update", "/2/delete", "/9223372036854775808/update"))
async def test_exists_required(client: Client, auth: AuthActions, path: str) -> None:
    await auth.login()
    response = await post_form(client, path, {"title": "x", "body": ""})
    assert response.status_code == 404


async def test_missing_post_message(client: Client, auth: AuthActions) -> None:
    await auth.login()
    response = await client.get("/2/update")
    assert "Post id 2 doesn&#39;t exist." in await response.get_data(as_text=True)


async def test_create(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    assert (await client.get("/create")).status_code == 200
    response = await post_form(client, "/create", {"title": "created", "body": ""})
    assert response.headers["Location"] == "/"
    count = await db.fetch_one("SELECT COUNT(id) FROM post")
    assert count is not None and count[0] == 2


async def test_update(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    assert (await client.get("/1/update")).status_code == 200
    response = await post_form(client, "/1/update", {"title": "updated", "body": ""})
    assert (response.status_code, response.headers["Location"]) == (302, "/")
    post = await db.fetch_one("SELECT * FROM post WHERE id = 1")
    assert post is not None and post["title"] == "updated"


@pytest.mark.parametrize(("path", "post_id"), (("/create", 2), ("/1/update", 1)))
async def test_a_post_is_stored_with_its_html(
    client: Client, auth: AuthActions, db: Database, path: str, post_id: int
) -> None:
    # Rendered once, as it is written, not by every reader that comes after.
    await auth.login()
    await post_form(client, path, {"title": "t", "body": "Some *emphasis*"})
    row = await db.fetch_one("SELECT body_html FROM post WHERE id = ?", (post_id,))
    assert row is not None and row[0] == "<p>Some <em>emphasis</em></p>\n"


@pytest.mark.parametrize("path", ("/create", "/1/update"))
@pytest.mark.parametrize(
    ("title", "body", "message"),
    (
        ("", "", "Title is required."),
        # Spaces of any kind, a tab: nothing to show as the post's link.
        (" \t\u3000\u00a0", "", "Title is required."),
        # Characters that show nothing: a zero-width space, joiners, a Hangul filler.
        ("\u200b", "", "Title is required."),
        ("\u200d\u2060\ufeff \u3164\u2800", "", "Title is required."),
        ("x" * 201, "", "Title must be at most 200 characters."),
        ("t", "x" * 20_001, "Body must be at most 20000 characters."),
    ),
)
async def test_create_update_validate(
    client: Client,
    auth: AuthActions,
    db: Database,
    path: str,
    title: str,
    body: str,
    message: str,
) -> None:
    await auth.login()
    response = await post_form(client, path, {"title": title, "body": body})
    page = await response.get_data(as_text=True)
    assert message in page
    # What the user typed is kept in the form.
    assert body[:50] in page
    post = await db.fetch_one("SELECT title, (SELECT COUNT(*) FROM post) FROM post WHERE id = 1")
    assert post is not None and tuple(post) == ("test title", 1)


async def test_delete(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    response = await post_form(client, "/1/delete", {}, token_from="/1/update")
    assert response.headers["Location"] == "/"
    assert await db.fetch_one("SELECT * FROM post WHERE id = 1") is None


async def test_user_content_is_escaped(client: Client, auth: AuthActions) -> None:
    await auth.login()
    await post_form(client, "/create", {"title": "<script>x</script>", "body": "<b>b</b>"})
    page = await (await client.get("/")).get_data(as_text=True)
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "&lt;b&gt;b&lt;/b&gt;" in page


async def test_csrf_token_is_on_every_form(client: Client, auth: AuthActions) -> None:
    await auth.login()
    for path in ("/create", "/1/update", "/"):
        assert await csrf_token(client, path)


async def test_markdown_body(client: Client, auth: AuthActions) -> None:
    await auth.login()
    body = (
        "Some **bold** and a [link](https://example.com).\n\n"
        "<script>alert(1)</script> <img src=x onerror=alert(1)>"
        " [bad](javascript:alert(1)) [also bad](JAVASCRIPT:alert(1))"
    )
    await post_form(client, "/create", {"title": "md", "body": body})
    detail = await page_text(client, "/2")
    assert "<strong>bold</strong>" in detail
    assert '<a href="https://example.com" rel="nofollow ugc noopener noreferrer">link</a>' in detail
    # The index shows the beginning of the same text, without its tags.
    listing = await page_text(client, "/")
    assert '<p class="excerpt">Some bold and a link.\n&lt;script&gt;alert(1)' in listing
    for page in (listing, detail):
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert 'href="javascript' not in page.lower()


async def test_body_html_is_stored_on_write(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    await post_form(client, "/1/update", {"title": "t", "body": "*new*"})
    row = await db.fetch_one("SELECT body_html FROM post WHERE id = 1")
    assert row is not None and row[0] == "<p><em>new</em></p>\n"


async def test_refused_create_and_update_show_the_form_again_as_flaskr(
    client: Client, auth: AuthActions
) -> None:
    await auth.login()
    for path in ("/create", "/1/update"):
        response = await post_form(client, path, {"title": "", "body": ""})
        assert response.status_code == 200
        assert "Title is required." in await response.get_data(as_text=True)


async def test_update_of_a_deleted_post_stores_no_image(db: Database) -> None:
    image = Image("AAAAAAAAAAAAAAAAAAAAAA.png", b"\x89PNG\r\n\x1a\n")
    assert await posts.update_post(db, 2, "t", "b", replace_image=True, image=image) is False
    assert await db.fetch_one("SELECT 1 FROM post WHERE id = 2") is None
    assert await db.fetch_one("SELECT 1 FROM image") is None


async def test_an_edit_of_a_post_deleted_meanwhile_is_a_404(
    client: Client, auth: AuthActions, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await auth.login()
    token = await csrf_token(client, "/1/update")
    render = markdown.render_async

    async def deleted_while_rendering(body: str) -> object:
        await posts.delete_post(db, 1)
        return await render(body)

    monkeypatch.setattr(markdown, "render_async", deleted_while_rendering)
    response = await client.post("/1/update", form={"title": "t", "body": "b", "csrf_token": token})
    assert response.status_code == 404
    assert "Post id 1 doesn&#39;t exist." in await response.get_data(as_text=True)
    assert await db.fetch_one("SELECT 1 FROM post") is None


async def test_the_edit_form_holds_the_post_as_it_is(
    client: Client, auth: AuthActions, db: Database
) -> None:
    post_id = await posts.insert_post(
        db, 1, "Kept title", "Kept body", tags=["b", "a"], image_alt="Kept description"
    )
    await auth.login()
    page = await page_text(client, f"/{post_id}/update")
    assert '<input name="title" id="title" value="Kept title"' in page
    assert '<textarea name="body" id="body" maxlength="20000">Kept body</textarea>' in page
    assert '<input name="tags" id="tags" value="a, b"' in page
    assert '<input name="image_alt" id="image_alt" value="Kept description"' in page


async def test_a_post_written_without_an_image_or_description_has_neither(db: Database) -> None:
    post = await posts.select_post(db, await posts.insert_post(db, 1, "t", "b"))
    assert post is not None
    assert (post.image, post.image_alt) == (None, "")


async def test_an_update_keeps_the_image_unless_told_to_replace_it(db: Database) -> None:
    image = Image("AAAAAAAAAAAAAAAAAAAAAA.png", b"\x89PNG\r\n\x1a\n")
    post_id = await posts.insert_post(db, 1, "t", "b", image=image, image_alt="A dot")
    assert await posts.update_post(db, post_id, "new title", "new body") is True
    post = await posts.select_post(db, post_id)
    assert post is not None
    # The description is the one given: none.
    assert (post.title, post.body, post.image, post.image_alt) == (
        "new title",
        "new body",
        image.name,
        "",
    )


async def test_a_flaskr_form_makes_a_post_without_tags_or_description(
    client: Client, auth: AuthActions, db: Database
) -> None:
    # Flaskr's own form has only the title and the body.
    await auth.login()
    response = await post_form(client, "/create", {"title": "plain", "body": "b"})
    assert response.status_code == 302
    [post] = await posts.select_posts(db, limit=1)
    assert (post.title, post.tags, post.image_alt) == ("plain", (), "")


async def test_the_refusal_is_the_message_alone(client: Client, auth: AuthActions) -> None:
    await auth.login()
    response = await post_form(client, "/create", {"title": "", "body": ""})
    page = await response.get_data(as_text=True)
    assert '<div class="flash" role="alert">Title is required.</div>' in page


async def test_fields_at_their_limits_are_taken(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    form = {
        "title": "t" * TITLE_MAX,
        "body": "b" * BODY_MAX,
        "tags": "",
        "image_alt": "a" * IMAGE_ALT_MAX,
    }
    response = await post_form(client, "/create", form)
    assert response.status_code == 302
    [post] = await posts.select_posts(db, limit=1)
    assert (post.title, post.body, post.image_alt) == (
        form["title"],
        form["body"],
        form["image_alt"],
    )


@pytest.mark.parametrize(
    ("language", "form", "message"),
    (
        ("en", {"title": "t" * (TITLE_MAX + 1)}, "Title must be at most 200 characters."),
        ("ru", {"title": "t" * (TITLE_MAX + 1)}, "Заголовок должен быть не длиннее 200 символов."),
        ("en", {"body": "b" * (BODY_MAX + 1)}, "Body must be at most 20000 characters."),
        ("ru", {"body": "b" * (BODY_MAX + 1)}, "Текст должен быть не длиннее 20000 символов."),
        (
            "en",
            {"image_alt": "a" * (IMAGE_ALT_MAX + 1)},
            "The image description must be at most 200 characters.",
        ),
        (
            "ru",
            {"image_alt": "a" * (IMAGE_ALT_MAX + 1)},
            "Описание изображения должно быть не длиннее 200 символов.",
        ),
    ),
)
async def test_a_field_too_long_is_refused_in_the_readers_language(
    client: Client,
    auth: AuthActions,
    db: Database,
    language: str,
    form: dict[str, str],
    message: str,
) -> None:
    client.set_cookie("localhost", COOKIE, language)
    await auth.login()
    response = await post_form(client, "/create", {"title": "t", "body": "", **form})
    assert response.status_code == 200
    page = await response.get_data(as_text=True)
    assert f'<div class="flash" role="alert">{message}</div>' in page
    count = await db.fetch_one("SELECT COUNT(*) FROM post")
    assert count is not None and count[0] == 1
