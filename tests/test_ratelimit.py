from __future__ import annotations

import asyncio
from datetime import datetime
from datetime import tzinfo
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from quart import Quart

from quart_flaskr import create_app
from quart_flaskr import ratelimit
from quart_flaskr.db import Database
from quart_flaskr.db import get_db
from quart_flaskr.models import comments
from quart_flaskr.models import posts
from quart_flaskr.security import CSRF_HEADER
from tests.helpers import AppFactory
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token
from tests.helpers import make_config


@pytest.mark.parametrize(
    ("path", "allowed"),
    (("/auth/login", 10), ("/auth/register", 10)),
)
async def test_form_submissions_are_limited_per_client(
    make_app: AppFactory, path: str, allowed: int
) -> None:
    app = await make_app()
    client = app.test_client()
    auth = AuthActions(client)
    attempt = auth.login if path == "/auth/login" else auth.register
    for _ in range(allowed):
        response = await attempt("nobody", "wrong password")
        assert response.status_code in (200, 302)
    response = await attempt("nobody", "wrong password")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too Many Requests" in await response.get_data(as_text=True)
    # One Retry-After, not the limiter's copy of Werkzeug's own as well.
    (retry_after,) = response.headers.getlist("Retry-After")
    assert f"Wait {retry_after} seconds, then try again." in await response.get_data(as_text=True)
    # Showing the form is not limited.
    assert (await client.get(path)).status_code == 200


async def test_limits_are_shared_through_the_database(
    make_app: AppFactory,
) -> None:
    app = await make_app()
    db = get_db(app)
    auth = AuthActions(app.test_client())
    await auth.login("nobody", "wrong")
    rows = await db.fetch_all("SELECT key FROM rate_limit")
    assert len(rows) == 1 and "login" in rows[0][0]


async def test_attempts_arriving_together_at_two_hosts_are_counted_one_by_one(
    make_app: AppFactory,
) -> None:
    # Two apps, each with connections of its own to one database: two hosts.
    hosts = [await make_app(), await make_app()]
    clients = [hosts[number % 2].test_client() for number in range(15)]
    tokens = [await csrf_token(client) for client in clients]

    async def attempt(client: Client, token: str) -> int:
        form = {"username": "nobody", "password": "wrong", "csrf_token": token}
        return (await client.post("/auth/login", form=form)).status_code

    statuses = await asyncio.gather(*map(attempt, clients, tokens))
    # 10 a minute per address: the 5 after the first 10 are refused, whichever they are.
    assert sorted(statuses) == [200] * 10 + [429] * 5


async def test_limits_can_be_switched_off(make_app: AppFactory) -> None:
    app = await make_app(QUART_RATE_LIMITER_ENABLED=False)
    auth = AuthActions(app.test_client())
    for _ in range(12):
        assert (await auth.login("nobody", "wrong password")).status_code == 200


async def test_other_clients_are_not_limited(
    make_app: AppFactory,
) -> None:
    app = await make_app(PROXY_TRUSTED_HOPS=1)
    for number in range(11):
        client: Client = app.test_client()
        response = await client.post(
            "/auth/login",
            form={"username": "x", "password": "y", "csrf_token": "n/a"},
            headers={"X-Forwarded-For": f"198.51.100.{number}"},
        )
        # Refused for its missing token, never for the rate.
        assert response.status_code == 400


Form = dict[str, str]

#: Each kind of write: its setting, three submissions in a row (the third
#: refused with the limit at 2), and a query for what the third would change.
WRITES: tuple[tuple[str, list[tuple[str, Form]], str], ...] = (
    (
        "POSTS_PER_MINUTE",
        [("/create", {"title": "new", "body": ""})] * 3,
        "SELECT COUNT(*) FROM post",
    ),
    (
        "EDITS_PER_MINUTE",
        [("/1/update", {"title": f"edit {number}", "body": ""}) for number in range(3)],
        "SELECT title FROM post WHERE id = 1",
    ),
    ("COMMENTS_PER_MINUTE", [("/1/comment", {"body": "hi"})] * 3, "SELECT COUNT(*) FROM comment"),
    (
        "LIKES_PER_MINUTE",
        [("/1/like", {}), ("/1/unlike", {}), ("/1/like", {})],
        "SELECT COUNT(*) FROM post_like",
    ),
    (
        "DELETES_PER_MINUTE",
        [("/2/delete", {}), ("/comment/1/delete", {}), ("/3/delete", {})],
        "SELECT COUNT(*) FROM post",
    ),
)


async def writing_app(make_app: AppFactory, **config: Any) -> tuple[Quart, Database]:
    """An app with two more posts and a comment by the test user, to edit and delete."""
    app = await make_app(**config)
    db = get_db(app)
    await posts.insert_post(db, 1, "second", "")
    await posts.insert_post(db, 1, "third", "")
    await comments.insert_comment(db, 1, 1, "a comment")
    return app, db


async def submit(client: Client, path: str, form: Form, token: str) -> int:
    response = await client.post(path, form={**form, "csrf_token": token})
    return response.status_code


async def one_value(db: Database, query: str) -> object:
    row = await db.fetch_one(query)
    assert row is not None
    return row[0]


@pytest.mark.parametrize(("setting", "writes", "query"), WRITES)
async def test_writes_are_limited_per_user(
    make_app: AppFactory, setting: str, writes: list[tuple[str, Form]], query: str
) -> None:
    app, db = await writing_app(make_app, **{setting: 2})
    client = app.test_client()
    await AuthActions(client).login()
    token = await csrf_token(client, "/")
    for path, form in writes[:2]:
        assert await submit(client, path, form, token) == 302
    before = await one_value(db, query)
    path, form = writes[2]
    response = await client.post(path, form={**form, "csrf_token": token})
    assert response.status_code == 429
    # Exactly one Retry-After: the wait until one more write is allowed, 30 s
    # at 2 a minute (a second less at most, for the time the test took).
    (retry_after,) = response.headers.getlist("Retry-After")
    assert int(retry_after) in (29, 30)
    page = await response.get_data(as_text=True)
    assert "429 Too Many Requests" in page and "at most 2 a minute" in page
    assert f"Wait {retry_after} seconds, then go back and send it again." in page
    assert "text/html" in response.content_type
    # Refused, so nothing changed.
    assert await one_value(db, query) == before


async def test_the_default_limits_a_user_to_10_posts_a_minute(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    token = await csrf_token(client, "/create")
    form = {"title": "quick", "body": ""}
    for _ in range(10):
        assert await submit(client, "/create", form, token) == 302
    response = await client.post("/create", form={**form, "csrf_token": token})
    assert response.status_code == 429
    (retry_after,) = response.headers.getlist("Retry-After")
    assert int(retry_after) in (5, 6)  # One post each 6 s after the first 10.
    assert "You have sent too many new posts: at most 10 a minute." in (
        await response.get_data(as_text=True)
    )
    assert await one_value(db, "SELECT COUNT(*) FROM post") == 11
    # Showing the form is not a write.
    assert (await client.get("/create")).status_code == 200


class FrozenClock(datetime):
    """The write limits' clock, stopped: however long the requests take, no token comes back."""

    frozen = datetime.now(UTC)

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> FrozenClock:
        return cls.fromtimestamp(cls.frozen.timestamp(), tz)


async def test_likes_and_unlikes_count_together(
    client: Client, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "datetime", FrozenClock)
    await auth.login()
    token = await csrf_token(client, "/")
    # 60 a minute by default: a click a second, after the first 60.
    for number in range(60):
        assert await submit(client, f"/1/{('like', 'unlike')[number % 2]}", {}, token) == 302
    response = await client.post("/1/like", form={"csrf_token": token})
    assert response.status_code == 429
    assert response.headers.getlist("Retry-After") == ["1"]
    assert "Wait 1 second, then go back" in await response.get_data(as_text=True)


async def test_write_limits_are_per_user_and_per_kind(make_app: AppFactory) -> None:
    app, db = await writing_app(make_app, POSTS_PER_MINUTE=1)
    # Two users behind one address: the limit follows the user, not the address.
    test, other = app.test_client(), app.test_client()
    await AuthActions(test).login()
    await AuthActions(other).login("other", "other")
    test_token, other_token = await csrf_token(test, "/"), await csrf_token(other, "/")
    form = {"title": "new", "body": ""}
    assert await submit(test, "/create", form, test_token) == 302
    assert await submit(test, "/create", form, test_token) == 429
    assert await submit(other, "/create", form, other_token) == 302
    # Other kinds of writes keep their own count.
    assert await submit(test, "/1/comment", {"body": "still here"}, test_token) == 302
    rows = await db.fetch_all("SELECT key FROM rate_limit WHERE key LIKE '%-writes-%' ORDER BY key")
    assert [row[0].rsplit("-", 3)[1:] for row in rows] == [
        ["comments", "user", "1"],
        ["posts", "user", "1"],
        ["posts", "user", "2"],
    ]


async def test_a_write_is_allowed_again_after_the_wait(make_app: AppFactory) -> None:
    app, db = await writing_app(make_app, COMMENTS_PER_MINUTE=1)
    client = app.test_client()
    await AuthActions(client).login()
    token = await csrf_token(client, "/")
    assert await submit(client, "/1/comment", {"body": "one"}, token) == 302
    assert await submit(client, "/1/comment", {"body": "two"}, token) == 429
    # The minute passes.
    async with db.transaction() as tx:
        await tx.execute("UPDATE rate_limit SET tat = '2000-01-01 00:00:00.000000'")
    assert await submit(client, "/1/comment", {"body": "three"}, token) == 302


async def test_anonymous_writes_are_sent_to_log_in_and_never_counted(
    make_app: AppFactory,
) -> None:
    app, db = await writing_app(make_app, POSTS_PER_MINUTE=1)
    client = app.test_client()
    token = await csrf_token(client, "/auth/login")
    for _ in range(3):
        response = await client.post(
            "/create", form={"title": "x", "body": "", "csrf_token": token}
        )
        assert response.status_code == 302
        assert response.headers["Location"] == "/auth/login"
    assert await db.fetch_all("SELECT key FROM rate_limit") == []


async def test_forged_writes_are_not_counted(make_app: AppFactory) -> None:
    app, db = await writing_app(make_app, POSTS_PER_MINUTE=1)
    client = app.test_client()
    await AuthActions(client).login()
    for _ in range(3):
        response = await client.post("/create", form={"title": "x", "body": "", "csrf_token": ""})
        assert response.status_code == 400
    assert await db.fetch_all("SELECT key FROM rate_limit WHERE key LIKE '%writes%'") == []


async def test_concurrent_writes_cannot_share_a_count(make_app: AppFactory) -> None:
    app, db = await writing_app(make_app, POSTS_PER_MINUTE=3)
    client = app.test_client()
    await AuthActions(client).login()
    token = await csrf_token(client, "/")
    form = {"title": "at once", "body": ""}
    statuses = await asyncio.gather(*(submit(client, "/create", form, token) for _ in range(8)))
    assert sorted(statuses) == [302] * 3 + [429] * 5
    assert await one_value(db, "SELECT COUNT(*) FROM post WHERE title = 'at once'") == 3


@pytest.mark.parametrize(
    "config",
    ({"QUART_RATE_LIMITER_ENABLED": False}, {"POSTS_PER_MINUTE": 0}),
)
async def test_write_limits_can_be_switched_off(
    make_app: AppFactory, config: dict[str, Any]
) -> None:
    app, _ = await writing_app(make_app, **config)
    client = app.test_client()
    await AuthActions(client).login()
    token = await csrf_token(client, "/")
    for _ in range(12):
        assert await submit(client, "/create", {"title": "many", "body": ""}, token) == 302


@pytest.mark.parametrize("at_once", (1, 2))
async def test_writes_take_turns_and_readers_never_wait_for_one(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, at_once: int
) -> None:
    app, db = await writing_app(make_app, WRITES_AT_ONCE=at_once)
    client = app.test_client()
    await AuthActions(client).login()
    token = await csrf_token(client, "/")
    saving: asyncio.Queue[str] = asyncio.Queue()
    saved = asyncio.Event()
    insert_post = posts.insert_post

    async def held_until_saved(
        db: Database, author_id: int, title: str, *args: Any, **kwargs: Any
    ) -> int:
        saving.put_nowait(title)
        await saved.wait()
        return await insert_post(db, author_id, title, *args, **kwargs)

    monkeypatch.setattr(posts, "insert_post", held_until_saved)
    first = asyncio.create_task(submit(client, "/create", {"title": "held", "body": ""}, token))
    assert await asyncio.wait_for(saving.get(), 2) == "held"
    second = asyncio.create_task(submit(client, "/create", {"title": "next", "body": ""}, token))
    # While the first write holds its turn, pages and forms are answered.
    assert (await asyncio.wait_for(client.get("/"), 2)).status_code == 200
    assert (await asyncio.wait_for(client.get("/create"), 2)).status_code == 200
    if at_once == 1:
        await asyncio.sleep(0.2)
        assert saving.empty()
        saved.set()
    assert await asyncio.wait_for(saving.get(), 2) == "next"
    saved.set()
    assert await first == 302
    assert await second == 302
    titles = await db.fetch_all("SELECT title FROM post WHERE title IN ('held', 'next')")
    assert sorted(row[0] for row in titles) == ["held", "next"]


async def test_a_refused_write_gives_its_turn_back(make_app: AppFactory) -> None:
    app, db = await writing_app(make_app, POSTS_PER_MINUTE=1, WRITES_AT_ONCE=1)
    client = app.test_client()
    await AuthActions(client).login()
    token = await csrf_token(client, "/")
    form = {"title": "one turn", "body": ""}
    writes = asyncio.gather(*(submit(client, "/create", form, token) for _ in range(4)))
    assert sorted(await asyncio.wait_for(writes, 5)) == [302, 429, 429, 429]
    assert await one_value(db, "SELECT COUNT(*) FROM post WHERE title = 'one turn'") == 1


async def test_a_write_whose_body_is_slow_to_arrive_holds_no_turn(make_app: AppFactory) -> None:
    app, db = await writing_app(make_app, WRITES_AT_ONCE=1)
    client = app.test_client()
    await AuthActions(client).login()
    token = await csrf_token(client, "/")
    # The token in a header: the CSRF check passes without reading the body.
    headers = {CSRF_HEADER: token, "Content-Type": "application/x-www-form-urlencoded"}
    async with client.request("/create", method="POST", headers=headers) as slow:
        await slow.send(b"title=slowly&bo")
        whole = submit(client, "/create", {"title": "whole", "body": ""}, token)
        assert await asyncio.wait_for(whole, 2) == 302
        await slow.send(b"dy=")
        await slow.send_complete()
    assert (await slow.as_response()).status_code == 302
    titles = await db.fetch_all("SELECT title FROM post WHERE title IN ('slowly', 'whole')")
    assert sorted(row[0] for row in titles) == ["slowly", "whole"]


@pytest.mark.parametrize("at_once", (0, -1, 2.5, "8", True, None))
def test_writes_at_once_must_be_a_whole_number_above_0(tmp_path: Path, at_once: object) -> None:
    with pytest.raises(ValueError, match="WRITES_AT_ONCE must be a whole number above 0"):
        create_app(make_config(tmp_path, WRITES_AT_ONCE=at_once))
