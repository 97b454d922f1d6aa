"""Rate limits on logging in and registering, per client address.

The limits' state lives in the database, so every worker process (and every
Hypercorn process behind the same proxy) counts the same attempts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from typing import cast
from typing import TypeVar

from quart import Quart
from quart import request
from quart_rate_limiter import rate_limit
from quart_rate_limiter import RateLimiter
from quart_rate_limiter.store import RateLimiterStoreABC

from quart_flaskr.db import Database
from quart_flaskr.models import rate_limits

F = TypeVar("F", bound=Callable[..., object])


class DatabaseStore(RateLimiterStoreABC):
    """Keeps each client's theoretical arrival time in the ``rate_limit`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def before_serving(self) -> None:
        pass

    async def get(self, key: str, default: datetime) -> datetime:
        return await rate_limits.select_tat(self._db, key) or default

    async def set(self, key: str, tat: datetime) -> None:
        await rate_limits.upsert_tat(self._db, key, tat)

    async def after_serving(self) -> None:
        pass


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


def init_app(app: Quart, db: Database) -> None:
    """Enforce the limits (QUART_RATE_LIMITER_ENABLED switches them off)."""
    RateLimiter(app, key_function=client_address, store=DatabaseStore(db))
