"""Animations' metadata cut out of their files, chunk by chunk (container_metadata.py).

What is kept and dropped of whole animations, as uploaded, is tested through
``imaging.process_upload`` in test_imaging.py; here, files made by hand to
the byte, and files whose lengths do not add up.
"""

from __future__ import annotations

import struct
import zlib

import pytest

from quart_flaskr import container_metadata
from quart_flaskr.container_metadata import MalformedError
from tests import pictures


def _png_chunk(name: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + name + data + struct.pack(">I", zlib.crc32(name + data))


def _webp_chunk(name: bytes, data: bytes) -> bytes:
    return name + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1)


def _riff(*chunks: bytes) -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


#: The start of a GIF of 2 x 2 pixels with a colour table of 2 colours, and an
#: image of it (its descriptor, its LZW code size, its pixels in one sub-block).
GIF_HEAD = b"GIF89a\x02\x00\x02\x00\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
GIF_IMAGE = b",\x00\x00\x00\x00\x02\x00\x02\x00\x00\x02\x02\x44\x01\x00"


def test_png_keeps_the_pictures_chunks_in_order_up_to_iend() -> None:
    head = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", b"h" * 13)
    kept = [_png_chunk(b"iCCP", b"profile"), _png_chunk(b"acTL", b"a" * 8)]
    frame = [_png_chunk(b"fcTL", b"f" * 26), _png_chunk(b"IDAT", b"pixels")]
    dropped = [_png_chunk(name, b"home") for name in (b"tEXt", b"eXIf", b"tIME", b"prVt")]
    end = _png_chunk(b"IEND", b"")
    data = head + kept[0] + dropped[0] + kept[1] + dropped[1] + b"".join(frame)
    data += dropped[2] + dropped[3] + end + b"after the end"
    assert container_metadata.without_metadata(data, "png") == (
        head + b"".join(kept) + b"".join(frame) + end
    )


def test_webp_keeps_the_pictures_chunks_with_its_flags_and_size_made_again() -> None:
    vp8x = _webp_chunk(b"VP8X", bytes([0x20 | 0x10 | 0x08 | 0x04 | 0x02]) + b"\0" * 9)
    frame = _webp_chunk(b"ANMF", b"odd frame")  # 9 bytes, padded to 10.
    data = _riff(
        vp8x,
        _webp_chunk(b"ICCP", b"profile"),
        _webp_chunk(b"ANIM", b"a" * 6),
        frame,
        _webp_chunk(b"EXIF", b"home"),
        _webp_chunk(b"XMP ", b"<home/>"),
        _webp_chunk(b"JUNK", b"home"),
    )
    stripped = container_metadata.without_metadata(data + b"after the end", "webp")
    assert stripped == _riff(
        _webp_chunk(b"VP8X", bytes([0x20 | 0x10 | 0x02]) + b"\0" * 9),
        _webp_chunk(b"ICCP", b"profile"),
        _webp_chunk(b"ANIM", b"a" * 6),
        frame,
    )


def test_gif_keeps_its_images_timing_loops_and_profile() -> None:
    loops = b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    timing = b"!\xf9\x04\x00\x0a\x00\x00\x00"
    text = b"!\x01\x0c" + b"t" * 12 + b"\x02hi\x00"
    profile = pictures.gif_application(b"ICCRGBG1012", b"profile")
    local_table = b",\x00\x00\x00\x00\x02\x00\x02\x00\x80" + b"\x00" * 6 + b"\x02\x02\x44\x01\x00"
    comment = b"!\xfe\x04home\x00"
    xmp = pictures.gif_xmp(pictures.XMP)
    other = pictures.gif_application(b"OTHERAPP1.0", b"home")
    unknown = b"!\x02\x04home\x00"
    data = GIF_HEAD + loops + xmp + profile + comment + timing + GIF_IMAGE + other + timing
    data += unknown + text + local_table + b";after the end"
    assert container_metadata.without_metadata(data, "gif") == (
        GIF_HEAD + loops + profile + timing + GIF_IMAGE + timing + text + local_table + b";"
    )


@pytest.mark.parametrize(
    ("data", "kind"),
    (
        (pictures.animated("gif"), "png"),
        (pictures.animated("png"), "webp"),
        (pictures.animated("webp"), "gif"),
        (b"", "png"),
        (b"", "webp"),
        (b"", "gif"),
    ),
)
def test_another_kind_of_file_is_malformed(data: bytes, kind: str) -> None:
    with pytest.raises(MalformedError):
        container_metadata.without_metadata(data, kind)


def test_a_png_whose_chunks_do_not_add_up_is_malformed() -> None:
    png = pictures.animated("png")
    cut = len(b"\x89PNG\r\n\x1a\n") + 6
    for data in (png[:cut], png[:-1], b"\x89PNG\r\n\x1a\n"):
        with pytest.raises(MalformedError):
            container_metadata.png_without_metadata(data)


def test_an_animation_without_its_end_mark_gets_it() -> None:
    """Whole chunks or blocks, then the file ends: browsers and Pillow show it, so it is kept."""
    png = pictures.animated("png")
    end = _png_chunk(b"IEND", b"")
    assert container_metadata.png_without_metadata(png[: -len(end)]).endswith(end)
    assert container_metadata.gif_without_metadata(GIF_HEAD + GIF_IMAGE) == (
        GIF_HEAD + GIF_IMAGE + b";"
    )


@pytest.mark.parametrize(
    "data",
    (
        # A RIFF size past the file's end, or too small to hold its "WEBP".
        pictures.animated("webp")[:-1],
        b"RIFF\x02\x00\x00\x00WEBP",
        # A chunk whose length is past the RIFF's end, though not the file's.
        _riff(_webp_chunk(b"VP8X", b"\0" * 10), _webp_chunk(b"ANIM", b"a" * 6)[:-2])
        + b"after the end",
        # A chunk padded past the RIFF's end.
        _riff(_webp_chunk(b"ANMF", b"odd frame")[:-1]),
        # A chunk's header cut short.
        _riff(_webp_chunk(b"VP8X", b"\0" * 10), b"ANIM"),
        # A VP8X without its 10 bytes.
        _riff(_webp_chunk(b"VP8X", b"")),
    ),
)
def test_a_webp_whose_chunks_do_not_add_up_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedError):
        container_metadata.webp_without_metadata(data)


@pytest.mark.parametrize(
    "data",
    (
        # Cut in the colour table, an image's descriptor, its sub-blocks;
        # a block of no known kind.
        GIF_HEAD[:-1],
        GIF_HEAD + GIF_IMAGE[:5],
        GIF_HEAD + GIF_IMAGE[:-1],
        GIF_HEAD + GIF_IMAGE[:-4] + b"\x09\x44\x01\x00;",
        GIF_HEAD + b"!",
        GIF_HEAD + b"\x00" + GIF_IMAGE + b";",
    ),
)
def test_a_gif_whose_blocks_do_not_add_up_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedError):
        container_metadata.gif_without_metadata(data)
