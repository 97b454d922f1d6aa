"""Every route, fed what a careless or hostile client sends: never a 5xx, never a change."""

from __future__ import annotations

import re
from typing import Any
from typing import NamedTuple

import pytest
from quart import Quart

from quart_flaskr.db import Database
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token
from tests.helpers import table_names

#: Tables whose rows legitimately change on a refused request.
BOOKKEEPING = {"rate_limit", "data_version"}

#: Values for each kind of URL part: existing, missing, and out of range.
PARTS = {
    "id": ("1", "2", "0", "9223372036854775808", "99999999999999999999999"),
    "default": ("x", "%00", "%ff%fe", "a" * 300, "..%2F..%2Fetc"),
}

URLENCODED = "application/x-www-form-urlencoded"


class Body(NamedTuple):
    name: str
    form: dict[str, str] | None = None
    data: bytes | None = None
    content_type: str | None = None


BODIES = (
    Body("empty form", form={}),
    Body("fields missing", form={"unexpected": "x"}),
    Body(
        "non-UTF-8",
        data=b"title=%ff%fe&body=%c3%28&username=%ff&password=%fe",
        content_type=URLENCODED,
    ),
    Body("bad percent-encoding", data=b"title=%zz&body=%&username=%", content_type=URLENCODED),
    Body(
        "NUL bytes",
        form={"title": "a\x00b", "body": "\x00", "username": "a\x00", "password": "\x00" * 9},
    ),
    Body("JSON", data=b'{"title": "x", "body": "y"}', content_type="application/json"),
    Body("plain text", data=b"title=x", content_type="text/plain"),
    Body("multipart without boundary", data=b"--x\r\n", content_type="multipart/form-data"),
    Body(
        "truncated multipart",
        data=b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nx',
        content_type="multipart/form-data; boundary=b",
    ),
    Body("oversized body", data=b"title=" + b"x" * (9 * 1024 * 1024), content_type=URLENCODED),
    Body(
        "oversized fields",
        form={
            "title": "t" * 100_000,
            "body": "b" * 100_000,
            "username": "u" * 10_000,
            "password": "p" * 10_000,
        },
    ),
)
#: What GET routes get: query strings that parse badly or look like attacks.
QUERIES = (
    {"page": "-1", "q": '"*^('},
    {"page": "99999999999999999999", "q": "NEAR(a b"},
    {"page": "x"},
)


def concrete_paths(app: Quart) -> list[tuple[str, str]]:
    """(method, path) for every route, each URL part filled with each test value."""
    paths: list[tuple[str, str]] = []
    for rule in app.url_map.iter_rules():
        # Logging out, or out everywhere else (which renews this browser's
        # session id), with a valid token is meant to change the session,
        # whatever else the request holds.
        if rule.endpoint in ("static", "auth.logout", "account.end_other_sessions"):
            continue
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        parts = re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule)
        fillings = [""]
        for converter, _ in parts:
            fillings = [
                f + "|" + value
                for f in fillings
                for value in PARTS.get(converter, PARTS["default"])
            ]
        for filling in fillings:
            path = rule.rule
            for value in filling.split("|")[1:]:
                path = re.sub(r"<[^>]+>", value, path, count=1)
            paths.extend((method, path) for method in methods)
    return paths


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, but for full-text indexes, whose internals are derived data."""
    return {
        name: [tuple(row) for row in await db.fetch_all(f'SELECT * FROM "{name}" ORDER BY 1')]  # noqa: S608
        for name in await table_names(db)
        if name not in BOOKKEEPING
    }


@pytest.mark.parametrize("logged_in", (False, True), ids=("anonymous", "logged-in"))
async def test_no_route_fails_or_changes_data_on_bad_input(
    app: Quart, client: Client, auth: AuthActions, db: Database, logged_in: bool
) -> None:
    if logged_in:
        await auth.login("other", "other")
    # A valid token in the header gets each request past the CSRF check, so
    # the views themselves meet the bad input.
    token = await csrf_token(client, "/auth/login")
    before = await snapshot(db)
    failures = []
    for method, path in concrete_paths(app):
        if method == "GET":
            for query in QUERIES:
                response = await client.get(path, query_string=query)
                if response.status_code >= 500:
                    failures.append(f"GET {path}?{query}: {response.status_code}")
            continue
        for body in BODIES:
            headers = {"X-CSRF-Token": token}
            if body.content_type:
                headers["Content-Type"] = body.content_type
            send = getattr(client, method.lower())
            response = await send(path, headers=headers, form=body.form, data=body.data)
            if response.status_code >= 500:
                failures.append(f"{method} {path} ({body.name}): {response.status_code}")
    assert failures == []
    assert await snapshot(db) == before
