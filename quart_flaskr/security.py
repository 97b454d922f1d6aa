"""Protections every response gets: CSRF tokens, security headers, session cookies kept out of
shared caches, and a real secret key."""

from __future__ import annotations

import contextlib
import functools
import hmac
import math
import secrets
import time
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from typing import cast
from typing import TypeVar

from hypercorn.typing import ASGIFramework
from hypercorn.typing import ASGIReceiveCallable
from hypercorn.typing import ASGISendCallable
from hypercorn.typing import ASGISendEvent
from hypercorn.typing import HTTPScope
from hypercorn.typing import Scope
from itsdangerous import BadData
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from quart import abort
from quart import current_app
from quart import g
from quart import make_response
from quart import Quart
from quart import request
from quart import Response
from quart import session
from quart.ctx import RequestContext
from quart.globals import request_ctx
from quart.sessions import SecureCookieSession
from quart.sessions import SecureCookieSessionInterface
from quart.sessions import SessionMixin
from quart.wrappers import BaseRequestWebsocket
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.local import LocalProxy
from werkzeug.wrappers import Response as WerkzeugResponse

from quart_flaskr import bounded
from quart_flaskr import expiry
from quart_flaskr import lookup
from quart_flaskr import readable
from quart_flaskr.i18n import gettext
from quart_flaskr.i18n import N_

F = TypeVar("F", bound=Callable[..., Any])

#: Methods that change state and so must carry a CSRF token.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Shortest SECRET_KEY accepted in production, in bytes.
MIN_SECRET_KEY_BYTES = 32
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_ERROR = N_(
    "The form was not sent from this site or has expired (missing or invalid CSRF"
    " token). Go back, reload the page and try again."
)

#: Session cookies kept with what they hold once their signature is checked (see
#: ``PrivateSessionInterface``): a few hundred bytes each.
OPENED_SESSIONS = 1024
#: The types of the values a kept session may hold: none can be changed in place.
_SCALARS = frozenset({str, int, float, bool, type(None)})

#: The attribute ``public_view`` sets on a view function.
_PUBLIC_VIEW = "serves_public_files"
#: The attribute ``same_origin_form`` sets on a view function.
_SAME_ORIGIN_FORM = "takes_same_origin_forms"
#: Set on views that answer under any host name (see ``any_host``).
_ANY_HOST = "answers_any_host"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def public_view(view: F) -> F:
    """Mark a view that serves everyone the same files: it runs without a logged-in user."""
    setattr(view, _PUBLIC_VIEW, True)
    return view


def not_stored(view: F) -> F:
    """Mark a page of what is its reader's alone (their account, where they are logged in,
    the moderation log, a reset form): the browser keeps no copy of it, so that Back
    on a shared computer, after logging out, does not show it again.

    Other pages are ``PAGES_CACHE_CONTROL``: kept, and checked before each use.
    """

    @functools.wraps(view)
    async def wrapper(*args: Any, **kwargs: Any) -> Response | WerkzeugResponse:
        response = await make_response(await view(*args, **kwargs))
        response.headers["Cache-Control"] = NOT_STORED_CACHE_CONTROL
        return response

    return cast(F, wrapper)


def same_origin_form(view: F) -> F:
    """Mark a view whose form pages shared by every reader carry, so no token can be in it.

    Such a form (the language switcher) is protected by what the browser says
    of where it was sent from instead: ``Sec-Fetch-Site``, or else ``Origin``.
    """
    setattr(view, _SAME_ORIGIN_FORM, True)
    return view


def _sent_from_this_site() -> bool:
    """Whether the browser says the request comes from one of this site's pages.

    Every browser of the last years sends ``Sec-Fetch-Site`` or at least
    ``Origin`` with a form it posts; a request with neither is refused. An
    origin is its scheme and host together: a page of ``http://`` the same
    host (anyone on the reader's network can write one) is another site.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("Origin")
    return origin is not None and origin.lower() == f"{request.scheme}://{request.host}".lower()


#: The longest address a form may send a reader back to: a page's own is at most
#: some 3,000 characters (a search of ``SEARCH_MAX`` characters, each escaped as up to
#: twelve, on a tag's listing). A longer one is no page of this site, and would make
#: a Location header of its length.
LOCAL_PATH_MAX = 4096


def local_path(target: str) -> bool:
    """Whether ``target`` is a path on this site, safe to redirect to.

    Anything that could lead elsewhere (``//host``, a scheme, a backslash or
    a space, which browsers read as a slash or drop) is not, nor anything
    longer than ``LOCAL_PATH_MAX``.
    """
    return (
        target.startswith("/")
        and len(target) <= LOCAL_PATH_MAX
        and not target.startswith("//")
        and all(33 <= ord(char) < 127 and char != "\\" for char in target)
    )


def request_context() -> RequestContext:
    """The request's context itself: its app, request and session without a proxy each.

    Hooks that run on every request read several of them; each read through
    Quart's ``request``, ``session`` or ``current_app`` looks the context up again.
    """
    return cast("LocalProxy[RequestContext]", request_ctx)._get_current_object()


def is_public_view(context: RequestContext) -> bool:
    """Whether the request is for a file served alike to everyone (static files, images).

    Such a request loads no user and reads no session: what it gets must not
    depend on who asks, since shared caches may hand it to anyone.
    """
    # Quart's own view for static files cannot be marked.
    endpoint = context.request.endpoint
    return endpoint == "static" or bool(
        getattr(context.app.view_functions.get(endpoint or ""), _PUBLIC_VIEW, False)
    )


def is_public(headers: Headers) -> bool:
    """Whether a response says shared caches may keep it (``Cache-Control: public``)."""
    return _is_public((lookup.header(headers, "Cache-Control") or "").encode("latin-1", "replace"))


class SignedSession(SecureCookieSession):
    """A cookie session that knows when its cookie was signed."""

    #: Seconds since the epoch; None for a session no cookie brought.
    signed_at: float | None = None


class PrivateSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is never sent with a response shared caches may keep.

    A login makes the session permanent, and with SESSION_REFRESH_EACH_REQUEST
    (on by default) Quart then re-sends the cookie, to push its expiry on, with
    every response, static files and images included, whether the request
    touched the session or not. A cache in front of the site would keep that
    Set-Cookie with the file and hand the login to the next visitor.

    Nor is an unchanged cookie re-signed and sent with every page: only once
    it is SESSION_REFRESH_SECONDS old, which moves its expiry on as well.

    A reader's browser sends the same cookie with each request until it
    changes, so the last ``OPENED_SESSIONS`` cookies whose signature was
    checked are kept with what they hold: the next request with one of them
    is only checked for its age (a tenth of a logged-in reader's cached page
    went to checking the signature and decoding the cookie again). Only
    cookies whose values are all immutable are kept (a list of flashed
    messages would be changed in place), and none outlives the keys that
    checked it.
    """

    session_class = SignedSession

    def __init__(self) -> None:
        #: The serializer, and the keys it was made with.
        self._signing: tuple[object, URLSafeTimedSerializer | None] | None = None
        #: Cookies whose signature was checked with those keys: what each holds, and when
        #: it was signed (seconds since the epoch, as signed).
        self._opened: dict[str, tuple[dict[str, object], int]] = {}

    def get_signing_serializer(self, app: Quart) -> URLSafeTimedSerializer | None:
        """Quart's serializer, made once for the app's keys rather than for every request."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if self._signing is None or self._signing[0] != keys:
            self._signing = (keys, super().get_signing_serializer(app))
            # Checked with other keys: a key taken out refuses its cookies at once.
            self._opened = {}
        return self._signing[1]

    async def open_session(self, app: Quart, request: BaseRequestWebsocket) -> SignedSession | None:
        """Quart's, remembering when the cookie was signed."""
        signer = self.get_signing_serializer(app)
        if signer is None:
            return None
        cookies, name = request.cookies, self.get_cookie_name(app)
        # Not .get(): a missing cookie would cost an exception made and caught.
        if name not in cookies:
            return SignedSession()
        cookie = cookies[name]
        max_age = int(app.permanent_session_lifetime.total_seconds())
        opened = self._opened.get(cookie)
        if opened is None:
            try:
                # Its age is checked below, allowing for another host's clock.
                data, signed = signer.loads(cookie, return_timestamp=True)
            except BadSignature:
                return SignedSession()
            opened = (data, int(signed.timestamp()))
            if not signed_within(opened[1], max_age):
                return SignedSession()
            if all(type(value) in _SCALARS for value in data.values()):
                bounded.put(self._opened, cookie, opened, OPENED_SESSIONS)
        elif not signed_within(opened[1], max_age):
            # Expired since it was checked.
            del self._opened[cookie]
            return SignedSession()
        session = SignedSession(opened[0])
        session.signed_at = float(opened[1])
        # From then on the answer differs: the cookie signed again, or refused.
        expiry.note(request.scope, opened[1] + min(_refresh_seconds(app), max_age + 1))
        return session

    def should_set_cookie(self, app: Quart, session: SessionMixin) -> bool:
        """A changed session's cookie; an unchanged permanent one's once it is old enough.

        Re-signing it costs a page a tenth of its time when served from the page cache.
        """
        if session.modified or not super().should_set_cookie(app, session):
            return bool(session.modified)
        signed_at = getattr(session, "signed_at", None) or 0.0
        return time.time() - signed_at >= _refresh_seconds(app)

    async def save_session(
        self,
        app: Quart,
        session: SessionMixin,
        response: Response | WerkzeugResponse | None,
    ) -> None:
        if not session and not session.modified:
            # Nothing to send or delete. (Quart's would add "Vary: Cookie" for an
            # empty session read: pages get it from keep_pages_private anyway.)
            return
        if response is not None and is_public(response.headers):
            if not session.modified:
                # Only the expiry's refresh, which the next page sends.
                return
            # A change the browser must get: no shared cache may keep it.
            response.cache_control.public = False
            response.cache_control.private = True
        await super().save_session(app, session, response)


def _refresh_seconds(app: Quart) -> float:
    """How old an unchanged login's cookie is when it is signed again (SESSION_REFRESH_SECONDS;
    None: never, it then lasts as long as the login's first)."""
    seconds = app.config["SESSION_REFRESH_SECONDS"]
    return math.inf if seconds is None else float(seconds)


#: How many seconds another host's clock may run ahead of this one's: a session or a form's
#: token it signed is taken here though signed that much "in the future" by this clock
#: (itsdangerous refuses any such, so a reader who had just logged in on one host looked
#: logged out on the next for as long as its clock ran ahead). Keep hosts' clocks in step.
CLOCK_SKEW_SECONDS = 60


def signed_within(signed_at: int, max_age: int | None) -> bool:
    """Whether what was signed at ``signed_at`` (seconds since the epoch) is at most ``max_age``
    seconds old (None: any age), and signed no further in the future than
    ``CLOCK_SKEW_SECONDS``."""
    age = int(time.time()) - signed_at
    return age >= -CLOCK_SKEW_SECONDS and (max_age is None or age <= max_age)


def secret_key_problem(key: object, name: str = "SECRET_KEY") -> str | None:
    """Why a secret key (``name`` says which) is unfit for production, or None when it is fine."""
    if not key:
        return f"{name} is not set"
    if key == "dev":
        return f"{name} is the development default 'dev'"
    if not isinstance(key, (str, bytes)):
        return f"{name} is {type(key).__name__}, not text ('gen-secret-key' writes one)"
    size = len(key.encode() if isinstance(key, str) else key)
    if size < MIN_SECRET_KEY_BYTES:
        return f"{name} is {size} bytes long, shorter than {MIN_SECRET_KEY_BYTES}"
    return None


def fallback_key_problems(fallbacks: Iterable[object] | None) -> list[str]:
    """Why any of SECRET_KEY_FALLBACKS is unfit: what an old key signed is accepted as
    the current key's is, so a guessable one lets anyone sign a session of their own."""
    if isinstance(fallbacks, (str, bytes)):
        # Read as keys one character long each: a list of one was meant.
        return ["SECRET_KEY_FALLBACKS is one text, not a list of keys"]
    found = (
        secret_key_problem(key, f"SECRET_KEY_FALLBACKS[{index}]")
        for index, key in enumerate(fallbacks or ())
    )
    return [problem for problem in found if problem]


def _serializer() -> URLSafeTimedSerializer:
    return _csrf_serializer(
        (*(current_app.config["SECRET_KEY_FALLBACKS"] or ()), current_app.secret_key)
    )


@functools.lru_cache(maxsize=4)
def _csrf_serializer(keys: tuple[str | bytes, ...]) -> URLSafeTimedSerializer:
    """The form tokens' serializer for these keys (the current one last), made once."""
    return URLSafeTimedSerializer(list(keys), salt="csrf")  # type: ignore[arg-type]


def csrf_secret() -> str:
    """The secret this session's form tokens carry, made now if the session has none."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_hex(32)
    secret: str = session[CSRF_FIELD]
    return secret


def _xor(first: bytes, second: bytes) -> bytes:
    return (int.from_bytes(first) ^ int.from_bytes(second)).to_bytes(len(first))


def csrf_token() -> str:
    """A token for this session's forms, different on every page: the secret masked, signed.

    The secret is XORed with random bytes of this render's own, which the
    token carries too (as Django and Rails mask theirs). Signing alone would
    leave the secret's own bytes the same in every token, and a whole token
    the same in every page rendered within a second or kept by the page
    cache: a BREACH attack can read bytes that repeat across compressed
    responses which also reflect what the attacker sends (a search, a
    comment). Masked, no two renders share them. One token serves every form
    of a page (the logout form, a listing's likes form), so it is made once per
    request; a page the cache keeps is one render, and whatever the attacker
    changes in it (the URL, the posts) makes it another.
    """
    token: str | None = g.get("csrf_token")
    if token is None:
        secret = csrf_secret().encode()
        mask = secrets.token_bytes(len(secret))
        masked = [mask.hex(), _xor(secret, mask).hex()]
        token = g.csrf_token = str(_serializer().dumps(masked))
    return token


def _unmasked(value: object) -> str | None:
    """The secret a token's signed value holds, or None when it holds none.

    Tokens signed before masking hold the secret itself; still valid within
    ``CSRF_TIME_LIMIT``, the forms open in browsers during an upgrade keep working.
    """
    if isinstance(value, str):
        return value
    if not isinstance(value, list) or len(value) != 2:
        return None
    try:
        mask, masked = (bytes.fromhex(part) for part in value)
        return _xor(masked, mask).decode() if len(mask) == len(masked) else None
    except (TypeError, ValueError):
        return None


def _valid_csrf_token(token: str | None) -> bool:
    expected = session.get(CSRF_FIELD)
    if not token or not expected:
        return False
    try:
        value, signed = _serializer().loads(token, return_timestamp=True)
    except BadData:
        return False
    if not signed_within(int(signed.timestamp()), current_app.config["CSRF_TIME_LIMIT"]):
        return False
    secret = _unmasked(value)
    return secret is not None and hmac.compare_digest(secret.encode(), expected.encode())


async def check_request() -> None:
    """Refuse, before any view, a request for another host, with NUL in its path, or forged."""
    context = request_context()
    check_host(context)
    refuse_nul_in_path(context.request.path)
    if context.request.method in UNSAFE_METHODS:
        await protect_from_csrf(context)


def any_host(view: F) -> F:
    """Mark a view that answers under any host name, ``ALLOWED_HOSTS`` or not: one whose
    answer names no host (``/healthz``, which load balancers ask by address)."""
    setattr(view, _ANY_HOST, True)
    return view


def check_host(context: RequestContext) -> None:
    """Refuse a Host header outside ALLOWED_HOSTS, when that is set (but for ``any_host`` views)."""
    allowed = context.app.config["ALLOWED_HOSTS"]
    if not allowed:
        return
    if getattr(context.app.view_functions.get(context.request.endpoint or ""), _ANY_HOST, False):
        return
    host = context.request.host.lower()
    if not host.endswith("]"):  # Not a bare IPv6 literal: drop any port.
        host = host.rsplit(":", 1)[0]
    if host not in allowed:
        abort(400, gettext("This site is not served under that host name."))


def refuse_nul_in_path(path: str) -> None:
    """400 for a NUL character in the path: no name the blog stores holds one.

    Forms refuse it field by field (``forms.read_form``), and searches
    (``?q=``) as well; PostgreSQL cannot even compare text with it, so a path
    (a tag's name) holding one is refused before any view looks it up.
    """
    if "\x00" in path:
        abort(400, gettext("The address holds characters that are not valid text."))


async def protect_from_csrf(context: RequestContext) -> None:
    """Refuse a state-changing request that does not carry this session's token."""
    request = context.request
    view = context.app.view_functions.get(request.endpoint or "")
    if getattr(view, _SAME_ORIGIN_FORM, False):
        sent_here = _sent_from_this_site()
    else:
        token = request.headers.get(CSRF_HEADER)
        if token is None:
            token = (await request.form).get(CSRF_FIELD)
        sent_here = _valid_csrf_token(token)
    if not sent_here:
        # Refused once the body has come: answered before, the connection is closed
        # after the answer, without a word to the client, whose next request on it
        # then fails. Waited for as any form is (BODY_TIMEOUT, then a 408); one over
        # the size limit is not read, and the connection closes.
        with contextlib.suppress(RequestEntityTooLarge):
            await request.get_data(cache=False)
        abort(400, gettext(CSRF_ERROR))


#: What every page but public files depends on (see ``keep_pages_private``).
PAGES_VARY = "Cookie, Accept-Language"
#: A page may be kept by the browser only, and checked before each use.
PAGES_CACHE_CONTROL = "private, no-cache"
#: A page of what is its reader's alone (see ``not_stored``): not kept at all.
NOT_STORED_CACHE_CONTROL = "private, no-store"

#: Sent with every response, unless the view set its own (see ``SecurityHeaders``).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


#: A page's two headers, encoded once.
_PAGE_VARY = (b"vary", PAGES_VARY.encode())
_PAGE_CACHE_CONTROL = (b"cache-control", PAGES_CACHE_CONTROL.encode())
#: The names ``PAGES_VARY`` lists, encoded, each with its lower case.
_PAGES_VARY_PARTS = tuple((part.encode(), part.lower().encode()) for part in PAGES_VARY.split(", "))


class SecurityHeaders:
    """ASGI middleware adding ``SECURITY_HEADERS`` (and HSTS) to every response, and
    keeping pages out of shared caches.

    They are the same for every response, so they are encoded once and added
    to what the app sends as it goes by: through Werkzeug's ``Headers`` each was
    checked and encoded again for every response (a tenth of ``/hello``'s hooks).
    HSTS_SECONDS is read once, when the app is made, as all its settings are.

    Every page depends on the session (it shows who is logged in, read or
    not) and on the language cookie and the browser's ``Accept-Language``:
    every response but a public one (``Cache-Control: public``: files served
    alike to everyone) gets ``PAGES_VARY``, joined to any ``Vary`` of its own,
    and ``PAGES_CACHE_CONTROL`` unless it set its own. Done here, on headers
    already encoded, rather than in an ``after_request`` hook through
    Werkzeug's ``Headers``: that hook was the costliest of ``/hello``'s (36,000
    instructions of its 870,000, against 3,000 here).
    """

    def __init__(self, asgi_app: ASGIFramework, hsts_seconds: int) -> None:
        self.asgi_app = asgi_app
        headers = list(SECURITY_HEADERS)
        if hsts_seconds:
            headers.append(
                ("Strict-Transport-Security", f"max-age={hsts_seconds}; includeSubDomains")
            )
        self.headers = [(name.lower().encode(), value.encode()) for name, value in headers]
        self.names = frozenset(name for name, _ in self.headers)

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] != "http":
            await self.asgi_app(scope, receive, send)
            return

        async def send_with_headers(message: ASGISendEvent) -> None:
            if message["type"] == "http.response.start":
                sent = list(message.get("headers", ()))
                # In lower case, as Quart sends them; a view's own header stays alone.
                own = {name for name, _ in sent}
                if own.isdisjoint(self.names):
                    added = self.headers
                else:
                    added = [header for header in self.headers if header[0] not in own]
                if b"vary" in own or b"cache-control" in own:
                    sent = _kept_private(sent, own)
                else:
                    added = [*added, _PAGE_VARY, _PAGE_CACHE_CONTROL]
                message = {**message, "headers": [*sent, *added]}
            await send(message)

        refused = readable.refusal(scope)
        if refused is None:
            await self.asgi_app(scope, receive, send_with_headers)
        else:
            await _answer_bad_request(scope, refused, send_with_headers)


async def _answer_bad_request(scope: HTTPScope, message: str, send: ASGISendCallable) -> None:
    """A 400 the app cannot make (see ``readable``): plain text, not its error page, whose
    links are made from the Host header."""
    body = f"400 Bad Request: {message}\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send(
        {
            "type": "http.response.body",
            "body": b"" if scope["method"] == "HEAD" else body,
            "more_body": False,
        }
    )


def _kept_private(
    headers: list[tuple[bytes, bytes]], names: set[bytes]
) -> list[tuple[bytes, bytes]]:
    """A response's headers, with a page's ``Vary`` and ``Cache-Control`` where it lacks them.

    ``names``: the headers' names. A public response (a file served alike to
    everyone) is left as it is; a page's own ``Vary`` gets what it lacks of
    ``PAGES_VARY``, and its own ``Cache-Control`` is kept.
    """
    controls = [value for name, value in headers if name == b"cache-control"]
    if any(_is_public(value) for value in controls):
        return headers
    kept = []
    for name, value in headers:
        if name == b"vary":
            named = value.lower()
            missing = [part for part, lower in _PAGES_VARY_PARTS if lower not in named]
            if missing:
                value = b", ".join((value, *missing))
        kept.append((name, value))
    if b"vary" not in names:
        kept.append(_PAGE_VARY)
    if not controls:
        kept.append(_PAGE_CACHE_CONTROL)
    return kept


def _is_public(cache_control: bytes) -> bool:
    """Whether a ``Cache-Control`` value lets shared caches keep the response."""
    return any(directive.strip().lower() == b"public" for directive in cache_control.split(b","))


def header_values(headers: Headers) -> dict[str, str]:
    """Each header's first value, by its name in lower case: one pass over them.

    Werkzeug's ``Headers`` finds a name by a scan, and a missing one by
    raising an HTTP exception, each time it is asked: hooks that run on every
    response ask this once instead.
    """
    values: dict[str, str] = {}
    for name, value in headers.items():
        values.setdefault(name.lower(), value)
    return values


async def refuse_insecure_secret_key() -> None:
    """Stop a production start-up (neither debug nor testing) whose SECRET_KEY, or any of
    SECRET_KEY_FALLBACKS, is unfit.

    :raise RuntimeError: naming the problem and the command that fixes it
    """
    if current_app.debug or current_app.testing:
        return
    config = f"{current_app.instance_path}/config.py"
    problem = secret_key_problem(current_app.config["SECRET_KEY"])
    if problem:
        fix = f"Write a random key into {config} with 'quart --app quart_flaskr gen-secret-key'."
    else:
        problems = fallback_key_problems(current_app.config["SECRET_KEY_FALLBACKS"])
        if not problems:
            return
        problem = problems[0]
        fix = f"Take it out of {config}: anyone who guesses it could sign a session."
    message = f"Refusing to start: {problem}. {fix}"
    current_app.logger.critical(message)
    raise RuntimeError(message)


def init_app(app: Quart) -> None:
    app.session_interface = PrivateSessionInterface()
    app.before_request(check_request)
    app.asgi_app = SecurityHeaders(  # type: ignore[method-assign]
        app.asgi_app, app.config["HSTS_SECONDS"]
    )
    app.add_template_global(csrf_token)
    app.before_serving(refuse_insecure_secret_key)
