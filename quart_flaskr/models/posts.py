"""Blog posts, with their tags, like counts, images and full-text search.

Listings fetch one page in one query: the page's ids come from an index (the
date index, a tag's index, or the search index) with LIMIT and OFFSET, and only
those rows are joined with their authors, tags and likes. Nothing is counted:
callers ask for one row more than they show to learn whether a next page exists.
A search ranks at most the ``SEARCH_WINDOW`` newest posts that match it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite
from markupsafe import Markup

from quart_flaskr import markdown
from quart_flaskr.db import Database
from quart_flaskr.db import Params
from quart_flaskr.models import parse_timestamp
from quart_flaskr.models import tags as tag_queries

#: Most words of a search that are looked up; the rest are ignored.
SEARCH_WORDS_MAX = 20
#: How many of the newest matching posts a search ranks. Ranking costs time
#: for every post it scores, so a word that is in every post would make the
#: search cost grow with the blog; more words narrow a search to older posts.
#: (Measured on 100,000 posts with the word in 20,000: ranking 1,000 took
#: 1.5 ms of SQLite time, 100 took 0.6 ms, of which 0.5 ms is bm25 counting
#: the word's posts for its weight, a cost no window removes.)
SEARCH_WINDOW = 100


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    title: str
    body: str
    created: datetime
    author_id: int
    username: str
    #: The body as sanitised HTML, ready to show.
    html: Markup
    image: str | None = None
    image_alt: str = ""
    like_count: int = 0
    comment_count: int = 0
    tags: tuple[str, ...] = ()
    #: Whether the user the post was selected for likes it.
    liked: bool = False


_COLUMNS = (
    "post.id, title, body, body_html, created, author_id, username, image, image_alt,"
    " like_count, comment_count,"
    " (SELECT group_concat(tag.name, ',') FROM post_tag JOIN tag ON tag.id = post_tag.tag_id"
    "  WHERE post_tag.post_id = post.id) AS tags,"
    " EXISTS (SELECT 1 FROM post_like"
    "  WHERE post_like.post_id = post.id AND post_like.user_id = ?) AS liked"
)
_SELECT_POST = (
    f"SELECT {_COLUMNS} FROM post JOIN user ON user.id = post.author_id WHERE post.id = ?"  # noqa: S608
)

# Each gives one page of post ids (and what to order them by) from an index.
_NEWEST_IDS = "SELECT id FROM post ORDER BY created DESC, id DESC LIMIT ? OFFSET ?"
_TAG_IDS = (
    "SELECT post_id AS id FROM post_tag WHERE tag_id = ?"
    " ORDER BY created DESC, post_id DESC LIMIT ? OFFSET ?"
)
_SEARCH_IDS = (
    "SELECT rowid AS id, rank FROM post_search WHERE post_search MATCH ?{tag}"
    " AND rowid >= (SELECT min(rowid) FROM (SELECT rowid FROM post_search"
    "  WHERE post_search MATCH ?{tag} ORDER BY rowid DESC LIMIT ?))"
    " ORDER BY rank, rowid DESC LIMIT ? OFFSET ?"
)
_IN_TAG = " AND rowid IN (SELECT post_id FROM post_tag WHERE tag_id = ?)"
_BY_DATE = "created DESC, post.id DESC"
_BY_RANK = "page.rank, post.id DESC"


def _post(row: aiosqlite.Row) -> Post:
    html = row["body_html"]
    return Post(
        id=row["id"],
        title=row["title"],
        body=row["body"],
        created=parse_timestamp(row["created"]),
        author_id=row["author_id"],
        username=row["username"],
        # body_html holds what the sanitiser returned when the body was saved.
        html=markdown.render(row["body"]) if html is None else Markup(html),  # noqa: S704
        image=row["image"],
        image_alt=row["image_alt"],
        like_count=row["like_count"],
        comment_count=row["comment_count"],
        tags=tuple(sorted(row["tags"].split(","))) if row["tags"] else (),
        liked=bool(row["liked"]),
    )


def match_expression(text: str) -> str:
    """An FTS5 query finding posts with every word of ``text``, whatever its characters.

    Each word becomes an FTS5 string, so quotes, ``*``, ``^``, ``NEAR``, ``OR``,
    column names and parentheses are only ever text to look for. Control
    characters (which would end the string early) separate words.
    """
    cleaned = "".join(" " if ord(char) < 32 or char == "\x7f" else char for char in text)
    words = cleaned.split()[:SEARCH_WORDS_MAX]
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


async def select_posts(
    db: Database,
    *,
    limit: int,
    offset: int = 0,
    viewer_id: int | None = None,
    tag_id: int | None = None,
    search: str | None = None,
) -> list[Post]:
    """A page of posts: newest first, or best match first when searching.

    :param viewer_id: the user whose likes ``Post.liked`` reports
    :param tag_id: only posts with this tag
    :param search: only posts whose title, body or author has every word of it
    """
    params: list[object]
    if search is not None:
        expression = match_expression(search)
        if not expression:
            return []
        ids = _SEARCH_IDS.format(tag="" if tag_id is None else _IN_TAG)
        matching = [expression] if tag_id is None else [expression, tag_id]
        params = [*matching, *matching, SEARCH_WINDOW]
        order = _BY_RANK
    elif tag_id is not None:
        ids, params, order = _TAG_IDS, [tag_id], _BY_DATE
    else:
        ids, params, order = _NEWEST_IDS, [], _BY_DATE
    sql = (
        f"SELECT {_COLUMNS} FROM ({ids}) AS page"  # noqa: S608 - only constants are formatted in.
        f" JOIN post ON post.id = page.id JOIN user ON user.id = post.author_id ORDER BY {order}"
    )
    rows = await db.fetch_all(sql, [viewer_id, *params, limit, offset])
    return [_post(row) for row in rows]


async def select_post(db: Database, post_id: int, viewer_id: int | None = None) -> Post | None:
    row = await db.fetch_one(_SELECT_POST, (viewer_id, post_id))
    return None if row is None else _post(row)


async def insert_post(
    db: Database,
    author_id: int,
    title: str,
    body: str,
    *,
    tags: Sequence[str] = (),
    image: str | None = None,
    image_alt: str = "",
) -> int:
    html = await markdown.render_in_thread(body)
    async with db.transaction() as tx:
        post_id = await tx.insert(
            "INSERT INTO post (title, body, body_html, author_id, image, image_alt)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (title, body, str(html), author_id, image, image_alt),
        )
        if tags:
            await tag_queries.set_post_tags(tx, post_id, tags)
        return post_id


async def update_post(
    db: Database,
    post_id: int,
    title: str,
    body: str,
    *,
    tags: Sequence[str] = (),
    image_alt: str = "",
    replace_image: bool = False,
    image: str | None = None,
) -> str | None:
    """Change a post; with ``replace_image``, set its image to ``image`` (None removes it).

    :return: the name of an image file no post uses now, if any: the post's
        previous image, or ``image`` itself when the post was deleted meanwhile
    """
    html = await markdown.render_in_thread(body)
    async with db.transaction() as tx:
        old = await tx.fetch_one("SELECT image FROM post WHERE id = ?", (post_id,))
        if old is None:
            # Deleted meanwhile: nothing to change, and no tags for a post
            # that is gone; the new image, if any, is unused.
            return image
        columns = "title = ?, body = ?, body_html = ?, image_alt = ?"
        params: Params = (title, body, str(html), image_alt)
        if replace_image:
            columns += ", image = ?"
            params = (*params, image)
        await tx.execute(f"UPDATE post SET {columns} WHERE id = ?", (*params, post_id))  # noqa: S608
        await tag_queries.set_post_tags(tx, post_id, tags)
    return old["image"] if replace_image else None


async def delete_post(db: Database, post_id: int) -> str | None:
    """Delete a post with its comments, likes and tags.

    :return: the name of the post's image file, now unused, if it had one
    """
    async with db.transaction() as tx:
        row = await tx.fetch_one("DELETE FROM post WHERE id = ? RETURNING image", (post_id,))
    return None if row is None else row["image"]
