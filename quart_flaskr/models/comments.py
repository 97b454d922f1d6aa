"""Comments on posts, oldest first; ``post.comment_count`` follows by trigger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from markupsafe import Markup

from quart_flaskr.db import Database
from quart_flaskr.db import Row
from quart_flaskr.models import parse_timestamp
from quart_flaskr.models.posts import POST_SHOWN


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    post_id: int
    author_id: int
    username: str
    created: datetime
    body: str
    #: The body as sanitised HTML, ready to show; None for a comment saved
    #: before its HTML was stored, until the data step after migrations stores it.
    html: Markup | None
    #: The author of the commented post, who may delete the comment too.
    post_author_id: int


_SELECT_COMMENT = (
    "SELECT comment.id, comment.post_id, comment.author_id, username, comment.created,"
    " comment.body, comment.body_html, post.author_id AS post_author_id"
    ' FROM comment JOIN "user" ON "user".id = comment.author_id'
    " JOIN post ON post.id = comment.post_id"
)


def _comment(row: Row) -> Comment:
    return Comment(
        id=row["id"],
        post_id=row["post_id"],
        author_id=row["author_id"],
        username=row["username"],
        created=parse_timestamp(row["created"]),
        body=row["body"],
        # body_html holds what the sanitiser returned when the comment was saved
        # (or at the data step after the migration that last changed the
        # renderer); the column is NOT NULL, so it is empty until then.
        html=Markup(row["body_html"]) if row["body_html"] else None,  # noqa: S704
        post_author_id=row["post_author_id"],
    )


# A post's comments shown to readers: those of suspended users are hidden.
_SHOWN_ON_POST = ' WHERE comment.post_id = ? AND "user".suspended IS NULL'


async def select_comments(db: Database, post_id: int, *, limit: int, offset: int) -> list[Comment]:
    """Comments ``offset`` to ``offset + limit`` of a post, newest last."""
    rows = await db.fetch_all(
        _SELECT_COMMENT + _SHOWN_ON_POST + " ORDER BY comment.id LIMIT ? OFFSET ?",
        (post_id, limit, offset),
    )
    return [_comment(row) for row in rows]


async def select_comment(db: Database, comment_id: int) -> Comment | None:
    row = await db.fetch_one(_SELECT_COMMENT + " WHERE comment.id = ?", (comment_id,))
    return None if row is None else _comment(row)


class NewComment(NamedTuple):
    """A comment just added."""

    id: int
    #: Where it is among the post's comments shown, counting from 1: the last,
    #: unless others were added meanwhile.
    position: int


# How many of a post's comments shown come up to a given one, itself included.
_POSITION = (
    'SELECT COUNT(*) FROM comment JOIN "user" ON "user".id = comment.author_id'  # noqa: S608
    + _SHOWN_ON_POST
    + " AND comment.id <= ?"
)


async def insert_comment(
    db: Database, post_id: int, author_id: int, body: str, *, html: Markup | None = None
) -> NewComment | None:
    """Add a comment; return it, or None if the post does not exist (any more).

    :param html: the body as sanitised HTML (``markdown.render``); without it,
        the data step after the next migration stores it
    """
    async with db.transaction() as tx:
        if await tx.fetch_one(POST_SHOWN, (post_id,)) is None:
            return None
        comment_id = await tx.insert(
            "INSERT INTO comment (post_id, author_id, body, body_html) VALUES (?, ?, ?, ?)",
            (post_id, author_id, body, "" if html is None else str(html)),
        )
        row = await tx.fetch_one(_POSITION, (post_id, comment_id))
        assert row is not None  # COUNT(*) always gives a row.
        return NewComment(comment_id, int(row[0]))


async def delete_comment(db: Database, comment_id: int) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM comment WHERE id = ?", (comment_id,))
