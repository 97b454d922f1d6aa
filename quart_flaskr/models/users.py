"""Users and their login sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from quart_flaskr.db import Database
from quart_flaskr.models import format_timestamp


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    password: str


def _user(row: aiosqlite.Row) -> User:
    return User(id=row["id"], username=row["username"], password=row["password"])


async def select_user_by_name(db: Database, username: str) -> User | None:
    row = await db.fetch_one(
        "SELECT id, username, password FROM user WHERE username = ?", (username,)
    )
    return None if row is None else _user(row)


async def insert_user(db: Database, username: str, password_hash: str) -> int | None:
    """Create a user; return its id, or None when the name is taken."""
    async with db.transaction() as tx:
        if await tx.fetch_one("SELECT 1 FROM user WHERE username = ?", (username,)):
            return None
        return await tx.insert(
            "INSERT INTO user (username, password) VALUES (?, ?)",
            (username, password_hash),
        )


async def update_password(db: Database, user_id: int, password_hash: str) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE user SET password = ? WHERE id = ?", (password_hash, user_id))


async def insert_login_session(
    db: Database, session_id: str, user_id: int, expires: datetime
) -> None:
    """Record a login; expired sessions are swept out at the same time."""
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM login_session WHERE expires <= CURRENT_TIMESTAMP")
        await tx.execute(
            "INSERT INTO login_session (id, user_id, expires) VALUES (?, ?, ?)",
            (session_id, user_id, format_timestamp(expires)),
        )


async def select_session_user(db: Database, session_id: str) -> User | None:
    """The user a live (not logged out, not expired) session belongs to."""
    row = await db.fetch_one(
        "SELECT user.id, user.username, user.password"
        " FROM login_session JOIN user ON user.id = login_session.user_id"
        " WHERE login_session.id = ? AND login_session.expires > CURRENT_TIMESTAMP",
        (session_id,),
    )
    return None if row is None else _user(row)


async def delete_login_session(db: Database, session_id: str) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM login_session WHERE id = ?", (session_id,))
