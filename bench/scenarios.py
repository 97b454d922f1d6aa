"""The scenarios every app is loaded with, and what a seeded app gives them (cookies, a post)."""

from __future__ import annotations

import dataclasses
import urllib.parse

from bench.load import Load
from tests.harness.http import cookie_header

# Scenario keys, in the order they run and print. Reads run before writes, so
# that every read sees the seeded posts only.
ANON = "anon"
USER = "user"
HELLO = "hello"
DETAIL = "detail"
SEARCH = "search"
CREATE = "create"
LOGIN = "login"
LABELS = {
    ANON: "GET / (anonymous)",
    USER: "GET / (logged in)",
    HELLO: "GET /hello",
    DETAIL: "GET /<id>",
    SEARCH: "GET /?q=word",
    CREATE: "POST /create",
    LOGIN: "POST /auth/login",
}
#: The rows of pages the app's page cache serves, measured again without it.
UNCACHED_LABELS = {
    ANON: "GET / (anonymous, no page cache)",
    USER: "GET / (logged in, no page cache)",
}
#: The scenarios Flaskr has (no post page, no search).
FLASKR_SCENARIOS = (ANON, USER, HELLO, CREATE, LOGIN)

USERNAME = "bench"
PASSWORD = "bench-password-123"  # noqa: S105 - a throwaway account in a temporary database
SEARCH_WORD = "needle"
TITLE_PREFIX = "Bench post "
LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor"
    " incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud"
    " exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure"
    " dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur."
    " Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt."
)


def post_title(number: int) -> str:
    return f"{TITLE_PREFIX}{number}"


def post_body(number: int) -> str:
    """About 450 characters; every fifth post (1, 6, 11, ...) holds the search word."""
    return f"{LOREM} {SEARCH_WORD if number % 5 == 1 else 'haystack'} {number}."


@dataclasses.dataclass
class Seeded:
    """What the load needs from a seeded app: cookies, tokens, a post id, answers' sizes."""

    user_cookies: dict[str, str]
    user_token: str
    #: An anonymous session's cookies and token, which the login scenario posts.
    login_cookies: dict[str, str]
    login_token: str
    post_id: int
    #: Bytes of the app's answer to each scenario, for the bare app to answer as many.
    sizes: dict[str, int] = dataclasses.field(default_factory=dict)
    #: Whether anonymous / logged-in pages carry an ETag (the app's page cache serves them).
    anonymous_cache: bool = False
    user_cache: bool = False

    @property
    def user_cookie(self) -> str:
        """The logged-in user's ``Cookie`` header."""
        return cookie_header(self.user_cookies)

    def cached(self) -> list[str]:
        """The scenarios whose pages the app's page cache serves."""
        return [key for key, on in ((ANON, self.anonymous_cache), (USER, self.user_cache)) if on]

    def loads(self, csrf: bool) -> dict[str, Load]:
        """The scenarios; ``csrf`` False for Flaskr, whose forms carry no token."""
        token = f"csrf_token={urllib.parse.quote(self.user_token)}&" if csrf else ""
        login_token = f"csrf_token={urllib.parse.quote(self.login_token)}&" if csrf else ""
        body = urllib.parse.quote_plus(post_body(0))
        login = urllib.parse.urlencode({"username": USERNAME, "password": PASSWORD})
        return {
            ANON: Load("/"),
            USER: Load("/", cookie=self.user_cookie),
            HELLO: Load("/hello"),
            DETAIL: Load(f"/{self.post_id}"),
            SEARCH: Load(f"/?q={SEARCH_WORD}"),
            CREATE: Load(
                "/create",
                "POST",
                cookie=self.user_cookie,
                body=f"{token}body={body}",
                unique_title=True,
            ),
            LOGIN: Load(
                "/auth/login",
                "POST",
                cookie=cookie_header(self.login_cookies) or None,
                body=login_token + login,
            ),
        }
