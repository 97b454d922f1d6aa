"""What SQL cannot bring up to date: run after every migration, before serving.

Posts and comments store their body's HTML as the sanitiser returned it. It is
missing for rows written before it was stored (schema 3 and older) and for
rows whose HTML a new Markdown renderer makes differently (schema 5): it is
made here, in batches off the event loop, so that a worker never renders an
old body while serving. Users from before schema 6 get the key their name is
compared by (see ``usernames.py``).
"""

from __future__ import annotations

from quart_flaskr import markdown
from quart_flaskr.db import Database
from quart_flaskr.models import users

#: How each table marks HTML not made yet: a comment's column is NOT NULL.
_MISSING = {"post": "body_html IS NULL", "comment": "body_html = ''"}


async def store_missing_html(db: Database, table: str, batch: int = 100) -> int:
    """Render and store the HTML of the rows of ``table`` (post or comment) that lack it.

    :return: how many rows were rendered
    """
    missing = _MISSING[table]
    done = last_id = 0
    while rows := await db.fetch_all(
        f"SELECT id, body FROM {table} WHERE {missing} AND id > ? ORDER BY id LIMIT ?",  # noqa: S608
        (last_id, batch),
    ):
        params = [
            (str(await markdown.render_in_thread(row["body"])), row["id"], row["body"])
            for row in rows
        ]
        async with db.transaction() as tx:
            # Unless the row was edited meanwhile (which stores its HTML).
            await tx.execute_many(
                f"UPDATE {table} SET body_html = ? WHERE id = ? AND body = ? AND {missing}",  # noqa: S608
                params,
            )
        done += len(rows)
        last_id = rows[-1]["id"]
    return done


async def upgrade_data(db: Database) -> None:
    """Bring the rows up to date after the schema migrations."""
    for table in _MISSING:
        await store_missing_html(db, table)
    await users.store_missing_username_keys(db)
