"""An HTTP client that behaves as a browser does: cookies kept, forms posted with their CSRF token.

Built on httpx. Redirects are followed only when asked, so that a caller sees
where the app sends it. No proxy from the environment comes between the client
and the server on loopback, and by default each request opens a connection of
its own, as the urllib clients it replaces did, so that a client holds no
connection open between requests.
"""

from __future__ import annotations

import re
import ssl
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookiejar import CookieJar
from typing import Self

import httpx

from tests.harness.errors import MissingTokenError
from tests.harness.errors import UnexpectedStatusError
from tests.harness.forms import CSRF_FIELD
from tests.harness.forms import csrf_token_in

#: Seconds any one request may take: a login may wait behind a queue of password hashes.
REQUEST_TIMEOUT = 60.0

#: An uploaded file as httpx takes it: (file name, content, content type).
Upload = tuple[str, bytes, str]
#: One TLS context for every client: making one reads the CA bundle, about 20 ms,
#: and the tests make a client for every browser they play.
_TLS = ssl.create_default_context()


@dataclass(frozen=True)
class Page:
    """A response as received, and how long it took from sending to the last byte."""

    status: int
    headers: httpx.Headers
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str | None:
        """The path a redirect points to."""
        location: str | None = self.headers.get("Location")
        return None if location is None else urllib.parse.urlsplit(location).path

    @property
    def content_type(self) -> str:
        """The media type, without parameters such as the charset."""
        content_type: str = self.headers.get("Content-Type", "")
        return content_type.partition(";")[0].strip().lower()

    def csrf_token(self) -> str:
        """The CSRF token of the page's first form.

        :raise MissingTokenError: the page has no form with a token.
        """
        token = csrf_token_in(self.text)
        if token is None:
            raise MissingTokenError(f"no CSRF token in the page (status {self.status})")
        return token

    def summary(self, length: int = 300) -> str:
        """The page's text without its tags, shortened: enough to say what went wrong."""
        return " ".join(re.sub(r"<[^>]+>", " ", self.text).split())[:length]


def cookie_header(cookies: Mapping[str, str]) -> str:
    """A ``Cookie`` header's value that sends ``cookies``."""
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


class Client:
    """One browser: a cookie jar, forms submitted with the token their page carries."""

    def __init__(
        self,
        base_url: str,
        cookies: Mapping[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT,
        keep_alive: bool = False,
    ) -> None:
        self.base_url = base_url
        self._http = httpx.Client(
            base_url=base_url,
            cookies=dict(cookies or {}),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            verify=_TLS,
            limits=httpx.Limits(max_keepalive_connections=None if keep_alive else 0),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def cookies(self) -> CookieJar:
        """The jar itself: iterating it gives each cookie with its name and value."""
        return self._http.cookies.jar

    def cookie_values(self) -> dict[str, str]:
        """Each cookie's value by name."""
        return {cookie.name: cookie.value or "" for cookie in self.cookies}

    def cookie_header(self) -> str:
        """The ``Cookie`` header this client sends, for a tool (wrk) that sends it for us."""
        return cookie_header(self.cookie_values())

    def share_session(self, other: Client) -> None:
        """Send ``other``'s cookies from now on, as a second tab of the same browser would."""
        for cookie in other.cookies:
            self.cookies.set_cookie(cookie)

    def request(
        self,
        method: str,
        path: str,
        *,
        form: Mapping[str, str] | None = None,
        files: Mapping[str, Upload] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        follow: bool = False,
        timeout: float | None = None,
    ) -> Page:
        """Send one request; a form is url-encoded, or multipart when there are ``files``."""
        started = time.perf_counter()
        response = self._http.request(
            method,
            path,
            data=form,
            files=files,
            content=content,
            headers=headers,
            follow_redirects=follow,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )
        seconds = time.perf_counter() - started
        return Page(response.status_code, response.headers, response.content, seconds)

    def get(self, path: str, follow: bool = False) -> Page:
        return self.request("GET", path, follow=follow)

    def post(self, path: str, form: Mapping[str, str], follow: bool = False) -> Page:
        """Post a form as it is, without adding a CSRF token."""
        return self.request("POST", path, form=form, follow=follow)

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Page:
        """Send a body exactly as given, with the jar's cookies and any ``headers``."""
        return self.request(method, path, content=body, headers=headers)

    def expect(
        self, method: str, path: str, status: int, form: Mapping[str, str] | None = None
    ) -> Page:
        """Send a request that must answer ``status``.

        :raise UnexpectedStatusError: it answered another status.
        """
        page = self.request(method, path, form=form)
        if page.status != status:
            raise UnexpectedStatusError(
                f"{method} {path}: expected {status}, got {page.status}: {page.summary()}"
            )
        return page

    def csrf_token(self, path: str = "/") -> str:
        """The CSRF token of the form on the page at ``path``."""
        return self.get(path).csrf_token()

    def submit(
        self,
        path: str,
        form: Mapping[str, str],
        token_from: str | None = None,
        files: Mapping[str, Upload] | None = None,
    ) -> Page:
        """Post a form with the CSRF token read from ``token_from`` (default: the form's page)."""
        token = self.csrf_token(path if token_from is None else token_from)
        return self.request("POST", path, form={**form, CSRF_FIELD: token}, files=files)

    def register(self, username: str, password: str) -> Page:
        return self.submit("/auth/register", {"username": username, "password": password})

    def login(self, username: str, password: str) -> Page:
        return self.submit("/auth/login", {"username": username, "password": password})

    def logout(self) -> Page:
        return self.submit("/auth/logout", {}, token_from="/")


def answers(
    base_url: str, path: str = "/hello", body: bytes | None = None, timeout: float = 5.0
) -> bool:
    """Whether the server at ``base_url`` answers ``path`` with 200 (and ``body``, if given) now."""
    try:
        with Client(base_url, timeout=timeout) as client:
            page = client.get(path)
    except httpx.HTTPError:
        return False
    return page.status == 200 and (body is None or page.body == body)
