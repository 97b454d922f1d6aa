"""What people do with their own accounts: profiles, new passwords, reset links, deleting it all."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from quart_flaskr.db import Database
from quart_flaskr.models import format_timestamp
from quart_flaskr.models import images as image_queries
from quart_flaskr.models import sessions
from quart_flaskr.models.users import select_account_by_name
from quart_flaskr.models.users import User
from quart_flaskr.models.users import USER_COLUMNS
from quart_flaskr.models.users import user_from_row


@dataclass(frozen=True, slots=True)
class Profile:
    user: User
    post_count: int


async def select_profile(db: Database, username: str) -> Profile | None:
    """The profile of the user a name means (as logging in compares it); None if suspended."""
    found = await select_account_by_name(db, username)
    if found is None or found[1]:
        return None
    user = found[0]
    row = await db.fetch_one("SELECT count(*) FROM post WHERE author_id = ?", (user.id,))
    assert row is not None  # An aggregate has its one row.
    return Profile(user, int(row[0]))


async def change_password(
    db: Database, user_id: int, password_hash: str, renew: sessions.Renewal | None
) -> None:
    """Store a new password hash and end every login session of the user but ``renew``'s,
    which takes its new id (see ``sessions.keep_only``).

    In one transaction: no session made with the old password outlives it.
    """
    async with db.transaction() as tx:
        await tx.execute('UPDATE "user" SET password = ? WHERE id = ?', (password_hash, user_id))
        await sessions.keep_only(tx, user_id, renew)


def token_hash(token: str) -> str:
    """What is stored of a reset link's token: its SHA-256 (the token is random, 256 bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


async def insert_password_reset(db: Database, user_id: int, token: str, expires: datetime) -> None:
    """Record a reset link's token, by its hash; the user's older links, and expired ones, end."""
    async with db.transaction() as tx:
        await tx.execute(
            "DELETE FROM password_reset WHERE user_id = ? OR expires <= CURRENT_TIMESTAMP",
            (user_id,),
        )
        await tx.execute(
            "INSERT INTO password_reset (token_hash, user_id, expires) VALUES (?, ?, ?)",
            (token_hash(token), user_id, format_timestamp(expires)),
        )


async def select_password_reset(db: Database, token: str) -> User | None:
    """The user a live (unused, unexpired) reset link is for."""
    row = await db.fetch_one(
        f'SELECT {USER_COLUMNS} FROM password_reset JOIN "user" ON "user".id = user_id'  # noqa: S608
        " WHERE token_hash = ? AND expires > CURRENT_TIMESTAMP",
        (token_hash(token),),
    )
    return None if row is None else user_from_row(row)


async def use_password_reset(db: Database, token: str, password_hash: str) -> bool:
    """Set the password a live reset link is for and end all the user's sessions, once.

    :return: whether the link was live (used, it is deleted in the same transaction)
    """
    async with db.transaction() as tx:
        row = await tx.fetch_one(
            "DELETE FROM password_reset WHERE token_hash = ? AND expires > CURRENT_TIMESTAMP"
            " RETURNING user_id",
            (token_hash(token),),
        )
        if row is None:
            return False
        user_id = row["user_id"]
        await tx.execute('UPDATE "user" SET password = ? WHERE id = ?', (password_hash, user_id))
        await tx.execute("DELETE FROM login_session WHERE user_id = ?", (user_id,))
    return True


async def delete_account(db: Database, user_id: int) -> None:
    """Delete a user and everything theirs, in one transaction.

    Their posts go with their images, comments, likes and tags (a tag no
    post carries any more goes with its last post); their comments and likes
    on other posts, login sessions and reset links go by the foreign keys.
    The name is then free for a new account.
    """
    async with db.transaction() as tx:
        rows = await tx.fetch_all(
            "DELETE FROM post WHERE author_id = ? RETURNING image", (user_id,)
        )
        for row in rows:
            if row["image"] is not None:
                await image_queries.delete_image(tx, row["image"])
        await tx.execute('DELETE FROM "user" WHERE id = ?', (user_id,))
