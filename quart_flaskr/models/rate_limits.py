"""Rate-limit state: one theoretical arrival time per client and route."""

from __future__ import annotations

from datetime import datetime

from quart_flaskr.db import Database
from quart_flaskr.models import format_timestamp
from quart_flaskr.models import parse_timestamp


async def select_tat(db: Database, key: str) -> datetime | None:
    row = await db.fetch_one("SELECT tat FROM rate_limit WHERE key = ?", (key,))
    return None if row is None else parse_timestamp(row[0])


async def upsert_tat(db: Database, key: str, tat: datetime) -> None:
    """Store a client's arrival time; entries already in the past are swept out."""
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM rate_limit WHERE tat < CURRENT_TIMESTAMP")
        await tx.execute(
            "INSERT INTO rate_limit (key, tat) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET tat = excluded.tat",
            (key, format_timestamp(tat)),
        )
