"""Pictures made with Pillow for the tests of uploads: photos with EXIF and GPS, other kinds.

Nothing binary is kept in the repository: each test makes the pictures it sends.
"""

from __future__ import annotations

import io
import struct

from PIL import ExifTags
from PIL import Image
from PIL import ImageSequence
from PIL import PngImagePlugin

#: EXIF's orientation of a photo taken with the phone turned: shown turned 90° clockwise.
ROTATED_CLOCKWISE = 6
#: Where a photo with GPS says it was taken (degrees, minutes, seconds).
LATITUDE = (59.0, 56.0, 12.5)
LONGITUDE = (30.0, 18.0, 41.0)
#: An EXIF block (PNG's eXIf, WebP's EXIF) that stops short of its first directory.
BROKEN_EXIF = b"MM\x00*\xff\xff"
#: What a phone or an editor writes besides the picture, each searched for in stored bytes:
#: the camera's maker (EXIF), the datum of its GPS position (EXIF's GPS directory, as text),
#: an XMP packet and a comment.
MAKER = b"Phone maker"
GPS_DATUM = b"WGS-84 at home"
XMP = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>home</x:xmpmeta>"
COMMENT = b"taken at home"
#: A colour profile (its bytes are not read, only kept).
PROFILE = b"colour profile"
#: Bytes after a file's end, which decoders never read.
TRAILING = b"trailing bytes from home"


def photo(width: int, height: int) -> Image.Image:
    """A picture with detail (not one colour), as a photo has: its left half red, right blue."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image.paste((200, 20, 20), (0, 0, width // 2, height))
    image.paste((20, 20, 200), (width // 2, 0, width, height // 2))
    return image


def encoded(image: Image.Image, kind: str, **options: object) -> bytes:
    """``image`` as a file of ``kind`` (``"jpg"``, ``"png"``, ``"gif"``, ``"webp"``, ``"mpo"``)."""
    formats = {"jpg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP", "mpo": "MPO"}
    buffer = io.BytesIO()
    image.save(buffer, formats[kind], **options)
    return buffer.getvalue()


def phone_exif(orientation: int = ROTATED_CLOCKWISE) -> Image.Exif:
    """The EXIF a phone writes: how it was held, its maker and model, where it was."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = MAKER.decode()
    exif[ExifTags.Base.Model] = "Phone 1"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: LATITUDE,
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: LONGITUDE,
        ExifTags.GPS.GPSMapDatum: GPS_DATUM.decode(),
    }
    return exif


def phone_jpeg(width: int, height: int, orientation: int = ROTATED_CLOCKWISE) -> bytes:
    """A JPEG as a phone saves it: sensor-wide pixels, EXIF orientation, camera, GPS, a comment."""
    return encoded(
        photo(width, height),
        "jpg",
        quality=92,
        exif=phone_exif(orientation),
        comment=COMMENT,
        xmp=XMP,
    )


def phone_mpo(width: int, height: int) -> bytes:
    """A JPEG as some phones and stereo cameras save it, an MPO: the photo as :func:`phone_jpeg`
    makes it, with a colour profile and a multi-picture index (MPF) of a second picture after
    it (a depth map, an HDR gain map, the other eye), here half as big and all green."""
    second = Image.new("RGB", (width // 2, height // 2), (0, 200, 0))
    return encoded(
        photo(width, height),
        "mpo",
        save_all=True,
        append_images=[second],
        quality=92,
        exif=phone_exif(),
        comment=COMMENT,
        xmp=XMP,
        icc_profile=PROFILE,
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


def animated_with_metadata(kind: str, width: int = 8, height: int = 6) -> bytes:
    """:func:`animated`, as an editor or a phone saves it: with what its kind can say about it,
    a colour profile, and bytes after its end.

    PNG: text (tEXt, zTXt, and XMP in iTXt), EXIF with GPS (eXIf), a time (tIME). WebP: EXIF
    with GPS, XMP. GIF: a comment, XMP in an application extension, and a colour profile in
    one (ICCRGBG1012, read by browsers, not by Pillow).
    """
    frames = [Image.new("RGB", (width, height), (shade, 0, 0)) for shade in (250, 150, 50)]
    options: dict[str, object] = {"icc_profile": PROFILE}
    if kind == "png":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", COMMENT.decode())
        info.add_text("Author", "someone at home", zip=True)
        info.add_itxt("XML:com.adobe.xmp", XMP.decode())
        info.add(b"tIME", struct.pack(">HBBBBB", 2024, 5, 1, 12, 30, 0))
        options.update(pnginfo=info, exif=phone_exif())
    elif kind == "webp":
        options.update(exif=phone_exif(), xmp=XMP)
    else:
        frames = [frame.convert("P") for frame in frames]
        options = {"comment": COMMENT}
    data = encoded(
        frames[0], kind, save_all=True, append_images=frames[1:], duration=100, loop=0, **options
    )
    if kind == "gif":
        # After the header and its colour table, as an editor puts them.
        packed = data[10]
        start = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
        extensions = gif_xmp(XMP) + gif_application(b"ICCRGBG1012", PROFILE)
        data = data[:start] + extensions + data[start:]
    return data + TRAILING


def gif_application(identifier: bytes, payload: bytes) -> bytes:
    """A GIF application extension: its 11-byte identifier, then ``payload`` in sub-blocks."""
    parts = [payload[start : start + 255] for start in range(0, len(payload), 255)]
    return b"!\xff\x0b" + identifier + b"".join(bytes([len(part)]) + part for part in parts) + b"\0"


def gif_xmp(xmp: bytes) -> bytes:
    """XMP as Adobe writes it into a GIF: the packet as it is (which a decoder reads as
    sub-blocks, taking its bytes for their lengths), then a "magic trailer" of 258 bytes
    that brings any such reading to the extension's end."""
    return b"!\xff\x0bXMP DataXMP" + xmp + bytes([1, *range(255, -1, -1), 0])


def frames(data: bytes) -> list[tuple[bytes, object]]:
    """Each frame of an animation: its pixels (RGBA) and how long it shows."""
    image = Image.open(io.BytesIO(data))
    made = []
    for frame in ImageSequence.Iterator(image):
        made.append((frame.convert("RGBA").tobytes(), frame.info.get("duration")))
    return made


def opened(data: bytes) -> Image.Image:
    """The picture a file holds, decoded."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def same_pixels(one: bytes, other: bytes) -> bool:
    """Whether two files hold the same picture, pixel for pixel (PNG re-encoded loses nothing)."""
    first, second = opened(one), opened(other)
    return first.size == second.size and first.tobytes() == second.convert(first.mode).tobytes()
