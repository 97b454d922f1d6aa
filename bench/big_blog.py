"""A whole big blog written straight into an empty SQLite database: users, posts, tags.

Seeding a million posts over HTTP would take hours; this writes the rows the
app would have written, in one transaction, with ``executemany``. Each post
stores its HTML and search terms as saving it does: they are put together
from the app's own output for the text every body shares and for its varying
end, and checked against ``markdown.render`` and ``search.post_terms`` on a
sample of posts, so that the app neither renders nor analyses a post while
the figures are taken.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from pathlib import Path

from bench.errors import BenchError
from bench.scenarios import LOREM
from bench.scenarios import post_body
from bench.scenarios import post_title
from quart_flaskr import markdown
from quart_flaskr import search
from quart_flaskr.usernames import username_key

#: Tags per post, on average (each post has from 5 to 15).
TAGS_PER_POST = 10
#: The tag every listing scenario reads: the first of the vocabulary.
FIRST_TAG = "topic-1"
#: Users per post: a million posts have 100,000 authors.
POSTS_PER_USER = 10
#: How often a post's HTML and terms are checked against the app's functions.
CHECK_EVERY = 9_973
#: A password hash no password matches: nobody logs in as the seeded users.
NO_PASSWORD = "!"  # noqa: S105 - not a password: no hash has this form


@dataclasses.dataclass(frozen=True)
class BigBlog:
    """What was written."""

    users: int
    posts: int
    tags: int
    post_tags: int


def tag_count(posts: int) -> int:
    """How many tags there are: 1,000 for a big blog, so that each tags some 10,000 posts.

    A small blog has fewer (20 at least), so that a tag's page is as full as
    on the big one.
    """
    return max(20, min(1_000, posts // 1_000))


def user_count(posts: int) -> int:
    return max(1, posts // POSTS_PER_USER)


class _Texts:
    """A post's columns, from the app's analysis of the parts every body shares."""

    def __init__(self) -> None:
        self.lorem_terms = search.indexed(LOREM)
        self.title_terms = search.indexed(post_title(0)).removesuffix(" 0 ")
        self.authors: dict[int, str] = {}

    def columns(self, number: int) -> tuple[str, str, str, str, str]:
        """Title, body, HTML, the title's terms and the body's terms of post ``number``."""
        body = post_body(number)
        # The body is LOREM, a word and the number: see scenarios.post_body.
        end = body.removeprefix(LOREM + " ")
        html = f"<p>{body}</p>\n"
        title_terms = f"{self.title_terms} {number} "
        body_terms = self.lorem_terms + search.indexed(end)
        if number % CHECK_EVERY == 1:
            terms = search.post_terms(post_title(number), body)
            made = (html, title_terms, body_terms)
            if made != (str(markdown.render(body)), terms.title, terms.body):
                raise BenchError(f"post {number}'s HTML or terms differ from the app's: {made}")
        return post_title(number), body, html, title_terms, body_terms


def _usernames(users: int) -> Iterator[tuple[int, str, str, str]]:
    for number in range(1, users + 1):
        name = f"user{number:06d}"
        yield number, name, username_key(name), NO_PASSWORD


def _posts(
    posts: int, users: int, texts: _Texts, rng: random.Random
) -> Iterator[tuple[object, ...]]:
    start = datetime.now(UTC) - timedelta(minutes=posts + 1)
    for number in range(1, posts + 1):
        author = rng.randint(1, users)
        title, body, html, title_terms, body_terms = texts.columns(number)
        yield (
            number,
            author,
            (start + timedelta(minutes=number)).strftime("%Y-%m-%d %H:%M:%S"),
            title,
            body,
            html,
            title_terms,
            search.indexed(f"user{author:06d}"),
            body_terms,
        )


def _post_tags(
    conn: sqlite3.Connection, tags: int, rng: random.Random
) -> Iterator[tuple[int, int, str]]:
    """Each post's tags (from 5 to 15 of them), in the order of the table's key."""
    vocabulary = range(1, tags + 1)
    spread = min(TAGS_PER_POST // 2, tags // 2)
    for post_id, created in conn.execute("SELECT id, created FROM post ORDER BY id"):
        count = min(tags, TAGS_PER_POST + rng.randint(-spread, spread))
        for tag_id in sorted(rng.sample(vocabulary, count)):
            yield post_id, tag_id, created


def seed_blog(database: Path, posts: int) -> BigBlog:
    """Write ``posts`` posts, their authors and their tags into the empty blog at ``database``.

    Post ``n`` is titled and written as ``scenarios.post_title(n)`` and
    ``post_body(n)`` (every fifth holds the search word), posted ``n`` minutes
    after the first, by a random one of the ``posts // 10`` users, with about
    10 of :func:`tag_count` tags (``topic-1``, ``topic-2``, ...).
    """
    users, tags = user_count(posts), tag_count(posts)
    rng = random.Random(posts)
    texts = _Texts()
    with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as conn:
        if conn.execute("SELECT count(*) FROM post").fetchone()[0]:
            raise BenchError(f"{database} already holds posts")
        # A throwaway database: no rollback journal to write, nothing synced.
        conn.execute("PRAGMA journal_mode = MEMORY")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -1000000")
        # Built once at the end from sorted rows, faster than kept up row by row.
        (listing,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'post_tag_listing'"
        ).fetchone()
        conn.execute("BEGIN")
        conn.execute("DROP INDEX post_tag_listing")
        conn.executemany(
            'INSERT INTO "user" (id, username, username_key, password) VALUES (?, ?, ?, ?)',
            _usernames(users),
        )
        conn.executemany(
            "INSERT INTO tag (id, name) VALUES (?, ?)",
            ((number, f"topic-{number}") for number in range(1, tags + 1)),
        )
        conn.executemany(
            "INSERT INTO post (id, author_id, created, title, body, body_html,"
            " search_title, search_author, search_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _posts(posts, users, texts, rng),
        )
        # Read from the posts just written: post_tag.created is the post's.
        conn.executemany(
            "INSERT INTO post_tag (post_id, tag_id, created) VALUES (?, ?, ?)",
            _post_tags(conn, tags, rng),
        )
        # Each post's tag_names, as the app writes them with the post.
        conn.execute(
            "UPDATE post SET tag_names = (SELECT group_concat(tag.name, ',')"
            " FROM post_tag JOIN tag ON tag.id = post_tag.tag_id WHERE post_tag.post_id = post.id)"
        )
        (post_tags,) = conn.execute("SELECT count(*) FROM post_tag").fetchone()
        conn.execute(listing)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA optimize = 0x10002")
        # The app's other connections see a WAL database; leave no WAL behind.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return BigBlog(users=users, posts=posts, tags=tags, post_tags=post_tags)


def database_bytes(database: Path) -> int:
    """The database's size on disk, with its WAL when there is one."""
    return sum(
        path.stat().st_size
        for path in (database, database.with_name(database.name + "-wal"))
        if path.exists()
    )


@dataclasses.dataclass(frozen=True)
class Author:
    """A user whose profile stands for a typical one: its name and how many posts it lists."""

    username: str
    posts: int


def typical_author(database: Path) -> Author:
    """The user with the number of posts closest to ``POSTS_PER_USER`` (the lowest id of those).

    Authors are drawn at random, so counts spread around the average: this one's
    profile lists as many posts on a big blog as on a small one.
    """
    with contextlib.closing(sqlite3.connect(database)) as conn:
        row = conn.execute(
            'SELECT username, count(*) AS posts FROM post JOIN "user" ON "user".id = author_id'
            " GROUP BY author_id ORDER BY abs(count(*) - ?), author_id LIMIT 1",
            (POSTS_PER_USER,),
        ).fetchone()
    if row is None:
        raise BenchError(f"{database} holds no posts")
    return Author(username=row[0], posts=row[1])


def middle_post(posts: int) -> int:
    """The id of the post in the middle (ids are 1 to ``posts``)."""
    return max(1, posts // 2)
