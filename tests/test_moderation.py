"""Moderation: moderators made by an operator delete posts and comments, suspend and restore
users, every action logged; nobody else reaches any of it."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest
from quart import Quart
from quart.testing import QuartCliRunner

from quart_flaskr import passwords
from quart_flaskr.db import Database
from quart_flaskr.models import comments
from quart_flaskr.models import likes
from quart_flaskr.models import moderation
from quart_flaskr.models import posts
from quart_flaskr.models import users
from quart_flaskr.models.images import Image
from quart_flaskr.models.images import Variant
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import on_database
from tests.helpers import page_text
from tests.helpers import post_form
from tests.helpers import titles

#: Every moderation route, and the method it answers.
ROUTES = (
    ("GET", "/moderation/"),
    ("POST", "/moderation/post/1/delete"),
    ("POST", "/moderation/comment/1/delete"),
    ("POST", "/moderation/user/2/suspend"),
    ("POST", "/moderation/user/2/restore"),
)


async def comment_id(adding: Awaitable[comments.NewComment | None]) -> int:
    added = await adding
    assert added is not None
    return added.id


async def make_moderator(db: Database, username: str = "test") -> None:
    assert await moderation.set_moderator(db, username, True)


async def shown(client: Client, *paths: str) -> list[str]:
    """The titles of posts the listings at ``paths`` show, all together."""
    found = []
    for path in paths:
        found += titles(await page_text(client, path))
    return found


def test_the_moderator_command(runner: QuartCliRunner, cli_app: Quart) -> None:
    assert runner.invoke(args=["init-db"]).exit_code == 0

    async def is_moderator(database: Database) -> bool:
        user = await users.select_user_by_name(database, "alice")
        assert user is not None
        return user.moderator

    on_database(cli_app, lambda database: users.insert_user(database, "alice", "hash"))
    result = runner.invoke(args=["moderator", "alice"])
    assert result.exit_code == 0 and result.output == "alice is a moderator.\n"
    assert on_database(cli_app, is_moderator)
    result = runner.invoke(args=["moderator", "alice", "--remove"])
    assert result.exit_code == 0 and result.output == "alice is no longer a moderator.\n"
    assert not on_database(cli_app, is_moderator)
    result = runner.invoke(args=["moderator", "Alice"])
    assert result.exit_code == 1 and "There is no user 'Alice'." in result.output


@pytest.mark.parametrize("who", ("anonymous", "user", "former moderator"))
async def test_nobody_but_moderators_reaches_moderation(
    client: Client, auth: AuthActions, db: Database, who: str
) -> None:
    await comments.insert_comment(db, 1, 2, "a comment")
    if who != "anonymous":
        await auth.login()
    if who == "former moderator":
        await make_moderator(db)
        await moderation.set_moderator(db, "test", False)
    for method, path in ROUTES:
        if method == "GET":
            response = await client.get(path)
        else:
            response = await post_form(client, path, {}, "/auth/login")
        assert response.status_code == 404, (method, path)
    assert await db.fetch_one("SELECT 1 FROM post WHERE id = 1") is not None
    assert await db.fetch_one("SELECT 1 FROM comment") is not None
    assert await db.fetch_one("SELECT 1 FROM moderation_log") is None
    assert await db.fetch_one('SELECT 1 FROM "user" WHERE suspended IS NOT NULL') is None
    page = await page_text(client, "/1")
    assert "/moderation/" not in page


async def test_moderation_forms_need_their_csrf_token(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await make_moderator(db)
    await auth.login()
    for _, path in ROUTES[1:]:
        assert (await client.post(path)).status_code == 400, path
    assert await db.fetch_one("SELECT 1 FROM moderation_log") is None


async def test_a_moderator_deletes_any_post_and_it_is_logged(
    client: Client, auth: AuthActions, db: Database
) -> None:
    image = Image("B" * 22 + ".png", b"\x89PNG" + b"y" * 10, 1, 1)
    post_id = await posts.insert_post(db, 2, "Spam", "buy now", image=image, tags=["spam"])
    await comments.insert_comment(db, post_id, 1, "a comment on it")
    await make_moderator(db)
    await auth.login()
    page = await page_text(client, f"/{post_id}")
    assert f'action="/moderation/post/{post_id}/delete"' in page
    # Their own posts they delete as authors do, from the edit page.
    assert 'action="/moderation/post/1/delete"' not in await page_text(client, "/1")
    response = await post_form(client, f"/moderation/post/{post_id}/delete", {}, f"/{post_id}")
    assert response.headers["Location"] == "/"
    assert "The post is deleted." in await page_text(client, "/")
    assert await posts.select_post(db, post_id) is None
    assert await db.fetch_one("SELECT 1 FROM image") is None
    assert await db.fetch_one("SELECT 1 FROM tag") is None
    again = await post_form(client, f"/moderation/post/{post_id}/delete", {}, "/")
    assert again.status_code == 404
    log = await page_text(client, "/moderation/")
    assert "deleted the post" in log and "Spam (other)" in log and "<td>test</td>" in log


async def test_a_moderator_deletes_any_comment_and_it_is_logged(
    client: Client, auth: AuthActions, db: Database
) -> None:
    post_id = await posts.insert_post(db, 2, "Theirs", "body")
    mine = await comment_id(comments.insert_comment(db, post_id, 1, "mine"))
    long = "a very long comment " * 10
    theirs = await comment_id(comments.insert_comment(db, post_id, 2, long))
    await make_moderator(db)
    await auth.login()
    page = await page_text(client, f"/{post_id}")
    # Their own comments they delete as authors do.
    assert f'action="/comment/{mine}/delete"' in page
    assert f'action="/moderation/comment/{mine}/delete"' not in page
    assert f'action="/moderation/comment/{theirs}/delete"' in page
    response = await post_form(client, f"/moderation/comment/{theirs}/delete", {}, f"/{post_id}")
    assert response.headers["Location"] == f"/{post_id}#comments"
    assert [
        comment.id for comment in await comments.select_comments(db, post_id, limit=1000, offset=0)
    ] == [mine]
    again = await post_form(client, f"/moderation/comment/{theirs}/delete", {}, "/")
    assert again.status_code == 404
    entries = await moderation.select_log(db, limit=10)
    assert [(entry.moderator, entry.action) for entry in entries] == [("test", "delete-comment")]
    assert entries[0].subject == long.strip()[:79] + "… (other)"
    assert "deleted the comment" in await page_text(client, "/moderation/")
    # A short comment is logged whole; a post without an image goes as well.
    short = await comment_id(comments.insert_comment(db, post_id, 2, "short\n one"))
    assert await moderation.delete_comment(db, "test", short) == post_id
    assert await moderation.delete_post(db, "test", post_id)
    entries = await moderation.select_log(db, limit=2)
    assert [entry.subject for entry in entries] == ["Theirs (other)", "short one (other)"]


async def test_a_suspended_user_is_hidden_until_restored(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    theirs = await posts.insert_post(db, 2, "Their post", "words", tags=["both", "spam"])
    mine = await posts.insert_post(db, 1, "My post", "words", tags=["both"])
    await comments.insert_comment(db, 1, 2, "their comment")
    assert await likes.like_post(db, mine, 2)
    other = app.test_client()
    await AuthActions(other).login("other", "other")
    await make_moderator(db)
    await auth.login()
    listings = ("/", "/tag/both", "/?q=words", "/u/test")
    everything = ["Their post", "My post", "test title"] + ["Their post", "My post"] * 2
    assert sorted(await shown(client, *listings)) == sorted([*everything, "My post", "test title"])
    profile = await page_text(client, "/u/other")
    assert 'action="/moderation/user/2/suspend"' in profile
    assert "/moderation/user/1/suspend" not in await page_text(client, "/u/test")
    response = await post_form(client, "/moderation/user/2/suspend", {}, "/u/other")
    assert response.headers["Location"] == "/moderation/"

    # Hidden everywhere, and logged out for good.
    assert "Their post" not in await shown(client, *listings)
    assert (await client.get(f"/{theirs}")).status_code == 404
    assert (await client.get("/u/other")).status_code == 404
    # Nobody likes or comments on it meanwhile: it is not there for them.
    like = await post_form(client, f"/{theirs}/like", {}, "/1")
    comment = await post_form(client, f"/{theirs}/comment", {"body": "hello"}, "/1")
    assert (like.status_code, comment.status_code) == (404, 404)
    assert await db.fetch_one("SELECT 1 FROM post_like WHERE post_id = ?", (theirs,)) is None
    assert await db.fetch_one("SELECT 1 FROM comment WHERE post_id = ?", (theirs,)) is None
    hidden = await page_text(client, "/1")
    assert "their comment" not in hidden
    # Nor counted: the post shows the comments it shows, and their likes count for nothing.
    assert ">0 comments</a>" in hidden and ">0 comments</a>" in await page_text(client, "/")
    assert '<span class="likes">0 likes</span>' in await page_text(client, f"/{mine}")
    assert '<span class="likes">1 like</span>' not in await page_text(client, "/")
    assert "Their post" not in await page_text(client, "/feed.xml")
    sitemap = await page_text(client, "/sitemap.xml")
    assert f"/{theirs}</loc>" not in sitemap
    # The front page's time is its newest shown post's, not theirs.
    async with db.transaction() as tx:
        await tx.execute("UPDATE post SET created = '2030-01-01 00:00:00' WHERE id = ?", (theirs,))
    assert "2030-01-01" not in await page_text(client, "/sitemap.xml")
    # A tag only their posts carry is not shown either: no page, not in the sitemap.
    assert "/tag/spam</loc>" not in sitemap and "/tag/both</loc>" in sitemap
    spam = await client.get("/tag/spam")
    assert spam.status_code == 404
    assert "No post is tagged &#39;spam&#39;." in await spam.get_data(as_text=True)
    assert "Log Out" not in await page_text(other, "/auth/login")
    refused = await AuthActions(other).login("other", "other")
    assert refused.status_code == 403
    assert "This account is suspended by a moderator." in await refused.get_data(as_text=True)
    # Only with the right password does the page say so.
    wrong = await AuthActions(other).login("other", "wrong")
    assert "suspended" not in await wrong.get_data(as_text=True)
    page = await page_text(client, "/moderation/")
    assert 'action="/moderation/user/2/restore"' in page and "suspended" in page
    again = await post_form(client, "/moderation/user/2/suspend", {}, "/moderation/")
    assert again.status_code == 404
    themselves = await post_form(client, "/moderation/user/1/suspend", {}, "/moderation/")
    assert themselves.status_code == 400

    response = await post_form(client, "/moderation/user/2/restore", {}, "/moderation/")
    assert response.headers["Location"] == "/moderation/"
    assert "The user is restored." in await page_text(client, "/moderation/")
    assert "Their post" in await shown(client, *listings[:3])
    assert "Their post" in await shown(client, "/tag/spam")
    assert "/tag/spam</loc>" in await page_text(client, "/sitemap.xml")
    shown_again = await page_text(client, "/1")
    assert "their comment" in shown_again and ">1 comment</a>" in shown_again
    assert '<span class="likes">1 like</span>' in await page_text(client, f"/{mine}")
    assert (await AuthActions(other).login("other", "other")).status_code == 302
    again = await post_form(client, "/moderation/user/2/restore", {}, "/moderation/")
    assert again.status_code == 404
    entries = await moderation.select_log(db, limit=10)
    assert [(entry.action, entry.subject) for entry in entries] == [
        ("restore", "other"),
        ("suspend", "other"),
    ]
    log = await page_text(client, "/moderation/")
    assert "restored" in log and "Nobody is suspended." in log


async def test_a_suspended_users_pictures_are_hidden_until_restored(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    variant = Variant("V" * 22 + ".webp", 480, b"RIFF")
    theirs = Image("T" * 22 + ".png", b"\x89PNG", 1, 1, (variant,))
    await posts.insert_post(db, 2, "Pictured", "words", image=theirs)
    # One of their posts has no picture: the hidden names leave it out.
    await posts.insert_post(db, 2, "Words only", "words")
    await posts.insert_post(db, 1, "Mine", "words", image=Image("M" * 22 + ".png", b"\x89PNG"))
    names = [theirs.name, variant.name, "M" * 22 + ".png"]
    anonymous = app.test_client()

    async def statuses(fresh: bool) -> list[int]:
        """Each picture's status for a browser without it, or asking whether its copy is fresh."""
        found = []
        for name in names:
            headers = {"If-None-Match": f'"{name}"'} if fresh else {}
            found.append((await anonymous.get(f"/uploads/{name}", headers=headers)).status_code)
        return found

    assert (await statuses(False), await statuses(True)) == ([200] * 3, [304] * 3)
    await make_moderator(db)
    await auth.login()
    await post_form(client, "/moderation/user/2/suspend", {}, "/u/other")
    assert (await statuses(False), await statuses(True)) == ([404, 404, 200], [404, 404, 304])
    await post_form(client, "/moderation/user/2/restore", {}, "/moderation/")
    assert (await statuses(False), await statuses(True)) == ([200] * 3, [304] * 3)


async def test_the_log_pages(client: Client, auth: AuthActions, db: Database) -> None:
    await make_moderator(db)
    await auth.login()
    assert "No moderation yet." in await page_text(client, "/moderation/")
    for _ in range(51):
        assert await moderation.suspend_user(db, "test", 2)
        assert await moderation.restore_user(db, "test", 2)
    page = await page_text(client, "/moderation/")
    assert page.count("<tr><td>") == 50 and 'href="/moderation/?page=2"' in page
    assert (await page_text(client, "/moderation/?page=3")).count("<tr><td>") == 2
    assert (await client.get("/moderation/?page=4")).status_code == 404
    assert "/moderation/" in await page_text(client, "/account")


async def test_a_login_checked_while_the_user_is_suspended_starts_no_session(
    client: Client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Suspended between the password's check and the session's start: a 403 saying so,
    and no session to come back when the user is restored."""
    await make_moderator(db)
    check_password = passwords.check_password

    async def suspended_while_checking(stored: str | None, password: str, method: str) -> bool:
        assert await moderation.suspend_user(db, "test", 2)
        return await check_password(stored, password, method)

    monkeypatch.setattr(passwords, "check_password", suspended_while_checking)
    response = await AuthActions(client).login("other", "other")
    assert response.status_code == 403
    assert "This account is suspended by a moderator." in await response.get_data(as_text=True)
    assert await db.fetch_one("SELECT 1 FROM login_session WHERE user_id = 2") is None
