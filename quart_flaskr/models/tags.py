"""Tags: names given to posts. A tag exists while at least one post carries it."""

from __future__ import annotations

from collections.abc import Sequence

from quart_flaskr.db import Database
from quart_flaskr.db import Transaction


async def is_tag_shown(db: Database, name: str) -> bool:
    """Whether a post readers are shown carries the tag: one whose author is not suspended."""
    row = await db.fetch_one(
        "SELECT 1 FROM tag JOIN post_tag ON post_tag.tag_id = tag.id"
        " JOIN post ON post.id = post_tag.post_id"
        ' JOIN "user" ON "user".id = post.author_id'
        ' WHERE tag.name = ? AND "user".suspended IS NULL LIMIT 1',
        (name,),
    )
    return row is not None


def joined_names(names: Sequence[str]) -> str | None:
    """A post's ``tag_names``: its tags' names joined by commas, None for no tags.

    No tag name holds a comma (see ``blog.parse_tags``).
    """
    return ",".join(dict.fromkeys(names)) or None


async def set_post_tags(tx: Transaction, post_id: int, names: Sequence[str]) -> None:
    """Give a post exactly these tags, within the caller's transaction.

    Only the differences are written; a tag no post carries any more is
    deleted by the ``tag_unused`` trigger. The post's ``tag_names``
    (:func:`joined_names`) is the caller's to write, with the post itself.
    """
    rows = await tx.fetch_all(
        "SELECT tag.id, tag.name FROM post_tag JOIN tag ON tag.id = post_tag.tag_id"
        " WHERE post_tag.post_id = ?",
        (post_id,),
    )
    current = {row["name"]: row["id"] for row in rows}
    removed = [(post_id, tag_id) for name, tag_id in current.items() if name not in names]
    if removed:
        await tx.execute_many("DELETE FROM post_tag WHERE post_id = ? AND tag_id = ?", removed)
    added = [name for name in dict.fromkeys(names) if name not in current]
    if added:
        await tx.execute_many(
            "INSERT INTO tag (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
            [(name,) for name in added],
        )
        await tx.execute_many(
            "INSERT INTO post_tag (post_id, tag_id, created) SELECT post.id, tag.id, post.created"
            " FROM post, tag WHERE post.id = ? AND tag.name = ?",
            [(post_id, name) for name in added],
        )
