"""Per-user write limits and cookie-free public files, over real HTTP against the installed wheel.

Each test serves the deployment of ``tests/live.py`` with the checkout's
``hypercorn.toml`` and its default settings, on a database emptied first (which
also empties the rate limits kept there).
"""

from __future__ import annotations

from email.message import Message

import pytest

from tests.live import Deployment
from tests.live import Server
from tests.test_live_security import location_path
from tests.test_live_security import logged_in
from tests.test_live_security import multipart
from tests.test_live_security import no_server_errors
from tests.test_live_security import png

pytestmark = pytest.mark.slow

#: POSTS_PER_MINUTE's default.
POSTS_PER_MINUTE = 10


def one_retry_after(headers: Message) -> int:
    """The wait a 429 asks for, which it must say exactly once."""
    values = headers.get_all("Retry-After") or []
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
    style = user.send("GET", "/static/style.css")
    assert style.status == 200
    assert "public" in style.headers["Cache-Control"]
    assert style.headers.get_all("Set-Cookie") is None

    fields = {"csrf_token": user.csrf_token("/create"), "title": "Red", "body": ""}
    body, headers = multipart(fields, {"image": ("red.png", "image/png", png())})
    page = user.send("POST", "/create", body, headers)
    assert (page.status, location_path(page)) == (302, "/")
    (source,) = (part.split('"', 1)[0] for part in user.get("/").text.split('src="/uploads/')[1:])
    image = user.send("GET", f"/uploads/{source}")
    assert image.status == 200
    assert image.headers["Cache-Control"] == "public, max-age=86400"
    assert image.headers.get_all("Set-Cookie") is None

    # Pages still refresh the login's cookie, and the login holds.
    index = user.send("GET", "/")
    assert "Log Out" in index.text
    assert any(cookie.startswith("session=") for cookie in index.headers.get_all("Set-Cookie", []))
    no_server_errors(live_server)
