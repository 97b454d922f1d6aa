from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from quart import Quart
from quart.datastructures import FileStorage

from quart_flaskr import images
from quart_flaskr.db import Database
from quart_flaskr.models import posts
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
GIF = b"GIF89a" + b"\x00" * 200
WEBP = b"RIFF\x00\x01\x00\x00WEBPVP8 " + b"\x00" * 200
MAX_IMAGE_BYTES = 32 * 1024
MAX_CONTENT_LENGTH = 8 * 1024


@pytest.fixture
def app(app: Quart, tmp_path: Path) -> Quart:
    """The test app, with its uploads in the test's folder and small limits to test them."""
    app.config.update(
        UPLOAD_FOLDER=str(tmp_path / "uploads"),
        MAX_IMAGE_BYTES=MAX_IMAGE_BYTES,
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
    )
    return app


@pytest.fixture
def uploads(app: Quart) -> Path:
    return Path(app.config["UPLOAD_FOLDER"])


def stored(uploads: Path) -> list[str]:
    return sorted(path.name for path in uploads.iterdir()) if uploads.exists() else []


def private(path: Path) -> bool:
    """Whether only the owner can read the file or folder."""
    return path.stat().st_mode & 0o077 == 0


def add_foreign_file(uploads: Path) -> None:
    uploads.mkdir()
    (uploads / "keep.txt").write_text("not ours")


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
    ("data", "kind", "content_type"),
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
    uploads: Path,
    data: bytes,
    kind: str,
    content_type: str,
) -> None:
    await auth.login()
    # The name the browser sends means nothing: the content decides.
    status, _ = await send_post(client, "/create", data, filename="../../evil.html")
    assert status == 302
    (name,) = stored(uploads)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}\." + kind, name)
    assert (uploads / name).read_bytes() == data
    row = await db.fetch_one("SELECT image FROM post WHERE id = 2")
    assert row is not None and row[0] == name

    page = await (await client.get("/")).get_data(as_text=True)
    # Without a description, the title describes the image.
    assert f'<img class="image" src="/uploads/{name}" alt="pictured" loading="lazy">' in page
    assert f'src="/uploads/{name}"' in await (await client.get("/2")).get_data(as_text=True)

    response = await client.get(f"/uploads/{name}")
    assert response.status_code == 200
    assert response.content_type == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
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
    uploads: Path,
    path: str,
    data: bytes,
    filename: str,
    message: str,
) -> None:
    await auth.login()
    status, page = await send_post(client, path, data, filename=filename)
    assert status == 200  # The form again, with the message.
    assert message in page
    assert stored(uploads) == []
    post = await db.fetch_one("SELECT title, (SELECT COUNT(*) FROM post) FROM post WHERE id = 1")
    assert post is not None and tuple(post) == ("test title", 1)


@pytest.mark.parametrize("path", ("/create", "/1/update"))
async def test_bad_description(client: Client, auth: AuthActions, uploads: Path, path: str) -> None:
    await auth.login()
    status, page = await send_post(client, path, PNG, image_alt="x" * 201)
    assert status == 200  # The form again, with the message.
    assert "The image description must be at most 200 characters." in page
    assert stored(uploads) == []


async def test_no_file_chosen(
    client: Client, auth: AuthActions, db: Database, uploads: Path
) -> None:
    await auth.login()
    # Browsers send an empty part without a name when no file was chosen.
    status, _ = await send_post(client, "/create", b"", filename="")
    assert status == 302
    row = await db.fetch_one("SELECT image FROM post WHERE id = 2")
    assert row is not None and row[0] is None
    assert stored(uploads) == []
    assert "<img" not in await (await client.get("/2")).get_data(as_text=True)


async def test_upload_forms_allow_an_image_other_forms_stay_small(
    client: Client, auth: AuthActions, db: Database, uploads: Path
) -> None:
    await auth.login()
    image = PNG + b"\x00" * (MAX_IMAGE_BYTES - len(PNG))
    assert len(image) > 2 * MAX_CONTENT_LENGTH
    assert (await send_post(client, "/create", image))[0] == 302
    assert (await send_post(client, "/2/update", image))[0] == 302
    token = await csrf_token(client, "/")
    big = {"csrf_token": token, "title": "x", "body": "x" * (2 * MAX_CONTENT_LENGTH)}
    for path in ("/1/delete", "/1/like", "/1/comment", "/auth/login", "/2/update/"):
        assert (await client.post(path, form=big)).status_code == 413, path
    # A form that does not take images gets no more room by sending one.
    files = {"image": FileStorage(io.BytesIO(image), filename="a.png", name="image")}
    response = await client.post("/1/comment", form={"csrf_token": token, "body": "x"}, files=files)
    assert response.status_code == 413
    # Nor does an upload form when the body is larger than an image and the form.
    huge = image + b"\x00" * MAX_CONTENT_LENGTH
    assert (await send_post(client, "/create", huge))[0] == 413
    assert len(stored(uploads)) == 1


async def test_no_limit_without_max_content_length(
    client: Client, auth: AuthActions, app: Quart
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = None
    await auth.login()
    assert (await send_post(client, "/create", PNG))[0] == 302


async def test_replace_and_remove_image(
    client: Client, auth: AuthActions, db: Database, uploads: Path
) -> None:
    await auth.login()
    await send_post(client, "/create", PNG)
    (first,) = stored(uploads)
    page = await (await client.get("/2/update")).get_data(as_text=True)
    assert f'src="/uploads/{first}"' in page
    assert 'name="remove_image"' in page
    assert "Replace the image" in page

    # Saving without a new file keeps the image, and changes the description.
    await send_post(client, "/2/update", None, image_alt="kept")
    assert stored(uploads) == [first]
    row = await db.fetch_one("SELECT image, image_alt FROM post WHERE id = 2")
    assert row is not None and tuple(row) == (first, "kept")

    await send_post(client, "/2/update", GIF)
    (second,) = stored(uploads)
    assert second.endswith(".gif") and second != first
    assert (await client.get(f"/uploads/{first}")).status_code == 404

    await send_post(client, "/2/update", None, remove_image="1")
    assert stored(uploads) == []
    row = await db.fetch_one("SELECT image FROM post WHERE id = 2")
    assert row is not None and row[0] is None
    assert 'name="remove_image"' not in await (await client.get("/2/update")).get_data(as_text=True)


async def test_image_goes_with_its_post(client: Client, auth: AuthActions, uploads: Path) -> None:
    await auth.login()
    await send_post(client, "/create", PNG)
    token = await csrf_token(client, "/2/update")
    await client.post("/2/delete", form={"csrf_token": token})
    assert stored(uploads) == []


async def test_image_kept_when_saving_the_post_fails(
    client: Client, auth: AuthActions, uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await auth.login()
    await send_post(client, "/create", PNG)
    (kept,) = stored(uploads)

    async def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(posts, "insert_post", fail)
    monkeypatch.setattr(posts, "update_post", fail)
    for path in ("/create", "/2/update"):
        # An unexpected failure: the error page, and the app's log, tell it.
        assert (await send_post(client, path, JPEG))[0] == 500
        # The new file is removed again; the post's own image stays.
        assert stored(uploads) == [kept]


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


async def test_remove_tolerates_missing_and_foreign_names(app: Quart, uploads: Path) -> None:
    add_foreign_file(uploads)
    async with app.app_context():
        await images.remove(None)
        await images.remove("AAAAAAAAAAAAAAAAAAAAAA.png")
        await images.remove("keep.txt")
    assert stored(uploads) == ["keep.txt"]


async def test_remove_logs_what_it_cannot_delete(
    app: Quart, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(path: str) -> None:
        raise PermissionError("read-only file system")

    monkeypatch.setattr("quart_flaskr.images.os.unlink", refuse)
    async with app.app_context():
        await images.remove("AAAAAAAAAAAAAAAAAAAAAA.png")
    assert "Could not delete the unused image" in caplog.text


async def test_uploads_are_private(client: Client, auth: AuthActions, uploads: Path) -> None:
    await auth.login()
    await send_post(client, "/create", PNG)
    (name,) = stored(uploads)
    assert private(uploads)
    assert private(uploads / name)


async def test_images_are_served_without_the_session(
    client: Client, auth: AuthActions, uploads: Path
) -> None:
    await auth.login()
    await send_post(client, "/create", PNG)
    (name,) = stored(uploads)
    response = await client.get(f"/uploads/{name}")
    assert response.status_code == 200
    # Shared caches may keep it, so it carries no login, and is the same whoever asks.
    assert response.headers["Cache-Control"] == f"public, max-age={images.CACHE_SECONDS}"
    assert "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers
    # A browser that has it asks again with If-Modified-Since: still no cookie.
    modified = response.headers["Last-Modified"]
    again = await client.get(f"/uploads/{name}", headers={"If-Modified-Since": modified})
    assert again.status_code == 304
    assert "Set-Cookie" not in again.headers
    # The login carries on.
    assert "Log Out" in await (await client.get("/")).get_data(as_text=True)
