"""A database written by the release before the blog's features upgrades in place, data intact."""

from __future__ import annotations

import functools
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any
from typing import cast

import pytest

from quart_flaskr import create_app
from quart_flaskr import search
from quart_flaskr.db import Database
from quart_flaskr.db import get_db
from quart_flaskr.db import SCHEMA_VERSION
from quart_flaskr.db import SQLiteDatabase
from quart_flaskr.db.postgres import PostgresDatabase
from quart_flaskr.db.schema import MIGRATIONS_BY_DIALECT
from quart_flaskr.migrations import data
from quart_flaskr.models import images as image_queries
from quart_flaskr.models import posts
from quart_flaskr.models.images import Image
from tests import pictures
from tests.harness.databases import old_database
from tests.helpers import AuthActions
from tests.helpers import make_config
from tests.helpers import post_form

#: The schema version of the release before comments, likes, tags, images and search.
PREVIOUS_VERSION = 3
#: Werkzeug hashes of "test", as in data.sql.
PASSWORD = (
    "pbkdf2:sha256:1000$9qqhH2anpEhvZlta"
    "$a2bcb34cbf343832e69de65e325d874968e07f9880f2fc46427909bfa86060b3"
)


def create_previous_version(path: Path) -> None:
    """What the previous release's init-db made, then used for a while."""
    old_database(
        path,
        PREVIOUS_VERSION,
        user=[
            {"username": "test", "password": PASSWORD},
            {"username": "old timer", "password": PASSWORD},
        ],
        post=[
            {
                "title": "Old news",
                "body": "Written *before* the upgrade.\nSecond line.",
                "author_id": 2,
                "created": "2017-05-01 10:00:00",
            },
            {
                "title": "Older still",
                "body": "<script>alert(1)</script>",
                "author_id": 1,
                "created": "2016-01-01 00:00:00",
            },
        ],
    )


async def test_migrate_keeps_users_and_posts(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    create_previous_version(path)
    database = SQLiteDatabase(str(path))
    try:
        assert await database.schema_version() == PREVIOUS_VERSION
        assert await database.migrate() == (PREVIOUS_VERSION, SCHEMA_VERSION, 0)
        users = await database.fetch_all('SELECT id, username, password FROM "user" ORDER BY id')
        assert [tuple(row) for row in users] == [(1, "test", PASSWORD), (2, "old timer", PASSWORD)]
        rows = await database.fetch_all(
            "SELECT id, title, author_id, created, like_count, comment_count, image, body_html"
            " FROM post ORDER BY id"
        )
        assert [tuple(row) for row in rows] == [
            (1, "Old news", 2, "2017-05-01 10:00:00", 0, 0, None, None),
            (2, "Older still", 1, "2016-01-01 00:00:00", 0, 0, None, None),
        ]
        # Each has a revision of its own, and a new one once its HTML is stored.
        revisions = "SELECT revision FROM post ORDER BY id"
        before = [row[0] for row in await database.fetch_all(revisions)]
        assert len(set(before)) == 2 and all(0 < revision < 2**62 for revision in before)
        assert await data.store_missing_html(database, "post") == 2
        after = [row[0] for row in await database.fetch_all(revisions)]
        assert all(old != new for old, new in zip(before, after, strict=True))
        # The existing posts are in the search index once the data step
        # stored their terms.
        timer = "SELECT rowid FROM post_search WHERE post_search MATCH '\"timer\"'"
        assert await database.fetch_all(timer) == []
        assert await data.store_missing_search_terms(database) == 2
        found = await database.fetch_all(timer)
        assert [row[0] for row in found] == [1]
        # Migrating again changes nothing.
        assert await database.migrate() == (SCHEMA_VERSION, SCHEMA_VERSION, 0)
        check = await database.fetch_one("PRAGMA integrity_check")
        assert check is not None and check[0] == "ok"
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO post_search (post_search) VALUES ('integrity-check')")
    finally:
        await database.close()


async def test_upgraded_blog_works(tmp_path: Path) -> None:
    create_previous_version(tmp_path / "test.sqlite")
    # The app upgrades its database when it starts serving.
    app = create_app(make_config(tmp_path, UPLOAD_FOLDER=str(tmp_path / "uploads")))
    async with app.test_app():
        # Start-up stored the old posts' HTML, so that no page renders it.
        database = get_db(app)
        rows = await database.fetch_all("SELECT body_html FROM post ORDER BY id")
        assert [row[0] for row in rows] == [
            "<p>Written <em>before</em> the upgrade.\nSecond line.</p>\n",
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n",
        ]
        client = app.test_client()
        page = await (await client.get("/")).get_data(as_text=True)
        # Old posts show the beginning of their rendered Markdown, scripts shown as text.
        assert "Written before the upgrade.\nSecond line." in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert 'by <a href="/u/old%20timer">old timer</a> on 2017-05-01' in page
        # Accounts from before schema 10 have no date of joining: the profile says so.
        profile = await (await client.get("/u/old%20timer")).get_data(as_text=True)
        assert "Joined before the blog recorded when." in profile and "Old news" in profile
        page = await (await client.get("/1")).get_data(as_text=True)
        assert "Written <em>before</em> the upgrade.\nSecond line." in page
        search = await (await client.get("/?q=upgrade")).get_data(as_text=True)
        assert "Old news" in search and "Older still" not in search

        auth = AuthActions(client)
        await auth.login("test", "test")
        assert (await post_form(client, "/1/like", {})).status_code == 302
        response = await post_form(client, "/1/comment", {"body": "Still here"}, token_from="/1")
        assert response.status_code == 302
        await post_form(client, "/2/update", {"title": "Older still", "body": "x", "tags": "old"})
        assert "Older still" in await (await client.get("/tag/old")).get_data(as_text=True)
        page = await (await client.get("/1")).get_data(as_text=True)
        assert "1 like<" in page and "Still here" in page


async def test_old_posts_get_their_html_in_batches(tmp_path: Path) -> None:
    create_previous_version(tmp_path / "old.sqlite")
    database = SQLiteDatabase(str(tmp_path / "old.sqlite"))
    try:
        await database.migrate()
        async with database.transaction() as tx:
            for number in range(3, 8):
                await tx.execute(
                    "INSERT INTO post (title, body, author_id) VALUES (?, ?, 1)",
                    (f"old {number}", f"*{number}*"),
                )
            # One stored already: left as it is.
            await tx.execute("UPDATE post SET body_html = 'kept' WHERE id = 4")
        assert await data.store_missing_html(database, "post", batch=2) == 6
        rows = await database.fetch_all("SELECT id, body_html FROM post ORDER BY id")
        assert [tuple(row) for row in rows] == [
            (1, "<p>Written <em>before</em> the upgrade.\nSecond line.</p>\n"),
            (2, "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
            (3, "<p><em>3</em></p>\n"),
            (4, "kept"),
            *((number, f"<p><em>{number}</em></p>\n") for number in range(5, 8)),
        ]
        assert await data.store_missing_html(database, "post") == 0
    finally:
        await database.close()


#: The schema version before Markdown was rendered by pulldown-cmark.
MARKDOWN_IT_VERSION = 4


async def test_html_made_by_the_old_renderer_is_made_again(tmp_path: Path) -> None:
    path = tmp_path / "v4.sqlite"
    old_database(
        path,
        MARKDOWN_IT_VERSION,
        user=[{"username": "test", "password": PASSWORD}],
        post=[
            {
                "title": "t",
                "body": "[x](javascript:y)",
                "body_html": "<p>[x](javascript:y)</p>",
                "author_id": 1,
            }
        ],
        comment=[
            {"post_id": 1, "author_id": 1, "body": body, "body_html": body_html}
            for body, body_html in (
                ("|a|\n|-|", "<table>\n<thead>"),
                ("*c*", "<p><em>c</em></p>\n"),
            )
        ],
    )
    database = SQLiteDatabase(str(path), data.upgrade_data)
    try:
        assert await database.migrate() == (MARKDOWN_IT_VERSION, SCHEMA_VERSION, 5)
        post = await database.fetch_one("SELECT body_html FROM post")
        assert post is not None
        assert post[0] == '<p><a rel="nofollow ugc noopener noreferrer">x</a></p>\n'
        comments = await database.fetch_all("SELECT body_html FROM comment ORDER BY id")
        assert [row[0] for row in comments] == [
            "<table><thead><tr><th>a</th></tr></thead></table>\n",
            "<p><em>c</em></p>\n",
        ]
        # Once made, nothing is made again.
        assert await data.store_missing_html(database, "comment") == 0
    finally:
        await database.close()


#: The schema version before Markdown's headings went one level down.
HEADINGS_AT_LEVEL_VERSION = 12


async def test_headings_stored_at_their_markdown_level_go_one_down(tmp_path: Path) -> None:
    """A post's "# heading" was an <h1> beside the page's title: made again as an <h2>."""
    path = tmp_path / "v12.sqlite"
    old_database(
        path,
        HEADINGS_AT_LEVEL_VERSION,
        user=[{"username": "test", "password": PASSWORD}],
        post=[{"title": "t", "body": "# Way", "body_html": "<h1>Way</h1>\n", "author_id": 1}],
        comment=[{"post_id": 1, "author_id": 1, "body": "## c", "body_html": "<h2>c</h2>\n"}],
    )
    database = SQLiteDatabase(str(path), data.upgrade_data)
    try:
        assert await database.migrate() == (HEADINGS_AT_LEVEL_VERSION, SCHEMA_VERSION, 4)
        post = await database.fetch_one("SELECT body_html FROM post")
        comment = await database.fetch_one("SELECT body_html FROM comment")
        assert post is not None and comment is not None
        assert (post[0], comment[0]) == ("<h2>Way</h2>\n", "<h3>c</h3>\n")
    finally:
        await database.close()


async def test_posts_and_comments_show_their_html_before_the_data_step(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path))
    async with app.app_context():
        database = get_db(app)
        await database.reset()
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO \"user\" (username, password) VALUES ('u', 'x')")
            # As migration 5 leaves them: a post's HTML NULL, a comment's empty.
            await tx.execute(
                "INSERT INTO post (title, body, author_id) VALUES ('t', '**early**', 1)"
            )
            await tx.execute(
                "INSERT INTO comment (post_id, author_id, body, body_html)"
                " VALUES (1, 1, '*comment*', '')"
            )
        post = await posts.select_post(database, 1)
        client = app.test_client()
        listing, page, feed = [
            await (await client.get(path)).get_data(as_text=True)
            for path in ("/", "/1", "/feed.xml")
        ]
        await database.close()
    # The model gives what is stored; the pages and the feed render it meanwhile.
    assert post is not None and post.html is None
    assert '<p class="excerpt">early</p>' in listing
    assert "<strong>early</strong>" in page and "<em>comment</em>" in page
    assert "&lt;strong&gt;early&lt;/strong&gt;" in feed


#: The schema version of the release that kept images as files in UPLOAD_FOLDER.
IMAGE_FILES_VERSION = 6
#: Stored names, as that release made them, and the files' bytes.
RED = ("Redredredredredredred0.png", pictures.png())
BLUE = ("Blueblueblueblueblue01.jpg", pictures.jpeg())
LOST = ("Lostlostlostlostlost01.gif", b"GIF89alost")


def create_image_files_version(path: Path, uploads: Path) -> None:
    """A blog of the release before images moved into the database: posts and their files."""
    old_database(
        path,
        IMAGE_FILES_VERSION,
        user=[{"username": "painter", "password": PASSWORD, "username_key": "painter"}],
        post=[
            {"title": title, "body": "b", "author_id": 1, "image": image}
            for title, image in (
                ("red", RED[0]),
                ("blue", BLUE[0]),
                ("lost", LOST[0]),
                ("plain", None),
            )
        ],
    )
    uploads.mkdir(mode=0o700)
    for name, content in (RED, BLUE):
        (uploads / name).write_bytes(content)
    # A file no post shows (its post was deleted while the file stayed), and
    # one that is not an image of the blog's.
    (uploads / "Unusedunusedunusedunus.png").write_bytes(b"\x89PNG\r\n\x1a\nunused")
    (uploads / "notes.txt").write_text("the operator's")


async def test_images_move_from_files_into_the_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    uploads = tmp_path / "uploads"
    create_image_files_version(tmp_path / "test.sqlite", uploads)
    app = create_app(make_config(tmp_path, UPLOAD_FOLDER=str(uploads)))
    # The app upgrades its database when it starts serving.
    async with app.test_app():
        database = get_db(app)
        rows = await database.fetch_all("SELECT name, data FROM image ORDER BY name")
        assert [tuple(row) for row in rows] == [BLUE, RED]
        client = app.test_client()
        for name, content in (RED, BLUE):
            response = await client.get(f"/uploads/{name}")
            assert response.status_code == 200
            assert await response.get_data() == content
        # The missing file is in the log; its post still names it.
        assert (await client.get(f"/uploads/{LOST[0]}")).status_code == 404
        lost = await database.fetch_one("SELECT image FROM post WHERE title = 'lost'")
        assert lost is not None and lost[0] == LOST[0]
        created = [
            tuple(row) for row in await database.fetch_all("SELECT * FROM image ORDER BY name")
        ]
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert len(warnings) == 2
    assert "could not be moved into the database" in warnings[0]
    assert str(uploads / LOST[0]) in warnings[0]
    assert (
        warnings[1]
        == f"Moved 2 images from {uploads} into the database; the files are no longer used."
    )
    # The files stay, for the operator to delete.
    assert sorted(path.name for path in uploads.iterdir()) == sorted(
        [RED[0], BLUE[0], "Unusedunusedunusedunus.png", "notes.txt"]
    )

    # Migrating again changes nothing, and names the missing file again.
    caplog.clear()
    database = SQLiteDatabase(
        str(tmp_path / "test.sqlite"),
        functools.partial(data.upgrade_data, upload_folder=str(uploads)),
    )
    try:
        assert await database.migrate() == (SCHEMA_VERSION, SCHEMA_VERSION, 0)
        again = [
            tuple(row) for row in await database.fetch_all("SELECT * FROM image ORDER BY name")
        ]
        assert again == created
    finally:
        await database.close()
    (warning,) = (record.getMessage() for record in caplog.records)
    assert str(uploads / LOST[0]) in warning


async def test_image_files_in_batches_and_names_that_are_not_stored_names(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    uploads = tmp_path / "uploads"
    path = tmp_path / "v6.sqlite"
    create_image_files_version(path, uploads)
    # Nothing but a stored name is ever read from the folder.
    (tmp_path / "secret.png").write_bytes(b"\x89PNG\r\n\x1a\nsecret")
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE post SET image = '../secret.png' WHERE title = 'plain'")
    database = SQLiteDatabase(str(path))
    try:
        await database.migrate()
        assert await data.store_image_files(database, str(uploads), batch=1) == 2
        rows = await database.fetch_all("SELECT name FROM image ORDER BY name")
        assert [row[0] for row in rows] == [BLUE[0], RED[0]]
        assert "'../secret.png', which is not a stored name" in caplog.text
        assert await data.store_image_files(database, str(uploads)) == 0
    finally:
        await database.close()


async def test_an_image_file_is_stored_only_while_a_post_shows_it(db: Database) -> None:
    red = Image(*RED)
    # No post shows it (its post was edited or deleted meanwhile): not stored.
    assert await image_queries.store_shown_image(db, red) is False
    async with db.transaction() as tx:
        await tx.execute("UPDATE post SET image = ? WHERE id = 1", (red.name,))
    assert await image_queries.select_unstored_names(db) == [red.name]
    assert await image_queries.store_shown_image(db, red) is True
    assert await image_queries.select_unstored_names(db) == []
    # Stored by another process first: kept as it is.
    assert await image_queries.store_shown_image(db, Image(red.name, b"other")) is False
    assert await image_queries.select_image(db, red.name) == RED[1]


async def test_an_image_file_whose_post_changes_meanwhile_is_not_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = tmp_path / "uploads"
    path = tmp_path / "v6.sqlite"
    create_image_files_version(path, uploads)
    select = image_queries.select_unstored_names

    async def then_edit(db: Database, after: str = "", limit: int = 100) -> list[str]:
        names = await select(db, after, limit)
        # The red post's author removes its image while the step reads the files.
        async with db.transaction() as tx:
            await tx.execute("UPDATE post SET image = NULL WHERE image = ?", (RED[0],))
        return names

    database = SQLiteDatabase(str(path))
    try:
        await database.migrate()
        monkeypatch.setattr(image_queries, "select_unstored_names", then_edit)
        assert await data.store_image_files(database, str(uploads)) == 1
        rows = await database.fetch_all("SELECT name FROM image")
        assert [row[0] for row in rows] == [BLUE[0]]
    finally:
        await database.close()


#: The last schema version whose database analysed search words itself.
SEARCH_IN_SQL_VERSION = 7
#: Posts as that release stored them, searched for after the upgrade.
RUSSIAN_AND_KOREAN = (
    (
        "Развертывание в производстве",
        "Если вы хотите развернуть свое приложение на другом сервере, соберите дистрибутив.",
    ),
    ("운영 환경", "애플리케이션을 프로덕션 서버에 배포하려면 휠 파일을 만듭니다."),
    ("Posts", "Older English, stemmed as before."),
)


async def old_blog(
    backend: str,
    request: pytest.FixtureRequest,
    version: int,
    rows: dict[str, list[dict[str, object]]],
) -> Database:
    """A blog of the release at schema ``version`` on ``backend``, holding ``rows`` by table."""
    if backend == "sqlite":
        path = request.getfixturevalue("tmp_path") / f"v{version}.sqlite"
        # Only tables' rows: old_database's one other keyword, script, is not among them.
        old_database(path, version, **cast(dict[str, Any], rows))
        return SQLiteDatabase(str(path), data.upgrade_data)
    url = request.getfixturevalue("postgres_url")
    database = PostgresDatabase(url)
    try:
        async with database.transaction() as tx:
            for script_version, statements in MIGRATIONS_BY_DIALECT["postgresql"]:
                if script_version <= version:
                    for statement in statements:
                        await tx.execute(statement)
            await tx.set_schema_version(version)
            for table, table_rows in rows.items():
                for row in table_rows:
                    await tx.execute(
                        f'INSERT INTO "{table}" ({", ".join(row)})'  # noqa: S608 - the test's own
                        f" VALUES ({', '.join('?' * len(row))})",
                        list(row.values()),
                    )
    finally:
        await database.close()
    return PostgresDatabase(url, data.upgrade_data)


async def create_search_in_sql_version(backend: str, request: pytest.FixtureRequest) -> Database:
    """A blog of the release whose database analysed search words, on ``backend``."""
    user: dict[str, object] = {"username": "Мария", "password": PASSWORD, "username_key": "мария"}
    post_rows: list[dict[str, object]] = [
        {"title": title, "body": body, "author_id": 1} for title, body in RUSSIAN_AND_KOREAN
    ]
    rows = {"user": [user], "post": post_rows}
    return await old_blog(backend, request, SEARCH_IN_SQL_VERSION, rows)


@pytest.mark.parametrize("backend", ("sqlite", "postgresql"))
async def test_posts_written_before_schema_8_are_found_in_russian_and_korean(
    backend: str, request: pytest.FixtureRequest
) -> None:
    database = await create_search_in_sql_version(backend, request)
    try:
        assert await database.migrate() == (SEARCH_IN_SQL_VERSION, SCHEMA_VERSION, 6)
        for query, titles in (
            ("развертывания приложения", ["Развертывание в производстве"]),
            ("Марии", ["Posts", "운영 환경", "Развертывание в производстве"]),
            ("서버 파일", ["운영 환경"]),
            ("휠", ["운영 환경"]),
            ("post stemmed", ["Posts"]),
            ("버서", []),
        ):
            found = await posts.select_posts(database, limit=10, search=query)
            assert [post.title for post in found] == titles, query
        # Nothing is left to analyse.
        assert await data.store_missing_search_terms(database) == 0
        if backend == "postgresql":
            # Nor anything that analysed text in SQL.
            left = await database.fetch_one(
                "SELECT (SELECT count(*) FROM pg_ts_config WHERE cfgname = 'quart_flaskr_search')"
                " + (SELECT count(*) FROM pg_proc WHERE proname LIKE 'search\\_%')"
            )
            assert left is not None and left[0] == 0
    finally:
        await database.close()


async def test_search_terms_of_old_posts_in_batches(db: Database) -> None:
    async with db.transaction() as tx:
        for title, body in RUSSIAN_AND_KOREAN:
            await tx.execute(
                "INSERT INTO post (title, body, author_id) VALUES (?, ?, 1)", (title, body)
            )
        # One edited since it was read: its own terms are kept.
        await tx.execute("UPDATE post SET search_body = ' kept ' WHERE id = 2")
    # The seeded post's terms were stored when the app started.
    assert await data.store_missing_search_terms(db, batch=1) == 2
    assert await data.store_missing_search_terms(db) == 0
    rows = await db.fetch_all(
        "SELECT id, search_title, search_author, search_body FROM post ORDER BY id"
    )
    assert [tuple(row) for row in rows] == [
        (1, " test  titl ", " test ", " test  bodi "),
        (2, None, None, " kept "),
        *(
            (number, search.indexed(title), " test ", search.indexed(body))
            for number, (title, body) in enumerate(RUSSIAN_AND_KOREAN[1:], start=3)
        ),
    ]


#: The schema version of the release before images had a size and variants.
IMAGES_WITHOUT_SIZES_VERSION = 8


async def create_images_without_sizes_version(
    backend: str, request: pytest.FixtureRequest, photo: bytes
) -> Database:
    """A blog of the release whose images had no size or variants, on ``backend``."""
    rows: dict[str, list[dict[str, object]]] = {
        "user": [{"username": "painter", "password": PASSWORD, "username_key": "painter"}],
        "image": [{"name": "Photophotophotophoto01.jpg", "data": photo}],
        "post": [
            {"title": "t", "body": "b", "author_id": 1, "image": "Photophotophotophoto01.jpg"}
        ],
    }
    return await old_blog(backend, request, IMAGES_WITHOUT_SIZES_VERSION, rows)


@pytest.mark.parametrize("backend", ("sqlite", "postgresql"))
async def test_images_stored_before_schema_9_get_their_size_and_variants(
    backend: str, request: pytest.FixtureRequest
) -> None:
    photo = pictures.phone_jpeg(1000, 800)
    database = await create_images_without_sizes_version(backend, request, photo)
    try:
        assert await database.migrate() == (IMAGES_WITHOUT_SIZES_VERSION, SCHEMA_VERSION, 3)
        (post,) = await posts.select_posts(database, limit=5)
        # Upright, as browsers show it; its bytes, served as never changing, unchanged.
        assert (post.image_width, post.image_height) == (800, 1000)
        assert await image_queries.select_image(database, "Photophotophotophoto01.jpg") == photo
        assert [width for _, width in post.image_variants] == [480, 480, 800]
        for name, width in post.image_variants:
            variant = await image_queries.select_image(database, name)
            assert variant is not None
            assert pictures.opened(variant).width == width
            assert not pictures.opened(variant).getexif()
        assert await data.store_missing_image_sizes(database) == 0
    finally:
        await database.close()


#: The schema version of the release whose listings joined each post's tags.
TAGS_JOINED_VERSION = 11


@pytest.mark.parametrize("backend", ("sqlite", "postgresql"))
async def test_posts_tagged_before_schema_12_list_their_tags(
    backend: str, request: pytest.FixtureRequest
) -> None:
    author: dict[str, object] = {
        "username": "tagger",
        "password": PASSWORD,
        "username_key": "tagger",
    }
    rows: dict[str, list[dict[str, object]]] = {
        "user": [author],
        "post": [
            {"title": title, "body": "b", "author_id": 1, "created": f"2020-01-0{day} 00:00:00"}
            for day, title in enumerate(("two tags", "one tag", "no tag"), start=1)
        ],
        "tag": [{"name": "python"}, {"name": "async web"}],
        "post_tag": [
            {"post_id": 1, "tag_id": 1, "created": "2020-01-01 00:00:00"},
            {"post_id": 1, "tag_id": 2, "created": "2020-01-01 00:00:00"},
            {"post_id": 2, "tag_id": 2, "created": "2020-01-02 00:00:00"},
        ],
    }
    database = await old_blog(backend, request, TAGS_JOINED_VERSION, rows)
    try:
        assert await database.migrate() == (TAGS_JOINED_VERSION, SCHEMA_VERSION, 6)
        listed = await posts.select_posts(database, limit=5)
        assert [(post.title, post.tags) for post in listed] == [
            ("no tag", ()),
            ("one tag", ("async web",)),
            ("two tags", ("async web", "python")),
        ]
        stored = await database.fetch_all("SELECT tag_names FROM post WHERE id = 3")
        assert [row[0] for row in stored] == [None]
        tagged = await posts.select_posts(database, limit=5, tag="async web")
        assert [post.title for post in tagged] == ["one tag", "two tags"]
    finally:
        await database.close()
