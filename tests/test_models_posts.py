"""The posts model: what its listings, searches and writes give, on each backend."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import Markup

from quart_flaskr.db import Database
from quart_flaskr.db import Params
from quart_flaskr.db import ReferenceGoneError
from quart_flaskr.db import Row
from quart_flaskr.models import likes
from quart_flaskr.models import moderation
from quart_flaskr.models import posts
from quart_flaskr.models import users
from quart_flaskr.models.images import Image
from quart_flaskr.models.images import Variant
from tests.helpers import another_connection


async def test_a_post_saved_without_its_html_has_none_until_the_data_step(db: Database) -> None:
    post = await posts.select_post(db, await posts.insert_post(db, 1, "t", "*later*"))
    assert post is not None and post.html is None
    # Nor does an edit without it store any.
    await posts.update_post(db, post.id, "t", "*edited*")
    edited = await posts.select_post(db, post.id)
    assert edited is not None and edited.body == "*edited*" and edited.html is None


async def test_every_listing_and_a_post_say_which_posts_the_reader_likes(db: Database) -> None:
    liked = await posts.insert_post(db, 2, "Liked needle", "needle", tags=["t"])
    other = await posts.insert_post(db, 2, "Other needle", "needle", tags=["t"])
    assert await likes.like_post(db, liked, 1)
    listings: dict[str, dict[str, object]] = {
        "index": {},
        "tag": {"tag": "t"},
        "search": {"search": "needle"},
        "profile": {"author_id": 2},
    }
    # The reader who liked it, another, and anyone (not logged in).
    for viewer, expected in ((1, {liked}), (2, set()), (None, set())):
        for name, kwargs in listings.items():
            found = await posts.select_posts(db, limit=10, viewer_id=viewer, **kwargs)  # type: ignore[arg-type]
            assert {liked, other} <= {post.id for post in found}, name
            assert {post.id for post in found if post.liked} == expected, (name, viewer)
        post = await posts.select_post(db, liked, viewer)
        assert post is not None and post.liked is bool(expected)
        assert post.like_count == 1


async def test_a_post_by_nobody_is_refused_by_the_database(db: Database) -> None:
    with pytest.raises(ReferenceGoneError):
        await posts.insert_post(db, 99, "Orphan", "no such author")
    assert [post.title for post in await posts.select_posts(db, limit=10)] == ["test title"]


@pytest.mark.parametrize(("author_name", "indexed"), ((None, "TEST"), ("Given", "given")))
async def test_a_post_is_found_by_its_authors_name_looked_up_or_given(
    db: Database, author_name: str | None, indexed: str
) -> None:
    # A name given is trusted as the author's (usernames never change): not looked up.
    post_id = await posts.insert_post(db, 1, "Untitled", "no words", author_name=author_name)
    found = await posts.select_posts(db, limit=10, search=indexed)
    assert post_id in [post.id for post in found]
    other = "test" if author_name else "given"
    assert post_id not in [post.id for post in await posts.select_posts(db, limit=10, search=other)]


async def test_a_cjk_word_is_found_only_where_its_characters_follow_each_other(
    db: Database,
) -> None:
    # Both of the word's bigrams, but in separate words.
    await posts.insert_post(db, 1, "서버", "버을")
    whole = await posts.insert_post(db, 1, "Whole", "서버을 봅니다")
    found = await posts.select_posts(db, limit=10, search="서버을")
    assert [post.id for post in found] == [whole]


async def test_a_search_pages_through_the_window_then_the_older_matches(db: Database) -> None:
    # The five oldest matches have the word in their titles, but fall outside
    # the window of the newest matches ranked: they follow them, by date.
    ids = [
        await posts.insert_post(
            db, 2, f"Needle {number}" if number < 5 else f"Hay {number}", "needle"
        )
        for number in range(posts.SEARCH_WINDOW + 10)
    ]
    # Within the window, a match in the title first.
    ranked = await posts.insert_post(db, 2, "Needle in the window", "needle")
    newest_first = [ranked, *reversed(ids[5:]), *reversed(ids[:5])]
    assert len(newest_first) == 61
    for offset in (0, 5, 44, 45, 48, 49, 50, 51, 55, 58):
        page = await posts.select_posts(db, limit=7, offset=offset, search="needle")
        assert [post.id for post in page] == newest_first[offset : offset + 7], offset


def _version(number: int) -> posts.DataVersion:
    """A data version as the request reads it, for the listings."""

    async def read() -> int:
        return number

    return read


def _searches(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The searches ``db`` runs from now on, by their SQL."""
    ran: list[str] = []
    fetch_all = db.fetch_all

    async def recording(sql: str, params: Params = ()) -> list[Row]:
        if "MATCH" in sql or "@@" in sql:
            ran.append(sql)
        return await fetch_all(sql, params)

    monkeypatch.setattr(db, "fetch_all", recording)
    return ran


@pytest.mark.parametrize("listing", [{}, {"tag": "t", "viewer_id": 2}])
async def test_a_searchs_pages_in_its_window_under_one_version_search_once(
    db: Database, monkeypatch: pytest.MonkeyPatch, listing: dict[str, Any]
) -> None:
    for number in range(posts.SEARCH_WINDOW + 10):
        title = "Needle" if number % 7 == 0 else f"Hay {number}"
        post_id = await posts.insert_post(db, 1 + number % 2, title, "needle", tags=["t"])
        if number % 3 == 0:
            await likes.like_post(db, post_id, 2)
    offsets = (0, 7, 44, 45, 50, 55)
    expected = [
        await posts.select_posts(db, limit=7, offset=offset, search="needle", **listing)
        for offset in offsets
    ]
    # Posts with the word in their title first, then the others; liked ones
    # (by the viewer, when there is one) among them.
    assert expected[0][0].title == "Needle" and expected[1][0].title.startswith("Hay")
    assert any(post.liked for page in expected for post in page) == ("viewer_id" in listing)
    ran = _searches(db, monkeypatch)
    for _ in range(2):
        for offset, page in zip(offsets, expected, strict=True):
            found = await posts.select_posts(
                db, limit=7, offset=offset, search="needle", data_version=_version(5), **listing
            )
            assert found == page, offset
    # The window (50 posts and the match after it) is searched once; the
    # pages reaching past it (from offset 45) search each time.
    assert len(ran) == 1 + 2 * 3
    assert len(set(ran)) == 2


async def test_a_search_after_a_write_elsewhere_searches_again(db: Database) -> None:
    found = await posts.select_posts(db, limit=5, search="needle", data_version=_version(1))
    assert (
        found
        == []
        == await posts.select_posts(db, limit=5, search="needle", data_version=_version(1))
    )
    other = another_connection(db)
    try:
        post_id = await posts.insert_post(other, 2, "t", "needle")
    finally:
        await other.close()
    # Under the version before the write, the window read before; under the new one, the post.
    assert await posts.select_posts(db, limit=5, search="needle", data_version=_version(1)) == []
    found = await posts.select_posts(db, limit=5, search="needle", data_version=_version(2))
    assert [post.id for post in found] == [post_id]


async def test_a_search_under_an_older_version_keeps_the_windows_of_the_newer(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_id = await posts.insert_post(db, 2, "t", "needle haystack")
    fetch_all = db.fetch_all

    async def newer_search_meanwhile(sql: str, params: Params = ()) -> list[Row]:
        # While the search read under version 1 runs, one under version 2 keeps its window.
        monkeypatch.setattr(db, "fetch_all", fetch_all)
        await posts.select_posts(db, limit=5, search="needle", data_version=_version(2))
        return await fetch_all(sql, params)

    monkeypatch.setattr(db, "fetch_all", newer_search_meanwhile)
    older = await posts.select_posts(db, limit=5, search="haystack", data_version=_version(1))
    assert [post.id for post in older] == [post_id]
    version, windows = posts._search_windows[db]
    assert version == 2 and list(windows) == [("needle", None)]


@pytest.mark.parametrize("version", [None, 1])
async def test_a_search_of_no_words_finds_nothing(db: Database, version: int | None) -> None:
    assert (
        await posts.select_posts(
            db, limit=5, search="!?", data_version=None if version is None else _version(version)
        )
        == []
    )


async def test_an_images_variants_come_narrowest_first(db: Database) -> None:
    # Stored widest first, and their names sort widest first too.
    variants = (Variant("a-wide.png", 960, b"w"), Variant("b-narrow.png", 480, b"n"))
    image = Image("original.png", b"png", width=1920, height=1080, variants=variants)
    post = await posts.select_post(db, await posts.insert_post(db, 1, "t", "b", image=image))
    assert post is not None
    assert post.image_variants == (("b-narrow.png", 480), ("a-wide.png", 960))
    assert (post.image, post.image_width, post.image_height) == ("original.png", 1920, 1080)


async def test_a_listing_read_again_gives_the_same_posts_until_one_changes(db: Database) -> None:
    await posts.insert_post(db, 1, "Second", "b", author_name="test")
    first = await posts.select_posts(db, limit=10)
    again = await posts.select_posts(db, limit=10)
    assert len(first) == 2 and all(a is b for a, b in zip(first, again, strict=True))
    await posts.update_post(db, first[0].id, "Changed", "b")
    changed = await posts.select_posts(db, limit=10)
    assert changed[0].title == "Changed" and changed[0] is not first[0]
    assert changed[1] is first[1]


async def test_a_long_posts_row_is_made_into_a_post_again_each_time(db: Database) -> None:
    body = "x" * posts.ROW_TEXT_KEPT
    await posts.insert_post(db, 1, "Long", body, author_name="test")
    first = await posts.select_posts(db, limit=1)
    again = await posts.select_posts(db, limit=1)
    assert first == again and first[0].body == body and first[0] is not again[0]


def _counting_texts(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The ids of each query for posts' texts ``db`` runs from now on."""
    read: list[list[int]] = []
    fetch_all = db.fetch_all

    async def counting(sql: str, params: Params = ()) -> list[Row]:
        if sql.startswith("SELECT id, revision, body, body_html FROM post"):
            read.append(list(params))
        return await fetch_all(sql, params)

    monkeypatch.setattr(db, "fetch_all", counting)
    return read


async def _add_html_posts(db: Database, count: int) -> list[int]:
    return [
        await posts.insert_post(db, 1, f"t{n}", f"b{n}", html=Markup(f"<p>b{n}</p>"))  # noqa: S704
        for n in range(count)
    ]


async def test_a_listing_reads_only_the_texts_it_has_not_read_before(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _add_html_posts(db, 3)
    read = _counting_texts(db, monkeypatch)
    first = await posts.select_posts(db, limit=3)
    assert [post.body for post in first] == ["b2", "b1", "b0"]
    assert sorted(read[0]) == sorted(ids)
    # Read again (any listing, any reader): no text is read.
    await posts.select_posts(db, limit=3, viewer_id=1)
    await posts.select_posts(db, limit=3, author_id=1)
    assert len(read) == 1
    # An edit gives the post a new revision: its new text, and only it, is read.
    await posts.update_post(db, ids[1], "t1", "new", html=Markup("<p>new</p>"))
    edited = await posts.select_posts(db, limit=3)
    assert [(post.body, str(post.html)) for post in edited][1] == ("new", "<p>new</p>")
    assert read[1:] == [[ids[1]]]


async def test_an_edit_from_another_host_is_seen_in_the_next_listing(db: Database) -> None:
    (post_id,) = await _add_html_posts(db, 1)
    assert (await posts.select_posts(db, limit=1))[0].body == "b0"
    other = another_connection(db)
    try:
        await posts.update_post(other, post_id, "t0", "elsewhere", html=Markup("<p>e</p>"))
    finally:
        await other.close()
    assert (await posts.select_posts(db, limit=1))[0].body == "elsewhere"


async def test_a_text_without_its_html_is_read_until_the_html_is_stored(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_id = await posts.insert_post(db, 1, "t", "*later*")
    read = _counting_texts(db, monkeypatch)
    for _ in range(2):
        assert (await posts.select_posts(db, limit=1))[0].html is None
    assert read == [[post_id], [post_id]]


@pytest.mark.parametrize("change", ("edit", "delete"))
async def test_a_post_changed_between_the_listing_and_its_texts(
    db: Database, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    first, second = await _add_html_posts(db, 2)
    fetch_all = db.fetch_all

    async def changing(sql: str, params: Params = ()) -> list[Row]:
        if sql.startswith("SELECT id, revision, body, body_html FROM post"):
            if change == "edit":
                await posts.update_post(db, second, "t1", "newer", html=Markup("<p>newer</p>"))
            else:
                await posts.delete_post(db, second)
        return await fetch_all(sql, params)

    monkeypatch.setattr(db, "fetch_all", changing)
    listed = await posts.select_posts(db, limit=10)
    monkeypatch.undo()
    # Edited: its newer text (kept under its new revision). Deleted: left out.
    if change == "edit":
        assert [post.body for post in listed][:2] == ["newer", "b0"]
        assert (await posts.select_posts(db, limit=1))[0].body == "newer"
    else:
        assert second not in [post.id for post in listed] and first in [post.id for post in listed]


async def test_each_edit_gives_a_new_revision(db: Database) -> None:
    (post_id,) = await _add_html_posts(db, 1)
    revisions = set()
    for body in ("a", "b", "c"):
        await posts.update_post(db, post_id, "t", body)
        row = await db.fetch_one("SELECT revision FROM post WHERE id = ?", (post_id,))
        assert row is not None
        revisions.add(row[0])
    assert len(revisions) == 3


async def test_a_text_changed_by_other_sql_is_seen_in_the_next_listing(db: Database) -> None:
    (post_id,) = await _add_html_posts(db, 1)
    assert str((await posts.select_posts(db, limit=1))[0].html) == "<p>b0</p>"
    # As an operator's SQL or a migration re-rendering the HTML would change it.
    async with db.transaction() as tx:
        await tx.execute("UPDATE post SET body_html = '<p>again</p>' WHERE id = ?", (post_id,))
    assert str((await posts.select_posts(db, limit=1))[0].html) == "<p>again</p>"
    async with db.transaction() as tx:
        await tx.execute("UPDATE post SET body = 'typed' WHERE id = ?", (post_id,))
    assert (await posts.select_posts(db, limit=1))[0].body == "typed"
    # Nothing else of the post moves its revision.
    row = await db.fetch_one("SELECT revision FROM post WHERE id = ?", (post_id,))
    async with db.transaction() as tx:
        await tx.execute("UPDATE post SET title = 'x', body = body WHERE id = ?", (post_id,))
    assert await db.fetch_one("SELECT revision FROM post WHERE id = ?", (post_id,)) == row


def _listing_queries(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The listings' ids queries ``db`` runs from now on: "after" a post, or "offset"."""
    ran: list[str] = []
    fetch_all = db.fetch_all

    async def recording(sql: str, params: Params = ()) -> list[Row]:
        if "ORDER BY created DESC" in sql:
            ran.append("after" if "< (?, ?)" in sql else "offset")
        return await fetch_all(sql, params)

    monkeypatch.setattr(db, "fetch_all", recording)
    return ran


async def _dated_posts(db: Database) -> None:
    """Eleven posts more by two authors, all tagged, several of them written at the same time."""
    for n in range(11):
        tags = ["t", "odd" if n % 2 else "even"]
        post_id = await posts.insert_post(db, 1 + n % 2, f"p{n}", "b", tags=tags)
        async with db.transaction() as tx:
            # Four at each time: pages break between posts of the same date.
            created = f"2019-02-0{1 + n // 4} 00:00:00"
            await tx.execute("UPDATE post SET created = ? WHERE id = ?", (created, post_id))
            tagged = "UPDATE post_tag SET created = ? WHERE post_id = ?"
            await tx.execute(tagged, (created, post_id))


@pytest.fixture
def seeking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages start after a noted post from the first entry on, not from the 500th."""
    monkeypatch.setattr(posts, "PAGES_SOUGHT_FROM", 0)


@pytest.mark.parametrize("listing", [{}, {"tag": "t", "viewer_id": 2}, {"author_id": 1}])
async def test_pages_read_after_the_page_before_are_the_pages_by_offset(
    db: Database, seeking: None, monkeypatch: pytest.MonkeyPatch, listing: dict[str, Any]
) -> None:
    await _dated_posts(db)
    offsets = range(0, 15, 3)

    async def pages(version: int | None) -> list[list[int]]:
        found = []
        for offset in offsets:
            page = await posts.select_posts(
                db,
                limit=4,
                offset=offset,
                data_version=None if version is None else _version(version),
                **listing,
            )
            found.append([post.id for post in page])
        return found

    by_offset = await pages(None)
    listed = len(await posts.select_posts(db, limit=100, **listing))
    # Pages of 3 read with one more: they overlap, break between posts of the
    # same date, and the last ones are short and empty.
    assert [len(page) for page in by_offset[:2]] == [4, 4] and not by_offset[-1]
    ran = _listing_queries(db, monkeypatch)
    # Walked from the first page: a page after a full one starts where it ended.
    assert await pages(7) == by_offset
    assert ran == ["offset"] + ["after" if len(page) == 4 else "offset" for page in by_offset[:-1]]
    # Asked for again: every page that has posts before it starts where it did.
    ran.clear()
    assert await pages(7) == by_offset
    assert ran == ["after" if 0 < offset <= listed else "offset" for offset in offsets]


@pytest.mark.parametrize("listing", [{}, {"tag": "t"}])
async def test_pages_by_offset_and_after_a_post_leave_out_a_suspended_authors_posts(
    db: Database, seeking: None, listing: dict[str, Any]
) -> None:
    """Whoever is suspended is asked in the listing's own query (in SQLite the index has an
    arm for each answer): before and after, every page lists what it should, whether read
    by OFFSET or from where the page before it ended."""
    await _dated_posts(db)
    mallory = await users.insert_user(db, "mallory", "hash")
    assert mallory is not None
    for n in range(6):
        await posts.insert_post(db, mallory, f"m{n}", "b", tags=["t"])
    every = [post.id for post in await posts.select_posts(db, limit=100, **listing)]
    offsets = range(0, 24, 3)

    async def pages(version: int | None) -> list[list[int]]:
        data_version = None if version is None else _version(version)
        return [
            [
                post.id
                for post in await posts.select_posts(
                    db, limit=4, offset=offset, data_version=data_version, **listing
                )
            ]
            for offset in offsets
        ]

    assert await pages(None) == await pages(1) == [every[n : n + 4] for n in offsets]
    assert await moderation.suspend_user(db, "moderator", mallory)
    mallorys = {post.id for post in await posts.select_posts(db, limit=100, author_id=mallory)}
    shown = [post_id for post_id in every if post_id not in mallorys]
    assert len(shown) == len(every) - 6
    assert await pages(None) == await pages(2) == [shown[n : n + 4] for n in offsets]


async def test_a_page_read_after_a_write_is_read_by_offset_again(
    db: Database, seeking: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _dated_posts(db)
    before = await posts.select_posts(db, limit=4, offset=3, data_version=_version(1))
    assert await posts.select_posts(db, limit=4, offset=3, data_version=_version(1)) == before
    newest = await posts.insert_post(db, 2, "newest", "b")
    ran = _listing_queries(db, monkeypatch)
    # The version moved: where the page started before is not where it starts now.
    after = await posts.select_posts(db, limit=4, offset=3, data_version=_version(2))
    assert ran == ["offset"]
    listed = await posts.select_posts(db, limit=20)
    assert listed[0].id == newest
    assert [post.id for post in after] == [post.id for post in listed[3:7]]
    # Every post moved down by one.
    assert after[1:] == before[:-1]


async def test_a_page_past_the_end_notes_nothing(db: Database, seeking: None) -> None:
    await _dated_posts(db)
    assert await posts.select_posts(db, limit=4, offset=40, data_version=_version(3)) == []
    assert await posts.select_posts(db, limit=4, offset=40, data_version=_version(3)) == []
    version, starts = posts._page_starts[db]
    assert version == 3 and not starts


@pytest.mark.parametrize(
    "listings", [({"tag": "even"}, {"tag": "odd"}), ({"author_id": 1}, {"author_id": 2})]
)
async def test_where_a_page_starts_is_noted_for_its_own_listing(
    db: Database,
    seeking: None,
    monkeypatch: pytest.MonkeyPatch,
    listings: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    await _dated_posts(db)
    first, second = listings
    expected = await posts.select_posts(db, limit=3, offset=2, **second)
    assert expected
    # The first listing's page 2 and 3 noted where they start; the second's are its own.
    for offset in (0, 2):
        await posts.select_posts(db, limit=3, offset=offset, data_version=_version(4), **first)
    ran = _listing_queries(db, monkeypatch)
    assert (
        await posts.select_posts(db, limit=3, offset=2, data_version=_version(4), **second)
        == expected
    )
    assert ran == ["offset"]


async def test_pages_before_the_entries_sought_are_read_by_offset(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _dated_posts(db)
    monkeypatch.setattr(posts, "PAGES_SOUGHT_FROM", 7)
    offsets = range(0, 12, 3)
    by_offset = [await posts.select_posts(db, limit=4, offset=offset) for offset in offsets]
    ran = _listing_queries(db, monkeypatch)
    read: list[int] = []

    async def data_version() -> int:
        read.append(6)
        return 6

    for _ in range(2):
        for offset, page in zip(offsets, by_offset, strict=True):
            found = await posts.select_posts(db, limit=4, offset=offset, data_version=data_version)
            assert found == page
    # Only the pages read past the seventh entry read the data version.
    assert len(read) == 2 * 2
    # Pages 1 and 2 end before the seventh entry; page 3, which ends past it,
    # notes where page 4 starts.
    assert ran == ["offset", "offset", "offset", "after"] * 2
    version, starts = posts._page_starts[db]
    assert version == 6 and [key[-1] for key in starts] == [9]
