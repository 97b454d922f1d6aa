"""PNG files made in memory, for uploads: no image library needed."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

#: Every PNG file starts with these eight bytes.
SIGNATURE = b"\x89PNG\r\n\x1a\n"
RED = b"\xff\x00\x00"


def _chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk: length, type, data, and the CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, row: Callable[[int], bytes]) -> bytes:
    """An 8-bit RGB PNG file; ``row(y)`` gives the ``3 * width`` bytes of row ``y``."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # Each row starts with its filter type, 0: none.
    pixels = b"".join(b"\0" + row(y) for y in range(height))
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(pixels, 9))
        + _chunk(b"IEND", b"")
    )


def solid_png(width: int = 3, height: int = 2, colour: bytes = RED) -> bytes:
    """A PNG file of one ``colour`` (three bytes: red, green, blue)."""
    return png(width, height, lambda y: colour * width)


def palette_png_with_long_transparency() -> bytes:
    """A 2 x 2 palette PNG of one colour whose transparency table has 257 entries, more than a
    palette holds: it decodes, but Pillow cannot convert it."""
    header = struct.pack(">IIBBBBB", 2, 2, 8, 3, 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"PLTE", b"\0\0\0")
        + _chunk(b"tRNS", b"\0" * 257)
        + _chunk(b"IDAT", zlib.compress(b"\0\0\0" * 2))
        + _chunk(b"IEND", b"")
    )
