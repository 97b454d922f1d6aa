"""Submitted forms: a missing field or text that is not valid Unicode is a 400 that says which."""

from __future__ import annotations

import pytest

from tests.helpers import AuthActions
from tests.helpers import Client
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
            {"username": "new", "password": "long \ufffd enough"},
            not_text("password"),
        ),
        ("/create", {"title": "t", "body": "a\x00b"}, not_text("body")),
        ("/1/update", {"title": "\ufffd", "body": "b"}, not_text("title")),
        ("/1/comment", {"body": "\x00"}, not_text("body")),
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
