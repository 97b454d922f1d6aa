"""Submitted forms: a missing field or a NUL in one is a 400 that says which."""

from __future__ import annotations

import io

import pytest
from quart import Quart
from quart import request
from quart.datastructures import FileStorage
from werkzeug.sansio.utils import get_content_length

from quart_flaskr.db import Database
from quart_flaskr.forms import FormRequest
from quart_flaskr.limits import BODY_MAX
from quart_flaskr.limits import COMMENT_MAX
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token
from tests.helpers import post_form


def missing(*names: str) -> str:
    return f"The form is missing the field(s): {', '.join(names)}."


def not_text(name: str) -> str:
    return f"The field {name} holds characters that are not valid text."


@pytest.mark.parametrize(
    ("path", "form", "message"),
    (
        ("/auth/login", {}, missing("username", "password")),
        ("/auth/login", {"password": "x"}, missing("username")),
        ("/auth/register", {"username": "new"}, missing("password")),
        ("/create", {}, missing("title", "body")),
        ("/create", {"body": "b", "tags": "t"}, missing("title")),
        ("/1/update", {"title": "t"}, missing("body")),
        ("/1/comment", {"text": "c"}, missing("body")),
        ("/auth/login", {"username": "te\x00st", "password": "test"}, not_text("username")),
        (
            "/auth/register",
            {"username": "new", "password": "long \x00 enough"},
            not_text("password"),
        ),
        ("/create", {"title": "t", "body": "a\x00b"}, not_text("body")),
        ("/1/update", {"title": "\x00", "body": "b"}, not_text("title")),
        ("/1/comment", {"body": "\x00"}, not_text("body")),
        # Other controls and noncharacters, in what pages show.
        ("/create", {"title": "bell\x07", "body": "b"}, not_text("title")),
        ("/create", {"title": "t", "body": "b\x85c"}, not_text("body")),
        ("/1/comment", {"body": "\ufffe"}, not_text("body")),
        # A field the form may lack is checked like the others when it is there.
        ("/create", {"title": "t", "body": "b", "tags": "a\x00"}, not_text("tags")),
    ),
)
async def test_bad_forms_are_refused_with_the_reason(
    client: Client, auth: AuthActions, path: str, form: dict[str, str], message: str
) -> None:
    logged_in = not path.startswith("/auth/")
    if logged_in:
        await auth.login()
    response = await post_form(client, path, form, token_from="/" if logged_in else "/auth/login")
    assert response.status_code == 400
    assert f'<p class="error">{message}</p>' in await response.get_data(as_text=True)


async def test_the_replacement_character_is_text_like_any_other(
    client: Client, auth: AuthActions, db: Database
) -> None:
    """Pasted from a garbled mail, say: the post and the comment are saved with it."""
    await auth.login()
    created = await post_form(client, "/create", {"title": "t \ufffd", "body": "b \ufffd"})
    assert created.status_code == 302
    commented = await post_form(client, "/1/comment", {"body": "c \ufffd"})
    assert commented.status_code == 302
    post = await db.fetch_one("SELECT title, body FROM post ORDER BY id DESC")
    comment = await db.fetch_one("SELECT body FROM comment")
    assert post is not None and tuple(post) == ("t \ufffd", "b \ufffd")
    assert comment is not None and comment[0] == "c \ufffd"


@pytest.mark.parametrize(
    ("path", "field", "limit", "table"),
    (("/create", "body", BODY_MAX, "post"), ("/1/comment", "body", COMMENT_MAX, "comment")),
)
async def test_line_breaks_count_once_as_the_browser_counts_them(
    client: Client, auth: AuthActions, db: Database, path: str, field: str, limit: int, table: str
) -> None:
    """A textarea's maxlength counts a line break as one character; browsers send CR LF."""
    await auth.login()
    lines = ["x" * 99] * (limit // 100)
    typed = "\n".join(lines)
    assert len(typed) == limit - 1
    response = await post_form(client, path, {"title": "t", field: typed.replace("\n", "\r\n")})
    assert response.status_code == 302
    stored = await db.fetch_one(f"SELECT body FROM {table} ORDER BY id DESC")  # noqa: S608
    assert stored is not None and stored[0] == typed
    # A lone CR (an old Mac's) is a line break too.
    response = await post_form(client, path, {"title": "t", field: "a\rb"})
    stored = await db.fetch_one(f"SELECT body FROM {table} ORDER BY id DESC")  # noqa: S608
    assert stored is not None and stored[0] == "a\nb"


@pytest.mark.parametrize(
    "sent", (b"title=%ff%fe&body=b", b"title=t&body=%c3%28", b"title=\xff&body=b")
)
async def test_a_form_whose_text_is_not_utf_8_is_refused(
    client: Client, auth: AuthActions, db: Database, sent: bytes
) -> None:
    """No browser sends one: its bytes would be stored as U+FFFD, not as anything typed."""
    await auth.login()
    token = await csrf_token(client, "/create")
    response = await client.post(
        "/create",
        data=sent,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": token},
    )
    assert response.status_code == 400
    assert "The form&#39;s text is not valid UTF-8." in await response.get_data(as_text=True)
    row = await db.fetch_one("SELECT count(*) FROM post")
    assert row is not None and row[0] == 1


async def test_a_form_of_too_many_fields_is_refused_before_it_is_parsed(
    app: Quart, client: Client, auth: AuthActions, db: Database
) -> None:
    """Each field is parsed on the event loop: a body of nothing but separators, sent by
    anybody, would otherwise cost a second of every reader's time before the CSRF check."""
    most = app.config["MAX_FORM_PARTS"]
    urlencoded = {"Content-Type": "application/x-www-form-urlencoded"}
    for path in ("/auth/login", "/create"):
        response = await client.post(path, data=b"a&" * most, headers=urlencoded)
        assert response.status_code == 413, path
        assert "The form has too many fields." in await response.get_data(as_text=True)
    # As many as it allows still make a form (the CSRF check then refuses it).
    fields = b"&".join([b"a"] * most)
    assert (await client.post("/auth/login", data=fields, headers=urlencoded)).status_code == 400
    await auth.login()
    token = await csrf_token(client, "/create")
    form = b"title=t&body=b" + b"&x" * (most - 2)
    headers = {**urlencoded, "X-CSRF-Token": token}
    assert (await client.post("/create", data=form, headers=headers)).status_code == 302
    response = await client.post("/create", data=form + b"&x", headers=headers)
    assert response.status_code == 413
    row = await db.fetch_one("SELECT count(*) FROM post")
    assert row is not None and row[0] == 2


async def test_only_a_multipart_form_may_be_as_large_as_a_picture(
    app: Quart, client: Client
) -> None:
    """A form that may carry a picture gets its room only when sent as one that can."""
    app.config["MAX_CONTENT_LENGTH"] = 1024
    body = b"title=" + b"t" * 2048
    urlencoded = {"Content-Type": "application/x-www-form-urlencoded"}
    response = await client.post("/create", data=body, headers=urlencoded)
    assert response.status_code == 413
    # The standard message: no image was sent.
    assert "the image must be" not in await response.get_data(as_text=True)
    # A multipart form to a page that takes none, or to none at all, keeps the app's limit.
    for path in ("/1/comment", "/no/such/page", "/"):
        files = {"image": FileStorage(io.BytesIO(b"x" * 2048), filename="a.png", name="image")}
        response = await client.post(path, form={"body": "b"}, files=files)
        assert response.status_code == 413, path


async def test_a_password_keeps_its_line_breaks(client: Client, db: Database) -> None:
    """Only a textarea's line breaks are counted as typed: an account whose password (set
    by a script, not a browser) holds CR logs in with it as it is."""
    response = await post_form(
        client,
        "/auth/register",
        {"username": "scripted", "password": "long\r\npassword"},
        token_from="/auth/register",
    )
    assert response.status_code == 302
    login = {"username": "scripted", "password": "long\r\npassword"}
    response = await post_form(client, "/auth/login", login, token_from="/auth/login")
    assert response.status_code == 302
    login["password"] = "long\npassword"
    response = await post_form(client, "/auth/login", login, token_from="/auth/login")
    assert response.status_code == 200


async def test_a_password_may_hold_any_character_but_nul(client: Client) -> None:
    """It is never shown, only hashed: one set with a control character still logs in."""
    account = {"username": "controlled", "password": "long\x07password"}
    response = await post_form(client, "/auth/register", account, token_from="/auth/register")
    assert response.status_code == 302
    response = await post_form(client, "/auth/login", account, token_from="/auth/login")
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("headers", "length"),
    [
        ({}, None),
        ({"Content-Length": "12"}, 12),
        ({"content-length": "7", "Transfer-Encoding": "chunked"}, None),
        ({"Content-Length": "twelve"}, 0),
    ],
)
async def test_a_requests_content_length_is_werkzeugs(
    app: Quart, headers: dict[str, str], length: int | None
) -> None:
    async with app.test_request_context("/", method="POST", headers=headers):
        assert isinstance(request, FormRequest)
        assert request.content_length == length
        # Werkzeug's own reading of the same headers.
        assert length == get_content_length(
            request.headers.get("Content-Length"), request.headers.get("Transfer-Encoding")
        )


@pytest.mark.parametrize("path", ("/create", "/1/update"))
async def test_one_line_fields_are_kept_as_browsers_send_them(
    client: Client, auth: AuthActions, db: Database, path: str
) -> None:
    """A title or image description holds no line break: browsers strip them from an input."""
    await auth.login()
    form = {"title": "one\r\nline\r", "body": "two\r\nlines", "image_alt": "a\nb"}
    response = await post_form(client, path, form)
    assert response.status_code == 302
    stored = await db.fetch_one("SELECT title, body, image_alt FROM post ORDER BY id DESC")
    assert stored is not None and tuple(stored) == ("oneline", "two\nlines", "ab")
