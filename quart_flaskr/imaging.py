"""Pictures made ready off the event loop: what the views and migrations call.

An upload is decoded only by the Pillow plugin of the kind its first bytes
showed, after its size in pixels is checked against a limit (Pillow's own
decompression-bomb check stays on behind it). A still image is stored as
re-encoded: turned as its EXIF orientation says, without EXIF, GPS, XMP or
comments (its colour profile is kept), at its own width and height. Its
variants are the same picture at several widths below its own, in WebP and in
its own kind (PNG for a GIF), so that a phone fetches a picture the size of its
screen. An animated GIF, PNG or WebP is stored frame for frame as uploaded,
without its metadata, and gets no variants. ``imaging_pillow.py`` does that
work with Pillow.

Pillow is imported by the first picture a process handles, not when the app
starts: a process that only serves pages (and the images already stored,
which are bytes from the database) never holds Pillow's code and libraries,
some 2 MiB of its memory.

Every picture is handled in this module's one thread: callers run
``process_upload`` and ``process_stored`` with :func:`run`, off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from quart_flaskr import workers

T = TypeVar("T")

#: The most pixels an image may have (``MAX_IMAGE_PIXELS`` by default): a 24-
#: megapixel phone photo, or 36 from a camera, but not a small file that
#: decodes to gigabytes. Pillow's own check (89 million) stays on behind it.
MAX_PIXELS = 36_000_000

# One picture at a time per process: a 36-megapixel photo takes about 150 MB
# decoded, and as much again turned upright, so a burst of uploads queues here
# rather than taking the machine's memory. Pillow releases the GIL while it
# decodes, resizes and encodes, so requests go on being served meanwhile.
_pool = workers.Pool("imaging", 1)


class ImagingError(ValueError):
    """Bytes that are not a picture this site can take."""


class TooManyPixelsError(ImagingError):
    """A picture larger in pixels than the limit (a decompression bomb, or just huge)."""


class UnreadableError(ImagingError):
    """Bytes that begin like a picture but cannot be decoded as one."""


@dataclass(frozen=True, slots=True)
class Variant:
    """A smaller copy of a picture: its kind (``"webp"``, …), width in pixels, and bytes."""

    kind: str
    width: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Picture:
    """A picture as stored: its bytes, the size browsers show it at, and its variants."""

    data: bytes
    width: int
    height: int
    variants: tuple[Variant, ...] = ()


async def run(function: Callable[..., T], *args: object) -> T:
    """Run ``function(*args)`` in the imaging thread, off the event loop."""
    return await _pool.run(function, *args)


def problem() -> str | None:
    """Why this process could not take pictures, or None when it can: Pillow missing or
    broken, or built without a codec the site's kinds of picture need.

    Imports Pillow: for ``check-deploy``, which finds before the first upload
    what that upload would fail on.
    """
    try:
        from quart_flaskr import imaging_pillow
    except ImportError as error:  # not installed, or a library of its missing
        return f"Pillow cannot be imported ({error})"
    missing = imaging_pillow.missing_codecs()
    if missing:
        return f"Pillow was built without {', '.join(missing)}"
    return None


def process_upload(data: bytes, kind: str, max_pixels: int) -> Picture:
    """An upload as it is to be stored: upright, without metadata, measured, with variants.

    :param kind: what its first bytes showed it to be (``"jpg"``, …)
    :raise TooManyPixelsError: when it has more than ``max_pixels`` pixels
    :raise UnreadableError: when it does not decode as a picture of that kind
    """
    from quart_flaskr import imaging_pillow  # and Pillow, the first time: see above

    return imaging_pillow.process_upload(data, kind, max_pixels)


def process_stored(data: bytes, kind: str, max_pixels: int) -> Picture:
    """The size and variants of an image stored before they were made; its bytes stay as they are.

    Browsers turn a picture upright as its EXIF says, so the size is upright's.

    :raise TooManyPixelsError: when it has more than ``max_pixels`` pixels
    :raise UnreadableError: when it does not decode as a picture of ``kind``
    """
    from quart_flaskr import imaging_pillow

    return imaging_pillow.process_stored(data, kind, max_pixels)
