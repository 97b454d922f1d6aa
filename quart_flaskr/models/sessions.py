"""A user's login sessions as the sessions page shows them: listed, ended, and their last use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from quart_flaskr.db import Database
from quart_flaskr.db import Transaction
from quart_flaskr.models import format_timestamp
from quart_flaskr.models import parse_timestamp


@dataclass(frozen=True, slots=True)
class LoginSession:
    id: str
    created: datetime
    #: When it was last recorded in use (at most every few minutes); None if never.
    last_seen: datetime | None
    user_agent: str


async def select_login_sessions(db: Database, user_id: int) -> list[LoginSession]:
    """A user's live login sessions, the most recently used first."""
    rows = await db.fetch_all(
        "SELECT id, created, last_seen, user_agent FROM login_session"
        " WHERE user_id = ? AND expires > CURRENT_TIMESTAMP"
        " ORDER BY coalesce(last_seen, created) DESC, created DESC, id",
        (user_id,),
    )
    return [
        LoginSession(
            id=row["id"],
            created=parse_timestamp(row["created"]),
            last_seen=None if row["last_seen"] is None else parse_timestamp(row["last_seen"]),
            user_agent=row["user_agent"],
        )
        for row in rows
    ]


async def touch_login_session(db: Database, session_id: str, expires: datetime) -> None:
    """Record that a login session is in use now, and that it lasts until ``expires``."""
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE login_session SET last_seen = CURRENT_TIMESTAMP, expires = ? WHERE id = ?",
            (format_timestamp(expires), session_id),
        )


async def delete_user_session(db: Database, user_id: int, session_id: str) -> bool:
    """End one of a user's login sessions; whether it was theirs and live."""
    async with db.transaction() as tx:
        changed = await tx.execute(
            "DELETE FROM login_session WHERE id = ? AND user_id = ?", (session_id, user_id)
        )
    return changed > 0


class SessionEndedError(Exception):
    """The login session a request was made in ended before its write (see ``keep_only``):
    the write is undone, and the request is that of someone logged out."""


#: A login session that stays while its user's others end: its id, and the new id it takes
#: (the same for the same id: see ``login._renewal``).
Renewal = tuple[str, str]


async def delete_other_sessions(db: Database, user_id: int, renew: Renewal | None) -> int:
    """End every login session of a user but ``renew``'s, which takes its new id (None ends
    all); how many ended."""
    async with db.transaction() as tx:
        return await keep_only(tx, user_id, renew)


async def keep_only(tx: Transaction, user_id: int, renew: Renewal | None) -> int:
    """End every login session of a user but ``renew``'s (None ends all), within the caller's
    transaction; how many ended.

    The one that stays takes a new id, with its start and browser: a copy of its
    cookie taken before (what ending the others is done against) is no one's now.
    Renewed already (the same form sent twice, the first committed), it has
    its new id: that one stays.

    :raise SessionEndedError: the session is gone (ended from elsewhere since the
        request found it live): the caller's transaction is undone with it
    """
    if renew is None:
        return await tx.execute("DELETE FROM login_session WHERE user_id = ?", (user_id,))
    kept, new_id = renew
    renewed = await tx.execute(
        "UPDATE login_session SET id = ? WHERE id = ? AND user_id = ?", (new_id, kept, user_id)
    )
    if not renewed:
        # Renewed already (kept under its new id), or ended meanwhile (from another
        # browser, by a reset or a suspension): then what the request was to do is
        # no longer this browser's to do.
        found = await tx.fetch_one(
            "SELECT 1 FROM login_session WHERE id = ? AND user_id = ?", (new_id, user_id)
        )
        if found is None:
            raise SessionEndedError(kept)
    return await tx.execute(
        "DELETE FROM login_session WHERE user_id = ? AND id <> ?", (user_id, new_id)
    )
