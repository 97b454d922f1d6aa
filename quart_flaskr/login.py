"""Who is logged in: each request's login session and its user, and views that need one.

A login is a row of the ``login_session`` table, and the session cookie carries
its id; only this module reads or writes that id. The table keeps the id's
SHA-256 (:func:`stored_id`), never the id itself: a copy of the database, a
backup say, logs nobody in. Code asks
:func:`current_user` (or :func:`logged_in_user` behind :func:`login_required`),
templates read ``current_user``, and the page cache asks :func:`login_session_id`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from typing import ParamSpec
from typing import TypeVar

from quart import current_app
from quart import g
from quart import Quart
from quart import redirect
from quart import request
from quart import ResponseReturnValue
from quart import session
from quart import url_for

from quart_flaskr import bounded
from quart_flaskr import expiry
from quart_flaskr.db import get_db
from quart_flaskr.db import request_data_version
from quart_flaskr.models import accounts
from quart_flaskr.models import sessions
from quart_flaskr.models import users
from quart_flaskr.models.users import User
from quart_flaskr.security import is_public_view
from quart_flaskr.security import request_context

P = ParamSpec("P")
T = TypeVar("T")

#: The session key holding the login session's id.
_LOGIN_ID = "login_id"
#: Where the app keeps its KnownLogins.
_EXTENSION = "quart_flaskr.logins"
#: How many logins each process remembers finding live.
KNOWN_LOGINS = 10_000
#: The attribute of ``g`` holding the request's user (or None).
_USER = "quart_flaskr_user"
#: The most of a browser's User-Agent kept with its login (the sessions page shows it).
USER_AGENT_MAX = 300


class KnownLogins:
    """Live logins as found at a data version of the database, the newest ``size`` of them.

    Logging out, suspending an account, changing a password or recording a
    session's use are all writes, which move the data version: until it
    moves, a login found live is still live (its expiry aside, checked here),
    and a logged-in reader's requests need no query to say who they are.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._found: dict[str, tuple[int, users.Login]] = {}

    def get(self, login_id: str, data_version: int) -> users.Login | None:
        found = self._found.get(login_id)
        if found is None or found[0] != data_version or found[1].expires <= datetime.now(UTC):
            return None
        return found[1]

    def put(self, login_id: str, data_version: int, login: users.Login) -> None:
        bounded.put(self._found, login_id, (data_version, login), self.size)

    def __len__(self) -> int:
        return len(self._found)


def get_known_logins(app: Quart | None = None) -> KnownLogins:
    """The logins ``app`` (by default the current app) has found live."""
    known: KnownLogins = (current_app if app is None else app).extensions[_EXTENSION]
    return known


def current_user() -> User | None:
    """The user of the request's live login session, or None for anonymous requests."""
    user: User | None = g.get(_USER)
    return user


def logged_in_user() -> User:
    """The logged-in user, for views behind :func:`login_required`.

    :raise RuntimeError: when nobody is logged in, which ``login_required`` prevents
    """
    user = current_user()
    if user is None:
        raise RuntimeError("No user is logged in: is the view behind login_required?")
    return user


def stored_id(login_id: str) -> str:
    """What the database keeps of a login session's id, and looks it up by: its SHA-256.

    The id is 256 random bits (or their HMAC, once renewed): a hash without
    salt or stretching is as hard to reverse as the id is to guess.
    """
    return hashlib.sha256(login_id.encode()).hexdigest()


def stored_session_id() -> str:
    """The id of the request's login session as the database keeps it (behind login_required)."""
    login_id = login_session_id()
    assert login_id is not None, "No user is logged in: is the view behind login_required?"
    return stored_id(login_id)


def login_session_id() -> str | None:
    """The id of the request's login session while it is live (its user is logged in), else None."""
    if current_user() is None:
        return None
    login_id: str = session[_LOGIN_ID]
    return login_id


def login_required(
    view: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[T | ResponseReturnValue]]:
    """Redirect anonymous users to the login page."""

    @functools.wraps(view)
    async def wrapped_view(*args: P.args, **kwargs: P.kwargs) -> T | ResponseReturnValue:
        if current_user() is None:
            return redirect(url_for("auth.login"))
        return await view(*args, **kwargs)

    return wrapped_view


async def load_logged_in_user() -> None:
    """Find the user of the request's live login session, if any."""
    user = None
    context = request_context()
    # A file served alike to everyone: no query, and the session untouched.
    if not is_public_view(context):
        # Quart opens the session (a null one at worst) before any hook runs.
        assert context.session is not None
        login_id = context.session.get(_LOGIN_ID)
        # Only what log_in stores (a string) is looked up: a cookie signed with
        # this key that holds anything else is nobody's login.
        if isinstance(login_id, str):
            login = await _live_login(login_id)
            if login is not None:
                user = login.user
                recorded_next = await _record_use(login_id, login.last_seen)
                # The fast path's answer lasts until the login ends or its use
                # is to be recorded again.
                until = min(login.expires, recorded_next).timestamp()
                expiry.note(context.request.scope, until)
    setattr(g, _USER, user)


async def _live_login(login_id: str) -> users.Login | None:
    """The login session, if live: as found before if nothing was written since."""
    database = get_db()
    known = get_known_logins()
    # Read first: a write between this and the query leaves the login
    # kept under the older version, which the next request finds stale.
    data_version = await request_data_version()
    login = known.get(login_id, data_version)
    if login is None:
        login = await users.select_login(database, stored_id(login_id))
        if login is not None:
            known.put(login_id, data_version, login)
    return login


async def _record_use(login_id: str, last_seen: datetime | None) -> datetime:
    """Record that a login session is in use, when what is recorded is older than
    LAST_SEEN_SECONDS (or half the login's lifetime, if shorter), and move its end on.

    The sessions page shows it; writing it at most every few minutes per
    session, not at every request, keeps reading pages free of writes. A login
    lasts PERMANENT_SESSION_LIFETIME after it was last recorded in use, so
    after the reader's last page, give or take that interval.

    :return: when its use is to be recorded next (now, when it was just recorded)
    """
    lifetime = current_app.permanent_session_lifetime
    interval = min(timedelta(seconds=current_app.config["LAST_SEEN_SECONDS"]), lifetime / 2)
    now = datetime.now(UTC)
    if last_seen is None or now - last_seen >= interval:
        await sessions.touch_login_session(get_db(), stored_id(login_id), now + lifetime)
        return now
    return last_seen + interval


async def start_login_session(user: User, new_hash: str | None = None) -> bool:
    """Record a login server-side and give the browser a fresh session for it.

    Only while ``user``'s password is still the one just checked (see
    ``users.insert_login_session``): False, and the session left as it was, when
    it changed meanwhile. ``new_hash`` replaces it (the same password, hashed
    with a stronger method).
    """
    login_id = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + current_app.permanent_session_lifetime
    # No server passes NUL on, and PostgreSQL's text cannot hold it.
    user_agent = request.headers.get("User-Agent", "").replace("\x00", "")[:USER_AGENT_MAX]
    started = await users.insert_login_session(
        get_db(),
        stored_id(login_id),
        user.id,
        expires,
        user_agent,
        checked_hash=user.password,
        new_hash=new_hash,
    )
    if not started:
        return False
    # Nothing set before login (including a session planted by someone
    # else) carries over into the logged-in session.
    session.clear()
    session.permanent = True
    session[_LOGIN_ID] = login_id
    return True


async def end_other_login_sessions(user_id: int) -> int | None:
    """End every login session of the user but the request's own, which is renewed (see
    ``sessions.keep_only``); how many ended, or None when the request's own had ended
    meanwhile (nothing is done, and the browser is logged out)."""
    renewal = _renewal()
    try:
        ended = await sessions.delete_other_sessions(get_db(), user_id, _stored(renewal))
    except sessions.SessionEndedError:
        session.clear()
        return None
    _renewed(renewal)
    return ended


async def change_password(user_id: int, password_hash: str) -> bool:
    """Store the user's new password hash, ending their other login sessions and renewing
    the request's own: a copy of its cookie stops working too. False, and nothing
    changed, when the request's own session had ended meanwhile (from another
    browser, by a reset or a suspension): the browser is logged out."""
    renewal = _renewal()
    try:
        await accounts.change_password(get_db(), user_id, password_hash, _stored(renewal))
    except sessions.SessionEndedError:
        session.clear()
        return False
    _renewed(renewal)
    return True


def _renewal() -> sessions.Renewal:
    """The request's login session id and the new one it is to take.

    The new id is made from the old one with the secret key (HMAC-SHA256), not
    drawn at random: a form sent twice at once renews the session once, and
    both answers give the browser that one id, whichever it keeps. Without the
    key, a copy of the old id says nothing of the new.
    """
    login_id = login_session_id()
    assert login_id is not None  # Only logged-in users' views end sessions.
    key = current_app.secret_key
    digest = hmac.digest(
        key if isinstance(key, bytes) else str(key).encode(),
        b"login session renewed: " + login_id.encode(),
        "sha256",
    )
    return login_id, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _stored(renewal: sessions.Renewal) -> sessions.Renewal:
    """The ids of a renewal as the database keeps them."""
    return stored_id(renewal[0]), stored_id(renewal[1])


def _renewed(renewal: sessions.Renewal) -> None:
    """Give the browser its login session's new id, once stored."""
    session[_LOGIN_ID] = renewal[1]


async def end_login_session() -> None:
    """End the login session, server-side too, so a copied cookie stops working."""
    login_id = session.get(_LOGIN_ID)
    if isinstance(login_id, str):
        await users.delete_login_session(get_db(), stored_id(login_id))
    session.clear()


def init_app(app: Quart) -> None:
    """Load each request's user before its view runs; templates see it as ``current_user``."""
    app.extensions[_EXTENSION] = KnownLogins(KNOWN_LOGINS)
    app.before_request(load_logged_in_user)

    @app.context_processor
    async def user_for_templates() -> dict[str, User | None]:
        return {"current_user": current_user()}
