"""CSRF tokens: only this session's secret, signed by this site for forms, passes."""

from __future__ import annotations

import asyncio
import time
from itertools import count

import pytest
from hypercorn.typing import ASGISendEvent
from hypercorn.typing import HTTPRequestEvent
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from quart import Quart

from quart_flaskr.db import Database
from quart_flaskr.security import CSRF_ERROR
from quart_flaskr.security import CSRF_FIELD
from tests.harness.asgi import http_scope
from tests.harness.forms import csrf_token_in
from tests.helpers import add_posts
from tests.helpers import AppFactory
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token
from tests.helpers import page_text

NEW_POST = {"title": "new", "body": ""}


async def session_secret(client: Client) -> str:
    """The secret the session's tokens sign, once a page with a form has made it."""
    await client.get("/create")
    async with client.session_transaction() as session:
        secret: str = session[CSRF_FIELD]
    return secret


async def refused(client: Client, token: str) -> bool:
    """Whether creating a post with ``token`` is refused as a forgery (else it is created)."""
    response = await client.post("/create", form={**NEW_POST, CSRF_FIELD: token})
    if response.status_code == 400:
        assert CSRF_ERROR in await response.get_data(as_text=True)
        return True
    assert response.status_code == 302
    return False


async def test_a_valid_token_of_another_session_is_refused(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    # The victim's session has a secret of its own, which the attacker's does not match.
    await session_secret(client)
    attacker = app.test_client()
    token = await csrf_token(attacker, "/auth/login")
    assert await refused(client, token)
    assert await db.fetch_one("SELECT 1 FROM post WHERE title = 'new'") is None
    # The attacker's token is good, for the attacker's own session.
    response = await attacker.post(
        "/auth/login", form={"username": "test", "password": "wrong", CSRF_FIELD: token}
    )
    assert response.status_code == 200
    assert not await refused(client, await csrf_token(client, "/create"))


@pytest.mark.parametrize(
    ("salt", "is_refused"),
    (
        ("csrf", False),
        # The serializer's default, and Quart's for session cookies: values the
        # key signs for other purposes are no tokens.
        ("itsdangerous", True),
        ("cookie-session", True),
        ("CSRF", True),
    ),
)
async def test_only_values_signed_for_forms_are_tokens(
    app: Quart, client: Client, auth: AuthActions, salt: str, is_refused: bool
) -> None:
    await auth.login()
    secret = await session_secret(client)
    token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt).dumps(secret)
    assert await refused(client, str(token)) is is_refused


@pytest.mark.parametrize(
    "value",
    (
        0,
        ["x"],
        {"csrf_token": "x"},
        None,
        # Masks of no secret.
        ["zz", "zz"],
        [1, 2],
        ["00", "0000"],
        # A mask and masked value that give bytes which are no text.
        ["ff", "00"],
        # A well-formed mask of another secret.
        ["00" * 64, "61" * 64],
    ),
)
async def test_a_signed_value_that_is_no_secret_is_refused(
    app: Quart, client: Client, auth: AuthActions, value: object
) -> None:
    await auth.login()
    await session_secret(client)
    token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="csrf").dumps(value)
    assert await refused(client, str(token))


async def test_a_mask_not_as_long_as_its_masked_value_is_refused(
    app: Quart, client: Client, auth: AuthActions
) -> None:
    await auth.login()
    secret = await session_secret(client)
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="csrf")
    # The secret itself under a one-byte mask of zeros, and a mask longer than what it masks.
    for value in (["00", secret.encode().hex()], ["ffff", "00"]):
        assert await refused(client, str(serializer.dumps(value)))


async def test_a_token_is_the_secret_masked_anew_on_every_page(
    app: Quart, client: Client, auth: AuthActions
) -> None:
    await auth.login()
    secret = await session_secret(client)
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="csrf")
    masks = set()
    for path in ("/create", "/create"):
        token = csrf_token_in(await page_text(client, path))
        assert token is not None
        mask, masked = serializer.loads(token)
        masks.add(mask)
        unmasked = bytes(
            a ^ b for a, b in zip(bytes.fromhex(mask), bytes.fromhex(masked), strict=True)
        )
        assert unmasked.decode() == secret
        assert secret not in token
    assert len(masks) == 2


async def test_every_form_on_a_page_carries_the_same_token(
    client: Client, auth: AuthActions, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_posts(db, 2)
    await auth.login()
    # A clock that ticks on every signature: a token signed twice would differ.
    ticks = count(int(time.time()))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: next(ticks))
    page = await page_text(client, "/")
    token = csrf_token_in(page)
    assert token is not None
    forms = page.count(f'name="{CSRF_FIELD}"')
    # The page's likes form, which its three like buttons send, and the logout form.
    assert page.count('form="likes"') == 3
    assert forms >= 2
    assert page.count(f'value="{token}"') == forms


async def answers_to_a_foreign_form(app: Quart, length: int, body: bytes | None) -> list[int]:
    """The statuses the app answers a language form posted from another site with, declaring
    ``length`` bytes and sending ``body`` (None: no body ever comes)."""
    headers = [
        (b"host", b"localhost"),
        (b"origin", b"https://evil.example"),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", str(length).encode()),
    ]
    scope = http_scope("/language", headers)
    scope["method"] = "POST"
    statuses: list[int] = []
    pending = [] if body is None else [body]

    async def receive() -> HTTPRequestEvent:
        if not pending:  # all of it sent, or none ever: wait as a connection would
            await asyncio.Event().wait()
        return {"type": "http.request", "body": pending.pop(), "more_body": False}

    async def send(message: ASGISendEvent) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async with app.test_app():
        await asyncio.wait_for(app(scope, receive, send), 10)
    return statuses


async def test_a_refused_form_waits_for_its_body_no_longer_than_any_form(
    make_app: AppFactory,
) -> None:
    app = await make_app(BODY_TIMEOUT=0.1)
    assert await answers_to_a_foreign_form(app, 20, b"language=ru&next=%2F") == [400]
    # A body that never comes: the answer any form gets when its body is late.
    assert await answers_to_a_foreign_form(app, 20, None) == [408]
    # One over the limit is not read: still the forgery's answer.
    too_large = app.config["MAX_CONTENT_LENGTH"] + 1
    assert await answers_to_a_foreign_form(app, too_large, b"x" * too_large) == [400]
