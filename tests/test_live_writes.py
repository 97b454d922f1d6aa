"""Per-user write limits and cookie-free public files, over real HTTP against the installed wheel.

Each test serves the deployment of ``tests/live.py`` with the checkout's
``hypercorn.toml`` and its default settings, on a database emptied first (which
also empties the rate limits kept there).
"""

from __future__ import annotations

import httpx
import pytest

from tests.harness.images import solid_png
from tests.live import Deployment
from tests.live import logged_in
from tests.live import no_server_errors
from tests.live import Server

pytestmark = pytest.mark.slow

#: POSTS_PER_MINUTE's default.
POSTS_PER_MINUTE = 10


def one_retry_after(headers: httpx.Headers) -> int:
    """The wait a 429 asks for, which it must say exactly once."""
    values = headers.get_list("Retry-After")
    assert len(values) == 1, values
    return int(values[0])


def test_posting_faster_than_the_limit(live_server: Server, fresh_deployment: Deployment) -> None:
    hasty = logged_in(live_server, "hasty")
    post = {"title": "quick", "body": "one more"}
    for number in range(POSTS_PER_MINUTE):
        page = hasty.submit("/create", post)
        assert (page.status, page.location) == (302, "/"), number
    page = hasty.submit("/create", post)
    assert page.status == 429
    # One post each 6 s once the first 10 are in.
    assert 0 < one_retry_after(page.headers) <= 60 // POSTS_PER_MINUTE
    assert f"You have sent too many new posts: at most {POSTS_PER_MINUTE} a minute." in page.text
    assert "Nothing was saved." in page.text
    # Counted per user: another one, from the same address, still posts.
    calm = logged_in(live_server, "calm")
    assert calm.submit("/create", {"title": "calm", "body": ""}).location == "/"
    assert sorted(fresh_deployment.post_titles()) == ["calm"] + ["quick"] * POSTS_PER_MINUTE
    no_server_errors(live_server)


def test_login_limit_says_retry_after_once(live_server: Server) -> None:
    browser = logged_in(live_server, "forgetful")
    token = browser.csrf_token("/auth/login")
    attempt = {"username": "forgetful", "password": "", "csrf_token": token}
    for _ in range(10 - 1):  # The login above was one of the 10 a minute.
        assert browser.post("/auth/login", attempt).status == 200
    page = browser.post("/auth/login", attempt)
    assert page.status == 429
    assert 0 < one_retry_after(page.headers) <= 60
    no_server_errors(live_server)


def test_public_files_carry_no_session_cookie(live_server: Server) -> None:
    user = logged_in(live_server, "painter")
    style = user.get("/static/style.css")
    assert style.status == 200
    assert "public" in style.headers["Cache-Control"]
    assert style.headers.get_list("Set-Cookie") == []

    fields = {"title": "Red", "body": ""}
    page = user.submit("/create", fields, files={"image": ("red.png", solid_png(), "image/png")})
    assert (page.status, page.location) == (302, "/")
    (source,) = (part.split('"', 1)[0] for part in user.get("/").text.split('src="/uploads/')[1:])
    image = user.get(f"/uploads/{source}")
    assert image.status == 200
    assert image.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert image.headers.get_list("Set-Cookie") == []

    # The login holds; its cookie, signed moments ago, is not sent again by pages
    # either until it is an hour old (SESSION_REFRESH_SECONDS).
    index = user.get("/")
    assert "Log Out" in index.text
    assert index.headers.get_list("Set-Cookie") == []
    no_server_errors(live_server)
