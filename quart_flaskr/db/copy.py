"""Copying a blog into an empty database: from SQLite to PostgreSQL (outgrowing a machine), or back.

Users, posts, images with their variants, tags, likes, comments, login
sessions, password reset links and the moderation log are copied with their
ids, in batches, in one transaction on the target: a copy that fails
leaves the target empty. Each table's progress is shown on standard error
(see ``progress.py``). Like and comment counts are not copied but counted
again by the target's own triggers as the likes and comments arrive, and its
search index is built the same way from the posts' search terms (the same on
both backends: analysed in Python, see ``search.py``). Rate-limit state is not copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from quart_flaskr.db.interface import Database
from quart_flaskr.db.interface import Row
from quart_flaskr.db.interface import Transaction
from quart_flaskr.db.schema import SCHEMA_VERSION
from quart_flaskr.progress import Progress

#: Rows read and written at a time (images are up to a few MiB each).
BATCH = 200


class CopyError(RuntimeError):
    """The source or the target is not fit for a copy; the message says why."""


#: Each table, the columns copied and the key it is read in order of; every
#: table comes after those it references.
TABLES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    # username_key is set after all users are in: accounts from before the
    # key may share one, which the database refuses for a new user.
    ("user", ("id", "username", "password", "joined", "moderator", "suspended"), ("id",)),
    ("image", ("name", "data", "created", "width", "height"), ("name",)),
    ("image_variant", ("name", "image", "width", "data", "created"), ("name",)),
    (
        "post",
        (
            "id",
            "author_id",
            "created",
            "title",
            "body",
            "body_html",
            "revision",
            "image",
            "image_alt",
            # The terms, not the index: the target's own triggers index them.
            "search_title",
            "search_author",
            "search_body",
            "tag_names",
        ),
        ("id",),
    ),
    ("tag", ("id", "name"), ("id",)),
    ("post_tag", ("post_id", "tag_id", "created"), ("post_id", "tag_id")),
    ("post_like", ("post_id", "user_id", "created"), ("post_id", "user_id")),
    ("comment", ("id", "post_id", "author_id", "created", "body", "body_html"), ("id",)),
    ("login_session", ("id", "user_id", "created", "expires", "user_agent", "last_seen"), ("id",)),
    ("password_reset", ("token_hash", "user_id", "expires"), ("token_hash",)),
    ("moderation_log", ("id", "moderator", "action", "subject", "created"), ("id",)),
)
#: The tables whose ids new rows take from a sequence.
SEQUENCED = ("user", "post", "tag", "comment", "moderation_log")


def _stored(value: Any) -> Any:
    """A value as every backend stores it: timestamps as SQLite's UTC text (PostgreSQL reads it)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    return value


def _batches_sql(table: str, columns: Sequence[str], key: Sequence[str]) -> tuple[str, str]:
    """The queries of a table's first batch and of each batch after a key."""
    listed = ", ".join(columns)
    order = ", ".join(key)
    first = f'SELECT {listed} FROM "{table}" ORDER BY {order} LIMIT ?'  # noqa: S608
    after = (
        f'SELECT {listed} FROM "{table}" WHERE ({order}) > ({", ".join("?" * len(key))})'  # noqa: S608
        f" ORDER BY {order} LIMIT ?"
    )
    return first, after


async def _copy_table(
    source: Database, tx: Transaction, table: str, columns: Sequence[str], key: Sequence[str]
) -> int:
    first, after = _batches_sql(table, columns, key)
    copied = 0
    counted = await source.fetch_one(f'SELECT count(*) FROM "{table}"')  # noqa: S608
    progress = Progress("copy-db", table, int(counted[0]) if counted else None)
    rows: list[Row] = await source.fetch_all(first, (BATCH,))
    while rows:
        await tx.insert_rows(table, columns, [[_stored(value) for value in row] for row in rows])
        copied += len(rows)
        await progress.advance(len(rows))
        last = rows[-1]
        rows = await source.fetch_all(after, (*(last[name] for name in key), BATCH))
    return copied


async def copy_blog(source: Database, target: Database) -> dict[str, int]:
    """Copy every blog row of ``source`` into ``target``; how many rows of each table.

    The target is brought to the current schema first; both must then be at it.

    :raise CopyError: the source's schema is not the current one, or the
        target already holds data
    """
    if (version := await source.schema_version()) != SCHEMA_VERSION:
        raise CopyError(
            f"{source.location} has schema version {version}, not {SCHEMA_VERSION}:"
            " run 'migrate' on it first."
        )
    await target.migrate()
    if await target.has_data():
        raise CopyError(f"{target.location} already holds users and posts: copy into an empty one.")
    counts = {}
    async with target.transaction() as tx:
        for table, columns, key in TABLES:
            counts[table] = await _copy_table(source, tx, table, columns, key)
        await _copy_username_keys(source, tx)
        for table in SEQUENCED:
            await tx.follow_ids(table)
    return counts


async def _copy_username_keys(source: Database, tx: Transaction) -> None:
    rows = await source.fetch_all(
        'SELECT id, username_key FROM "user" WHERE username_key IS NOT NULL ORDER BY id'
    )
    # A batch of users in one statement, as the rows are inserted (see insert_rows).
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        # SELECTs, not VALUES: SQLite names a VALUES list's columns its own way.
        selects = " UNION ALL ".join(["SELECT ? AS id, ? AS username_key"] * len(batch))
        await tx.execute(
            'UPDATE "user" SET username_key = keys.username_key'  # noqa: S608 - marks only
            f' FROM ({selects}) AS keys WHERE "user".id = keys.id',
            [value for row in batch for value in (row["id"], row["username_key"])],
        )
