"""Every form's maxlength (and minlength) is the limit its view checks, from ``limits.py``."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from quart_flaskr import limits
from tests.helpers import AuthActions
from tests.helpers import Client


class _Fields(HTMLParser):
    """The attributes of each input and textarea of a page, by id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("input", "textarea") and attributes.get("id"):
            self.fields[str(attributes["id"])] = attributes


async def fields(client: Client, path: str) -> dict[str, dict[str, str | None]]:
    response = await client.get(path)
    assert response.status_code == 200, path
    parser = _Fields()
    parser.feed(await response.get_data(as_text=True))
    return parser.fields


@pytest.mark.parametrize(
    ("path", "field", "attribute", "limit"),
    (
        ("/auth/register", "username", "maxlength", limits.USERNAME_MAX),
        ("/auth/register", "password", "minlength", limits.PASSWORD_MIN),
        ("/auth/register", "password", "maxlength", limits.PASSWORD_MAX),
        ("/", "search-q", "maxlength", limits.SEARCH_MAX),
        ("/create", "title", "maxlength", limits.TITLE_MAX),
        ("/create", "body", "maxlength", limits.BODY_MAX),
        ("/create", "tags", "maxlength", limits.TAGS_FIELD_MAX),
        ("/create", "image_alt", "maxlength", limits.IMAGE_ALT_MAX),
        ("/1/update", "title", "maxlength", limits.TITLE_MAX),
        ("/1/update", "body", "maxlength", limits.BODY_MAX),
        ("/1/update", "tags", "maxlength", limits.TAGS_FIELD_MAX),
        ("/1/update", "image_alt", "maxlength", limits.IMAGE_ALT_MAX),
        ("/1", "comment", "maxlength", limits.COMMENT_MAX),
    ),
)
async def test_forms_take_their_limits_from_the_code(
    client: Client, auth: AuthActions, path: str, field: str, attribute: str, limit: int
) -> None:
    if path != "/auth/register":
        await auth.login()
    assert (await fields(client, path))[field][attribute] == str(limit)


def test_the_tags_field_holds_the_most_tags_a_post_can_have() -> None:
    separators = len(", ") * (limits.TAGS_MAX - 1)
    assert limits.TAGS_FIELD_MAX >= limits.TAGS_MAX * limits.TAG_MAX + separators
