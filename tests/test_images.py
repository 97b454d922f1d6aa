from __future__ import annotations

import io
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import werkzeug.formparser
from quart import Quart
from quart.datastructures import FileStorage
from quart.testing import QuartCliRunner

from quart_flaskr import create_app
from quart_flaskr import images
from quart_flaskr.db import Database
from quart_flaskr.migrations import data as data_step
from quart_flaskr.models import images as image_queries
from quart_flaskr.models import posts
from quart_flaskr.models import tags
from quart_flaskr.models.images import Image
from tests import pictures
from tests.harness.images import palette_png_with_long_transparency
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token
from tests.helpers import make_config
from tests.helpers import on_database
from tests.helpers import serving
from tests.pictures import opened

PNG = pictures.png()
JPEG = pictures.jpeg()
GIF = pictures.gif()
WEBP = pictures.webp()
MAX_IMAGE_BYTES = 32 * 1024
MAX_CONTENT_LENGTH = 8 * 1024


@pytest.fixture
def app(app: Quart) -> Quart:
    """The test app, with small limits to test them."""
    app.config.update(MAX_IMAGE_BYTES=MAX_IMAGE_BYTES, MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH)
    return app


async def stored(db: Database) -> list[str]:
    """The names of the images the database holds."""
    return [row[0] for row in await db.fetch_all("SELECT name FROM image ORDER BY name")]


async def stored_data(db: Database, name: str) -> bytes:
    row = await db.fetch_one("SELECT data FROM image WHERE name = ?", (name,))
    assert row is not None, name
    return bytes(row[0])


def same_picture(stored: bytes, uploaded: bytes) -> bool:
    """Whether the stored bytes are the uploaded picture, re-encoded: its kind and size."""
    before, after = opened(uploaded), opened(stored)
    return (after.format, after.size) == (before.format, before.size)


def exists(path: str) -> bool:
    return Path(path).exists()


def private(path: Path) -> bool:
    """Whether only the owner can read the file or folder."""
    return path.stat().st_mode & 0o077 == 0


async def send_post(
    client: Client,
    path: str,
    image: bytes | None,
    filename: str = "photo.png",
    **fields: str,
) -> tuple[int, str]:
    """Submit the create or update form as a browser does (multipart), with an image or none."""
    token = await csrf_token(client, "/create")
    files = {}
    if image is not None:
        files["image"] = FileStorage(io.BytesIO(image), filename=filename, name="image")
    form = {"title": "pictured", "body": "b", "image_alt": "", **fields, "csrf_token": token}
    response = await client.post(path, form=form, files=files)
    return response.status_code, await response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "kind"),
    (
        (PNG, "png"),
        (JPEG, "jpg"),
        (b"GIF87a", "gif"),
        (GIF, "gif"),
        (WEBP, "webp"),
        (b"", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"<html><script>alert(1)</script>", None),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"\x89PNG", None),
        (b"%PDF-1.7", None),
    ),
)
def test_image_kind(data: bytes, kind: str | None) -> None:
    assert images.image_kind(data) == kind


@pytest.mark.parametrize(
    ("upload", "kind", "content_type"),
    (
        (PNG, "png", "image/png"),
        (JPEG, "jpg", "image/jpeg"),
        (GIF, "gif", "image/gif"),
        (WEBP, "webp", "image/webp"),
    ),
)
async def test_create_with_image(
    client: Client,
    auth: AuthActions,
    db: Database,
    upload: bytes,
    kind: str,
    content_type: str,
) -> None:
    await auth.login()
    # The name the browser sends means nothing: the content decides.
    status, _ = await send_post(client, "/create", upload, filename="../../evil.html")
    assert status == 302
    (name,) = await stored(db)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}\." + kind, name)
    data = await stored_data(db, name)
    assert same_picture(data, upload)
    row = await db.fetch_one("SELECT image FROM post WHERE id = 2")
    assert row is not None and row[0] == name

    page = await (await client.get("/")).get_data(as_text=True)
    # Without a description, the title describes the image; the first of a page comes first.
    assert f'<img class="image" src="/uploads/{name}"' in page
    assert 'width="8" height="6" alt="pictured" fetchpriority="high">' in page
    assert f'src="/uploads/{name}"' in await (await client.get("/2")).get_data(as_text=True)

    response = await client.get(f"/uploads/{name}")
    assert response.status_code == 200
    assert response.content_type == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Content-Length"] == str(len(data))
    assert await response.get_data() == data


async def test_image_description(client: Client, auth: AuthActions) -> None:
    await auth.login()
    await send_post(client, "/create", PNG, image_alt='A "red" <dot>')
    page = await (await client.get("/2")).get_data(as_text=True)
    assert 'alt="A &#34;red&#34; &lt;dot&gt;"' in page


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    (
        (
            b"<html><script>alert(1)</script></html>",
            "photo.png",
            "must be a JPEG, PNG, GIF or WebP",
        ),
        (b"<svg onload='alert(1)'/>", "image.svg", "must be a JPEG, PNG, GIF or WebP"),
        (b"MZ\x90\x00", "photo.jpg", "must be a JPEG, PNG, GIF or WebP"),
        (b"", "named-but-empty.png", "must be a JPEG, PNG, GIF or WebP"),
        (PNG + b"\x00" * MAX_IMAGE_BYTES, "big.png", "at most 32 KiB"),
    ),
)
@pytest.mark.parametrize("path", ("/create", "/1/update"))
async def test_bad_image(
    client: Client,
    auth: AuthActions,
    db: Database,
    path: str,
    data: bytes,
    filename: str,
    message: str,
) -> None:
    await auth.login()
    status, page = await send_post(client, path, data, filename=filename)
    assert status == 200  # The form again, with the message.
    assert message in page
    assert await stored(db) == []
    post = await db.fetch_one("SELECT title, (SELECT COUNT(*) FROM post) FROM post WHERE id = 1")
    assert post is not None and tuple(post) == ("test title", 1)


@pytest.mark.parametrize("path", ("/create", "/1/update"))
async def test_bad_description(client: Client, auth: AuthActions, db: Database, path: str) -> None:
    await auth.login()
    status, page = await send_post(client, path, PNG, image_alt="x" * 201)
    assert status == 200  # The form again, with the message.
    assert "The image description must be at most 200 characters." in page
    assert await stored(db) == []


@pytest.mark.parametrize("path", ("/create", "/1/update"))
async def test_refused_post_stores_no_image(
    client: Client, auth: AuthActions, db: Database, path: str
) -> None:
    await auth.login()
    status, page = await send_post(client, path, PNG, title="")
    assert status == 200  # The form again, with the message.
    assert "Title is required." in page
    assert await stored(db) == []
    post = await db.fetch_one("SELECT title, image, (SELECT COUNT(*) FROM post) FROM post")
    assert post is not None and tuple(post) == ("test title", None, 1)


async def test_no_file_chosen(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    # Browsers send an empty part without a name when no file was chosen.
    status, _ = await send_post(client, "/create", b"", filename="")
    assert status == 302
    row = await db.fetch_one("SELECT image FROM post WHERE id = 2")
    assert row is not None and row[0] is None
    assert await stored(db) == []
    assert "<img" not in await (await client.get("/2")).get_data(as_text=True)


async def test_upload_forms_allow_an_image_other_forms_stay_small(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    image = PNG + b"\x00" * (MAX_IMAGE_BYTES - len(PNG))
    assert len(image) > 2 * MAX_CONTENT_LENGTH
    assert (await send_post(client, "/create", image))[0] == 302
    assert (await send_post(client, "/2/update", image))[0] == 302
    token = await csrf_token(client, "/")
    big = {"csrf_token": token, "title": "x", "body": "x" * (2 * MAX_CONTENT_LENGTH)}
    for path in ("/1/delete", "/1/like", "/1/comment", "/auth/login", "/2/update/"):
        response = await client.post(path, form=big)
        assert response.status_code == 413, path
        # The standard message: these forms carry no image.
        assert "Nothing was saved" not in await response.get_data(as_text=True), path
    # A form that does not take images gets no more room by sending one.
    files = {"image": FileStorage(io.BytesIO(image), filename="a.png", name="image")}
    response = await client.post("/1/comment", form={"csrf_token": token, "body": "x"}, files=files)
    assert response.status_code == 413
    # Nor does an upload form when the body is larger than an image and the form: the
    # page says the image was too large (a phone's photo, say), and nothing was saved.
    huge = image + b"\x00" * MAX_CONTENT_LENGTH
    for path in ("/create", "/2/update"):
        status, page = await send_post(client, path, huge)
        assert status == 413, path
        assert (
            f"Nothing was saved: the image must be at most {MAX_IMAGE_BYTES // 1024} KiB. Go"
            " back, choose a smaller"
            " one and send the form again."
        ) in page, path
    (name,) = await stored(db)
    assert same_picture(await stored_data(db, name), image)


async def test_an_upload_is_held_in_memory_while_bodies_are_bounded(
    client: Client, auth: AuthActions, app: Quart, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    spooled: list[object] = []

    def temporary_file(*args: object, **kwargs: object) -> io.BytesIO:
        spooled.append(kwargs)
        return io.BytesIO()

    # Werkzeug's default: a file spilled to disk past 500 KB, written on the event loop.
    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", temporary_file)
    await auth.login()
    image = PNG + b"\x00" * (MAX_IMAGE_BYTES - len(PNG))
    assert (await send_post(client, "/create", image))[0] == 302
    assert spooled == []
    (name,) = await stored(db)
    assert same_picture(await stored_data(db, name), image)
    # Without a bound on bodies, an upload may be of any size: Werkzeug's file holds it.
    app.config["MAX_CONTENT_LENGTH"] = None
    assert (await send_post(client, "/create", image))[0] == 302
    assert len(spooled) == 1 and len(await stored(db)) == 2


async def test_no_limit_without_max_content_length(
    client: Client, auth: AuthActions, app: Quart
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = None
    await auth.login()
    assert (await send_post(client, "/create", PNG))[0] == 302


async def test_replace_and_remove_image(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    await send_post(client, "/create", PNG)
    (first,) = await stored(db)
    page = await (await client.get("/2/update")).get_data(as_text=True)
    assert f'src="/uploads/{first}"' in page
    assert 'name="remove_image" value="1">' in page
    assert "Replace the image" in page

    # A save refused with the box ticked shows it ticked again, and removes nothing.
    status, page = await send_post(client, "/2/update", None, remove_image="1", tags="bad/tag")
    assert status == 200 and "Tags may hold letters" in page
    assert 'name="remove_image" value="1" checked>' in page
    assert await stored(db) == [first]

    # Saving without a new file keeps the image, and changes the description.
    await send_post(client, "/2/update", None, image_alt="kept")
    assert await stored(db) == [first]
    row = await db.fetch_one("SELECT image, image_alt FROM post WHERE id = 2")
    assert row is not None and tuple(row) == (first, "kept")

    # A new file replaces the image: the old one's row goes in the same save.
    await send_post(client, "/2/update", GIF)
    (second,) = await stored(db)
    assert second.endswith(".gif") and second != first
    assert same_picture(await stored_data(db, second), GIF)
    row = await db.fetch_one("SELECT image FROM post WHERE id = 2")
    assert row is not None and row[0] == second
    assert (await client.get(f"/uploads/{first}")).status_code == 404
    assert (await client.get(f"/uploads/{second}")).status_code == 200

    await send_post(client, "/2/update", None, remove_image="1")
    assert await stored(db) == []
    row = await db.fetch_one("SELECT image FROM post WHERE id = 2")
    assert row is not None and row[0] is None
    assert (await client.get(f"/uploads/{second}")).status_code == 404
    assert 'name="remove_image"' not in await (await client.get("/2/update")).get_data(as_text=True)

    # Removing the image of a post without one changes nothing else.
    await send_post(client, "/2/update", None, remove_image="1")
    assert await stored(db) == []


async def test_image_goes_with_its_post(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    await send_post(client, "/create", PNG)
    await send_post(client, "/create", GIF)
    first, second = (
        row[0] for row in await db.fetch_all("SELECT image FROM post WHERE id > 1 ORDER BY id")
    )
    token = await csrf_token(client, "/2/update")
    assert (await client.post("/2/delete", form={"csrf_token": token})).status_code == 302
    # The other post's image stays.
    assert await stored(db) == [second]
    assert (await client.get(f"/uploads/{first}")).status_code == 404
    # A post without an image goes on its own.
    assert (await client.post("/1/delete", form={"csrf_token": token})).status_code == 302
    assert await stored(db) == [second]


async def test_delete_post_deletes_its_image(db: Database) -> None:
    image = Image("AAAAAAAAAAAAAAAAAAAAAA.png", PNG)
    post_id = await posts.insert_post(db, 1, "t", "b", image=image)
    assert await stored(db) == [image.name]
    assert await posts.delete_post(db, post_id) is True
    assert await stored(db) == []
    # Already gone: nothing to delete.
    assert await posts.delete_post(db, post_id) is False


async def test_image_not_stored_when_saving_the_post_fails(
    client: Client, auth: AuthActions, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await auth.login()
    await send_post(client, "/create", PNG)
    (kept,) = await stored(db)
    kept_data = await stored_data(db, kept)

    async def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    # The tags are written last, after the image, in the post's transaction.
    monkeypatch.setattr(tags, "set_post_tags", fail)
    for path in ("/create", "/2/update"):
        # An unexpected failure: the error page, and the app's log, tell it.
        assert (await send_post(client, path, JPEG, tags="new"))[0] == 500
        # The whole transaction rolled back: no new image, and the post's own stays.
        assert await stored(db) == [kept]
        post = await db.fetch_one(
            "SELECT image, (SELECT COUNT(*) FROM post) FROM post WHERE id = 2"
        )
        assert post is not None and tuple(post) == (kept, 2)
    assert await stored_data(db, kept) == kept_data


@pytest.mark.parametrize(
    "name",
    (
        "missing0000000000000000.png",
        "short.png",
        "AAAAAAAAAAAAAAAAAAAAAA.svg",
        "AAAAAAAAAAAAAAAAAAAAAA.html",
        "..%2Fquart_flaskr.sqlite",
        "%2e%2e",
    ),
)
async def test_serve_only_stored_images(client: Client, name: str) -> None:
    assert (await client.get(f"/uploads/{name}")).status_code == 404
    assert (await client.get(f"/uploads/{name}", headers={"If-None-Match": "*"})).status_code == 404


@pytest.mark.parametrize(
    "name",
    (
        "short.png",
        "AAAAAAAAAAAAAAAAAAAAAA.svg",
        "AAAAAAAAAAAAAAAAAAAAAA.png.png",
        "AAAAAAAAAAAAAAAAAAAA~~.png",
        "..%2Fquart_flaskr.sqlite",
    ),
)
async def test_malformed_names_are_not_looked_up(
    client: Client, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    async def no_query(*args: object) -> None:
        raise AssertionError("queried the database")

    monkeypatch.setattr(image_queries, "select_image", no_query)
    monkeypatch.setattr(image_queries, "image_exists", no_query)
    assert (await client.get(f"/uploads/{name}")).status_code == 404
    assert (await client.get(f"/uploads/{name}", headers={"If-None-Match": "*"})).status_code == 404


async def test_images_are_not_files(
    client: Client, auth: AuthActions, app: Quart, db: Database
) -> None:
    await auth.login()
    await send_post(client, "/create", PNG)
    await send_post(client, "/2/update", GIF)
    assert len(await stored(db)) == 1
    # Nothing is written to the folder earlier releases kept images in.
    assert not exists(app.config["UPLOAD_FOLDER"])


async def test_images_are_in_the_private_database_file_only(tmp_path: Path) -> None:
    async with serving(create_app(make_config(tmp_path))) as app:
        client = app.test_client()
        await AuthActions(client).login()
        assert (await send_post(client, "/create", PNG))[0] == 302
    # The database file is its owner's only, and holds the image.
    database = Path(app.config["DATABASE"])
    assert private(database)
    ((_, data),) = _images_in(database)
    assert same_picture(data, PNG)
    assert _files_in(tmp_path) == []
    assert not exists(app.config["UPLOAD_FOLDER"])


async def test_images_are_served_without_the_session(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    await send_post(client, "/create", PNG)
    (name,) = await stored(db)
    response = await client.get(f"/uploads/{name}")
    assert response.status_code == 200
    # Shared caches may keep it, so it carries no login, and is the same whoever asks.
    assert response.headers["Cache-Control"] == f"public, max-age={images.CACHE_SECONDS}, immutable"
    assert "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers
    # A browser that has it asks again with If-None-Match: still no cookie.
    again = await client.get(
        f"/uploads/{name}", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    assert "Set-Cookie" not in again.headers
    assert "Vary" not in again.headers
    # The login carries on.
    assert "Log Out" in await (await client.get("/")).get_data(as_text=True)


async def test_etag_and_not_modified(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    await send_post(client, "/create", PNG)
    (name,) = await stored(db)
    response = await client.get(f"/uploads/{name}")
    # The stored name is the ETag: it never names other bytes.
    assert response.headers["ETag"] == f'"{name}"'

    for matching in (f'"{name}"', f'W/"{name}"', f'"other", "{name}"', "*"):
        again = await client.get(f"/uploads/{name}", headers={"If-None-Match": matching})
        assert again.status_code == 304, matching
        assert await again.get_data() == b""
        assert again.headers["ETag"] == f'"{name}"'
        assert (
            again.headers["Cache-Control"] == f"public, max-age={images.CACHE_SECONDS}, immutable"
        )

    for other in ('"other"', f'"{name}x"', f'"{name[:-4]}.gif"'):
        again = await client.get(f"/uploads/{name}", headers={"If-None-Match": other})
        assert again.status_code == 200, other
        assert again.content_type == "image/png"
        assert await again.get_data() == await stored_data(db, name)

    head = await client.head(f"/uploads/{name}")
    assert head.status_code == 200
    assert head.headers["ETag"] == f'"{name}"'

    # Once the post's image is removed, a browser's copy is no longer current.
    await send_post(client, "/2/update", None, remove_image="1")
    gone = await client.get(f"/uploads/{name}", headers={"If-None-Match": f'"{name}"'})
    assert gone.status_code == 404
    assert (await client.get(f"/uploads/{name}")).status_code == 404


async def test_image_queries(db: Database) -> None:
    image = Image("AAAAAAAAAAAAAAAAAAAAAA.webp", WEBP)
    assert await image_queries.select_image(db, image.name) is None
    assert await image_queries.image_exists(db, image.name) is False
    async with db.transaction() as tx:
        await image_queries.insert_image(tx, image)
    assert await image_queries.select_image(db, image.name) == WEBP
    assert await image_queries.image_exists(db, image.name) is True
    async with db.transaction() as tx:
        await image_queries.delete_image(tx, image.name)
    assert await image_queries.select_image(db, image.name) is None


def _images_in(path: str | Path) -> list[tuple[str, bytes]]:
    with closing(sqlite3.connect(path)) as conn:
        return [tuple(row) for row in conn.execute("SELECT name, data FROM image ORDER BY name")]


def _files_in(folder: Path) -> list[str]:
    """The stored names of images among the files under ``folder``: there are none."""
    found = (path.name for path in folder.rglob("*"))
    return sorted(name for name in found if images.is_stored_name(name))


async def _add_post_with_image(database: Database) -> None:
    async with database.transaction() as tx:
        await tx.execute("INSERT INTO \"user\" (username, password) VALUES ('painter', 'x')")
    await posts.insert_post(database, 1, "p", "b", image=Image("AAAAAAAAAAAAAAAAAAAAAA.png", PNG))


async def _image_count(database: Database) -> int:
    row = await database.fetch_one("SELECT COUNT(*) FROM image")
    assert row is not None
    return int(row[0])


def test_backup_holds_the_images(tmp_path: Path) -> None:
    # SQLite's: the database's own file, copied.
    app = create_app(make_config(tmp_path))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    on_database(app, _add_post_with_image)
    target = tmp_path / "backup.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert _images_in(target) == [("AAAAAAAAAAAAAAAAAAAAAA.png", PNG)]
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("SELECT image FROM post").fetchall() == [
            ("AAAAAAAAAAAAAAAAAAAAAA.png",)
        ]


def test_init_db_force_leaves_no_images(runner: QuartCliRunner, cli_app: Quart) -> None:
    assert runner.invoke(args=["init-db"]).exit_code == 0
    on_database(cli_app, _add_post_with_image)
    assert on_database(cli_app, _image_count) == 1
    result = runner.invoke(args=["init-db", "--force"])
    assert result.exit_code == 0, result.output
    assert on_database(cli_app, _image_count) == 0
    # Nor any file: images are never written to the uploads folder.
    assert not exists(cli_app.config["UPLOAD_FOLDER"])


async def variants_of(db: Database, name: str) -> list[tuple[str, int, bytes]]:
    """The stored variants of the image ``name``: name, width, bytes, widest first."""
    rows = await db.fetch_all(
        "SELECT name, width, data FROM image_variant WHERE image = ? ORDER BY width DESC, name",
        (name,),
    )
    return [(row[0], row[1], bytes(row[2])) for row in rows]


async def test_phone_photo_is_stored_upright_without_metadata_with_variants(
    client: Client, auth: AuthActions, app: Quart, db: Database
) -> None:
    app.config["MAX_IMAGE_BYTES"] = 1024 * 1024
    await auth.login()
    upload = pictures.phone_jpeg(2000, 1500)
    assert (await send_post(client, "/create", upload))[0] == 302
    (name,) = await stored(db)
    row = await db.fetch_one("SELECT data, width, height FROM image WHERE name = ?", (name,))
    assert row is not None
    data, width, height = bytes(row[0]), row[1], row[2]
    # Turned upright, measured, and nothing about where or with what it was taken.
    assert opened(data).size == (width, height) == (1500, 2000)
    assert not opened(data).getexif() and b"GPS" not in data and b"taken at home" not in data
    variants = await variants_of(db, name)
    kinds = sorted((variant[0].rsplit(".")[1], variant[1]) for variant in variants)
    assert sorted(kinds, key=lambda kind: -kind[1]) == [
        ("jpg", 1440),
        ("webp", 1440),
        ("jpg", 960),
        ("webp", 960),
        ("jpg", 480),
        ("webp", 480),
    ]
    for variant_name, variant_width, variant_data in variants:
        assert images.is_stored_name(variant_name)
        picture = opened(variant_data)
        assert picture.size == (variant_width, round(2000 * variant_width / 1500))
        assert picture.width < width and len(variant_data) < len(data)

    # A variant is served as the image is: its kind, kept for a year by anyone, no cookie.
    webp = next(variant for variant in variants if variant[0].endswith(".webp"))
    response = await client.get(f"/uploads/{webp[0]}")
    assert response.status_code == 200
    assert response.content_type == "image/webp"
    assert await response.get_data() == webp[2]
    assert response.headers["ETag"] == f'"{webp[0]}"'
    assert response.headers["Cache-Control"] == f"public, max-age={images.CACHE_SECONDS}, immutable"
    assert "Set-Cookie" not in response.headers and "Vary" not in response.headers
    again = await client.get(f"/uploads/{webp[0]}", headers={"If-None-Match": f'"{webp[0]}"'})
    assert again.status_code == 304 and "Set-Cookie" not in again.headers


@pytest.mark.parametrize(
    ("upload", "message"),
    (
        (pictures.png(1200, 1000), "The image must be at most 1 megapixel."),
        (
            pictures.jpeg(600, 400)[:1000],
            "The image could not be read: the file may be damaged or incomplete.",
        ),
        # Decoded, but more transparent colours than its palette has: not convertible.
        (
            palette_png_with_long_transparency(),
            "The image could not be read: the file may be damaged or incomplete.",
        ),
    ),
)
@pytest.mark.parametrize("path", ("/create", "/1/update"))
async def test_image_too_large_in_pixels_or_unreadable(
    client: Client,
    auth: AuthActions,
    app: Quart,
    db: Database,
    path: str,
    upload: bytes,
    message: str,
) -> None:
    app.config.update(MAX_IMAGE_BYTES=1024 * 1024, MAX_IMAGE_PIXELS=1_000_000)
    await auth.login()
    status, page = await send_post(client, path, upload, title="kept")
    # The form again, with what was typed and the message: nothing is saved.
    assert status == 400
    assert message in page and 'value="kept"' in page
    assert await stored(db) == []
    assert await db.fetch_all("SELECT name FROM image_variant") == []
    post = await db.fetch_one("SELECT title, (SELECT COUNT(*) FROM post) FROM post WHERE id = 1")
    assert post is not None and tuple(post) == ("test title", 1)


async def test_a_picture_whose_exif_block_is_broken_is_saved(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    upload = pictures.encoded(pictures.photo(600, 400), "png", exif=pictures.BROKEN_EXIF)
    status, _ = await send_post(client, "/create", upload, title="broken exif")
    assert status == 302
    (name,) = await stored(db)
    answer = await client.get(f"/uploads/{name}")
    assert answer.status_code == 200
    assert opened(await answer.get_data(as_text=False)).size == (600, 400)


async def test_variants_go_with_their_image(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    big = pictures.png(600, 400)
    await send_post(client, "/create", big)
    (first,) = await stored(db)
    first_variants = [variant[0] for variant in await variants_of(db, first)]
    assert len(first_variants) == 3
    # Replaced: the old image's variants go with it.
    await send_post(client, "/2/update", pictures.jpeg(500, 300))
    (second,) = await stored(db)
    second_variants = [variant[0] for variant in await variants_of(db, second)]
    rows = await db.fetch_all("SELECT name FROM image_variant ORDER BY name")
    assert [row[0] for row in rows] == sorted(second_variants)
    for name in first_variants:
        assert (await client.get(f"/uploads/{name}")).status_code == 404
    # Deleted with the post.
    token = await csrf_token(client, "/2/update")
    assert (await client.post("/2/delete", form={"csrf_token": token})).status_code == 302
    assert await db.fetch_all("SELECT name FROM image_variant") == []
    for name in second_variants:
        assert (await client.get(f"/uploads/{name}")).status_code == 404


def _tags(page: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}\b[^>]*>", page)


async def test_pages_show_sizes_sources_and_the_first_image_eager(
    client: Client, auth: AuthActions, db: Database
) -> None:
    await auth.login()
    # Four posts: two with images, then one without (the newest), then one more.
    await send_post(client, "/create", pictures.jpeg(600, 400), image_alt="first")
    await send_post(client, "/create", pictures.webp(1000, 500), image_alt="second")
    await send_post(client, "/create", None)
    post = await posts.select_post(db, 3)
    assert post is not None and post.image is not None
    listing = await (await client.get("/")).get_data(as_text=True)
    imgs = _tags(listing, "img")
    assert len(imgs) == 2
    # The newest post has no image: the first image of the page is the next one's.
    assert 'alt="second"' in imgs[0] and 'fetchpriority="high"' in imgs[0]
    assert "loading" not in imgs[0]
    assert 'alt="first"' in imgs[1] and 'loading="lazy"' in imgs[1]
    assert "fetchpriority" not in imgs[1]
    # A WebP image lists its variants and itself in one srcset, with its size.
    variants = dict(post.image_variants)
    assert [width for _, width in post.image_variants] == [480, 960]
    assert 'width="1000" height="500"' in imgs[0]
    srcset = ", ".join(
        [f"/uploads/{name} {width}w" for name, width in variants.items()]
        + [f"/uploads/{post.image} 1000w"]
    )
    assert f'srcset="{srcset}"' in imgs[0]
    assert 'sizes="(max-width: 40rem) calc(100vw - 2rem), 38rem"' in imgs[0]
    # A JPEG: WebP variants in a <source>, JPEG ones and itself in the <img>.
    (source,) = _tags(listing, "source")
    assert source.startswith('<source type="image/webp" srcset="/uploads/')
    assert " 480w, /uploads/" in source and source.count("w, ") == 1 and " 600w" in source
    assert 'width="600" height="400"' in imgs[1] and ".jpg 480w, /uploads/" in imgs[1]

    # A post's own page, and its edit form: the image comes first.
    for path in ("/2", "/2/update"):
        page = await (await client.get(path)).get_data(as_text=True)
        (img,) = _tags(page, "img")
        assert 'fetchpriority="high"' in img and 'width="600" height="400"' in img, path
    edit = await (await client.get("/2/update")).get_data(as_text=True)
    assert 'sizes="20rem"' in edit


async def test_an_image_without_size_or_variants_is_shown_as_it_is(
    client: Client, db: Database
) -> None:
    # As stored before schema 9, until the data step measures it.
    image = Image("AAAAAAAAAAAAAAAAAAAAAA.png", PNG)
    await posts.insert_post(db, 1, "unmeasured", "b", image=image)
    page = await (await client.get("/")).get_data(as_text=True)
    (img,) = _tags(page, "img")
    assert img == (
        '<img class="image" src="/uploads/AAAAAAAAAAAAAAAAAAAAAA.png" alt="unmeasured"'
        ' fetchpriority="high">'
    )
    assert "<source" not in page


async def test_old_images_get_their_size_and_variants_from_the_data_step(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    photo = pictures.phone_jpeg(1200, 900)
    old = {
        "BBBBBBBBBBBBBBBBBBBBBB.jpg": photo,
        "CCCCCCCCCCCCCCCCCCCCCC.gif": pictures.animated("gif", 700, 500),
        "DDDDDDDDDDDDDDDDDDDDDD.png": b"\x89PNG\r\n\x1a\nbroken",
        "EEEEEEEEEEEEEEEEEEEEEE.png": pictures.png(3000, 3000),
    }
    for name, data in old.items():
        await posts.insert_post(db, 1, name, "b", image=Image(name, data))
    assert await data_step.store_missing_image_sizes(db, max_pixels=5_000_000, batch=1) == 4
    rows = await db.fetch_all("SELECT name, data, width, height FROM image ORDER BY name")
    # The bytes stay as they were: they are served as never changing.
    assert [(row[0], bytes(row[1]), row[2], row[3]) for row in rows] == [
        ("BBBBBBBBBBBBBBBBBBBBBB.jpg", photo, 900, 1200),
        ("CCCCCCCCCCCCCCCCCCCCCC.gif", old["CCCCCCCCCCCCCCCCCCCCCC.gif"], 700, 500),
        # Unreadable, or too large: named in the log, not read again.
        ("DDDDDDDDDDDDDDDDDDDDDD.png", old["DDDDDDDDDDDDDDDDDDDDDD.png"], 0, 0),
        ("EEEEEEEEEEEEEEEEEEEEEE.png", old["EEEEEEEEEEEEEEEEEEEEEE.png"], 0, 0),
    ]
    assert "DDDDDDDDDDDDDDDDDDDDDD.png could not be measured" in caplog.text
    assert "EEEEEEEEEEEEEEEEEEEEEE.png could not be measured" in caplog.text
    variants = await variants_of(db, "BBBBBBBBBBBBBBBBBBBBBB.jpg")
    kinds = sorted((name.rsplit(".")[1], width) for name, width, _ in variants)
    assert sorted(kinds, key=lambda kind: -kind[1]) == [
        ("webp", 900),
        ("jpg", 480),
        ("webp", 480),
    ]
    assert all(not opened(data).getexif() for _, _, data in variants)
    assert await db.fetch_one("SELECT 1 FROM image_variant WHERE image LIKE 'C%'") is None
    assert await data_step.store_missing_image_sizes(db) == 0


async def test_an_old_image_deleted_meanwhile_is_not_measured(db: Database) -> None:
    image = Image("FFFFFFFFFFFFFFFFFFFFFF.png", PNG)
    post_id = await posts.insert_post(db, 1, "t", "b", image=image)
    (found,) = await image_queries.select_unmeasured(db)
    await posts.delete_post(db, post_id)
    measured = Image(found.name, b"", 8, 6, (image_queries.Variant("G" * 22 + ".webp", 8, b""),))
    assert await image_queries.store_measured(db, measured) is False
    assert await db.fetch_all("SELECT name FROM image_variant") == []
