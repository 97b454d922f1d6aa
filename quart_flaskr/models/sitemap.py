"""What the sitemaps list: posts and tags by ranges of their ids, with their last changes.

A sitemap holds the rows of one range of ids, read through the primary key:
its cost is that of its own rows, however large the blog. Ids are never
reused, so a range holds at most as many rows as it is wide (fewer once
posts are deleted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from quart_flaskr.db import Database
from quart_flaskr.models import parse_timestamp
from quart_flaskr.models import SUSPENDED_USERS as _SUSPENDED


@dataclass(frozen=True, slots=True)
class Extent:
    """The highest post and tag ids (0 for none), and the newest post's time (None for none)."""

    last_post_id: int
    last_tag_id: int
    newest: datetime | None


@dataclass(frozen=True, slots=True)
class TagEntry:
    name: str
    #: When the newest post with the tag was written.
    newest: datetime


async def select_extent(db: Database) -> Extent:
    """How far the ids go, and the newest shown post's time: lookups at the ends of
    indexes, whatever the blog's size (the newest posts read until one is shown)."""
    row = await db.fetch_one(
        "SELECT (SELECT coalesce(max(id), 0) FROM post) AS last_post_id,"  # noqa: S608
        " (SELECT coalesce(max(id), 0) FROM tag) AS last_tag_id,"
        f" (SELECT created FROM post WHERE author_id NOT IN ({_SUSPENDED})"
        " ORDER BY created DESC LIMIT 1) AS newest"
    )
    assert row is not None  # A query of constants has its one row.
    newest = row["newest"]
    return Extent(
        row["last_post_id"],
        row["last_tag_id"],
        None if newest is None else parse_timestamp(newest),
    )


async def select_post_times(db: Database, first_id: int, end_id: int) -> list[tuple[int, datetime]]:
    """(id, written) of the posts with ``first_id <= id < end_id``, in id order, but hidden ones."""
    rows = await db.fetch_all(
        "SELECT id, created FROM post WHERE id >= ? AND id < ?"  # noqa: S608 - constants only
        f" AND author_id NOT IN ({_SUSPENDED}) ORDER BY id",
        (first_id, end_id),
    )
    return [(row["id"], parse_timestamp(row["created"])) for row in rows]


async def select_tags(db: Database, first_id: int, end_id: int) -> list[TagEntry]:
    """The tags with ``first_id <= id < end_id``, in id order, each with its newest shown
    post's time; but those only hidden posts carry (their authors suspended)."""
    rows = await db.fetch_all(
        # The tag's posts newest first (the post_tag_listing index), up to the
        # first one shown: most often the first.
        "SELECT name, (SELECT post_tag.created FROM post_tag"  # noqa: S608 - constants only
        " JOIN post ON post.id = post_tag.post_id WHERE post_tag.tag_id = tag.id"
        f" AND post.author_id NOT IN ({_SUSPENDED}) ORDER BY post_tag.created DESC LIMIT 1)"
        " AS newest FROM tag WHERE id >= ? AND id < ? ORDER BY id",
        (first_id, end_id),
    )
    return [
        TagEntry(row["name"], parse_timestamp(row["newest"]))
        for row in rows
        if row["newest"] is not None
    ]
