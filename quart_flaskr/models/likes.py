"""Likes: a user likes a post at most once; ``post.like_count`` follows by trigger."""

from __future__ import annotations

from quart_flaskr.db import Database
from quart_flaskr.models.posts import POST_SHOWN


async def like_post(db: Database, post_id: int, user_id: int) -> bool:
    """Record that a user likes a post (again is no change); False if there is no such post."""
    async with db.transaction() as tx:
        if await tx.fetch_one(POST_SHOWN, (post_id,)) is None:
            return False
        await tx.execute(
            "INSERT INTO post_like (post_id, user_id) VALUES (?, ?)"
            " ON CONFLICT (post_id, user_id) DO NOTHING",
            (post_id, user_id),
        )
        return True


async def unlike_post(db: Database, post_id: int, user_id: int) -> None:
    """Take back a user's like of a post, if there was one."""
    async with db.transaction() as tx:
        await tx.execute(
            "DELETE FROM post_like WHERE post_id = ? AND user_id = ?", (post_id, user_id)
        )
