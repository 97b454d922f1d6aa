"""Rate limits: logging in and registering per client address, writing per logged-in user.

The limits' state lives in the database, so every worker process (and every
Hypercorn process behind the same proxy) counts the same attempts.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from math import ceil
from typing import cast
from typing import Literal
from typing import ParamSpec
from typing import TypeVar

from quart import current_app
from quart import g
from quart import Quart
from quart import request
from quart import Response
from quart import ResponseReturnValue
from quart_rate_limiter import rate_limit
from quart_rate_limiter import RateLimiter
from quart_rate_limiter import RateLimitExceeded
from quart_rate_limiter.store import RateLimiterStoreABC
from werkzeug.exceptions import TooManyRequests

from quart_flaskr import errors
from quart_flaskr.db import Database
from quart_flaskr.db import DatabaseUnavailableError
from quart_flaskr.db import get_db
from quart_flaskr.errors import render_error
from quart_flaskr.login import logged_in_user
from quart_flaskr.models import rate_limits

F = TypeVar("F", bound=Callable[..., object])
P = ParamSpec("P")
T = TypeVar("T")

#: What each per-user write limit counts; ``<KIND>_PER_MINUTE`` in the config sets it.
WriteKind = Literal["posts", "edits", "comments", "likes", "deletes"]
#: How a refusal names each kind to the user.
WRITE_NOUNS: dict[WriteKind, str] = {
    "posts": "new posts",
    "edits": "edits",
    "comments": "comments",
    "likes": "likes and unlikes",
    "deletes": "deletions",
}
WRITE_PERIOD = timedelta(minutes=1)
_WRITE_LOCK = "quart_flaskr.write_limits_lock"
#: Set on ``g`` once the response is made, before the limiter adds its headers.
_FINISHING = "quart_flaskr_rate_limit_headers"


class DatabaseStore(RateLimiterStoreABC):
    """Keeps each client's theoretical arrival time in the ``rate_limit`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def before_serving(self) -> None:
        pass

    async def get(self, key: str, default: datetime) -> datetime:
        if g.get(_FINISHING) and errors.database_was_unavailable():
            # The 503 page's RateLimit headers: no second wait for the database.
            return default
        try:
            return await rate_limits.select_tat(self._db, key) or default
        except DatabaseUnavailableError:
            if g.get(_FINISHING):
                # Only the RateLimit headers of a response made without the
                # database: sent without them rather than as a 500.
                return default
            raise

    async def set(self, key: str, tat: datetime) -> None:
        await rate_limits.upsert_tat(self._db, key, tat)

    async def after_serving(self) -> None:
        pass


def get_write_lock(app: Quart | None = None) -> asyncio.Lock:
    """The lock that makes counting a write one step in this process (see :func:`_count_write`)."""
    lock: asyncio.Lock = (current_app if app is None else app).extensions[_WRITE_LOCK]
    return lock


async def client_address() -> str:
    """The client's address as the server sees it.

    Hypercorn's ProxyFixMiddleware rewrites it from X-Forwarded-For only when
    PROXY_TRUSTED_HOPS says how many proxies to trust; the header itself is
    never read here, so clients cannot forge their way around a limit.
    """
    return request.remote_addr or "unknown"


async def reading_the_form() -> bool:
    """Only submitting a form counts against a limit; showing it does not."""
    return request.method != "POST"


def limit(count: int, period: timedelta) -> Callable[[F], F]:
    """At most ``count`` form submissions per ``period`` from one client address."""
    return cast(
        "Callable[[F], F]",
        rate_limit(count, period, key_function=client_address, skip_function=reading_the_form),
    )


def _seconds(count: int) -> str:
    """A wait as a refusal words it: "1 second", "6 seconds"."""
    return "1 second" if count == 1 else f"{count} seconds"


async def _count_write(kind: WriteKind) -> None:
    """Count one write of this kind by the logged-in user, or refuse it with a 429.

    The same GCRA as quart-rate-limiter's, over the same table: a burst of up
    to the limit is allowed, then one more write each ``WRITE_PERIOD`` / limit.

    :raise 429: when the user has used up the limit; nothing is counted then.
    """
    config = current_app.config
    allowed = config[f"{kind.upper()}_PER_MINUTE"]
    if not config["QUART_RATE_LIMITER_ENABLED"] or not allowed:
        return
    db = get_db()
    key = f"{current_app.import_name}-writes-{kind}-user-{logged_in_user().id}"
    interval = WRITE_PERIOD / allowed
    # Read and update as one step in this process: else many writes sent at
    # once by a script would all read the same arrival time, and all pass.
    async with get_write_lock():
        now = datetime.now(UTC)
        tat = max(await rate_limits.select_tat(db, key) or now, now)
        wait = tat - now - (WRITE_PERIOD - interval)
        if wait > timedelta(0):
            retry_after = ceil(wait.total_seconds())
            raise TooManyRequests(
                f"You have sent too many {WRITE_NOUNS[kind]}: at most {allowed} a minute."
                f" Nothing was saved. Wait {_seconds(retry_after)}, then go back and send it"
                " again.",
                retry_after=retry_after,
            )
        await rate_limits.upsert_tat(db, key, tat + interval)


def limit_writes(
    kind: WriteKind,
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """At most ``<KIND>_PER_MINUTE`` submissions of this kind a minute per logged-in user.

    Goes below ``login_required``, so that the user is known and anonymous
    requests never count; refused submissions never reach the view.
    """

    def decorator(view: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(view)
        async def wrapped_view(*args: P.args, **kwargs: P.kwargs) -> T:
            if not await reading_the_form():
                await _count_write(kind)
            return await view(*args, **kwargs)

        return wrapped_view

    return decorator


async def too_many_attempts(error: RateLimitExceeded) -> ResponseReturnValue:
    """The login and register limits' 429, with one Retry-After header.

    quart-rate-limiter's RateLimitExceeded appends a Retry-After header to
    those of Werkzeug's TooManyRequests, which since Werkzeug 1.0 sends one
    itself from the same ``retry_after`` attribute: the response had it twice.
    Werkzeug's own exception, given the wait, sends it once.
    """
    # quart-rate-limiter always gives whole seconds.
    retry_after = cast(int, error.retry_after)
    return await render_error(
        TooManyRequests(
            f"Too many attempts from your address. Wait {_seconds(retry_after)}, then try again.",
            retry_after=retry_after,
        )
    )


def init_app(app: Quart, db: Database) -> None:
    """Enforce the limits (QUART_RATE_LIMITER_ENABLED switches them all off)."""
    RateLimiter(app, key_function=client_address, store=DatabaseStore(db))

    @app.after_request
    async def finishing(response: Response) -> Response:
        # Registered after the limiter's, so it runs before it: what the
        # limiter reads from here on only adds headers to a finished response.
        setattr(g, _FINISHING, True)
        return response

    app.extensions[_WRITE_LOCK] = asyncio.Lock()
    app.register_error_handler(RateLimitExceeded, too_many_attempts)
