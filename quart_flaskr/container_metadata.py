"""Animations without their metadata, cut out of the file as it is: no frame is decoded again.

An animated GIF, PNG (APNG) or WebP is stored frame for frame as uploaded:
encoding its frames again would be slow, and lossy for a WebP. What it says
about itself (EXIF with GPS, XMP, text, comments, times) is taken out here.
Each of these formats is a row of chunks or blocks that each say their length:
the file is read along them, and written again with only those that make the
picture move and look as it does (its frames, their timing, its colour
profile), each as it was, then the format's end. Any other is dropped, known
or not: a decoder shows the picture without it, whatever it holds. Bytes after
the file's end go too.

Pillow has decoded the first frame before this runs, but not always the
others: a file whose lengths run past its end, or that ends inside a chunk,
raises :class:`MalformedError`. One that ends after a whole chunk or block
but lacks its end mark (PNG's IEND, GIF's trailer) is taken as browsers take
it, ended there, and gets the mark.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: The IEND chunk, which is always the same: no data, and the CRC of its name.
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
#: The PNG chunks kept: the picture (IHDR, PLTE, IDAT, IEND), its transparency,
#: its colours (iCCP, the profile; sRGB, gAMA, cHRM, sBIT; cICP, mDCV, cLLI for
#: HDR), its background and pixel size, and the animation (acTL, then each
#: frame's fcTL and fdAT). Not tEXt, zTXt, iTXt (XMP among them), eXIf or tIME.
_PNG_KEPT = frozenset(
    {
        b"IHDR",
        b"PLTE",
        b"IDAT",
        b"IEND",
        b"tRNS",
        b"iCCP",
        b"sRGB",
        b"gAMA",
        b"cHRM",
        b"sBIT",
        b"cICP",
        b"mDCV",
        b"cLLI",
        b"bKGD",
        b"pHYs",
        b"acTL",
        b"fcTL",
        b"fdAT",
    }
)
#: The WebP chunks kept: the canvas and its flags (VP8X), the colour profile
#: (ICCP), the animation (ANIM, then an ANMF for each frame, holding its
#: pixels), and a still's pixels (ALPH, VP8, VP8L). Not EXIF or XMP.
_WEBP_KEPT = frozenset({b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"})
#: VP8X's flags saying EXIF and XMP chunks follow: cleared, as they no longer do.
_VP8X_EXIF = 0x08
_VP8X_XMP = 0x04
_VP8X_SIZE = 10
#: GIF's blocks begin with one of these bytes.
_GIF_EXTENSION = 0x21
_GIF_IMAGE = 0x2C
_GIF_TRAILER = 0x3B
#: The GIF extensions kept, by their label: each frame's timing, disposal and
#: transparent colour (graphic control), and text drawn on the picture (plain
#: text). Not comments.
_GIF_KEPT_EXTENSIONS = frozenset({0xF9, 0x01})
_GIF_APPLICATION = 0xFF
#: The GIF application extensions kept, by their first sub-block (a length of
#: 11, then their name): how often the animation loops (NETSCAPE2.0, or its
#: twin ANIMEXTS1.0), and its colour profile (ICCRGBG1012, read by browsers).
#: Not XMP, which rides in "XMP DataXMP", nor any other.
_GIF_KEPT_APPLICATIONS = frozenset({b"\x0bNETSCAPE2.0", b"\x0bANIMEXTS1.0", b"\x0bICCRGBG1012"})


class MalformedError(ValueError):
    """A file whose chunks or blocks do not add up: a length past its end, or no end at all."""


def without_metadata(data: bytes, kind: str) -> bytes:
    """The animation ``data``, a file of ``kind`` (``"png"``, ``"gif"``, ``"webp"``), without
    its metadata and without any bytes after its end.

    :raise MalformedError: when its chunks or blocks do not add up to a file of its kind
    """
    return _STRIPPERS[kind](data)


def png_without_metadata(data: bytes) -> bytes:
    """A PNG file with only the chunks of ``_PNG_KEPT``, up to IEND.

    Each chunk kept is copied whole, its CRC with it: a chunk's CRC covers
    itself alone, and APNG's sequence numbers count only fcTL and fdAT, all kept.
    """
    if not data.startswith(_PNG_SIGNATURE):
        raise MalformedError("not a PNG file")
    kept = [_PNG_SIGNATURE]
    offset = len(_PNG_SIGNATURE)
    while True:
        if offset == len(data) and offset > len(_PNG_SIGNATURE):
            # Whole chunks, then no IEND: as browsers and Pillow take it, ended.
            return b"".join([*kept, _PNG_END])
        length, name = _unpack(">I4s", data, offset)
        end = offset + 12 + length  # The length, the name, the data, the CRC.
        if end > len(data):
            raise MalformedError(f"a PNG chunk ({name!r}) runs past the end of the file")
        if name in _PNG_KEPT:
            kept.append(data[offset:end])
        if name == b"IEND":
            return b"".join(kept)
        offset = end


def webp_without_metadata(data: bytes) -> bytes:
    """A WebP file with only the chunks of ``_WEBP_KEPT``, its flags and size saying so.

    The RIFF header's size is that of what follows it: made again for the
    chunks kept. Bytes past the end it gave are not part of the file.
    """
    riff, size, form = _unpack("<4sI4s", data, 0)
    if riff != b"RIFF" or form != b"WEBP":
        raise MalformedError("not a WebP file")
    end = 8 + size
    if end > len(data) or size < 4:
        raise MalformedError("a WebP file whose RIFF size is larger than the file, or too small")
    data = data[:end]
    kept = []
    offset = 12
    while offset < end:
        name, length = _unpack("<4sI", data, offset)
        chunk_end = offset + 8 + length + (length & 1)  # Padded to an even length.
        if chunk_end > end:
            raise MalformedError(f"a WebP chunk ({name!r}) runs past the end of the file")
        chunk = data[offset:chunk_end]
        if name == b"VP8X":
            chunk = _vp8x_without_metadata(chunk)
        if name in _WEBP_KEPT:
            kept.append(chunk)
        offset = chunk_end
    body = b"WEBP" + b"".join(kept)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _vp8x_without_metadata(chunk: bytes) -> bytes:
    """A VP8X chunk whose flags no longer say that EXIF or XMP chunks follow."""
    if len(chunk) < 8 + _VP8X_SIZE:
        raise MalformedError("a WebP VP8X chunk shorter than its 10 bytes")
    flags = chunk[8] & ~(_VP8X_EXIF | _VP8X_XMP)
    return chunk[:8] + bytes([flags]) + chunk[9:]


def gif_without_metadata(data: bytes) -> bytes:
    """A GIF file with its images, the extensions of ``_GIF_KEPT_EXTENSIONS`` and
    ``_GIF_KEPT_APPLICATIONS``, and its trailer; no comments or other applications' data.

    The header, logical screen and global colour table stay as they are.
    """
    signature, flags = _unpack("<6s4xB2x", data, 0)
    if signature not in (b"GIF87a", b"GIF89a"):
        raise MalformedError("not a GIF file")
    offset = 13 + _gif_colour_table_size(flags)
    kept = [data[:offset]]
    while True:
        if offset == len(data):
            # Whole blocks, then no trailer: as browsers and Pillow take it, ended.
            return b"".join([*kept, bytes([_GIF_TRAILER])])
        (introducer,) = _unpack("B", data, offset)
        if introducer == _GIF_TRAILER:
            kept.append(bytes([_GIF_TRAILER]))
            return b"".join(kept)
        if introducer == _GIF_IMAGE:
            # The position and size (8 bytes), the flags, any local colour
            # table, the LZW code size (a byte), then the pixels in sub-blocks.
            (flags,) = _unpack("<9xB", data, offset)
            end = _gif_sub_blocks_end(data, offset + 10 + _gif_colour_table_size(flags) + 1)
            keep = True
        elif introducer == _GIF_EXTENSION:
            (label,) = _unpack("<xB", data, offset)
            end = _gif_sub_blocks_end(data, offset + 2)
            if label == _GIF_APPLICATION:
                keep = data[offset + 2 : offset + 14] in _GIF_KEPT_APPLICATIONS
            else:
                keep = label in _GIF_KEPT_EXTENSIONS
        else:
            raise MalformedError(f"a GIF block of no known kind (0x{introducer:02x})")
        if keep:
            kept.append(data[offset:end])
        offset = end


def _gif_colour_table_size(flags: int) -> int:
    """The size in bytes of the colour table a GIF screen's or image's flags announce."""
    return 3 << ((flags & 0x07) + 1) if flags & 0x80 else 0


def _gif_sub_blocks_end(data: bytes, offset: int) -> int:
    """Where the GIF data sub-blocks from ``offset`` end: each is a length (a byte) and that
    many bytes, and the last a length of 0."""
    while True:
        (length,) = _unpack("B", data, offset)
        offset += 1 + length
        if length == 0:
            return offset


def _unpack(layout: str, data: bytes, offset: int) -> tuple[Any, ...]:
    """The fields of ``layout`` read from ``data`` at ``offset``.

    :raise MalformedError: when the file ends before them
    """
    try:
        return struct.unpack_from(layout, data, offset)
    except struct.error as error:
        raise MalformedError("the file ends in the middle of a chunk or block") from error


_STRIPPERS: dict[str, Callable[[bytes], bytes]] = {
    "png": png_without_metadata,
    "gif": gif_without_metadata,
    "webp": webp_without_metadata,
}
