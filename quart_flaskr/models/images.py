"""Posts' images: their bytes under the stored name ``post.image`` holds.

A post writes, replaces and deletes its image's row in its own transaction
(see ``posts.py``), so that no post names a row that is not there and no row
outlives its post. A stored name is never given to other bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from quart_flaskr.db import Database
from quart_flaskr.db import Transaction


@dataclass(frozen=True, slots=True)
class Image:
    """An image as stored: its name (whose extension gives its kind) and its bytes."""

    name: str
    data: bytes


async def insert_image(tx: Transaction, image: Image) -> None:
    """Store an image under its new name, within the transaction of the post that shows it."""
    await tx.execute("INSERT INTO image (name, data) VALUES (?, ?)", (image.name, image.data))


async def delete_image(tx: Transaction, name: str) -> None:
    """Delete an image no post shows any more, within the transaction that stopped showing it."""
    await tx.execute("DELETE FROM image WHERE name = ?", (name,))


async def select_image(db: Database, name: str) -> bytes | None:
    """The bytes of the image stored under ``name``, or None."""
    row = await db.fetch_one("SELECT data FROM image WHERE name = ?", (name,))
    return None if row is None else bytes(row[0])


async def image_exists(db: Database, name: str) -> bool:
    """Whether an image is stored under ``name``, without reading its bytes."""
    return await db.fetch_one("SELECT 1 FROM image WHERE name = ?", (name,)) is not None


async def select_unstored_names(db: Database, after: str = "", limit: int = 100) -> list[str]:
    """Names posts show that no image row holds, in order, the first ``limit`` after ``after``.

    Only a database upgraded from files (schema 6 and older) has any: the
    data step after the migrations stores them.
    """
    rows = await db.fetch_all(
        "SELECT DISTINCT image FROM post WHERE image > ?"
        " AND NOT EXISTS (SELECT 1 FROM image WHERE image.name = post.image)"
        " ORDER BY image LIMIT ?",
        (after, limit),
    )
    return [str(row[0]) for row in rows]


async def store_shown_image(db: Database, image: Image) -> bool:
    """Store an image a post shows but no row holds yet; whether it was stored.

    Nothing is stored when a row holds the name already (another process
    stored it first) or no post shows it any more (its post was edited or
    deleted meanwhile): no row outlives its post.
    """
    async with db.transaction() as tx:
        # Writers take turns (the transaction holds the write lock from its
        # start), so no post can start or stop showing the name meanwhile.
        if await tx.fetch_one("SELECT 1 FROM post WHERE image = ?", (image.name,)) is None:
            return False
        stored = await tx.execute(
            "INSERT INTO image (name, data) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (image.name, image.data),
        )
    return stored > 0
