"""Blog posts, with their tags, like counts, images and full-text search.

Listings fetch one page in one query: the page's ids come from an index (the
date index, a tag's index, or the search index) with LIMIT and OFFSET, or, for
a page by date read before under the same data version, from the entry after
the post the page before ended with, and only those rows are joined with their
authors, tags and likes. Each post's text
(body and HTML) comes from the texts this process read before, by the post's id
and revision; a second query reads only those it has not. Nothing is counted:
callers ask for one row more than they show to learn whether a next page exists.
A search ranks the ``SEARCH_WINDOW`` newest posts that match it; older matches
follow them, newest first.
"""

from __future__ import annotations

import functools
import secrets
import sys
import weakref
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from typing import NamedTuple
from typing import TypeVar

from markupsafe import Markup

from quart_flaskr import bounded
from quart_flaskr.db import Database
from quart_flaskr.db import Params
from quart_flaskr.db import Row
from quart_flaskr.db import Transaction
from quart_flaskr.models import images as image_queries
from quart_flaskr.models import parse_timestamp
from quart_flaskr.models import SUSPENDED_USERS as _SUSPENDED
from quart_flaskr.models import tags as tag_queries
from quart_flaskr.search import analyse_post
from quart_flaskr.search import indexed
from quart_flaskr.search import query as search_query
from quart_flaskr.search import stored_phrase

#: Reads the database's data version, when a listing uses it (``request_data_version``).
DataVersion = Callable[[], Awaitable[int]]
#: How many of the newest matching posts a search ranks (older matches follow,
#: by date): the cost of a search grows with this window, not with the blog.
SEARCH_WINDOW = 50


class Post(NamedTuple):
    """A post as pages show it: a tuple, made quickly from a row (a listing makes 50)."""

    id: int
    title: str
    body: str
    created: datetime
    author_id: int
    username: str
    #: The body as sanitised HTML, ready to show; None for a post saved before
    #: its HTML was stored, until the data step after migrations stores it.
    html: Markup | None
    image: str | None = None
    image_alt: str = ""
    #: The size browsers show the image at, in pixels: None (or 0) while not known.
    image_width: int | None = None
    image_height: int | None = None
    #: The stored name and width of each smaller copy of the image, narrowest first.
    image_variants: tuple[tuple[str, int], ...] = ()
    like_count: int = 0
    comment_count: int = 0
    tags: tuple[str, ...] = ()
    #: Whether the user the post was selected for likes it.
    liked: bool = False


# The posts of users a moderator suspended are hidden until they are restored.
# Suspended users are few, so each listing's index is read as before, passing
# over the posts of this short list of authors.
_HIDDEN_POSTS = f"SELECT post.id FROM post WHERE author_id IN ({_SUSPENDED})"  # noqa: S608
# While nobody is suspended (asked once a query) no entry is looked up in that
# list: in SQLite the lookup cost 7 times the index step itself, which a deep
# page's OFFSET pays for every entry it passes (0.9 ms for the index's page
# 1,000 on a million posts, 0.13 ms without; 0.28 ms asked this way).
_NOBODY_SUSPENDED = f"NOT EXISTS ({_SUSPENDED})"


def _shown_count(count: str, table: str, user: str) -> str:
    """The stored ``count`` column of a post, less the rows of ``table`` (each with its
    ``user`` column) that suspended users wrote: looked up only while somebody is."""
    return (
        f" {count} - CASE WHEN {_NOBODY_SUSPENDED}"  # noqa: S608 - constants only
        f' THEN 0 ELSE (SELECT count(*) FROM "user" JOIN {table} ON {table}.{user} = "user".id'
        f'  WHERE "user".suspended IS NOT NULL AND {table}.post_id = post.id) END AS {count},'
    )


# The columns of a post after its id, title and text.
_REST = (
    " created, author_id, username, image, image_alt,"  # noqa: S608
    # The stored counts, less the likes and comments of suspended users, which
    # count for nothing and show nowhere until they are restored (read from the
    # few suspended users' rows, not from the post's; not at all while nobody is
    # suspended, asked once a query). The image's size and
    # variants only for a post with an image. Each guard saves its lookups for
    # every row: a tenth of a 50-post listing's query in SQLite.
    + _shown_count("like_count", "post_like", "user_id")
    + _shown_count("comment_count", "comment", "author_id")
    + " CASE WHEN post.image IS NOT NULL THEN"
    " (SELECT width FROM image WHERE image.name = post.image) END AS image_width,"
    " CASE WHEN post.image IS NOT NULL THEN"
    " (SELECT height FROM image WHERE image.name = post.image) END AS image_height,"
    " CASE WHEN post.image IS NOT NULL THEN"
    " (SELECT {concat}(image_variant.name || ' ' || image_variant.width, ',')"
    "  FROM image_variant WHERE image_variant.image = post.image) END AS image_variants,"
    # Written with the post (see insert_post): joining each listed post's tags
    # was half of PostgreSQL's work for a 50-post listing, a quarter of SQLite's.
    " post.tag_names AS tags,"
    " {liked} AS liked"
)
# The columns of a post as ``_post`` reads them, in this order.
_COLUMNS = "post.id, title, body, body_html," + _REST
# The same for a listing: the post's revision in place of its text (body and
# HTML, most of a row's bytes), which comes from the texts read before (see
# ``_with_texts``). On PostgreSQL receiving and reading the texts of a 50-post
# listing was some 40% of the app's own work on its query.
_LISTED_COLUMNS = "post.id, title, revision," + _REST
# Whether the reader likes the post: looked up only for a reader who is logged
# in (the reader's id its one parameter). For anyone else the query holds no
# parameter that could be NULL: PostgreSQL would plan it again at every run,
# finding a plan for NULL cheaper than the one it keeps.
_LIKED = (
    "EXISTS (SELECT 1 FROM post_like WHERE post_like.post_id = post.id AND post_like.user_id = ?)"
)
_NOBODY_LIKES = "FALSE"
# Joining an image's variants into one text: PostgreSQL's own string_agg, the
# same result as SQLite's group_concat. The schema's SQL group_concat runs a SQL
# function for every value (joining the tags of a 50-post listing with it took
# a quarter of the server's CPU for the listing).
_CONCAT = {"sqlite": "group_concat", "postgresql": "string_agg"}


def _columns(viewer: bool, dialect: str, columns: str = _COLUMNS) -> str:
    """``columns`` for a reader who is logged in (``viewer``: one parameter), or for anyone,
    in the SQL of ``dialect`` (a :attr:`Database.dialect`)."""
    return columns.format(liked=_LIKED if viewer else _NOBODY_LIKES, concat=_CONCAT[dialect])


_ONE_SHOWN = (
    ' FROM post JOIN "user" ON "user".id = post.author_id'
    ' WHERE post.id = ? AND "user".suspended IS NULL'
)
_SELECT_POST = "SELECT {columns}" + _ONE_SHOWN
#: Whether a post is there for readers (one parameter, its id): none is while
#: its author is suspended, and nobody may like it or comment on it then.
POST_SHOWN = "SELECT 1" + _ONE_SHOWN

# A tag's id, from its name: found in the listing's own query, not in a query before it.
_TAG = "(SELECT id FROM tag WHERE name = ?)"
# An arm gives one page of post ids from an index by date: a page found by its
# OFFSET, or one that starts after a given post, whose date and id come first
# among the arm's parameters; then its filters, then its LIMIT and OFFSET.
_ARM = (
    "SELECT {id} AS id FROM {table}{where} ORDER BY created DESC, {id} DESC LIMIT {limit} OFFSET ?"
)


class _Dated(NamedTuple):
    """A listing by date, newest first, in each dialect's SQL (``Database.dialect``)."""

    name: str
    #: A page by its OFFSET.
    by_offset: dict[str, str]
    #: A page after a given post.
    after: dict[str, str]
    #: How many arms the SQL has: each takes the page's parameters.
    arms: dict[str, int]

    def params(self, dialect: str, viewer: list[object], page: list[object]) -> list[object]:
        """A page's parameters: the reader's (``viewer``), then ``page`` for each arm."""
        return [*viewer, *page * self.arms[dialect]]


def _arm(table: str, id_column: str, conditions: list[str], limit: str = "?") -> tuple[str, str]:
    """An arm's SQL: by OFFSET, and after a given post."""
    # Both columns are the index's own, in its order: the index is read from
    # that entry on, as for the first page.
    after = f"(created, {id_column}) < (?, ?)"
    by_offset, after_post = (
        _ARM.format(
            id=id_column,
            table=table,
            where=f" WHERE {' AND '.join(where)}" if where else "",
            limit=limit,
        )
        for where in (conditions, [after, *conditions])
    )
    return by_offset, after_post


def _dated(
    name: str, table: str, id_column: str, filters: list[str], shown: str = "", split: bool = False
) -> _Dated:
    """The listing by date of the ``table`` rows that match ``filters``; ``shown`` is true of
    a row whose author is not suspended (none given when no suspended author's row is
    listed); ``split``: in SQLite, an arm for each answer to whether anybody is (only with
    ``shown``: without it, nobody's rows are left out).

    PostgreSQL asks whether anybody is suspended once a query, and a page steps
    over each entry at the index's own cost. SQLite asks it again at every entry
    (four steps of its VM beside the entry's own two: 122 instructions an entry,
    two thirds of what stepping over the 200 entries before page 5 cost), except
    in a LIMIT, which it reads once. Split, its listing has an arm for each
    answer, and the arm that does not apply has a LIMIT of 0 and reads nothing.
    Two arms cost a tag's first page 7,400 instructions more than one (1.1
    thousandths of its request), which it makes up for only from page 3 on: the
    index alone is split.
    """
    conditions = [*filters, f"({_NOBODY_SUSPENDED} OR {shown})"] if shown else filters
    postgres = sqlite = _arm(table, id_column, conditions)
    if split and shown:
        nobody = f"CASE WHEN {_NOBODY_SUSPENDED} THEN ? ELSE 0 END"
        somebody = f"CASE WHEN {_NOBODY_SUSPENDED} THEN 0 ELSE ? END"
        first = _arm(table, id_column, filters, nobody)
        second = _arm(table, id_column, [*filters, shown], somebody)
        sqlite = _union(first[0], second[0]), _union(first[1], second[1])
    return _Dated(
        name,
        {"sqlite": sqlite[0], "postgresql": postgres[0]},
        {"sqlite": sqlite[1], "postgresql": postgres[1]},
        {"sqlite": 2 if split else 1, "postgresql": 1},
    )


def _union(first: str, second: str) -> str:
    """The ids of both arms. Its LIMIT (none: -1) keeps the listing's query from joining
    each arm's rows on their own and merging the two joins, which cost the index's
    query 2% more instructions than one join of the arms' ids."""
    return f"SELECT id FROM ({first}) UNION ALL SELECT id FROM ({second}) LIMIT -1"  # noqa: S608


_NEWEST = _dated("newest", "post", "id", [], f"author_id NOT IN ({_SUSPENDED})", split=True)
_BY_TAG = _dated(
    "tag", "post_tag", "post_id", [f"tag_id = {_TAG}"], f"post_id NOT IN ({_HIDDEN_POSTS})"
)
# A profile's posts: its author is not suspended (profiles of those are 404).
_BY_AUTHOR = _dated("author", "post", "id", ["author_id = ?"])
# A search ranks the newest matches by where its words are: each occurrence in
# the title counts 2, in the author's name 1 (the body is where every other
# match is), and the newest come first among equals. FTS5's bm25 would count
# every post holding a word to weigh it, a cost that grows with the blog (0.6 ms
# in SQLite for a word in 20,000 of 100,000 posts); counting reads only the
# window's own title and name terms, stored with the post (search.indexed: each
# term between two spaces, so that a word, or a CJK word's phrase of bigrams,
# is a substring found and counted exactly). Both backends count with the same
# expression, over the same terms. Older matches follow, by date, ranked -1.
# Each part has its own LIMIT and OFFSET (see select_posts), so a page reads no
# further than it shows.
# A word's hits in a column; PostgreSQL sums them over the words unnested.
_WORD_HITS = "(length({column}) - length(replace({column}, {word}, ''))) / length({word})"
_HITS = f"(SELECT coalesce(sum({_WORD_HITS}), 0) FROM {{words}})"  # noqa: S608 - constants only
# SQLite sums one such expression per word (two parameters each: the word, for
# replace and for length): a subquery over json_each parsed the words again for
# each of the window's rows, which took a search 0.15 ms more than the index
# (in SQLite, 50 posts).
_MATCHES = "FROM post_search WHERE post_search MATCH ?{tag}"  # {tag}: _IN_TAG or nothing


def _ranked(words: int) -> str:
    """The newest matches ranked, in SQLite, for a search of ``words`` words.

    Its parameters: each word once for the title and once for the name (the
    check below), then each word twice for the title and twice for the name
    (the count), then the match and the window's bounds.
    """

    def hits(column: str) -> str:
        return "(" + " + ".join([_WORD_HITS.format(column=column, word="?")] * words) + ")"

    # Most matches are in the body alone, ranked 0 without counting: one
    # instr() a word and column tells, where counting calls six functions a
    # word (0.017 ms of a 50-post search's 0.08 in SQLite, no title or name matching).
    found = " OR ".join(["instr(search_title, ?) OR instr(search_author, ?)"] * words)
    # The window's terms are read from post by id: through the full-text
    # table (its content is post's) each row was a lookup of its own, 0.05 ms
    # of a search's 0.12 for 50 rows.
    return (
        f"SELECT post.id, CASE WHEN {found}"  # noqa: S608
        f" THEN 2 * {hits('search_title')} + {hits('search_author')} ELSE 0 END AS rank FROM"
        f" (SELECT rowid AS id {_MATCHES} ORDER BY rowid DESC LIMIT ?) AS newest"
        " JOIN post ON post.id = newest.id ORDER BY rank DESC, post.id DESC LIMIT ? OFFSET ?"
    )


# The older matches are those after the window's, by date: its OFFSET starts
# past the window (a subquery finding the window's oldest post made the search
# find its matches twice).
_OLDER = f"SELECT rowid AS id, -1 AS rank {_MATCHES} ORDER BY rowid DESC LIMIT ? OFFSET ?"
_SEARCH_IDS = "SELECT * FROM ({ranked}) UNION ALL SELECT * FROM ({older})"
_IN_TAG = f" AND rowid IN (SELECT post_id FROM post_tag WHERE tag_id = {_TAG})"  # noqa: S608
_SHOWN = f" AND ({_NOBODY_SUSPENDED} OR rowid NOT IN ({_HIDDEN_POSTS}))"
# The same on PostgreSQL: post.search (GIN) holds the post's terms, a tsquery
# asks for every term of the search, and the posts it finds are then checked
# for the search's CJK phrases, in their stored terms, as FTS5's phrase queries
# check them on SQLite. The parameters come in the same order as for SQLite.
_PG_PHRASES = (
    " AND NOT EXISTS (SELECT 1 FROM unnest(?::text[]) AS phrases (phrase)"
    " WHERE strpos(search_title, phrase) = 0 AND strpos(search_author, phrase) = 0"
    " AND strpos(search_body, phrase) = 0)"
)
_PG_MATCHES = f"FROM post WHERE search @@ ?::tsquery{_PG_PHRASES}{{tag}}"
_PG_WORDS = "unnest(?::text[]) AS words (word)"
_PG_RANKED = (
    "SELECT id, 2 * {title_hits} + {author_hits} AS rank FROM"  # noqa: S608
    f" (SELECT post.id, search_title, search_author {_PG_MATCHES}"
    " ORDER BY post.id DESC LIMIT ?) AS window_posts"
    " ORDER BY rank DESC, id DESC LIMIT ? OFFSET ?"
).format(
    title_hits=_HITS.format(column="search_title", word="word", words=_PG_WORDS),
    author_hits=_HITS.format(column="search_author", word="word", words=_PG_WORDS),
    tag="{tag}",
)
_PG_OLDER = f"SELECT id, -1 AS rank {_PG_MATCHES} ORDER BY id DESC LIMIT ? OFFSET ?"
_PG_SEARCH_IDS = f"({_PG_RANKED}) UNION ALL ({_PG_OLDER})"
_PG_IN_TAG = f" AND post.id IN (SELECT post_id FROM post_tag WHERE tag_id = {_TAG})"  # noqa: S608
_PG_SHOWN = f" AND post.author_id NOT IN ({_SUSPENDED})"
# A page of a search's window read before: its ids, in the window's order
# (json_each's key, unnest's ordinality), each post joined by its id.
_LISTED_IDS = "SELECT value AS id, -key AS rank FROM json_each(?)"
_PG_LISTED_IDS = (
    "SELECT id, -place AS rank FROM unnest(?::bigint[]) WITH ORDINALITY AS ids (id, place)"
)
_BY_DATE = "created DESC, post.id DESC"
_BY_RANK = "page.rank DESC, post.id DESC"


#: Rows of ``_COLUMNS`` whose Post is kept: a few pages' worth for each of many readers.
ROWS_KEPT = 1024
#: Characters of a row's title, text and HTML above which its Post is not kept
#: (a long post's is made again each time): at most 16 million characters are
#: kept, 1,024 rows of 8,000 with their HTML twice (the row's, the Post's).
ROW_TEXT_KEPT = 8_000


def _post(row: Row | tuple[Any, ...]) -> Post:
    """A row of ``_COLUMNS`` as a Post, the same one for the same values as long as it is kept.

    A listing read again (by the next reader, after any write) gives the rows
    it gave before: their Posts are made once, and the fragment cache, which
    keys listed posts' pieces by them, finds the very same Post, whose strings
    keep their hashes, rather than one made again from new strings.
    """
    values = tuple(row)
    title, body, html = values[1:4]
    if len(title) + len(body) + len(html or "") > ROW_TEXT_KEPT:
        return _new_post(values)
    return _kept_post(values)


def _new_post(row: tuple[Any, ...]) -> Post:
    """A row of ``_COLUMNS`` as a Post (read by position: a listing reads 50 at once)."""
    (
        post_id,
        title,
        body,
        html,
        created,
        author_id,
        username,
        image,
        image_alt,
        like_count,
        comment_count,
        image_width,
        image_height,
        image_variants,
        tags,
        liked,
    ) = row
    return Post(
        post_id,
        title,
        body,
        parse_timestamp(created),
        author_id,
        username,
        # body_html holds what the sanitiser returned when the body was saved
        # (or at the data step after the migration that added it).
        None if html is None else Markup(html),  # noqa: S704
        image,
        image_alt,
        image_width,
        image_height,
        _variants(image_variants),
        like_count,
        comment_count,
        tuple(sorted(tags.split(","))) if tags else (),
        bool(liked),
    )


_kept_post = functools.lru_cache(maxsize=ROWS_KEPT)(_new_post)


def _variants(listed: str | None) -> tuple[tuple[str, int], ...]:
    """The (name, width) pairs of an image's variants, as ``_COLUMNS`` lists them, by width."""
    if not listed:
        return ()
    pairs = (variant.split(" ") for variant in listed.split(","))
    return tuple(sorted(((name, int(width)) for name, width in pairs), key=lambda pair: pair[1]))


def match_expression(text: str) -> str:
    """An FTS5 query finding posts with every word of ``text``, whatever its characters.

    Each word is an FTS5 string of its terms (a CJK word's bigrams, a phrase),
    which hold letters and digits only: quotes, ``*``, ``^``, ``NEAR``, ``OR``,
    column names and parentheses typed are never more than separators or words.
    """
    return _fts5_expression(search_query(text))


def _fts5_expression(units: list[tuple[str, ...]]) -> str:
    return " ".join('"' + " ".join(unit) + '"' for unit in units)


def tsquery_text(text: str) -> str:
    """A PostgreSQL tsquery, as text, finding posts with every term of ``text``'s words.

    Each term is quoted, so that no operator (``&``, ``|``, ``!``, ``<->``,
    ``:*``) can come from what was typed.
    """
    return _tsquery(search_query(text))


def _tsquery(units: list[tuple[str, ...]]) -> str:
    found = dict.fromkeys(term for unit in units for term in unit)
    return " & ".join("'" + term.replace("\\", "\\\\").replace("'", "''") + "'" for term in found)


def new_revision() -> int:
    """A post's revision for a new text: random, so that no two texts of a post share one, even
    across a database emptied or restored while the blog serves (62 bits: an integer column
    holds it on both backends)."""
    return secrets.randbits(62)


def _stored(html: Markup | None) -> str | None:
    """A body's HTML as the column holds it: NULL until made."""
    return None if html is None else str(html)


async def select_posts(
    db: Database,
    *,
    limit: int,
    offset: int = 0,
    viewer_id: int | None = None,
    tag: str | None = None,
    search: str | None = None,
    author_id: int | None = None,
    data_version: DataVersion | None = None,
) -> list[Post]:
    """A page of posts: newest first, or best match first when searching.

    Posts of suspended users are left out.

    :param viewer_id: the user whose likes ``Post.liked`` reports
    :param tag: only posts with the tag of this name (normalised, ``tags.normalise_tag``)
    :param author_id: only this user's posts (not with ``tag`` or ``search``)
    :param search: only posts whose title, body or author has every word of it
    :param data_version: reads the database's data version (the request's,
        ``request_data_version``), only where the listing uses it: a deep
        page by date is then read from where the page before it ends, when a
        page read under this version noted it (see ``_dated_rows``), rather
        than by stepping over every post before it; a search's page within its
        window is read by ids from the window as a search read it under this
        version (see ``_searched_rows``)
    """
    viewer: list[object] = [] if viewer_id is None else [viewer_id]
    if search is not None:
        rows = await _searched_rows(db, search, tag, limit, offset, viewer, data_version)
    elif tag is not None:
        rows = await _dated_rows(db, _BY_TAG, [tag], limit, offset, viewer, data_version)
    elif author_id is not None:
        rows = await _dated_rows(db, _BY_AUTHOR, [author_id], limit, offset, viewer, data_version)
    else:
        rows = await _dated_rows(db, _NEWEST, [], limit, offset, viewer, data_version)
    return [_post(row) for row in await _with_texts(db, rows)]


_V = TypeVar("_V")
#: What is kept for each database as of one data version: entries by key.
_AsOf = weakref.WeakKeyDictionary[Database, tuple[int, dict[tuple[object, ...], _V]]]


def _as_of(kept: _AsOf[_V], db: Database, data_version: int) -> dict[tuple[object, ...], _V]:
    """The entries ``kept`` for ``db`` as of ``data_version``: none when it was another."""
    entries = kept.get(db)
    if entries is None or entries[0] != data_version:
        # Those kept under another version say nothing of this one's data.
        entries = kept[db] = (data_version, {})
    return entries[1]


#: Where pages of the listings by date start, kept for each database as of one
#: data version: as many pages as a few crawlers walk between two writes.
PAGE_STARTS_KEPT = 4096
#: A listing's row: where its post's id and date are.
_ID, _CREATED = 0, 3
_page_starts: _AsOf[tuple[object, object]] = weakref.WeakKeyDictionary()
#: Entries of a listing by date that its pages step over (OFFSET) rather than
#: start after a noted post. SQLite finds a date in the index, but not a date
#: and id together (the id is the rowid), so a page that starts after a post
#: steps over every entry of that post's date first. For a 50-post page in
#: SQLite (valgrind): the first page 154,000 instructions, stepping over 200
#: entries 200,000, starting after a post of a date of its own 205,000, after
#: one of 250 posts of one date (written in one second) 457,000.
PAGES_SOUGHT_FROM = 500
#: Searches whose window (the ids of its ranked posts, and of the match after
#: them) is kept for each database as of one data version: the searches many
#: readers make, and the pages of each, between two writes.
SEARCHES_KEPT = 1024


class _SearchWindow:
    """A search's window: the ids of its ranked posts, and of the match after them; and
    each page of them read so far as its query's parameter."""

    __slots__ = ("_pages", "_postgres", "ids")

    def __init__(self, ids: tuple[int, ...], postgres: bool) -> None:
        self.ids = ids
        self._postgres = postgres
        self._pages: dict[tuple[int, int], object] = {}

    def page(self, offset: int, limit: int) -> object | None:
        """Ids ``offset`` to ``offset + limit`` as the listing's parameter (None for none): a
        list for PostgreSQL, its JSON text for SQLite's json_each (the json module takes
        twice as long). Made once per page: the next reader of it sends the same."""
        key = (offset, limit)
        found = self._pages.get(key)
        if found is None:
            ids = list(self.ids[offset : offset + limit])
            if not ids:
                return None
            found = self._pages[key] = ids if self._postgres else str(ids)
        return found


_search_windows: _AsOf[_SearchWindow] = weakref.WeakKeyDictionary()


async def _dated_rows(
    db: Database,
    dated: _Dated,
    filters: list[object],
    limit: int,
    offset: int,
    viewer: list[object],
    data_version: DataVersion | None,
) -> list[Row]:
    """Rows ``offset`` to ``offset + limit`` of a listing by date: by OFFSET, or after a known post.

    An OFFSET steps over every entry before the page (page 1,000 of a million
    posts' index, 5 a page: 5,000 entries, 0.19 ms of SQLite's time against
    0.006 ms for the first page). Given the data version, each page read notes
    where it starts (one row more is read before it: the post it starts after)
    and where the next one does (callers read one row more than they show: the
    row before that one ends the page); the same page or the next one asked for
    while the version is the same (nothing written since, on any host) is read
    from the index's entry for that post on, as the first page is. A request
    that read the version just before a write can meet a start noted from the
    rows just after it: its page then breaks where pages broke before the
    write, as its version says, and the next request reads under the new one.
    Pages that end before ``PAGES_SOUGHT_FROM`` entries are read by OFFSET.
    """
    dialect = db.dialect
    by_offset = _listing(dated.by_offset[dialect], _BY_DATE, bool(viewer), dialect)
    if data_version is None or offset + limit - 1 < PAGES_SOUGHT_FROM:
        return await db.fetch_all(
            by_offset, dated.params(dialect, viewer, [*filters, limit, offset])
        )
    starts = _as_of(_page_starts, db, await data_version())
    key = (dated.name, *filters)
    # Starts are noted from PAGES_SOUGHT_FROM on (below): none before.
    start = starts.get((*key, offset))
    if start is not None:
        after = _listing(dated.after[dialect], _BY_DATE, bool(viewer), dialect)
        rows = await db.fetch_all(
            after, dated.params(dialect, viewer, [*start, *filters, limit, 0])
        )
    elif offset and offset >= PAGES_SOUGHT_FROM:
        before = dated.params(dialect, viewer, [*filters, limit + 1, offset - 1])
        rows = await db.fetch_all(by_offset, before)
        if rows:
            bounded.put(starts, (*key, offset), _start(rows[0]), PAGE_STARTS_KEPT)
        rows = rows[1:]
    else:
        rows = await db.fetch_all(
            by_offset, dated.params(dialect, viewer, [*filters, limit, offset])
        )
    if limit > 1 and len(rows) == limit:
        bounded.put(starts, (*key, offset + limit - 1), _start(rows[-2]), PAGE_STARTS_KEPT)
    return rows


def _start(row: Row) -> tuple[object, object]:
    """Where the page after ``row`` starts: after its post's date and id."""
    return row[_CREATED], row[_ID]


async def _searched_rows(
    db: Database,
    search: str,
    tag: str | None,
    limit: int,
    offset: int,
    viewer: list[object],
    data_version: DataVersion | None,
) -> list[Row]:
    """Rows ``offset`` to ``offset + limit`` of a search: best matches in its window, then newest.

    Given the data version, a page within the window (and the match after it,
    which shows that a page follows) is read by its ids from the window as a
    search read it under that version, and only the posts it shows are joined:
    the next reader of the same search, or of its next page, before any write
    on any host, does not search again (a search cost 1.5 times the index's
    query in SQLite, 50 posts a page).
    """
    postgres = db.dialect == "postgresql"
    if data_version is None or offset + limit > SEARCH_WINDOW + 1:
        searched = _search_ids_and_params(postgres, search, tag, limit, offset)
        if searched is None:
            return []
        ids, params = searched
        listing = _listing(ids, _BY_RANK, bool(viewer), db.dialect)
        return await db.fetch_all(listing, [*viewer, *params])
    key = (search, tag)
    # Taken before the search: a request that read an older version and
    # searches longer than one that read a newer keeps its window in its own.
    windows = _as_of(_search_windows, db, await data_version())
    window = windows.get(key)
    if window is None:
        searched = _search_ids_and_params(postgres, search, tag, SEARCH_WINDOW + 1, 0)
        rows = [] if searched is None else await db.fetch_all(*searched)
        # In rank order, then newest first (older matches rank -1), as the
        # listing's ORDER BY puts them: a UNION ALL promises no order.
        window = _SearchWindow(
            tuple([row[0] for row in sorted(rows, key=_rank_and_id, reverse=True)]), postgres
        )
        bounded.put(windows, key, window, SEARCHES_KEPT)
    page = window.page(offset, limit)
    if page is None:
        return []
    window_ids = _PG_LISTED_IDS if postgres else _LISTED_IDS
    listed = _listing(window_ids, _BY_RANK, bool(viewer), db.dialect)
    return await db.fetch_all(listed, [*viewer, page])


def _rank_and_id(row: Row) -> tuple[int, int]:
    """A search's id row (id, rank) as its listing orders it, by rank and then id."""
    return row[1], row[0]


def _search_ids_and_params(
    postgres: bool, search: str, tag: str | None, limit: int, offset: int
) -> tuple[str, list[object]] | None:
    """The query for ids ``offset`` to ``offset + limit`` of a search, and its parameters.

    None for a search of no words, which finds nothing.
    """
    units = search_query(search)
    if not units:
        return None
    words = [stored_phrase(unit) for unit in units]
    matching: list[object]
    counted: list[object]
    if postgres:
        phrases = [word for word, unit in zip(words, units, strict=True) if len(unit) > 1]
        matching = [_tsquery(units), phrases]
        counted = [words, words]
    else:
        matching = [_fts5_expression(units)]
        # Each word once for the title and once for the name (whether it
        # is in either), then twice (replace, length) for each.
        twice: list[object] = [word for word in words for _ in range(2)]
        counted = twice + twice * 2
    if tag is not None:
        matching.append(tag)
    # Rows offset .. offset + limit of the ranked window, then of the older
    # matches, which come after the window's by date (none when the window
    # holds every match).
    ranked = max(0, min(limit, SEARCH_WINDOW - offset))
    params = [*counted, *matching, SEARCH_WINDOW, ranked, offset]
    params += [*matching, limit - ranked, max(offset, SEARCH_WINDOW)]
    return _search_ids(postgres, len(words), tag is not None), params


#: Bytes of posts' texts (body and HTML, as ``sys.getsizeof`` counts them, and
#: ``TEXT_ENTRY`` more for each) each database's listings keep: thousands of posts.
TEXTS_KEPT = 16 * 1024 * 1024
#: What keeping a text costs besides its two strings: its key, its tuples, the table's slot.
TEXT_ENTRY = 300
_TEXTS = "SELECT id, revision, body, body_html FROM post WHERE id IN ({ids})"
_kept_texts: weakref.WeakKeyDictionary[
    Database, bounded.WeighedTable[tuple[int, int], tuple[str, str]]
] = weakref.WeakKeyDictionary()


def _texts_of(db: Database) -> bounded.WeighedTable[tuple[int, int], tuple[str, str]]:
    """The posts' texts kept for ``db``, by post id and revision."""
    kept = _kept_texts.get(db)
    if kept is None:
        kept = _kept_texts[db] = bounded.WeighedTable(TEXTS_KEPT)
    return kept


async def _with_texts(db: Database, rows: list[Row]) -> list[tuple[Any, ...]]:
    """Rows of ``_LISTED_COLUMNS`` as rows of ``_COLUMNS``, each post's text as kept or read.

    A post's revision changes with its text, so the text kept under its id and
    revision is its text now, whichever process or host wrote it. Those not
    kept are read in one query. A post edited since the listing's query shows its
    newer text (under its older title), one deleted since is left out (the page
    then has one post fewer, and may lack its link to the next): the database
    changed, so the next request renders the page again. Texts whose HTML is
    not stored yet are not kept: they are read until it is.
    """
    kept = _texts_of(db)
    listed = [tuple(row) for row in rows]
    get = kept.get
    texts: list[tuple[str, str | None] | None] = [get((row[0], row[2])) for row in listed]
    if None in texts:
        missing = [row[0] for row, text in zip(listed, texts, strict=True) if text is None]
        found: dict[int, tuple[str, str | None]] = {}
        for post_id, revision, body, html in await db.fetch_all(
            _TEXTS.format(ids=", ".join("?" * len(missing))), missing
        ):
            found[post_id] = body, html
            if html is not None:
                weight = sys.getsizeof(body) + sys.getsizeof(html) + TEXT_ENTRY
                kept.put((post_id, revision), (body, html), weight)
        texts = [
            found.get(row[0]) if text is None else text
            for row, text in zip(listed, texts, strict=True)
        ]
    return [
        row[:2] + text + row[3:]
        for row, text in zip(listed, texts, strict=True)
        if text is not None
    ]


@functools.lru_cache(maxsize=128)
def _search_ids(postgres: bool, words: int, tagged: bool) -> str:
    """A search's ids, as SQL: for the backend, the number of words, within a tag or not."""
    shown = _PG_SHOWN if postgres else _SHOWN
    in_tag = ("" if not tagged else _PG_IN_TAG if postgres else _IN_TAG) + shown
    searched = (
        _PG_SEARCH_IDS if postgres else _SEARCH_IDS.format(ranked=_ranked(words), older=_OLDER)
    )
    return searched.format(tag=in_tag)


@functools.lru_cache(maxsize=256)
def _listing(ids: str, order: str, viewer: bool, dialect: str) -> str:
    """A listing's SQL: the posts of the ``ids`` query, in ``order`` (both made once)."""
    return (
        f"SELECT {_columns(viewer, dialect, _LISTED_COLUMNS)} FROM ({ids}) AS page"  # noqa: S608 - only constants are formatted in.
        ' JOIN post ON post.id = page.id JOIN "user" ON "user".id = post.author_id'
        f" ORDER BY {order}"
    )


@functools.lru_cache(maxsize=4)
def _selected_post(viewer: bool, dialect: str) -> str:
    """One post's SQL, for a reader who is logged in (``viewer``) or for anyone."""
    return _SELECT_POST.format(columns=_columns(viewer, dialect))


async def select_post(db: Database, post_id: int, viewer_id: int | None = None) -> Post | None:
    viewer = () if viewer_id is None else (viewer_id,)
    row = await db.fetch_one(_selected_post(bool(viewer), db.dialect), (*viewer, post_id))
    return None if row is None else _post(row)


async def insert_post(
    db: Database,
    author_id: int,
    title: str,
    body: str,
    *,
    html: Markup | None = None,
    tags: Sequence[str] = (),
    image: image_queries.Image | None = None,
    image_alt: str = "",
    author_name: str | None = None,
) -> int:
    """Add a post, with its search terms and its image if it has one, in one transaction.

    :return: the new post's id

    :param html: the body as sanitised HTML (``markdown.render``); without it,
        the data step after the next migration stores it
    :param image: the post's image, under a new stored name
    :param author_name: the author's username, when the caller has it (a
        username never changes): saves looking it up
    """
    name = None
    terms = await analyse_post(title, body)
    async with db.transaction() as tx:
        if image is not None:
            await image_queries.insert_image(tx, image)
            name = image.name
        if author_name is None:
            author = await tx.fetch_one('SELECT username FROM "user" WHERE id = ?', (author_id,))
            author_name = author["username"] if author else ""
        post_id = await tx.insert(
            "INSERT INTO post (title, body, body_html, revision, author_id, image, image_alt,"
            " search_title, search_author, search_body, tag_names)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                title,
                body,
                _stored(html),
                new_revision(),
                author_id,
                name,
                image_alt,
                terms.title,
                # No such user: the insert fails on the post's foreign key.
                indexed(author_name),
                terms.body,
                tag_queries.joined_names(tags),
            ),
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
    html: Markup | None = None,
    tags: Sequence[str] = (),
    image_alt: str = "",
    replace_image: bool = False,
    image: image_queries.Image | None = None,
) -> bool:
    """Change a post; with ``replace_image``, set its image to ``image`` (None removes it).

    The post's search terms and new image are stored, and the image it
    replaces deleted, in the post's own transaction.

    :param html: the new body as sanitised HTML, as for :func:`insert_post`
    :return: whether the post was there to change (False when it was deleted
        meanwhile: then nothing, not even the new image, is stored)
    """
    terms = await analyse_post(title, body)
    async with db.transaction() as tx:
        old = await tx.fetch_one(
            'SELECT image, username FROM post JOIN "user" ON "user".id = post.author_id'
            " WHERE post.id = ?",
            (post_id,),
        )
        if old is None:
            # Deleted meanwhile: nothing to change, and no tags or image for
            # a post that is gone.
            return False
        columns = (
            "title = ?, body = ?, body_html = ?, revision = ?, image_alt = ?,"
            " search_title = ?, search_author = ?, search_body = ?, tag_names = ?"
        )
        params: Params = (
            title,
            body,
            _stored(html),
            new_revision(),
            image_alt,
            terms.title,
            indexed(old["username"]),
            terms.body,
            tag_queries.joined_names(tags),
        )
        if replace_image:
            if old["image"] is not None:
                await image_queries.delete_image(tx, old["image"])
            if image is not None:
                await image_queries.insert_image(tx, image)
            columns += ", image = ?"
            params = (*params, None if image is None else image.name)
        await tx.execute(f"UPDATE post SET {columns} WHERE id = ?", (*params, post_id))  # noqa: S608
        await tag_queries.set_post_tags(tx, post_id, tags)
    return True


async def delete_post(db: Database, post_id: int) -> bool:
    """Delete a post with its image, comments, likes and tags, in one transaction.

    :return: whether there was such a post
    """
    async with db.transaction() as tx:
        return await delete_post_in(tx, post_id)


async def delete_post_in(tx: Transaction, post_id: int) -> bool:
    """Delete a post with its image, comments, likes and tags, in the transaction ``tx``.

    :return: whether there was such a post
    """
    row = await tx.fetch_one("DELETE FROM post WHERE id = ? RETURNING image", (post_id,))
    if row is None:
        return False
    if row["image"] is not None:
        await image_queries.delete_image(tx, row["image"])
    return True
