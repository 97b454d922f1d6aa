"""Posts' images: their bytes under the stored name ``post.image`` holds, and their variants.

A post writes, replaces and deletes its image's row, with the rows of the
image's smaller copies (``image_variant``, schema 9), in its own transaction
(see ``posts.py``), so that no post names a row that is not there and no row
outlives its post. A stored name, an image's or a variant's, is never given
to other bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from quart_flaskr.db import Database
from quart_flaskr.db import Transaction
from quart_flaskr.models import SUSPENDED_USERS


@dataclass(frozen=True, slots=True)
class Variant:
    """A smaller copy of an image, as stored: its own name, its width in pixels, its bytes."""

    name: str
    width: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Image:
    """An image as stored: its name (whose extension gives its kind) and its bytes.

    ``width`` and ``height`` are the size browsers show it at (upright); None
    until measured, 0 for an image stored before schema 9 that could not be read.
    """

    name: str
    data: bytes
    width: int | None = None
    height: int | None = None
    variants: tuple[Variant, ...] = ()


async def insert_image(tx: Transaction, image: Image) -> None:
    """Store an image and its variants under their new names, within its post's transaction."""
    await tx.execute(
        "INSERT INTO image (name, data, width, height) VALUES (?, ?, ?, ?)",
        (image.name, image.data, image.width, image.height),
    )
    await insert_variants(tx, image.name, image.variants)


async def insert_variants(tx: Transaction, image: str, variants: tuple[Variant, ...]) -> None:
    """Store the variants of the image stored under the name ``image``."""
    await tx.execute_many(
        "INSERT INTO image_variant (name, image, width, data) VALUES (?, ?, ?, ?)",
        [(variant.name, image, variant.width, variant.data) for variant in variants],
    )


async def delete_image(tx: Transaction, name: str) -> None:
    """Delete an image no post shows any more, and its variants.

    Within the transaction that stopped showing it.
    """
    # The foreign key would delete the variants too; saying so does not
    # depend on it being enforced.
    await tx.execute("DELETE FROM image_variant WHERE image = ?", (name,))
    await tx.execute("DELETE FROM image WHERE name = ?", (name,))


# The images of the posts of suspended users, which are hidden with their posts until
# they are restored: read from the few suspended users' posts, once a query, not
# looked up for each image (post.image has no index of its own). A post without an
# image is left out, or NOT IN would find every name's answer unknown.
_HIDDEN = (
    "SELECT post.image FROM post WHERE post.image IS NOT NULL"  # noqa: S608 - constants only
    f" AND post.author_id IN ({SUSPENDED_USERS})"
)
#: An image's or a variant's {column}, by its stored name (the names never meet),
#: while the post showing it is shown.
_BY_NAME = (
    f"SELECT {{column}} FROM image WHERE name = ? AND name NOT IN ({_HIDDEN})"  # noqa: S608
    " UNION ALL SELECT {column} FROM image_variant"
    f" WHERE name = ? AND image NOT IN ({_HIDDEN})"
)
_SELECT_DATA = _BY_NAME.format(column="data")
_EXISTS = _BY_NAME.format(column="1")


async def select_image(db: Database, name: str) -> bytes | None:
    """The bytes of the image or variant stored under ``name``, or None (none stored, or its
    post's author is suspended)."""
    row = await db.fetch_one(_SELECT_DATA, (name, name))
    return None if row is None else bytes(row[0])


async def image_exists(db: Database, name: str) -> bool:
    """Whether an image or variant is stored under ``name`` and shown, without reading its bytes."""
    return await db.fetch_one(_EXISTS, (name, name)) is not None


async def select_unmeasured(db: Database, after: str = "", limit: int = 10) -> list[Image]:
    """Images stored before schema 9 (no width yet), by name: ``limit`` of them after ``after``."""
    rows = await db.fetch_all(
        "SELECT name, data FROM image WHERE width IS NULL AND name > ? ORDER BY name LIMIT ?",
        (after, limit),
    )
    return [Image(row["name"], bytes(row["data"])) for row in rows]


async def store_measured(db: Database, image: Image) -> bool:
    """Store the size and variants of an image stored before schema 9; whether it was stored.

    Nothing is stored when the image was deleted meanwhile (its post was
    edited or deleted) or another process measured it first.
    """
    async with db.transaction() as tx:
        measured = await tx.execute(
            "UPDATE image SET width = ?, height = ? WHERE name = ? AND width IS NULL",
            (image.width, image.height, image.name),
        )
        if measured:
            await insert_variants(tx, image.name, image.variants)
    return measured > 0


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
