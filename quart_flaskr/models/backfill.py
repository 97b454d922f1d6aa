"""Rows an upgrade left to bring up to date (``migrations/data.py``): found in batches,
counted for its progress, and stored unless they changed meanwhile."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence

from quart_flaskr.db import Database
from quart_flaskr.db import Row

#: How each table marks HTML not made yet: a comment's column is NOT NULL.
_MISSING_HTML = {"post": "body_html IS NULL", "comment": "body_html = ''"}
#: The tables whose rows store their body's HTML.
TABLES_WITH_HTML = tuple(_MISSING_HTML)


async def _count(db: Database, sql: str) -> int:
    row = await db.fetch_one(sql)
    assert row is not None  # count(*) always gives a row.
    return int(row[0])


async def select_missing_html(db: Database, table: str, after_id: int, limit: int) -> list[Row]:
    """The id and body of ``limit`` rows of ``table`` without their HTML, from ``after_id`` on."""
    missing = _MISSING_HTML[table]
    return await db.fetch_all(
        f"SELECT id, body FROM {table} WHERE {missing} AND id > ? ORDER BY id LIMIT ?",  # noqa: S608
        (after_id, limit),
    )


async def count_missing_html(db: Database, table: str) -> int:
    return await _count(db, f"SELECT count(*) FROM {table} WHERE {_MISSING_HTML[table]}")  # noqa: S608


async def store_html(db: Database, table: str, rows: Iterable[tuple[str, int, str]]) -> None:
    """Store each (HTML, id, body), unless the row was edited meanwhile (which stores its own)."""
    missing = _MISSING_HTML[table]
    async with db.transaction() as tx:
        await tx.execute_many(
            f"UPDATE {table} SET body_html = ? WHERE id = ? AND body = ? AND {missing}",  # noqa: S608
            rows,
        )


async def select_unsearchable(db: Database, after_id: int, limit: int) -> list[Row]:
    """``limit`` posts without search terms from ``after_id`` on: what the terms are made of."""
    return await db.fetch_all(
        'SELECT post.id, title, body, author_id, username FROM post JOIN "user"'
        ' ON "user".id = post.author_id WHERE search_body IS NULL AND post.id > ?'
        " ORDER BY post.id LIMIT ?",
        (after_id, limit),
    )


async def count_unsearchable(db: Database) -> int:
    return await _count(db, "SELECT count(*) FROM post WHERE search_body IS NULL")


async def store_search_terms(db: Database, rows: Iterable[Sequence[object]]) -> None:
    """Store each post's terms: (title's, author's, body's, then the post's id, title, body
    and author as they were read), unless it was edited meanwhile (which stores its own)."""
    async with db.transaction() as tx:
        await tx.execute_many(
            "UPDATE post SET search_title = ?, search_author = ?, search_body = ?"
            " WHERE id = ? AND title = ? AND body = ? AND author_id = ?"
            " AND search_body IS NULL",
            rows,
        )


async def count_unmeasured_images(db: Database) -> int:
    return await _count(db, "SELECT count(*) FROM image WHERE width IS NULL")
