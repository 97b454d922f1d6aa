"""Blog posts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from quart_flaskr.db import Database
from quart_flaskr.models import parse_timestamp


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    title: str
    body: str
    created: datetime
    author_id: int
    username: str


_SELECT_POST = (
    "SELECT post.id, title, body, created, author_id, username"
    " FROM post JOIN user ON post.author_id = user.id"
)


def _post(row: aiosqlite.Row) -> Post:
    return Post(
        id=row["id"],
        title=row["title"],
        body=row["body"],
        created=parse_timestamp(row["created"]),
        author_id=row["author_id"],
        username=row["username"],
    )


async def select_posts(db: Database) -> list[Post]:
    """All posts, newest first."""
    rows = await db.fetch_all(_SELECT_POST + " ORDER BY created DESC, post.id DESC")
    return [_post(row) for row in rows]


async def select_post(db: Database, post_id: int) -> Post | None:
    row = await db.fetch_one(_SELECT_POST + " WHERE post.id = ?", (post_id,))
    return None if row is None else _post(row)


async def insert_post(db: Database, author_id: int, title: str, body: str) -> int:
    async with db.transaction() as tx:
        return await tx.insert(
            "INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)",
            (title, body, author_id),
        )


async def update_post(db: Database, post_id: int, title: str, body: str) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE post SET title = ?, body = ? WHERE id = ?", (title, body, post_id))


async def delete_post(db: Database, post_id: int) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM post WHERE id = ?", (post_id,))
