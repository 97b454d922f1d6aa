"""Rate-limit state: one theoretical arrival time per client and route."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from quart_flaskr.db import Database
from quart_flaskr.models import format_timestamp
from quart_flaskr.models import parse_timestamp


async def select_tat(db: Database, key: str) -> datetime | None:
    row = await db.fetch_one("SELECT tat FROM rate_limit WHERE key = ?", (key,))
    return None if row is None else parse_timestamp(row[0])


async def count_attempt(
    db: Database, key: str, admit: Callable[[datetime | None], datetime | None]
) -> bool:
    """Store what ``admit`` makes of a client's stored arrival time (None: none yet).

    Read and written in one write transaction, which the database gives to one
    caller at a time across every process and host: attempts arriving together
    are counted one after the other. Entries already in the past are swept out.

    :param admit: the new arrival time to store, or None to refuse the attempt
    :return: whether the attempt was admitted (and stored)
    """
    async with db.transaction() as tx:
        row = await tx.fetch_one("SELECT tat FROM rate_limit WHERE key = ?", (key,))
        tat = admit(None if row is None else parse_timestamp(row[0]))
        if tat is None:
            return False
        await tx.execute("DELETE FROM rate_limit WHERE tat < CURRENT_TIMESTAMP")
        await tx.execute(
            "INSERT INTO rate_limit (key, tat) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET tat = excluded.tat",
            (key, format_timestamp(tat)),
        )
    return True
