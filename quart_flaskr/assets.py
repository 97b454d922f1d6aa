"""Static files under URLs that name their content, cached by browsers for a year.

``url_for('static', filename='style.css')`` gives ``/static/style.<hash>.css``,
the hash being of the file's bytes: a changed file gets a new URL, so the old
one may be kept forever (``immutable``) and a returning reader's phone asks
for nothing until a release changes the file. Each file is read once per
process, as it starts serving (in a thread), and compressed once per encoding,
at the highest levels, when first asked for. The plain URLs keep working,
cached for ``SEND_FILE_MAX_AGE_DEFAULT`` as before.

In debug mode (a developer editing the files) none of this applies: the plain
URLs are built and every request reads the file as it is now.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import mimetypes
import os
import posixpath
import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from quart import abort
from quart import current_app
from quart import Quart
from quart import request
from quart import Response
from quart import ResponseReturnValue
from werkzeug.security import safe_join

from quart_flaskr import compression

_EXTENSION = "quart_flaskr.assets"
#: Hex digits of the content hash in a URL: 48 bits, plenty for a folder of files.
HASH_LENGTH = 12
#: A year, the longest caches are commonly asked to keep anything.
CACHE_SECONDS = 365 * 24 * 3600
#: Files larger than this are not kept in memory: served from disk, under their plain URLs.
MAX_KEPT_BYTES = 1024 * 1024
_HASHED_NAME = re.compile(rf"(?P<stem>.+)\.(?P<hash>[0-9a-f]{{{HASH_LENGTH}}})(?P<suffix>\.\w+)")
_SUFFIX = re.compile(r"(?P<stem>.+?)(?P<suffix>\.\w+)")


def content_hash(data: bytes) -> str:
    """The hash a file's URL carries."""
    return hashlib.blake2b(data, digest_size=HASH_LENGTH // 2).hexdigest()


@dataclass(slots=True)
class Asset:
    """One static file, as read at its first use."""

    data: bytes
    mimetype: str
    hash: str
    #: The file in each encoding asked for ("br", "gzip"), made at the first request for it.
    encoded: dict[str, bytes] = field(default_factory=dict)

    async def encode(self, encoding: str) -> bytes:
        # A one-off cost of milliseconds (Brotli's best): in a thread, whatever the size.
        return await compression.compress_once(
            self.encoded, self.data, encoding, compression.STATIC_LEVELS, in_thread=True
        )


class Assets:
    """The static folder's files, each read once, by their names within the folder."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._assets: dict[str, Asset] = {}

    def get(self, filename: str) -> Asset | None:
        """The file, or None when there is no such file or it is too large to keep.

        Only under its plain name: ``a/../style.css`` or ``./style.css`` name
        the same file, and each such spelling kept would be the file read,
        hashed and compressed again and kept once more, without end (the
        request is then served from disk, as any file not kept).
        """
        asset = self._assets.get(filename)
        if asset is not None:
            return asset
        if posixpath.normpath(filename) != filename:
            return None
        # Misses are not remembered: any name may be asked for, without end.
        path = safe_join(self.folder, filename)
        if path is None or not os.path.isfile(path) or os.path.getsize(path) > MAX_KEPT_BYTES:
            return None
        with open(path, "rb") as file:
            data = file.read()
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        asset = self._assets[filename] = Asset(data, mimetype, content_hash(data))
        return asset

    def load(self) -> None:
        """Read every file in the folder small enough to keep (as the app starts, in a thread)."""
        for root, _folders, files in os.walk(self.folder):
            for name in files:
                self.get(
                    os.path.relpath(os.path.join(root, name), self.folder).replace(os.sep, "/")
                )

    def __len__(self) -> int:
        """How many files are kept."""
        return len(self._assets)

    def hashed_name(self, filename: str) -> str:
        """``style.css`` as ``style.<hash>.css``; a name without suffix or file stays as it is."""
        match = _SUFFIX.fullmatch(filename)
        asset = self.get(filename) if match else None
        if match is None or asset is None:
            return filename
        return f"{match['stem']}.{asset.hash}{match['suffix']}"

    def find(self, filename: str) -> tuple[Asset | None, bool]:
        """The file a requested name is for, and whether the name carried its current hash.

        A name with an outdated hash still finds the file: a page served by
        a host not yet upgraded may ask one already upgraded for it.
        """
        match = _HASHED_NAME.fullmatch(filename)
        if match is not None:
            asset = self.get(match["stem"] + match["suffix"])
            if asset is not None:
                return asset, asset.hash == match["hash"]
        return self.get(filename), False


def get_assets() -> Assets:
    assets: Assets = current_app.extensions[_EXTENSION]
    return assets


def hash_static_urls(endpoint: str, values: dict[str, Any]) -> None:
    """Build static files' URLs with their content hash (a ``url_defaults`` function)."""
    if endpoint == "static" and not current_app.debug and "filename" in values:
        values["filename"] = get_assets().hashed_name(values["filename"])


async def serve_static(filename: str) -> ResponseReturnValue:
    """A static file from memory, compressed as the client allows; for a year under its hash."""
    app = current_app
    asset, current = (None, False) if app.debug else get_assets().find(filename)
    if asset is None:
        try:
            return await app.send_static_file(filename)
        except OSError as error:
            # A name longer than the file system allows names no file.
            if error.errno != errno.ENAMETOOLONG:
                raise
            abort(404)
    response = Response(asset.data, mimetype=asset.mimetype)
    response.set_etag(asset.hash)
    encoding = compression.choose_encoding(len(asset.data), asset.mimetype, response.headers)
    if encoding is not None:
        compression.set_encoded_body(response, await asset.encode(encoding), encoding)
    response.cache_control.public = True
    if current:
        response.cache_control.max_age = CACHE_SECONDS
        response.cache_control.immutable = True
    else:
        response.cache_control.max_age = app.get_send_file_max_age(filename)
    return await response.make_conditional(request)


async def load_assets() -> None:
    """Read the static files before the first request, off the event loop (a ``before_serving``)."""
    if not current_app.debug:
        await asyncio.get_running_loop().run_in_executor(None, get_assets().load)


def init_app(app: Quart) -> None:
    folder = app.static_folder
    assert folder is not None, "the package has its static folder"
    app.extensions[_EXTENSION] = Assets(folder)
    app.before_serving(load_assets)
    app.url_defaults(hash_static_urls)
    # Quart's own route for static files, with this view in place of its own.
    app.view_functions["static"] = serve_static
