"""Rate limits: logging in and registering per client address, writing per logged-in user;
and how many writes a process handles at once.

Each rate limit is a GCRA (the generic cell rate algorithm): up to the limit at
once, then one more each period / limit. The state lives in the database, and
each attempt is counted in one write transaction, which holds the database's
write lock on either backend: attempts arriving together at any processes of
any hosts are counted one after the other, so limit + 1 of them get a 429.

A process handles at most ``WRITES_AT_ONCE`` of its authors' submitted writes
(the views under ``limit_writes``: posts, edits, comments, likes and deletions)
at a time; the next ones wait their turn, in order, once their whole request
has arrived and before their count and their view. Readers' requests never
wait for one: during a burst of writes, at most that many writes are past the
turns at once, instead of every writer that is waiting (when a group of writes
commits, each of its writers goes on before the event loop comes back to a
reader's request).
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
from typing import Literal
from typing import ParamSpec
from typing import TypeVar

from quart import current_app
from quart import Quart
from quart import request
from werkzeug.exceptions import TooManyRequests

from quart_flaskr.db import get_db
from quart_flaskr.i18n import gettext
from quart_flaskr.i18n import N_
from quart_flaskr.i18n import ngettext
from quart_flaskr.login import logged_in_user
from quart_flaskr.models import rate_limits

P = ParamSpec("P")
T = TypeVar("T")

#: What each per-user write limit counts; ``<KIND>_PER_MINUTE`` in the config sets it.
WriteKind = Literal["posts", "edits", "comments", "likes", "deletes"]
#: How a refusal names each kind to the user.
WRITE_REFUSALS: dict[WriteKind, str] = {
    "posts": N_("You have sent too many new posts: at most %(count)d a minute."),
    "edits": N_("You have sent too many edits: at most %(count)d a minute."),
    "comments": N_("You have sent too many comments: at most %(count)d a minute."),
    "likes": N_("You have sent too many likes and unlikes: at most %(count)d a minute."),
    "deletes": N_("You have sent too many deletions: at most %(count)d a minute."),
}
WRITE_PERIOD = timedelta(minutes=1)
#: Where an app keeps the semaphore its writes take turns with.
_WRITES_AT_ONCE = "quart_flaskr.writes_at_once"


def init_app(app: Quart) -> None:
    """Give ``app`` its turns for writes: ``WRITES_AT_ONCE`` of them, a whole number above 0."""
    at_once = app.config["WRITES_AT_ONCE"]
    if isinstance(at_once, bool) or not isinstance(at_once, int) or at_once < 1:
        raise ValueError(f"WRITES_AT_ONCE must be a whole number above 0, not {at_once!r}")
    app.extensions[_WRITES_AT_ONCE] = asyncio.Semaphore(at_once)


def client_address() -> str:
    """The address limits count by: the connecting client, or what a trusted proxy says.

    ``proxies.TrustedProxies`` sets it from X-Forwarded-For only when
    PROXY_TRUSTED_HOPS says how many proxies to trust, taking the address the
    nearest of them saw; the header itself is never read here, so clients
    cannot forge their way around a limit.
    """
    return request.remote_addr or "unknown"


async def reading_the_form() -> bool:
    """Only submitting a form counts against a limit; showing it does not."""
    return request.method != "POST"


async def count_attempt(key: str, count: int, period: timedelta) -> int:
    """Count one attempt against ``count`` per ``period``: 0 if allowed, else seconds to wait.

    A refused attempt is not counted.
    """
    interval = period / count
    now = datetime.now(UTC)
    wait = timedelta(0)

    def admit(stored: datetime | None) -> datetime | None:
        nonlocal wait
        tat = max(stored or now, now)
        wait = tat - now - (period - interval)
        return None if wait > timedelta(0) else tat + interval

    await rate_limits.count_attempt(get_db(), key, admit)
    return ceil(wait.total_seconds()) if wait > timedelta(0) else 0


def _limited(
    counts: Callable[[], Awaitable[None]],
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """A view decorator that runs ``counts`` for each submitted form (it raises to refuse one)."""

    def decorator(view: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(view)
        async def wrapped_view(*args: P.args, **kwargs: P.kwargs) -> T:
            if current_app.config["QUART_RATE_LIMITER_ENABLED"] and not await reading_the_form():
                await counts()
            return await view(*args, **kwargs)

        return wrapped_view

    return decorator


def limit(
    count: int, period: timedelta
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """At most ``count`` form submissions per ``period`` from one client address.

    :raise 429: past the limit; the view does not run.
    """

    async def counts() -> None:
        key = f"{current_app.import_name}-{request.endpoint}-{client_address()}"
        retry_after = await count_attempt(key, count, period)
        if retry_after:
            raise TooManyRequests(
                gettext("Too many attempts from your address.")
                + " "
                + ngettext(
                    "Wait %(num)d second, then try again.",
                    "Wait %(num)d seconds, then try again.",
                    retry_after,
                ),
                retry_after=retry_after,
            )

    return _limited(counts)


def limit_writes(
    kind: WriteKind,
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """At most ``<KIND>_PER_MINUTE`` submissions of this kind a minute per logged-in user.

    Goes below ``login_required``, so that the user is known and anonymous
    requests never count; refused submissions never reach the view. A
    submission takes its turn (``WRITES_AT_ONCE``) first, once its body has
    arrived: a client sending one slowly holds no turn.

    :raise 429: past the limit; nothing is saved.
    """

    async def counts() -> None:
        allowed = current_app.config[f"{kind.upper()}_PER_MINUTE"]
        if not allowed:
            return
        key = f"{current_app.import_name}-writes-{kind}-user-{logged_in_user().id}"
        retry_after = await count_attempt(key, allowed, WRITE_PERIOD)
        if retry_after:
            raise TooManyRequests(
                gettext(WRITE_REFUSALS[kind], count=allowed)
                + " "
                + ngettext(
                    "Nothing was saved. Wait %(num)d second, then go back and send it again.",
                    "Nothing was saved. Wait %(num)d seconds, then go back and send it again.",
                    retry_after,
                ),
                retry_after=retry_after,
            )

    limited = _limited(counts)

    def decorator(view: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        counted = limited(view)

        @functools.wraps(view)
        async def wrapped_view(*args: P.args, **kwargs: P.kwargs) -> T:
            if await reading_the_form():
                return await counted(*args, **kwargs)
            # The whole form before a turn (the CSRF check reads it only when
            # the token is not in a header; the views read nothing else), and
            # the turn before the count, which is a write too.
            await request.form
            async with current_app.extensions[_WRITES_AT_ONCE]:
                return await counted(*args, **kwargs)

        return wrapped_view

    return decorator
