"""Images attached to posts: checked by their content, stored under generated names, served back.

An upload is accepted only when its first bytes are those of a JPEG, PNG, GIF
or WebP file; the name and content type the browser sent are ignored. It is
then decoded by that kind's decoder alone, off the event loop, and stored
upright, without its metadata, with its size and smaller variants (see
``imaging.py``). Images live in the database (``models/images.py``), written
in their post's own transaction under random names, and are served, variants
too, with the content type of what they were checked to be. Pages show them
with ``templates/_picture.html``, from the sources :func:`image_sources` lists.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import TypeVar

from hypercorn.typing import HTTPScope
from quart import abort
from quart import Blueprint
from quart import current_app
from quart import Quart
from quart import request
from quart import Response
from quart import ResponseReturnValue
from quart import url_for
from quart.datastructures import FileStorage
from quart.wrappers import Request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.routing import RoutingException

from quart_flaskr import errors
from quart_flaskr import imaging
from quart_flaskr.db import get_db
from quart_flaskr.forms import FormRequest
from quart_flaskr.i18n import gettext
from quart_flaskr.i18n import ngettext
from quart_flaskr.models import images as image_queries
from quart_flaskr.models.posts import Post
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
#: How long browsers and shared caches may keep an image: a stored name never
#: changes content. A year: the longest caches are commonly asked to keep anything.
CACHE_SECONDS = 365 * 24 * 3600
_ACCEPTS_UPLOAD = "accepts_image_upload"
#: The media type of a form that carries files.
MULTIPART = "multipart/form-data"


class ImageError(ValueError):
    """An upload that is not an image this site takes; the message says why.

    ``status``: that of the form shown again with the message. 200, as for
    any other mistake in the form, when its size or first bytes say so; 400
    when the picture in it cannot be decoded or has too many pixels.
    """

    def __init__(self, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Sources:
    """What a page's ``<picture>`` lists for an image: ``srcset`` values, empty when none.

    ``webp``: the WebP variants, for browsers that take WebP; ``srcset``: for
    the others, the variants in the image's own kind and the image itself.
    """

    webp: str
    srcset: str


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
        raise ImageError(gettext("The image must be at most %(size)d KiB.", size=limit // 1024))
    kind = image_kind(data)
    if kind is None:
        raise ImageError(gettext("The image must be a JPEG, PNG, GIF or WebP file."))
    return Upload(data, kind)


def _new_name(kind: str) -> str:
    return f"{secrets.token_urlsafe(16)}.{kind}"


async def stored_image(upload: Upload) -> image_queries.Image:
    """The upload as it is stored with its post: upright, without metadata, with its variants.

    Under new random names; decoded off the event loop.

    :raise ImageError: (400) when it has too many pixels or cannot be decoded
    """
    limit = current_app.config["MAX_IMAGE_PIXELS"]
    try:
        picture = await imaging.run(imaging.process_upload, upload.data, upload.kind, limit)
    except imaging.TooManyPixelsError:
        megapixels = limit // 1_000_000
        raise ImageError(
            ngettext(
                "The image must be at most %(num)d megapixel.",
                "The image must be at most %(num)d megapixels.",
                megapixels,
            ),
            400,
        ) from None
    except imaging.UnreadableError:
        raise ImageError(
            gettext("The image could not be read: the file may be damaged or incomplete."), 400
        ) from None
    return image_queries.Image(
        _new_name(upload.kind),
        picture.data,
        picture.width,
        picture.height,
        named_variants(picture.variants),
    )


def named_variants(variants: tuple[imaging.Variant, ...]) -> tuple[image_queries.Variant, ...]:
    """Variants as stored, each under a new random name."""
    return tuple(
        image_queries.Variant(_new_name(variant.kind), variant.width, variant.data)
        for variant in variants
    )


@bp.app_template_global()
def image_sources(post: Post) -> Sources:
    """The ``srcset`` values of a post's image, from its variants (none: both empty).

    A WebP image is one of its own WebP sources, so it has a single list.
    """
    if post.image is None or not post.image_variants:
        return Sources("", "")
    webp = [(name, width) for name, width in post.image_variants if name.endswith(".webp")]
    others = [(name, width) for name, width in post.image_variants if not name.endswith(".webp")]
    # Variants are made with the size, so it is known here.
    others.append((post.image, post.image_width or 0))
    if post.image.endswith(".webp"):
        return Sources("", _srcset(webp + others))
    return Sources(_srcset(webp), _srcset(others))


def _srcset(candidates: list[tuple[str, int]]) -> str:
    """A ``srcset`` of images by their width, narrowest first."""
    return ", ".join(
        f"{url_for('images.serve', name=name)} {width}w"
        for name, width in sorted(candidates, key=lambda candidate: candidate[1])
    )


def is_stored_name(name: str) -> bool:
    """Whether ``name`` is of the form stored names take (it may be stored or not)."""
    return _STORED_NAME.fullmatch(name) is not None


@bp.route("/uploads/<name>")
@public_view
async def serve(name: str) -> ResponseReturnValue:
    """A stored image, with the content type it was checked to have.

    A stored name never names other bytes, so the name is the ETag and
    browsers and shared caches may keep the image as long as they like; a
    browser asking whether its copy is current gets 304 without the bytes
    being read. The picture of a suspended user's post is a 404, as the post is,
    until a moderator restores them (copies a browser or a shared cache already
    holds stay theirs: nothing can call those back).
    """
    if not is_stored_name(name):
        abort(404)
    database = get_db()
    if request.if_none_match.contains_weak(name):
        if not await image_queries.image_exists(database, name):
            abort(404)
        response = Response(b"", status=304)
    else:
        data = await image_queries.select_image(database, name)
        if data is None:
            abort(404)
        response = Response(data, mimetype=CONTENT_TYPES[name.rsplit(".", 1)[1]])
    response.set_etag(name)
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}, immutable"
    # Opened on its own, the image is a document that may do nothing at all.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def accepts_upload(view: F) -> F:
    """Mark a view whose form carries an image: its requests may be as large as one."""
    setattr(view, _ACCEPTS_UPLOAD, True)
    return view


async def too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A request over its body limit: on a form that carries an image, the image was.

    The form is not read, so it cannot be shown again with what was typed;
    the browser still has it one step back. (Its script refuses a file over
    the limit before sending, where scripts run.)
    """
    rule = request.url_rule
    if (
        rule is not None
        and getattr(current_app.view_functions.get(rule.endpoint), _ACCEPTS_UPLOAD, False)
        and _is_multipart(request.headers.get("Content-Type"))
    ):
        error = RequestEntityTooLarge(
            gettext(
                "Nothing was saved: the image must be at most %(size)d KiB."
                " Go back, choose a smaller one and send the form again.",
                size=current_app.config["MAX_IMAGE_BYTES"] // 1024,
            )
        )
    return await errors.render_error(error)


def _is_multipart(content_type: str | None) -> bool:
    """Whether a body of this ``Content-Type`` is a multipart form, which may carry files."""
    return content_type is not None and parse_options_header(content_type)[0] == MULTIPART


def upload_request_class(app: Quart) -> type[Request]:
    """The app's request class, allowing larger bodies for views marked ``accepts_upload``.

    The body limit is fixed when the request is created, before any
    ``before_request`` function runs (the CSRF check reads the form there), so
    it is chosen here from the route the request is for. Every other request
    keeps the small ``MAX_CONTENT_LENGTH``.
    """

    class UploadRequest(FormRequest):
        # Quart's signature spelled out: made for every request, a request
        # passing its arguments on as they came costs a tenth of /hello's hooks.
        def __init__(
            self,
            method: str,
            scheme: str,
            path: str,
            query_string: bytes,
            headers: Headers,
            root_path: str,
            http_version: str,
            scope: HTTPScope,
            *,
            max_content_length: int | None = None,
            body_timeout: int | None = None,
            send_push_promise: Callable[[str, Headers], Awaitable[None]],
        ) -> None:
            limit = _upload_limit(app, path, headers) if method == "POST" else None
            super().__init__(
                method,
                scheme,
                path,
                query_string,
                headers,
                root_path,
                http_version,
                scope,
                max_content_length=max_content_length if limit is None else limit,
                body_timeout=body_timeout,
                send_push_promise=send_push_promise,
            )
            if limit is not None:
                # The multipart parser reads this one.
                self.max_content_length = limit

    return UploadRequest


def _upload_limit(app: Quart, path: str, headers: Headers) -> int | None:
    """The body limit of a POST to ``path``; None where the app's own applies.

    Only a multipart form can carry a picture: any other body keeps the
    app's limit, whatever the route (a URL-encoded form of megabytes would
    be megabytes of parsing before the CSRF check could refuse it).
    """
    if app.config["MAX_CONTENT_LENGTH"] is None or not _is_multipart(headers.get("Content-Type")):
        return None
    try:
        endpoint, _ = app.url_map.bind("").match(path, "POST")
    except (HTTPException, RoutingException):
        return None
    if not getattr(app.view_functions.get(endpoint), _ACCEPTS_UPLOAD, False):
        return None
    return int(app.config["MAX_CONTENT_LENGTH"] + app.config["MAX_IMAGE_BYTES"])
