"""Typed queries: the only place that speaks SQL. Each function takes the database it works on."""

from __future__ import annotations

from datetime import datetime
from datetime import UTC

#: The ids of the suspended users, whose posts, comments, likes and pictures count and show
#: for nothing until they are restored: few, read once a query where a query asks.
SUSPENDED_USERS = 'SELECT id FROM "user" WHERE suspended IS NOT NULL'


def parse_timestamp(value: str | datetime) -> datetime:
    """Read a stored timestamp (UTC, no zone) as an aware datetime.

    SQLite holds text as its ``CURRENT_TIMESTAMP`` writes it; PostgreSQL a
    ``timestamp``, which its driver reads as a datetime.
    """
    if isinstance(value, str):
        # Parsed with its zone: a fifth of the time of replacing it after (a listing reads 51).
        return datetime.fromisoformat(value + "+00:00")
    return value.replace(tzinfo=UTC)


def format_timestamp(value: datetime) -> str:
    """Write a datetime in UTC the way SQLite's ``CURRENT_TIMESTAMP`` does, plus microseconds.

    Text in this form compares with ``CURRENT_TIMESTAMP`` in time order.
    """
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
