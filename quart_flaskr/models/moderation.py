"""Moderators, suspended accounts, and the log of every moderation action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from quart_flaskr.db import Database
from quart_flaskr.db import Transaction
from quart_flaskr.models import parse_timestamp
from quart_flaskr.models import posts

#: The actions the log records, as stored.
DELETE_POST = "delete-post"
DELETE_COMMENT = "delete-comment"
SUSPEND = "suspend"
RESTORE = "restore"

#: How much of a comment the log keeps to say which it was.
SUBJECT_MAX = 80


@dataclass(frozen=True, slots=True)
class LogEntry:
    moderator: str
    action: str
    subject: str
    created: datetime


@dataclass(frozen=True, slots=True)
class SuspendedUser:
    id: int
    username: str
    suspended: datetime


async def set_moderator(db: Database, username: str, moderator: bool) -> bool:
    """Make the user of exactly this name a moderator, or take it back; whether there is one."""
    async with db.transaction() as tx:
        changed = await tx.execute(
            'UPDATE "user" SET moderator = ? WHERE username = ?', (int(moderator), username)
        )
    return changed > 0


async def _log(tx: Transaction, moderator: str, action: str, subject: str) -> None:
    await tx.execute(
        "INSERT INTO moderation_log (moderator, action, subject) VALUES (?, ?, ?)",
        (moderator, action, subject),
    )


async def delete_post(db: Database, moderator: str, post_id: int) -> bool:
    """Delete any post (with its image, comments and likes) and log it; whether there was one."""
    async with db.transaction() as tx:
        row = await tx.fetch_one(
            'SELECT post.title, "user".username FROM post JOIN "user" ON "user".id = author_id'
            " WHERE post.id = ?",
            (post_id,),
        )
        if row is None:
            return False
        await posts.delete_post_in(tx, post_id)
        await _log(tx, moderator, DELETE_POST, f"{row['title']} ({row['username']})")
    return True


async def delete_comment(db: Database, moderator: str, comment_id: int) -> int | None:
    """Delete any comment and log it; the post it was on, or None if there was no such comment."""
    async with db.transaction() as tx:
        row = await tx.fetch_one(
            'DELETE FROM comment WHERE id = ? RETURNING post_id, body, (SELECT username FROM "user"'
            ' WHERE "user".id = author_id) AS username',
            (comment_id,),
        )
        if row is None:
            return None
        body = " ".join(row["body"].split())
        if len(body) > SUBJECT_MAX:
            body = body[: SUBJECT_MAX - 1] + "…"
        await _log(tx, moderator, DELETE_COMMENT, f"{body} ({row['username']})")
        return int(row["post_id"])


async def suspend_user(db: Database, moderator: str, user_id: int) -> bool:
    """Suspend a user, ending their sessions, and log it; whether there was one to suspend."""
    async with db.transaction() as tx:
        row = await tx.fetch_one(
            'UPDATE "user" SET suspended = CURRENT_TIMESTAMP WHERE id = ? AND suspended IS NULL'
            " RETURNING username",
            (user_id,),
        )
        if row is None:
            return False
        await tx.execute("DELETE FROM login_session WHERE user_id = ?", (user_id,))
        await _log(tx, moderator, SUSPEND, row["username"])
    return True


async def restore_user(db: Database, moderator: str, user_id: int) -> bool:
    """Restore a suspended user, their posts and comments shown again, and log it."""
    async with db.transaction() as tx:
        row = await tx.fetch_one(
            'UPDATE "user" SET suspended = NULL WHERE id = ? AND suspended IS NOT NULL'
            " RETURNING username",
            (user_id,),
        )
        if row is None:
            return False
        await _log(tx, moderator, RESTORE, row["username"])
    return True


async def select_suspended(db: Database) -> list[SuspendedUser]:
    """The suspended users, most recently suspended first."""
    rows = await db.fetch_all(
        'SELECT id, username, suspended FROM "user" WHERE suspended IS NOT NULL'
        " ORDER BY suspended DESC, id DESC"
    )
    return [
        SuspendedUser(row["id"], row["username"], parse_timestamp(row["suspended"])) for row in rows
    ]


async def select_log(db: Database, *, limit: int, offset: int = 0) -> list[LogEntry]:
    """A page of the moderation log, newest first."""
    rows = await db.fetch_all(
        "SELECT moderator, action, subject, created FROM moderation_log"
        " ORDER BY id DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [
        LogEntry(row["moderator"], row["action"], row["subject"], parse_timestamp(row["created"]))
        for row in rows
    ]
