"""Pictures made with Pillow for the tests of uploads: photos with EXIF and GPS, other kinds.

Nothing binary is kept in the repository: each test makes the pictures it sends.
"""

from __future__ import annotations

import io
import struct

from PIL import ExifTags
from PIL import Image

#: EXIF's orientation of a photo taken with the phone turned: shown turned 90° clockwise.
ROTATED_CLOCKWISE = 6
#: Where a photo with GPS says it was taken (degrees, minutes, seconds).
LATITUDE = (59.0, 56.0, 12.5)
LONGITUDE = (30.0, 18.0, 41.0)
#: An EXIF block (PNG's eXIf, WebP's EXIF) that stops short of its first directory.
BROKEN_EXIF = b"MM\x00*\xff\xff"


def photo(width: int, height: int) -> Image.Image:
    """A picture with detail (not one colour), as a photo has: its left half red, right blue."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image.paste((200, 20, 20), (0, 0, width // 2, height))
    image.paste((20, 20, 200), (width // 2, 0, width, height // 2))
    return image


def encoded(image: Image.Image, kind: str, **options: object) -> bytes:
    """``image`` as a file of ``kind`` (``"jpg"``, ``"png"``, ``"gif"``, ``"webp"``)."""
    formats = {"jpg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP"}
    buffer = io.BytesIO()
    image.save(buffer, formats[kind], **options)
    return buffer.getvalue()


def phone_jpeg(width: int, height: int, orientation: int = ROTATED_CLOCKWISE) -> bytes:
    """A JPEG as a phone saves it: sensor-wide pixels, EXIF orientation, camera, GPS, a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Phone maker"
    exif[ExifTags.Base.Model] = "Phone 1"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: LATITUDE,
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: LONGITUDE,
    }
    return encoded(
        photo(width, height),
        "jpg",
        quality=92,
        exif=exif,
        comment=b"taken at home",
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>home</x:xmpmeta>",
    )


def mistyped_exif(orientation: int = ROTATED_CLOCKWISE) -> bytes:
    """An EXIF block with a readable orientation, and a camera maker typed as a number, not
    text: read, but not written again (Pillow's ``exif_transpose`` fails writing it)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Phone maker"
    raw = exif.tobytes()
    head, block = raw[:6], bytearray(raw[6:])  # "Exif\0\0", then a TIFF header and IFD
    order = "<" if block[:2] == b"II" else ">"
    (count,) = struct.unpack(order + "H", block[8:10])
    for entry in range(10, 10 + 12 * count, 12):
        if struct.unpack(order + "H", block[entry : entry + 2])[0] == ExifTags.Base.Make:
            # RATIONAL (5), one of them: the first 8 bytes of the text.
            block[entry + 2 : entry + 8] = struct.pack(order + "HI", 5, 1)
    return head + bytes(block)


def png(width: int = 8, height: int = 6) -> bytes:
    return encoded(photo(width, height), "png")


def jpeg(width: int = 8, height: int = 6) -> bytes:
    return encoded(photo(width, height), "jpg")


def gif(width: int = 8, height: int = 6) -> bytes:
    return encoded(photo(width, height).convert("P"), "gif", comment=b"made at home")


def webp(width: int = 8, height: int = 6, *, lossless: bool = False) -> bytes:
    return encoded(photo(width, height), "webp", lossless=lossless)


def animated(kind: str, width: int = 8, height: int = 6) -> bytes:
    """A picture of three frames (GIF, WebP or PNG), each a shade darker."""
    frames = [Image.new("RGB", (width, height), (shade, 0, 0)) for shade in (250, 150, 50)]
    return encoded(frames[0], kind, save_all=True, append_images=frames[1:], duration=100, loop=0)


def opened(data: bytes) -> Image.Image:
    """The picture a file holds, decoded."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def same_pixels(one: bytes, other: bytes) -> bool:
    """Whether two files hold the same picture, pixel for pixel (PNG re-encoded loses nothing)."""
    first, second = opened(one), opened(other)
    return first.size == second.size and first.tobytes() == second.convert(first.mode).tobytes()
