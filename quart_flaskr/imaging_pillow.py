"""Pictures as Pillow sees them: measured, turned upright, stripped of metadata, and made smaller.

The work behind ``imaging.process_upload`` and ``imaging.process_stored`` (see
``imaging.py``, which imports this module, and Pillow with it, the first time
a process handles a picture). A JPEG holding more than one picture (an MPO: a
depth map, an HDR gain map or a stereo pair's other eye after the photo) is a
still of its first, as browsers show it. An animated GIF, PNG or WebP keeps
its frames as uploaded, without its metadata (its colour profile is kept, see
``container_metadata.py``): a still of its first frame would stop it moving.

Everything here is blocking and CPU-bound, run in the imaging thread.
"""

from __future__ import annotations

import contextlib
import io
import struct
from collections.abc import Iterator

from PIL import ExifTags
from PIL import features
from PIL import Image

from quart_flaskr import container_metadata
from quart_flaskr.imaging import ImagingError
from quart_flaskr.imaging import Picture
from quart_flaskr.imaging import TooManyPixelsError
from quart_flaskr.imaging import UnreadableError
from quart_flaskr.imaging import Variant

#: The widths, in pixels, of the smaller copies made of each still image:
#: phones (1x to 3x), tablets and laptops, a desktop's column at 1.5x.
VARIANT_WIDTHS = (480, 960, 1440)
#: The most pixels WebP holds on a side.
WEBP_MAX_SIDE = 16383
JPEG_QUALITY = 85
WEBP_QUALITY = 80
#: The Pillow plugin that decodes each kind (by stored names' extensions).
_FORMATS = {"jpg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP"}
#: The codec each kind of picture needs in Pillow's build, by Pillow's name for it (GIF's
#: is Pillow's own, always there).
_CODECS = {"jpg": "JPEG", "zlib": "PNG", "webp": "WebP"}
#: What is kept of a picture's ``info``: its colour profile, and the palette's
#: transparent colour (part of the picture, not about it).
_KEPT_INFO: tuple[str | tuple[int, int], ...] = ("icc_profile", "transparency")
#: How each EXIF orientation turns the stored pixels upright (1, or none, is upright).
_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
#: Variants in the original's own kind, for browsers without WebP.
_FALLBACK_KIND = {"jpg": "jpg", "png": "png", "gif": "png"}


def missing_codecs() -> list[str]:
    """The kinds of picture this Pillow was built unable to read or write ([] for none)."""
    return [kind for codec, kind in _CODECS.items() if not features.check(codec)]


def process_upload(data: bytes, kind: str, max_pixels: int) -> Picture:
    """See ``imaging.process_upload``."""
    with _decoded(data, kind, max_pixels) as image, _unreadable_if_it_fails():
        if _moves(image):
            return Picture(_without_metadata(data, kind), image.width, image.height)
        upright = _upright(image)
        stored = _encode(upright, kind, lossless=kind == "webp" and _lossless_webp(data))
        return Picture(stored, upright.width, upright.height, _variants(upright, kind))


def process_stored(data: bytes, kind: str, max_pixels: int) -> Picture:
    """See ``imaging.process_stored``."""
    with _decoded(data, kind, max_pixels) as image, _unreadable_if_it_fails():
        if _moves(image):
            return Picture(data, image.width, image.height)
        upright = _upright(image)
        return Picture(data, upright.width, upright.height, _variants(upright, kind))


@contextlib.contextmanager
def _unreadable_if_it_fails() -> Iterator[None]:
    """Pillow's errors turning, converting or encoding a decoded picture, as unreadable.

    What a file holds can still fail there: a palette picture whose
    transparency table is longer than its palette decodes, and then raises
    ValueError in ``convert``.
    """
    try:
        yield
    except ImagingError:
        raise
    except Exception as error:
        raise UnreadableError(str(error)) from error


def _decoded(data: bytes, kind: str, max_pixels: int) -> Image.Image:
    """The picture, decoded by its kind's plugin alone once its size is known to be allowed."""
    try:
        image = Image.open(io.BytesIO(data), formats=[_FORMATS[kind]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own limit, checked as it opens (the warning is an error
        # where warnings are made errors, as in the tests).
        raise TooManyPixelsError(str(error)) from error
    except Exception as error:
        # Pillow's plugins raise many kinds of error on malformed input.
        raise UnreadableError(str(error)) from error
    if image.width * image.height > max_pixels:
        image.close()
        raise TooManyPixelsError(f"{image.width} x {image.height} pixels")
    try:
        image.load()
    except Exception as error:
        image.close()
        raise UnreadableError(str(error)) from error
    return image


def _moves(image: Image.Image) -> bool:
    """Whether the picture is an animation, of more than one frame.

    Not an MPO: browsers show its first picture alone, the one decoded here;
    those after it are not frames but a depth map, an HDR gain map or a stereo
    pair's other eye. Pillow reads the start of the second frame to know; a
    file that ends there, or that it cannot read there, is unreadable.
    """
    try:
        animated = bool(getattr(image, "is_animated", False))
    except Exception as error:
        # Pillow's GIF reader raises IndexError or struct.error on a frame cut short.
        raise UnreadableError(str(error)) from error
    return animated and image.format != "MPO"


def _without_metadata(data: bytes, kind: str) -> bytes:
    """An animation's file without its metadata: see ``container_metadata.py``."""
    try:
        return container_metadata.without_metadata(data, kind)
    except container_metadata.MalformedError as error:
        raise UnreadableError(str(error)) from error


def _upright(image: Image.Image) -> Image.Image:
    """The picture turned as its EXIF orientation says, keeping no metadata but its colour profile.

    EXIF (with GPS), XMP and comments are dropped from ``info``, and with them
    from every encoding of the picture (see ``_KEPT_INFO``). Only the
    orientation is read from the EXIF block, which is not written again
    (Pillow's ``exif_transpose`` rewrites it, and fails on any tag whose type
    it does not expect). A block that does not parse says nothing of the
    orientation: the picture is kept as stored, as browsers show it.
    """
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation)
    except Exception:
        # Pillow's EXIF reader raises many kinds of error on a malformed block
        # (struct.error on a truncated one).
        orientation = None
    # Anything but one of the eight numbers (a tag of another type) says nothing either.
    turn = _TURNS.get(orientation) if type(orientation) is int else None
    upright = image.copy() if turn is None else image.transpose(turn)
    upright.info = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
    return upright


def _encode(image: Image.Image, kind: str, *, lossless: bool = False) -> bytes:
    """The picture encoded as ``kind``, with its colour profile and nothing else about it."""
    buffer = io.BytesIO()
    icc = image.info.get("icc_profile")
    extra: dict[str, object] = {} if icc is None else {"icc_profile": icc}
    if kind == "jpg":
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True, **extra)
    elif kind == "webp":
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, lossless=lossless, **extra)
    else:
        # PNG and GIF keep the palette's transparent colour from ``info``.
        image.save(buffer, _FORMATS[kind], **extra)
    return buffer.getvalue()


def _variants(image: Image.Image, kind: str) -> tuple[Variant, ...]:
    """The smaller copies of a still picture, widest first; never wider than it.

    In WebP, at each width below the picture's and at the picture's own when
    it is narrower than the widest (a WebP of the same size is still smaller);
    in the fallback kind at each width below the picture's only (at its own,
    the picture itself serves). A WebP picture has WebP variants only.
    """
    fallback = _FALLBACK_KIND.get(kind)
    # Palettes and 16-bit or CMYK pixels resize badly or not at all: RGB(A).
    # A CMYK profile does not describe RGB pixels.
    colour = image.convert("RGBA" if _has_alpha(image) else "RGB")
    if image.mode == "CMYK":
        colour.info.pop("icc_profile", None)
    made: list[Variant] = []
    source = colour
    widths = sorted({min(width, image.width) for width in VARIANT_WIDTHS}, reverse=True)
    # A picture too tall for WebP at its widest copy's width (a long screenshot) has
    # no WebP copies: browsers that take WebP would get only the narrower ones.
    webp = _height_at(image, widths[0]) <= WEBP_MAX_SIDE
    for width in widths:
        if width < source.width:
            height = _height_at(image, width)
            source = source.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        if webp and (kind != "webp" or width < image.width):
            made.append(Variant("webp", width, _encode(source, "webp")))
        if fallback is not None and width < image.width:
            made.append(Variant(fallback, width, _encode(source, fallback)))
    return tuple(made)


def _height_at(image: Image.Image, width: int) -> int:
    """The height of a copy of ``image`` ``width`` pixels wide, its shape kept."""
    return max(1, round(image.height * width / image.width))


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _lossless_webp(data: bytes) -> bool:
    """Whether a WebP file's picture is lossless (a ``VP8L`` chunk), so that it stays so."""
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = (
            data[offset : offset + 4],
            struct.unpack("<I", data[offset + 4 : offset + 8])[0],
        )
        if chunk == b"VP8L":
            return True
        offset += 8 + size + (size & 1)
    return False
