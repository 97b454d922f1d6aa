"""The production protections, shown over real HTTP against the installed wheel.

Every test starts Hypercorn with the checkout's ``hypercorn.toml`` on the
deployment built by ``tests/live.py`` (emptied by ``init-db --force`` first, which
also resets the rate limits kept in the database), and talks to it with the
harness's client, as a browser does. A test that changes the instance
``config.py`` restores it before it ends: the deployment is shared with the other
slow tests.
"""

from __future__ import annotations

import html
import http.client
import json
import os
import re
import sqlite3
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from quart_flaskr.security import CSRF_ERROR
from tests.harness.http import Client
from tests.harness.http import Page
from tests.harness.http import REQUEST_TIMEOUT
from tests.harness.images import solid_png
from tests.live import configured
from tests.live import Deployment
from tests.live import logged_in
from tests.live import no_server_errors
from tests.live import serve
from tests.live import Server
from tests.pictures import same_pixels

pytestmark = pytest.mark.slow

HSTS_SECONDS = 31_536_000
#: What a production deployment adds to the instance config.py behind HTTPS.
HTTPS_SETTINGS = ("SESSION_COOKIE_SECURE = True", f"HSTS_SECONDS = {HSTS_SECONDS}")
#: Larger than MAX_CONTENT_LENGTH (256 KiB), the limit of every form but the post forms.
ONE_MIB = 1024 * 1024
#: Larger than the post forms' limit (MAX_CONTENT_LENGTH + MAX_IMAGE_BYTES).
FIVE_MIB = 5 * ONE_MIB
LOGIN_LIMIT = 10
IMAGE_ERROR = "The image must be a JPEG, PNG, GIF or WebP file."
_EDIT_LINK = re.compile(r'href="/(\d+)/update"')
_IMAGE_SRC = re.compile(r'<img class="image" src="(/uploads/[^"]+)"')


# Helpers


def header_values(headers: httpx.Headers, name: str) -> list[str]:
    """The comma-separated values of a header, lower-cased."""
    return [
        value.strip().lower()
        for header in headers.get_list(name)
        for value in header.split(",")
        if value.strip()
    ]


def csp_directives(headers: httpx.Headers) -> dict[str, list[str]]:
    policy = headers.get("Content-Security-Policy")
    assert policy is not None, "no Content-Security-Policy"
    directives = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        directives[name.lower()] = sources
    return directives


def session_cookie(headers: httpx.Headers) -> dict[str, str]:
    """The attributes of the ``session`` cookie a response sets (names lower-cased)."""
    for header in headers.get_list("Set-Cookie"):
        name_value, *attributes = header.split(";")
        if name_value.split("=", 1)[0].strip() == "session":
            parts = (attribute.strip().partition("=") for attribute in attributes)
            return {name.lower(): value for name, _, value in parts}
    raise AssertionError(f"no session cookie set: {headers.get_list('Set-Cookie')}")


def snapshot(deployment: Deployment) -> dict[str, list[str]]:
    """Every row of every table but the rate limits', in a comparable form."""
    with deployment.read_only() as conn:
        tables = [
            str(row[0])
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name != 'rate_limit'"
            )
        ]
        return {
            # The names come from sqlite_master.
            table: sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{table}"'))  # noqa: S608
            for table in tables
        }


def uploads(deployment: Deployment) -> set[str]:
    """The names of the images stored in the database; none are files."""
    assert not (deployment.instance / "uploads").exists()
    with deployment.read_only() as conn:
        return {str(row[0]) for row in conn.execute("SELECT name FROM image")}


def post_oversized(browser: Client, path: str, body: bytes, headers: Mapping[str, str]) -> int:
    """POST a body the server refuses for its size; the status it answers.

    The server answers as soon as it sees the Content-Length, and closes the
    connection while the body is still on its way: sending then fails with a
    broken pipe, and the client reads the answer anyway, as browsers do.
    """
    url = urllib.parse.urlsplit(browser.base_url)
    cookies = browser.cookie_header()
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=REQUEST_TIMEOUT)
    try:
        conn.putrequest("POST", path)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            conn.putheader(name, value)
        if cookies:
            conn.putheader("Cookie", cookies)
        conn.endheaders()
        try:
            for start in range(0, len(body), 64 * 1024):
                conn.send(body[start : start + 64 * 1024])
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = conn.getresponse()
        return response.status
    finally:
        conn.close()


# 1. Security headers and the session cookie


def _common_headers(page: Page) -> None:
    directives = csp_directives(page.headers)
    assert directives["default-src"] == ["'self'"]
    policy = page.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"]


def _session_dependent(page: Page) -> None:
    assert "cookie" in header_values(page.headers, "Vary")
    assert "private" in header_values(page.headers, "Cache-Control")


def _page_static_error(server: Server) -> tuple[Page, Page, Page]:
    browser = Client(server.url)
    # The index (served to anonymous readers from the page cache) and a form.
    index = browser.send("GET", "/")
    assert index.status == 200
    _common_headers(index)
    _session_dependent(index)
    page = browser.send("GET", "/auth/login")
    static = browser.send("GET", "/static/style.css")
    error = browser.send("GET", "/no/such/page")
    assert page.status == 200
    assert static.status == 200
    assert static.content_type == "text/css"
    assert error.status == 404
    assert "404 Not Found" in error.text
    return page, static, error


def test_security_headers_and_cookie(fresh_deployment: Deployment, tmp_path: Path) -> None:
    with serve(fresh_deployment, tmp_path) as server:
        page, static, error = _page_static_error(server)
        for response in (page, static, error):
            _common_headers(response)
            assert "Strict-Transport-Security" not in response.headers
        _session_dependent(page)
        _session_dependent(error)
        # The login form's token puts a session cookie in the browser.
        cookie = session_cookie(page.headers)
        assert "httponly" in cookie
        assert cookie["samesite"].lower() == "lax"
        # Served over plain HTTP by default: a Secure cookie would never come back.
        assert "secure" not in cookie
        no_server_errors(server)

    with configured(fresh_deployment, *HTTPS_SETTINGS), serve(fresh_deployment, tmp_path) as server:
        page, static, error = _page_static_error(server)
        for response in (page, static, error):
            _common_headers(response)
            assert response.headers["Strict-Transport-Security"] == (
                f"max-age={HSTS_SECONDS}; includeSubDomains"
            )
        cookie = session_cookie(page.headers)
        assert "secure" in cookie
        assert "httponly" in cookie
        assert cookie["samesite"].lower() == "lax"
        no_server_errors(server)
    assert "HSTS_SECONDS" not in fresh_deployment.config.read_text("utf-8")


# 2. CSRF


def test_csrf_refused_over_http(live_server: Server, fresh_deployment: Deployment) -> None:
    alice = logged_in(live_server, "alice")
    message = html.escape(CSRF_ERROR)
    stranger_token = Client(live_server.url).csrf_token("/auth/login")
    forms = {
        "no token": {"title": "forged", "body": "x"},
        "forged token": {"title": "forged", "body": "x", "csrf_token": "forged"},
        "another session's token": {"title": "forged", "body": "x", "csrf_token": stranger_token},
    }
    for name, form in forms.items():
        page = alice.post("/create", form)
        assert page.status == 400, name
        assert message in page.text, name
    forged_header = alice.request(
        "POST", "/create", form={"title": "forged", "body": "x"}, headers={"X-CSRF-Token": "forged"}
    )
    assert forged_header.status == 400
    assert fresh_deployment.post_titles() == []

    page = alice.post("/auth/logout", {})
    assert page.status == 400
    assert message in page.text
    # Still logged in.
    assert alice.get("/create").status == 200

    # The same form with the page's own token goes through.
    assert alice.submit("/create", {"title": "genuine", "body": "x"}).location == "/"
    assert fresh_deployment.post_titles() == ["genuine"]
    no_server_errors(live_server)


# 3. Logging out ends the session on the server


def test_copied_session_cookie_dies_at_logout(live_server: Server) -> None:
    alice = logged_in(live_server, "alice")
    values = [cookie.value for cookie in alice.cookies if cookie.name == "session"]
    assert len(values) == 1 and values[0]
    stolen = {"Cookie": f"session={values[0]}"}
    thief = Client(live_server.url)

    page = thief.send("GET", "/create", headers=stolen)
    assert page.status == 200
    assert "alice" in page.text

    assert alice.logout().location == "/"
    assert alice.get("/create").location == "/auth/login"

    page = thief.send("GET", "/create", headers=stolen)
    assert page.status == 302
    assert page.location == "/auth/login"
    page = thief.send("GET", "/", headers=stolen)
    assert page.status == 200
    assert "alice" not in page.text
    no_server_errors(live_server)


# 4. Rate-limited logins


def test_login_rate_limit(live_server: Server) -> None:
    # The limiter's state is in the database, which live_server emptied: this
    # client address has made no login attempt yet. Empty passwords are refused
    # before any password hash, so the attempts are quick.
    browser = Client(live_server.url)
    token = browser.csrf_token("/auth/login")
    attempt = {"username": "nobody", "password": "", "csrf_token": token}
    for number in range(1, LOGIN_LIMIT + 1):
        page = browser.post("/auth/login", attempt)
        assert page.status == 200, number
        assert "Password is required." in page.text

    page = browser.post("/auth/login", attempt)
    assert page.status == 429
    assert 0 < int(page.headers["Retry-After"]) <= 60

    # Showing the form is not limited; another browser from the same address is.
    assert browser.get("/auth/login").status == 200
    other = Client(live_server.url)
    assert other.login("nobody", "some-password").status == 429
    # With no proxy trusted (PROXY_TRUSTED_HOPS = 0), a forged client address changes nothing.
    forged = browser.request(
        "POST",
        "/auth/login",
        form=attempt,
        headers={"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.7"},
    )
    assert forged.status == 429
    no_server_errors(live_server)


# 5. Bad input


def test_bad_input_over_http(live_server: Server, fresh_deployment: Deployment) -> None:
    user = logged_in(live_server, "mallory")
    assert user.submit("/create", {"title": "kept", "body": "x"}).location == "/"
    before = snapshot(fresh_deployment)
    token = user.csrf_token("/create")
    with_token = {"X-CSRF-Token": token}
    urlencoded = "application/x-www-form-urlencoded"
    huge = "99999999999999999999999"
    malformed = b'--xyz\r\nContent-Disposition: form-data; name="title"\r\n\r\nno closing boundary'
    cases: list[tuple[str, str, str, bytes | None, dict[str, str], int]] = [
        ("huge id, edit form", "GET", f"/{huge}/update", None, {}, 404),
        ("huge id, post page", "GET", f"/{huge}", None, {}, 404),
        (
            "huge id, update",
            "POST",
            f"/{huge}/update",
            urllib.parse.urlencode({"title": "t", "body": "b", "csrf_token": token}).encode(),
            {"Content-Type": urlencoded},
            404,
        ),
        (
            "huge id, delete",
            "POST",
            f"/{huge}/delete",
            f"csrf_token={token}".encode(),
            {"Content-Type": urlencoded},
            404,
        ),
        (
            "malformed multipart",
            "POST",
            "/create",
            malformed,
            {**with_token, "Content-Type": "multipart/form-data; boundary=xyz"},
            400,
        ),
        (
            "multipart without a boundary",
            "POST",
            "/create",
            b"title=t&body=b",
            {**with_token, "Content-Type": "multipart/form-data"},
            400,
        ),
        (
            "non-UTF-8 urlencoded, escaped",
            "POST",
            "/create",
            f"csrf_token={token}&title=%FF%FEt&body=%C3".encode(),
            {"Content-Type": urlencoded},
            400,
        ),
        (
            "non-UTF-8 urlencoded, raw bytes",
            "POST",
            "/create",
            f"csrf_token={token}&title=".encode() + b"\xff\xfe&body=\xc3",
            {"Content-Type": urlencoded},
            400,
        ),
        (
            "JSON",
            "POST",
            "/create",
            json.dumps({"title": "json", "body": "x", "csrf_token": token}).encode(),
            {**with_token, "Content-Type": "application/json"},
            400,
        ),
    ]
    statuses = {
        name: user.send(method, path, body, headers).status
        for name, method, path, body, headers, _ in cases
    }
    # Too large: refused before the body is read.
    statuses["1 MiB login form"] = post_oversized(
        user, "/auth/login", b"username=" + b"a" * ONE_MIB, {"Content-Type": urlencoded}
    )
    statuses["5 MiB post form"] = post_oversized(
        user,
        "/create",
        f"csrf_token={token}&title=t&body=".encode() + b"a" * FIVE_MIB,
        {"Content-Type": urlencoded},
    )
    expected = {name: status for name, *_, status in cases}
    assert statuses == {**expected, "1 MiB login form": 413, "5 MiB post form": 413}
    assert snapshot(fresh_deployment) == before
    assert fresh_deployment.post_titles() == ["kept"]
    # Still serving, and nothing logged as an error.
    assert user.get("/").status == 200
    no_server_errors(live_server)


# 6. Health check


def test_healthz(live_server: Server) -> None:
    page = Client(live_server.url).get("/healthz")
    assert page.status == 200
    assert page.content_type == "application/json"
    assert json.loads(page.body) == {"status": "ok", "database": "ok"}


# 7. Images, the feed and search


def test_images_feed_and_search(live_server: Server, fresh_deployment: Deployment) -> None:
    user = logged_in(live_server, "painter")
    image = solid_png()
    stored_before = uploads(fresh_deployment)

    fields = {
        "title": "Red pixels",
        "body": "A *tiny* picture.",
        "tags": "art",
        "image_alt": "six red pixels",
    }
    fake = b"<!doctype html><script>alert(document.cookie)</script>"
    page = user.submit("/create", fields, files={"image": ("evil.png", fake, "image/png")})
    assert page.status == 200
    assert IMAGE_ERROR in page.text
    assert fresh_deployment.post_titles() == []
    assert uploads(fresh_deployment) == stored_before

    page = user.submit("/create", fields, files={"image": ("red.png", image, "image/png")})
    assert (page.status, page.location) == (302, "/")
    assert fresh_deployment.post_titles() == ["Red pixels"]
    (new_image,) = uploads(fresh_deployment) - stored_before

    index = user.get("/")
    sources = _IMAGE_SRC.findall(index.text)
    assert sources == [f"/uploads/{new_image}"]
    (post_id,) = (int(found) for found in _EDIT_LINK.findall(index.text))
    # Anyone may see it, as a PNG that browsers must not sniff as anything else.
    served = Client(live_server.url).get(sources[0])
    assert served.status == 200
    # The same pixels: PNG is stored re-encoded, without metadata, losing nothing.
    assert same_pixels(served.body, image)
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"

    feed = Client(live_server.url).get("/feed.xml")
    assert feed.status == 200
    assert feed.content_type == "application/rss+xml"
    root = ET.fromstring(feed.body)  # noqa: S314 (the test's own server)
    links = [element.text or "" for element in root.iter("link")]
    links += [element.text or "" for element in root.iter("guid")]
    links += [element.get("href", "") for element in root.iter("{http://www.w3.org/2005/Atom}link")]
    assert f"{live_server.url}/{post_id}" in links
    assert f"{live_server.url}/" in links
    assert f"{live_server.url}/feed.xml" in links
    for link in links:
        assert link.startswith(f"{live_server.url}/"), link

    for query in ('"', '"red', 'pixels"', '""', "red OR", "NEAR(red", "*"):
        assert user.get(f"/?q={urllib.parse.quote(query)}").status == 200, query
    found = user.get("/?" + urllib.parse.urlencode({"q": '"red'}))
    assert "Red pixels" in found.text

    assert user.submit(f"/{post_id}/delete", {}, token_from="/").location == "/"
    assert fresh_deployment.post_titles() == []
    assert Client(live_server.url).get(sources[0]).status == 404
    assert uploads(fresh_deployment) == stored_before
    no_server_errors(live_server)


# 8. Operator commands while the server runs


def test_operator_commands_while_serving(
    live_server: Server, fresh_deployment: Deployment, tmp_path: Path
) -> None:
    user = logged_in(live_server, "operator")
    titles = ["first post", "second post"]
    for title in titles:
        assert user.submit("/create", {"title": title, "body": "kept"}).location == "/"
    assert fresh_deployment.post_titles() == titles

    copy = tmp_path / "copy.sqlite"
    result = fresh_deployment.try_quart("backup", str(copy))
    assert result.returncode == 0, result.stderr
    with closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert [row[0] for row in conn.execute("SELECT title FROM post ORDER BY id")] == titles

    result = fresh_deployment.try_quart("init-db")
    assert result.returncode != 0
    assert "already holds users" in result.stdout + result.stderr
    assert fresh_deployment.post_titles() == titles
    index = user.get("/")
    assert all(title in index.text for title in titles)

    result = fresh_deployment.try_quart("check-deploy")
    assert result.returncode != 0
    problems = [line for line in result.stdout.splitlines() if line.startswith("- ")]
    assert len(problems) == 3, result.stdout
    assert "SESSION_COOKIE_SECURE" in problems[0]
    assert "HSTS_SECONDS" in problems[1]
    assert "ALLOWED_HOSTS" in problems[2]

    with configured(fresh_deployment, *HTTPS_SETTINGS, 'ALLOWED_HOSTS = ["blog.example.com"]'):
        for path in (fresh_deployment.instance, fresh_deployment.config, fresh_deployment.database):
            assert path.stat().st_mode & 0o077 == 0, path
        result = fresh_deployment.try_quart("check-deploy")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "No problems found." in result.stdout

        # A configuration file others can read is reported.
        os.chmod(fresh_deployment.config, 0o644)
        result = fresh_deployment.try_quart("check-deploy")
        assert result.returncode != 0
        assert f"{fresh_deployment.config} is open to other users" in result.stdout
    assert fresh_deployment.config.stat().st_mode & 0o077 == 0
    assert "HSTS_SECONDS" not in fresh_deployment.config.read_text("utf-8")
    no_server_errors(live_server)


# Found while writing these tests


def test_forged_host_does_not_poison_cached_pages(live_server: Server) -> None:
    forged = Client(live_server.url).send("GET", "/", headers={"Host": "evil.example"})
    # Refusing the host or answering it are both fine; others must not see it.
    assert forged.status in (200, 400)
    page = Client(live_server.url).get("/")
    assert page.status == 200
    assert "evil.example" not in page.text


def test_a_refused_form_leaves_its_connection_serving(live_server: Server) -> None:
    # The language switcher's form without Origin or Sec-Fetch-Site, its body sent a
    # moment after its headers, as a larger form's is: the refusal waits for the body,
    # and the connection then answers the next request.
    body = b"language=ru&next=%2F"
    with closing(http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=10)) as conn:
        conn.putrequest("POST", "/language")
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        time.sleep(0.3)
        conn.send(body)
        refused = conn.getresponse()
        assert refused.status == 400 and CSRF_ERROR in refused.read().decode()
        conn.request("GET", "/hello")
        assert conn.getresponse().status == 200
    no_server_errors(live_server)
