"""Images attached to posts: checked by their content, stored under generated names, served back.

An upload is accepted only when its first bytes are those of a JPEG, PNG, GIF
or WebP file; the name and content type the browser sent are ignored. Files
live in ``UPLOAD_FOLDER`` (by default ``<instance>/uploads``) under random
names, and are served with the content type of what they were checked to be.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import TypeVar

from quart import abort
from quart import Blueprint
from quart import current_app
from quart import Quart
from quart import ResponseReturnValue
from quart import send_from_directory
from quart.datastructures import FileStorage
from quart.wrappers import Request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException

from quart_flaskr.security import public_view

bp = Blueprint("images", __name__)

F = TypeVar("F", bound=Callable[..., Any])

#: File name extension and content type of each kind of image accepted.
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
}
#: Stored names: 128 random bits, then the kind's extension.
_STORED_NAME = re.compile(r"[A-Za-z0-9_-]{22}\.(?:jpg|png|gif|webp)")
#: How long browsers may keep an image: a stored name never changes content.
CACHE_SECONDS = 24 * 3600
_ACCEPTS_UPLOAD = "accepts_image_upload"


class ImageError(ValueError):
    """An upload that is not an image this site takes; the message says why."""


@dataclass(frozen=True, slots=True)
class Upload:
    data: bytes
    kind: str


def image_kind(data: bytes) -> str | None:
    """The kind of image the bytes begin like (``"png"``, …), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    return None


def read_upload(file: FileStorage | None) -> Upload | None:
    """The image a form's file field holds, or None when no file was chosen.

    :raise ImageError: when the file is too large or not a JPEG, PNG, GIF or WebP image
    """
    if file is None:
        return None
    limit = current_app.config["MAX_IMAGE_BYTES"]
    data = file.stream.read(limit + 1)
    if not data and not file.filename:
        # Browsers send an empty, nameless file when none was chosen.
        return None
    if len(data) > limit:
        raise ImageError(f"The image must be at most {limit // 1024} KiB.")
    kind = image_kind(data)
    if kind is None:
        raise ImageError("The image must be a JPEG, PNG, GIF or WebP file.")
    return Upload(data, kind)


def _write_new(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    # O_EXCL: a generated name is never reused, not even by a race.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


async def save(upload: Upload) -> str:
    """Store an image under a new random name and return that name."""
    name = f"{secrets.token_urlsafe(16)}.{upload.kind}"
    path = os.path.join(current_app.config["UPLOAD_FOLDER"], name)
    await asyncio.to_thread(_write_new, path, upload.data)
    return name


async def remove(name: str | None) -> None:
    """Delete a stored image, if there is one.

    Already gone is fine; a file that cannot be deleted is logged and left,
    since the post it belonged to has changed already.
    """
    if name is not None and _STORED_NAME.fullmatch(name):
        path = os.path.join(current_app.config["UPLOAD_FOLDER"], name)
        try:
            await asyncio.to_thread(os.unlink, path)
        except FileNotFoundError:
            pass
        except OSError as error:
            current_app.logger.warning("Could not delete the unused image %s: %s", path, error)


@bp.route("/uploads/<name>")
@public_view
async def serve(name: str) -> ResponseReturnValue:
    """An uploaded image, with the content type it was checked to have."""
    if not _STORED_NAME.fullmatch(name):
        abort(404)
    response = await send_from_directory(
        current_app.config["UPLOAD_FOLDER"],
        name,
        mimetype=CONTENT_TYPES[name.rsplit(".", 1)[1]],
        cache_timeout=CACHE_SECONDS,
    )
    # Opened on its own, the image is a document that may do nothing at all.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def accepts_upload(view: F) -> F:
    """Mark a view whose form carries an image: its requests may be as large as one."""
    setattr(view, _ACCEPTS_UPLOAD, True)
    return view


def upload_request_class(app: Quart) -> type[Request]:
    """The app's request class, allowing larger bodies for views marked ``accepts_upload``.

    The body limit is fixed when the request is created, before any
    ``before_request`` function runs (the CSRF check reads the form there), so
    it is chosen here from the route the request is for. Every other request
    keeps the small ``MAX_CONTENT_LENGTH``.
    """

    class UploadRequest(Request):
        def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any) -> None:
            limit = _upload_limit(app, method, path)
            if limit is not None:
                kwargs["max_content_length"] = limit
            super().__init__(method, scheme, path, *args, **kwargs)
            if limit is not None:
                # The multipart parser reads this one.
                self.max_content_length = limit

    return UploadRequest


def _upload_limit(app: Quart, method: str, path: str) -> int | None:
    if method != "POST" or app.config["MAX_CONTENT_LENGTH"] is None:
        return None
    try:
        endpoint, _ = app.url_map.bind("").match(path, method)
    except (HTTPException, RoutingException):
        return None
    if not getattr(app.view_functions.get(endpoint), _ACCEPTS_UPLOAD, False):
        return None
    return int(app.config["MAX_CONTENT_LENGTH"] + app.config["MAX_IMAGE_BYTES"])
