"""What SQL cannot bring up to date: run after every migration, before serving.

Posts and comments store their body's HTML as the sanitiser returned it. It is
missing for rows written before it was stored (schema 3 and older) and for
rows whose HTML a new Markdown renderer makes differently (schema 5): it is
made here, in batches off the event loop, so that a worker never renders an
old body while serving. Users from before schema 6 get the key their name is
compared by (see ``usernames.py``). Images that posts from before schema 7
show are moved from the files of the uploads folder into the database. Posts
from before schema 8 get their search terms (see ``search.py``), analysed in
batches off the event loop too. Images from before schema 9 get their size
and variants (see ``imaging.py``), made off the event loop, their own bytes
left as they are (they are served under their name as never changing).

On a big blog each of these can take minutes: they report their progress on
standard error (see ``progress.py``). What is left is counted only once a
first batch shows there is something to do, so that a start with nothing to
do reads no more than before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from pathlib import Path

from quart_flaskr import imaging
from quart_flaskr import markdown
from quart_flaskr import search
from quart_flaskr.db import Database
from quart_flaskr.db import Row
from quart_flaskr.images import is_stored_name
from quart_flaskr.images import named_variants
from quart_flaskr.models import backfill
from quart_flaskr.models import images as image_queries
from quart_flaskr.models import users
from quart_flaskr.progress import Progress

logger = logging.getLogger(__name__)

#: What the lines of the data step start with: it runs as part of ``migrate``.
COMMAND = "migrate"


async def _progress(what: str, counting: Awaitable[int]) -> Progress:
    """The progress of a part of the data step, over the rows ``counting`` counts."""
    return Progress(COMMAND, what, await counting)


async def store_missing_html(db: Database, table: str, batch: int = 100) -> int:
    """Render and store the HTML of the rows of ``table`` (post or comment) that lack it.

    :return: how many rows were rendered
    """
    done = last_id = 0
    progress = None
    while rows := await backfill.select_missing_html(db, table, last_id, batch):
        if progress is None:
            progress = await _progress(f"{table} HTML", backfill.count_missing_html(db, table))
        rendered = [
            (str(await markdown.render_async(row["body"])), row["id"], row["body"]) for row in rows
        ]
        await backfill.store_html(db, table, rendered)
        done += len(rows)
        last_id = rows[-1]["id"]
        await progress.advance(len(rows))
    return done


async def store_missing_search_terms(db: Database, batch: int = 100) -> int:
    """Analyse and store the search terms of the posts that lack them.

    :return: how many posts were analysed
    """
    done = last_id = 0
    progress = None
    while rows := await backfill.select_unsearchable(db, last_id, batch):
        if progress is None:
            progress = await _progress("post search terms", backfill.count_unsearchable(db))
        await backfill.store_search_terms(db, await asyncio.to_thread(_analysed, rows))
        done += len(rows)
        last_id = rows[-1]["id"]
        await progress.advance(len(rows))
    return done


def _analysed(rows: list[Row]) -> list[tuple[object, ...]]:
    """The parameters storing each post's terms, unless it changed since it was read."""
    params: list[tuple[object, ...]] = []
    for row in rows:
        terms = search.post_terms(row["title"], row["body"])
        author = search.indexed(row["username"])
        changed = (row["id"], row["title"], row["body"], row["author_id"])
        params.append((terms.title, author, terms.body, *changed))
    return params


async def store_image_files(db: Database, upload_folder: str, batch: int = 100) -> int:
    """Store the images posts show that are files in ``upload_folder``, not rows yet.

    The files are left where they are: the operator deletes the folder once
    the log names no image missing from it. A post whose image is missing (or
    unreadable) keeps its name, shown as a broken image, and is named in the
    log at each start, so that restoring the file and restarting brings it back.

    :return: how many images were stored
    """
    done = 0
    last = ""
    while names := await image_queries.select_unstored_names(db, last, batch):
        for name in names:
            if not is_stored_name(name):
                # Never a path outside the folder, whatever the column holds.
                logger.warning("A post shows the image %r, which is not a stored name.", name)
                continue
            path = Path(upload_folder, name)
            try:
                data = await asyncio.to_thread(path.read_bytes)
            except OSError as error:
                logger.warning("A post's image could not be moved into the database: %s", error)
                continue
            if await image_queries.store_shown_image(db, image_queries.Image(name, data)):
                done += 1
        last = names[-1]
    if done:
        logger.warning(
            "Moved %d images from %s into the database; the files are no longer used.",
            done,
            upload_folder,
        )
    return done


async def store_missing_image_sizes(
    db: Database, max_pixels: int = imaging.MAX_PIXELS, batch: int = 10
) -> int:
    """Measure the images stored before schema 9 and store their variants, a few at a time.

    An image that cannot be read (or has more than ``max_pixels`` pixels) is
    named in the log and stored as 0 by 0, so that it is not read again: it
    is shown as it is, without a size or variants.

    :return: how many images were measured
    """
    done = 0
    last = ""
    progress = None
    while found := await image_queries.select_unmeasured(db, last, batch):
        if progress is None:
            progress = await _progress("image sizes", backfill.count_unmeasured_images(db))
        for image in found:
            kind = image.name.rsplit(".", 1)[1]
            try:
                picture = await imaging.run(imaging.process_stored, image.data, kind, max_pixels)
            except imaging.ImagingError as error:
                logger.warning("The image %s could not be measured: %s", image.name, error)
                measured = image_queries.Image(image.name, b"", 0, 0)
            else:
                variants = named_variants(picture.variants)
                measured = image_queries.Image(
                    image.name, b"", picture.width, picture.height, variants
                )
            # Not when its post stopped showing it meanwhile.
            done += await image_queries.store_measured(db, measured)
        last = found[-1].name
        await progress.advance(len(found))
    return done


async def upgrade_data(
    db: Database, upload_folder: str | None = None, max_image_pixels: int = imaging.MAX_PIXELS
) -> int:
    """Bring the rows up to date after the schema migrations; return how many it brought.

    :param upload_folder: where releases before schema 7 kept images as files
        (the factory passes ``UPLOAD_FOLDER``); None stores none
    :param max_image_pixels: the most pixels of an image whose variants are made
        (the factory passes ``MAX_IMAGE_PIXELS``)
    """
    done = 0
    for table in backfill.TABLES_WITH_HTML:
        done += await store_missing_html(db, table)
    done += await users.store_missing_username_keys(db)
    done += await store_missing_search_terms(db)
    if upload_folder is not None:
        done += await store_image_files(db, upload_folder)
    return done + await store_missing_image_sizes(db, max_image_pixels)
