"""People's own accounts: profiles, a new password, login sessions, reset links, deleting it."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from typing import Any

import pytest
from markupsafe import Markup
from quart import Quart
from quart.testing import QuartCliRunner

from quart_flaskr import account
from quart_flaskr import markdown
from quart_flaskr import passwords
from quart_flaskr.db import Database
from quart_flaskr.db.extension import database_from_config
from quart_flaskr.models import accounts
from quart_flaskr.models import comments
from quart_flaskr.models import likes
from quart_flaskr.models import parse_timestamp
from quart_flaskr.models import posts
from quart_flaskr.models import sessions
from quart_flaskr.models import users
from quart_flaskr.models.images import Image
from tests.harness.forms import csrf_token_in
from tests.helpers import add_posts
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token
from tests.helpers import on_database
from tests.helpers import page_text
from tests.helpers import post_form
from tests.helpers import replay_cookie
from tests.helpers import session_cookie
from tests.helpers import titles


async def count(db: Database, sql: str, params: tuple[object, ...] = ()) -> int:
    row = await db.fetch_one(sql, params)
    assert row is not None
    return int(row[0])


async def logged_in(app: Quart, username: str = "test", password: str = "test") -> Client:
    """Another browser, logged in as ``username``."""
    browser = app.test_client()
    response = await AuthActions(browser).login(username, password)
    assert response.status_code == 302
    return browser


async def is_logged_in(client: Client) -> bool:
    return "Log Out" in await (await client.get("/auth/login")).get_data(as_text=True)


# Profiles.


async def test_a_name_made_before_slashes_were_refused_has_its_profile(
    client: Client, db: Database
) -> None:
    """Its posts link to it, and the link leads there."""
    author = await users.insert_user(db, "ann/lee", "hash")
    assert author is not None
    await posts.insert_post(db, author, "Slashed", "body")
    page = await page_text(client, "/")
    assert '<a href="/u/ann/lee">ann/lee</a>' in page
    assert "Slashed" in titles(await page_text(client, "/u/ann/lee"))


async def test_a_profile_lists_the_users_posts_newest_first(
    app: Quart, client: Client, db: Database
) -> None:
    app.config["POSTS_PER_PAGE"] = 2
    await add_posts(db, 2)
    await add_posts(db, 1, author_id=2)
    page = await page_text(client, "/u/test")
    assert titles(page) == ["post 2", "post 1"]
    assert "3 posts." in page and "<h1>test</h1>" in page
    assert re.search(r"Joined on \d{4}-\d\d-\d\d\.|Joined before the blog recorded when\.", page)
    assert 'rel="next" href="/u/test?page=2"' in page
    assert titles(await page_text(client, "/u/test?page=2")) == ["test title"]
    assert (await client.get("/u/test?page=3")).status_code == 404
    # The name is compared as logging in compares it.
    assert titles(await page_text(client, "/u/TEST?page=2")) == ["test title"]
    other = await page_text(client, "/u/other")
    assert titles(other) == ["post 1"] and "1 post." in other


async def test_a_new_user_joined_today_and_has_no_posts(client: Client, auth: AuthActions) -> None:
    await auth.register("newcomer", "a long password")
    page = await page_text(client, "/u/newcomer")
    assert f"Joined on {datetime.now(UTC):%Y-%m-%d}." in page
    assert "0 posts." in page and "No posts yet." in page


async def test_a_profile_of_nobody_is_404(client: Client) -> None:
    response = await client.get("/u/nobody")
    assert response.status_code == 404
    assert "There is no user nobody." in await response.get_data(as_text=True)


async def test_authors_link_to_their_profiles(client: Client, db: Database) -> None:
    await comments.insert_comment(db, 1, 2, "a comment")
    for path in ("/", "/1", "/?q=test"):
        assert '<a href="/u/test">test</a>' in await page_text(client, path)
    assert '<a href="/u/other">other</a> on ' in await page_text(client, "/1")


async def test_a_profile_is_cached_with_an_etag(client: Client, db: Database) -> None:
    first = await client.get("/u/test")
    etag = first.headers["ETag"]
    again = await client.get("/u/test", headers={"If-None-Match": etag})
    assert again.status_code == 304
    await add_posts(db, 1)
    changed = await client.get("/u/test", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "post 1" in await changed.get_data(as_text=True)


# The account page and who may see it.

ACCOUNT_PAGES = ("/account", "/account/password", "/account/sessions", "/account/delete")
ACCOUNT_FORMS = (
    "/account/password",
    "/account/sessions/end-others",
    "/account/sessions/0123/end",
    "/account/delete",
)


async def test_account_pages_need_a_login(client: Client) -> None:
    for path in ACCOUNT_PAGES:
        response = await client.get(path)
        assert response.headers["Location"] == "/auth/login", path
    for path in ACCOUNT_FORMS:
        response = await post_form(client, path, {}, "/auth/login")
        assert response.headers["Location"] == "/auth/login", path


async def test_account_forms_need_their_csrf_token(client: Client, auth: AuthActions) -> None:
    await auth.login()
    for path in ACCOUNT_FORMS:
        response = await client.post(path, form={"current_password": "test", "password": "test"})
        assert response.status_code == 400, path
    assert await is_logged_in(client)


async def test_the_account_page_links_everything(client: Client, auth: AuthActions) -> None:
    await auth.login()
    page = await page_text(client, "/account")
    for path in ("/u/test", *ACCOUNT_PAGES[1:]):
        assert f'href="{path}"' in page
    assert "/moderation" not in page
    assert 'href="/account" title="Your account">test</a>' in await page_text(client, "/")


# Changing the password.


@pytest.mark.parametrize(
    ("current", "new", "message"),
    (
        ("", "a new long password", "Your current password is required."),
        ("wrong", "a new long password", "Your current password is not right."),
        ("x" * 257, "a new long password", "Your current password is not right."),
        ("test", "short", "Password must be at least 8 characters."),
        ("test", "", "Password is required."),
        ("test", "x" * 257, "Password must be at most 256 characters."),
    ),
)
async def test_change_password_refuses(
    app: Quart,
    client: Client,
    auth: AuthActions,
    db: Database,
    current: str,
    new: str,
    message: str,
) -> None:
    await auth.login()
    elsewhere = await logged_in(app)
    before = await db.fetch_all('SELECT password FROM "user" WHERE id = 1')
    response = await post_form(
        client,
        "/account/password",
        {"current_password": current, "new_password": new},
        token_from="/account/password",
    )
    assert response.status_code == 400
    assert message in await response.get_data(as_text=True)
    after = await db.fetch_all('SELECT password FROM "user" WHERE id = 1')
    assert [row[0] for row in after] == [row[0] for row in before]
    assert await is_logged_in(elsewhere)


async def test_change_password_logs_out_everywhere_else(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    copy = replay_cookie(app, client)
    assert await is_logged_in(copy)
    elsewhere = await logged_in(app)
    other_user = await logged_in(app, "other", "other")
    before = await db.fetch_all("SELECT id, created FROM login_session WHERE user_id = 1")
    assert "Change password" in await page_text(client, "/account/password")
    response = await post_form(
        client,
        "/account/password",
        {"current_password": "test", "new_password": "a new long password"},
        token_from="/account/password",
    )
    assert response.headers["Location"] == "/account"
    assert "You are logged out everywhere else." in await page_text(client, "/account")
    assert await is_logged_in(client)
    assert not await is_logged_in(elsewhere)
    assert await is_logged_in(other_user)
    # A copy of this browser's cookie taken before is logged out too; this one stays,
    # the same login (started when it was) under a new id.
    assert not await is_logged_in(copy)
    (after,) = await db.fetch_all("SELECT id, created FROM login_session WHERE user_id = 1")
    assert after["id"] not in {row["id"] for row in before}
    assert after["created"] in {row["created"] for row in before}
    assert (await AuthActions(elsewhere).login("test", "test")).status_code == 200
    assert (await AuthActions(elsewhere).login("test", "a new long password")).status_code == 302


# Login sessions.

#: A user of the blog made anew, taking the first id, as the seeded ``test`` had.
DATA_SQL_ALICE = (
    'INSERT INTO "user" (username, username_key, password) VALUES'
    " ('alice', 'alice', 'pbkdf2:sha256:1000$salt$hash')"
)


async def test_the_sessions_page_lists_each_login(
    app: Quart, client: Client, auth: AuthActions
) -> None:
    await client.get("/", headers={"User-Agent": "x"})
    await post_form(
        client,
        "/auth/login",
        {"username": "test", "password": "test"},
        token_from="/auth/login",
    )
    firefox = app.test_client()
    token = csrf_token_in(await page_text(firefox, "/auth/login"))
    assert token is not None
    await firefox.post(
        "/auth/login",
        form={"username": "test", "password": "test", "csrf_token": token},
        headers={
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
        },
    )
    page = await page_text(client, "/account/sessions")
    assert page.count('<li class="session') == 2
    assert "Firefox on Linux" in page and "An unknown browser" in page
    assert page.count("(this browser)") == 1
    assert "Log out everywhere else" in page


async def test_a_user_agent_holding_nul_is_kept_without_it(app: Quart, client: Client) -> None:
    """PostgreSQL's text cannot hold NUL; no server sends it, but an ASGI app may be given it."""
    token = csrf_token_in(await page_text(client, "/auth/login"))
    assert token is not None
    response = await client.post(
        "/auth/login",
        form={"username": "test", "password": "test", "csrf_token": token},
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0\x00"},
    )
    assert response.status_code == 302
    assert "Firefox on Linux" in await page_text(client, "/account/sessions")


async def test_a_login_from_before_the_blog_was_made_anew_is_no_one(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    """``init-db --force`` from another process while the blog serves: a browser logged in
    before is no one after, even once the new blog has seen as many writes as the old."""
    await auth.login()
    assert "Log Out" in await page_text(client, "/account")
    before = await db.data_version()
    other = database_from_config(app.config)
    try:
        await other.reset()
        async with other.transaction() as tx:
            await tx.execute(DATA_SQL_ALICE)
        # PostgreSQL counts writes: writes until the new blog's count is the old one's, if it
        # is ever below it. (SQLite's version is its WAL-index header, random salts and all.)
        while db.dialect == "postgresql" and await db.data_version() < before:
            async with other.transaction() as tx:
                await tx.execute('UPDATE "user" SET moderator = 0 WHERE id = 1')
    finally:
        await other.close()
    assert "Log Out" not in await page_text(client, "/auth/login")
    assert (await client.get("/account")).status_code == 302


@pytest.mark.parametrize(
    ("agent", "shown"),
    (
        ("", "An unknown browser"),
        ("curl/8.0", "An unknown browser"),
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit Chrome/120 Safari/537 Edg/120",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit Version/17 Safari/605",
            "Safari on macOS",
        ),
        ("Mozilla/5.0 (Linux; Android 14) Chrome/120 Mobile Safari/537", "Chrome on Android"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17) Safari/604", "Safari on iOS"),
        ("Opera/9 OPR/100", "Opera"),
        ("Mozilla/5.0 (X11) Chromium/120 Chrome/120", "Chromium"),
    ),
)
async def test_browsers_are_named_from_their_user_agent(app: Quart, agent: str, shown: str) -> None:
    async with app.test_request_context("/"):
        assert account.browser_name(agent) == shown


async def test_ending_one_session_logs_that_browser_out(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    elsewhere = await logged_in(app)
    listed = await sessions.select_login_sessions(db, 1)
    page = await page_text(client, "/account/sessions")
    refs = re.findall(r'action="/account/sessions/([0-9a-f]+)/end"', page)
    assert sorted(refs) == sorted(account.session_ref(login) for login in listed)
    # Pages never show a session's id, which is what the cookie holds.
    assert not any(login.id in page for login in listed)
    current = re.search(r'class="session current">.*?/account/sessions/([0-9a-f]+)/end', page, re.S)
    assert current is not None
    ref = next(ref for ref in refs if ref != current[1])
    response = await post_form(client, f"/account/sessions/{ref}/end", {}, "/account/sessions")
    assert response.headers["Location"] == "/account/sessions"
    assert "The session is ended." in await page_text(client, "/account/sessions")
    assert not await is_logged_in(elsewhere)
    assert await is_logged_in(client)
    # Gone now: a second try, or a session that was never the user's, is 404.
    again = await post_form(client, f"/account/sessions/{ref}/end", {}, "/account/sessions")
    assert again.status_code == 404
    other_user = await logged_in(app, "other", "other")
    theirs = [account.session_ref(login) for login in await sessions.select_login_sessions(db, 2)]
    response = await post_form(
        client, f"/account/sessions/{theirs[0]}/end", {}, "/account/sessions"
    )
    assert response.status_code == 404
    assert await is_logged_in(other_user)


async def test_ending_the_current_session_logs_out(client: Client, auth: AuthActions) -> None:
    await auth.login()
    page = await page_text(client, "/account/sessions")
    ref = re.findall(r'action="/account/sessions/([0-9a-f]+)/end"', page)[0]
    response = await post_form(client, f"/account/sessions/{ref}/end", {}, "/account/sessions")
    assert response.headers["Location"] == "/"
    assert not await is_logged_in(client)


async def test_log_out_everywhere_else(app: Quart, client: Client, auth: AuthActions) -> None:
    await auth.login()
    # A copy of this browser's cookie is ended with the others: this one is renewed.
    browsers = [await logged_in(app), replay_cookie(app, client)]
    response = await post_form(client, "/account/sessions/end-others", {}, "/account/sessions")
    assert response.headers["Location"] == "/account/sessions"
    page = await page_text(client, "/account/sessions")
    assert "1 other session is ended." in page
    assert page.count('<li class="session') == 1 and "Log out everywhere else" not in page
    for browser in browsers:
        assert not await is_logged_in(browser)
    assert await is_logged_in(client)


def hold_until_both_arrive(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
    """Make ``module.name`` wait until two requests have called it: both were checked
    (logged in, their forms read) before either writes."""
    made = getattr(module, name)
    arrived: list[None] = []
    both = asyncio.Event()

    async def once_both_are_checked(*args: Any) -> Any:
        arrived.append(None)
        if len(arrived) == 2:
            both.set()
        await both.wait()
        return await made(*args)

    monkeypatch.setattr(module, name, once_both_are_checked)


@pytest.mark.parametrize(
    ("path", "form", "write"),
    (
        ("/account/sessions/end-others", {}, (sessions, "delete_other_sessions")),
        (
            "/account/password",
            {"current_password": "test", "new_password": "a new long password"},
            (accounts, "change_password"),
        ),
    ),
)
async def test_a_renewal_sent_twice_at_once_renews_once(
    app: Quart,
    client: Client,
    auth: AuthActions,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    form: dict[str, str],
    write: tuple[object, str],
) -> None:
    """The form sent twice (each with the browser's cookie), both checked before either
    writes: the second finds the session renewed and keeps it, and both answers give
    the browser its one new id. (Renewed at random, each ended the other's.)"""
    await auth.login()
    token = await csrf_token(client, "/account/sessions")
    again = replay_cookie(app, client)
    hold_until_both_arrive(monkeypatch, *write)
    sent = {**form, "csrf_token": token}
    answers = await asyncio.gather(client.post(path, form=sent), again.post(path, form=sent))
    assert [answer.status_code for answer in answers] == [302, 302]
    assert await count(db, "SELECT count(*) FROM login_session WHERE user_id = 1") == 1
    assert session_cookie(client) == session_cookie(again)
    assert await is_logged_in(client) and await is_logged_in(again)


async def test_a_login_in_use_lasts_its_lifetime_after_the_last_page(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    """Its end moves on whenever its use is recorded: a reader active for longer than the
    lifetime stays logged in, one who leaves is logged out a lifetime later."""
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=600)
    await auth.login()
    started = datetime.now(UTC) - timedelta(seconds=500)
    async with db.transaction() as tx:
        # As if logged in 500 s ago, last recorded in use then, ending in 100 s.
        await tx.execute(
            "UPDATE login_session SET created = ?, last_seen = ?, expires = ?",
            (
                started.strftime("%Y-%m-%d %H:%M:%S"),
                started.strftime("%Y-%m-%d %H:%M:%S"),
                (started + timedelta(seconds=600)).strftime("%Y-%m-%d %H:%M:%S"),
            ),
        )
    assert await is_logged_in(client)
    row = await db.fetch_one("SELECT expires FROM login_session")
    assert row is not None
    ends = parse_timestamp(row[0])
    assert ends - datetime.now(UTC) > timedelta(seconds=590)


async def test_a_password_changed_from_a_session_ended_meanwhile_is_not(
    app: Quart, client: Client, auth: AuthActions, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another browser logged this one out (or a reset did) while its new password was
    hashed: nothing is changed, the other browser stays, and this one is logged out."""
    await auth.login()
    elsewhere = await logged_in(app)
    hash_password = passwords.hash_password

    async def logged_out_while_hashing(password: str, method: str) -> str:
        await post_form(elsewhere, "/account/sessions/end-others", {}, "/account/sessions")
        return await hash_password(password, method)

    monkeypatch.setattr(passwords, "hash_password", logged_out_while_hashing)
    response = await post_form(
        client,
        "/account/password",
        {"current_password": "test", "new_password": "a new long password"},
        token_from="/account/password",
    )
    assert response.headers["Location"] == "/auth/login"
    assert not await is_logged_in(client) and await is_logged_in(elsewhere)
    assert await count(db, "SELECT count(*) FROM login_session WHERE user_id = 1") == 1
    monkeypatch.undo()
    assert (await AuthActions(app.test_client()).login("test", "test")).status_code == 302


async def test_two_browsers_ending_each_other_at_once_leave_one(
    app: Quart, client: Client, auth: AuthActions, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both checked before either writes: the first ends the second, which then does
    nothing and is logged out (it ended the first too, and no session was left)."""
    await auth.login()
    other = await logged_in(app)
    hold_until_both_arrive(monkeypatch, sessions, "delete_other_sessions")
    tokens = [await csrf_token(browser, "/account/sessions") for browser in (client, other)]
    answers = await asyncio.gather(
        *(
            browser.post("/account/sessions/end-others", form={"csrf_token": token})
            for browser, token in zip((client, other), tokens, strict=True)
        )
    )
    assert sorted(answer.headers["Location"] for answer in answers) == [
        "/account/sessions",
        "/auth/login",
    ]
    assert await count(db, "SELECT count(*) FROM login_session WHERE user_id = 1") == 1
    assert [await is_logged_in(browser) for browser in (client, other)].count(True) == 1


async def test_last_seen_is_written_at_most_every_few_minutes(
    client: Client, auth: AuthActions, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await auth.login()
    writes: list[str] = []
    touch = sessions.touch_login_session

    async def counting(database: Database, session_id: str, expires: datetime) -> None:
        writes.append(session_id)
        await touch(database, session_id, expires)

    monkeypatch.setattr(sessions, "touch_login_session", counting)
    # Logging in recorded it: the next requests write nothing.
    for _ in range(3):
        await client.get("/hello")
    assert writes == []
    stale = datetime.now(UTC) - timedelta(seconds=301)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE login_session SET last_seen = ?", (stale.strftime("%Y-%m-%d %H:%M:%S"),)
        )
    for _ in range(3):
        await client.get("/hello")
    assert len(writes) == 1
    login = (await sessions.select_login_sessions(db, 1))[0]
    assert login.last_seen is not None and login.last_seen > stale
    async with db.transaction() as tx:
        await tx.execute("UPDATE login_session SET last_seen = NULL")
    await client.get("/hello")
    assert len(writes) == 2


# Deleting an account.


async def test_delete_account_says_what_goes(client: Client, auth: AuthActions) -> None:
    await auth.login()
    page = await page_text(client, "/account/delete")
    assert "your posts, with their images" in page and 'class="confirm-delete"' in page


@pytest.mark.parametrize("password", ("", "wrong", "other"))
async def test_delete_account_needs_the_password(
    client: Client, auth: AuthActions, db: Database, password: str
) -> None:
    await auth.login()
    response = await post_form(client, "/account/delete", {"password": password}, "/account/delete")
    assert response.status_code == 400
    assert await count(db, 'SELECT count(*) FROM "user"') == 2
    assert await count(db, "SELECT count(*) FROM post") == 1
    assert await is_logged_in(client)


async def test_delete_account_deletes_everything_theirs(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    image = Image("A" * 22 + ".png", b"\x89PNG" + b"x" * 10, 1, 1)
    mine = await posts.insert_post(db, 1, "mine", "body", tags=["only mine", "shared"], image=image)
    theirs = await posts.insert_post(db, 2, "theirs", "body", tags=["shared"])
    await comments.insert_comment(db, mine, 2, "their comment on my post")
    await comments.insert_comment(db, theirs, 1, "my comment on their post")
    await likes.like_post(db, theirs, 1)
    await likes.like_post(db, mine, 2)
    await accounts.insert_password_reset(db, 1, "token", datetime.now(UTC) + timedelta(hours=1))
    await auth.login()
    elsewhere = await logged_in(app)
    response = await post_form(client, "/account/delete", {"password": "test"}, "/account/delete")
    assert response.headers["Location"] == "/"
    assert "Your account and everything in it are deleted." in await page_text(client, "/")
    assert not await is_logged_in(client) and not await is_logged_in(elsewhere)
    for table, left in (
        ('"user"', 1),
        ("post", 1),
        ("comment", 0),
        ("post_like", 0),
        ("login_session", 0),
        ("password_reset", 0),
        ("image", 0),
        ("post_tag", 1),
    ):
        assert await count(db, f"SELECT count(*) FROM {table}") == left, table  # noqa: S608
    assert [row[0] for row in await db.fetch_all("SELECT name FROM tag")] == ["shared"]
    post = await posts.select_post(db, theirs)
    assert post is not None and post.like_count == 0 and post.comment_count == 0
    assert (await client.get("/u/test")).status_code == 404
    assert "mine" not in titles(await page_text(client, "/?q=mine"))
    # The name is free again.
    assert (await AuthActions(client).register("test", "a long password")).status_code == 302


@pytest.mark.parametrize(
    ("path", "form", "table"),
    (("/create", {"title": "t", "body": "b"}, "post"), ("/1/comment", {"body": "b"}, "comment")),
)
async def test_a_write_of_an_account_deleted_meanwhile_is_a_409(
    client: Client,
    auth: AuthActions,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    form: dict[str, str],
    table: str,
) -> None:
    """Deleted in another tab while a post or comment was being saved: nothing is, and no 500."""
    await auth.login("other", "other")
    render = markdown.render_async

    async def deleted_while_rendering(body: str) -> Markup:
        await accounts.delete_account(db, 2)
        return await render(body)

    monkeypatch.setattr(markdown, "render_async", deleted_while_rendering)
    response = await post_form(client, path, form)
    assert response.status_code == 409
    assert (
        "Nothing was saved: the post or the account it belongs to was deleted meanwhile."
        in await response.get_data(as_text=True)
    )
    assert await count(db, f"SELECT count(*) FROM {table}") == (table == "post")  # noqa: S608
    assert not await is_logged_in(client)


async def test_a_like_by_an_account_deleted_meanwhile_is_a_409(
    client: Client, auth: AuthActions, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await auth.login("other", "other")
    like = likes.like_post

    async def deleted_meanwhile(db: Database, post_id: int, user_id: int) -> bool:
        await accounts.delete_account(db, user_id)
        return await like(db, post_id, user_id)

    monkeypatch.setattr(likes, "like_post", deleted_meanwhile)
    response = await post_form(client, "/1/like", {"next": "/"})
    assert response.status_code == 409
    assert await count(db, "SELECT count(*) FROM post_like") == 0


# Reset links.


async def reset_link(app: Quart, username: str = "test") -> str:
    """What the reset-link command makes for ``username``: the link's path."""
    made = await account.make_reset_link(app, username)
    assert made is not None and made[1] == 60
    return made[0]


def test_the_reset_link_command(runner: QuartCliRunner, cli_app: Quart) -> None:
    assert runner.invoke(args=["init-db"]).exit_code == 0
    on_database(cli_app, lambda database: users.insert_user(database, "alice", "hash"))
    result = runner.invoke(args=["reset-link", "alice", "--site", "https://blog.example/"])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"https://blog\.example/account/reset/[\w-]{43}\n", result.stdout)
    assert "It works once, for 60 minutes" in result.stderr
    bare = runner.invoke(args=["reset-link", "ALICE"])
    assert re.fullmatch(r"/account/reset/[\w-]{43}\n", bare.stdout)
    result = runner.invoke(args=["reset-link", "nobody"])
    assert result.exit_code == 1 and "There is no user 'nobody'." in result.output


async def test_a_reset_link_sets_a_password_once(app: Quart, client: Client, db: Database) -> None:
    elsewhere = await logged_in(app)
    path = await reset_link(app)
    stored = await db.fetch_one("SELECT token_hash FROM password_reset")
    assert stored is not None and path.rsplit("/", 1)[1] not in stored[0]
    assert "For test." in await page_text(client, path)
    weak = await post_form(client, path, {"new_password": "short"}, path)
    assert weak.status_code == 400
    assert await count(db, "SELECT count(*) FROM password_reset") == 1
    response = await post_form(client, path, {"new_password": "a new long password"}, path)
    assert response.headers["Location"] == "/auth/login"
    assert not await is_logged_in(elsewhere)
    assert (await AuthActions(client).login("test", "a new long password")).status_code == 302
    used = await client.get(path)
    assert used.status_code == 404
    assert "it was used, or it expired" in await used.get_data(as_text=True)


async def test_a_reset_link_expires_and_a_newer_one_replaces_it(
    client: Client, db: Database, app: Quart
) -> None:
    first = await reset_link(app)
    second = await reset_link(app)
    assert (await client.get(first)).status_code == 404
    assert (await client.get(second)).status_code == 200
    async with db.transaction() as tx:
        await tx.execute("UPDATE password_reset SET expires = ?", ("2000-01-01 00:00:00",))
    assert (await client.get(second)).status_code == 404
    assert (await client.get("/account/reset/made-up")).status_code == 404


async def test_a_reset_link_used_meanwhile_is_404(
    app: Quart, client: Client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = await reset_link(app)
    csrf = csrf_token_in(await page_text(client, path))
    assert csrf is not None
    use = accounts.use_password_reset

    async def used_first(database: Database, token: str, password_hash: str) -> bool:
        # Another request uses the link between this one's reading and writing.
        assert await use(database, token, "a hash")
        return await use(database, token, password_hash)

    monkeypatch.setattr(accounts, "use_password_reset", used_first)
    response = await client.post(path, form={"new_password": "a long password", "csrf_token": csrf})
    assert response.status_code == 404
    assert "This link was used meanwhile." in await response.get_data(as_text=True)
