"""Pictures measured, turned upright, stripped of metadata and made smaller (imaging.py and
imaging_pillow.py)."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import features
from PIL import Image

import quart_flaskr
from quart_flaskr import imaging
from quart_flaskr import imaging_pillow
from tests import pictures
from tests.harness.images import palette_png_with_long_transparency
from tests.pictures import opened

MAX_PIXELS = 10_000_000


def test_phone_photo_is_stored_upright_without_metadata() -> None:
    upload = pictures.phone_jpeg(1600, 1200)
    assert opened(upload).getexif()  # What the phone wrote, GPS and all.
    picture = imaging.process_upload(upload, "jpg", MAX_PIXELS)
    stored = opened(picture.data)
    # Turned as the EXIF said: the sensor's 1600 x 1200 is a portrait.
    assert stored.format == "JPEG"
    assert stored.size == (1200, 1600) == (picture.width, picture.height)
    # The left half was red, the top right blue: turned clockwise, red is on top.
    assert stored.getpixel((600, 200))[0] > 150  # type: ignore[index]
    assert not stored.getexif()
    assert not {"exif", "xmp", "comment"} & set(stored.info)
    assert b"GPS" not in picture.data and b"Phone maker" not in picture.data
    assert b"taken at home" not in picture.data and b"xmpmeta" not in picture.data


def test_variants_at_each_width_below_the_picture_in_webp_and_its_kind() -> None:
    picture = imaging.process_upload(pictures.phone_jpeg(2000, 1500), "jpg", MAX_PIXELS)
    made = [(variant.kind, variant.width) for variant in picture.variants]
    assert made == [
        ("webp", 1440),
        ("jpg", 1440),
        ("webp", 960),
        ("jpg", 960),
        ("webp", 480),
        ("jpg", 480),
    ]
    for variant in picture.variants:
        image = opened(variant.data)
        assert image.format == {"webp": "WEBP", "jpg": "JPEG"}[variant.kind]
        # Never larger than the picture; its shape kept; no metadata either.
        assert image.size == (variant.width, round(2000 * variant.width / 1500))
        assert len(variant.data) < len(picture.data)
        assert not image.getexif()


@pytest.mark.parametrize(
    ("upload", "kind", "made"),
    (
        # Narrower than the widest: a WebP at its own width, and no copy of
        # itself in its own kind.
        (pictures.png(600, 400), "png", [("webp", 600), ("webp", 480), ("png", 480)]),
        (pictures.gif(300, 200), "gif", [("webp", 300)]),
        (pictures.jpeg(480, 320), "jpg", [("webp", 480)]),
        # A WebP picture is its own WebP at its width.
        (pictures.webp(1000, 500), "webp", [("webp", 960), ("webp", 480)]),
        (pictures.webp(400, 300), "webp", []),
    ),
)
def test_variants_are_never_wider_than_the_picture(
    upload: bytes, kind: str, made: list[tuple[str, int]]
) -> None:
    picture = imaging.process_upload(upload, kind, MAX_PIXELS)
    assert [(variant.kind, variant.width) for variant in picture.variants] == made
    assert opened(picture.data).format == opened(upload).format


@pytest.mark.parametrize(
    ("size", "made"),
    (
        # A long phone screenshot: 17,000 pixels high at 1,080 wide, more than WebP
        # holds on a side; its own kind at each width below it, as any picture.
        ((1080, 17000), [("png", 960), ("png", 480)]),
        ((1, 16384), []),
        # As tall as WebP goes at its widest copy's width.
        (
            (1000, 16383),
            [("webp", 1000), ("webp", 960), ("png", 960), ("webp", 480), ("png", 480)],
        ),
        (
            (2000, 22000),
            [
                ("webp", 1440),
                ("png", 1440),
                ("webp", 960),
                ("png", 960),
                ("webp", 480),
                ("png", 480),
            ],
        ),
    ),
)
def test_a_picture_too_tall_for_webp_has_no_webp_copies(
    size: tuple[int, int], made: list[tuple[str, int]]
) -> None:
    upload = pictures.encoded(Image.new("RGB", size, "white"), "png")
    picture = imaging.process_upload(upload, "png", 50_000_000)
    assert (picture.width, picture.height) == size
    assert [(variant.kind, variant.width) for variant in picture.variants] == made
    assert imaging.process_stored(picture.data, "png", 50_000_000).variants == picture.variants


def test_lossless_webp_stays_lossless() -> None:
    lossless = imaging.process_upload(pictures.webp(64, 48, lossless=True), "webp", MAX_PIXELS)
    lossy = imaging.process_upload(pictures.webp(64, 48), "webp", MAX_PIXELS)
    assert b"VP8L" in lossless.data[12:16]
    assert b"VP8 " in lossy.data[12:16]
    # A file that ends before its chunks do is not lossless.
    assert imaging_pillow._lossless_webp(b"RIFF\x00\x00\x00\x00WEBPVP8 ") is False


@pytest.mark.parametrize("kind", ("gif", "webp", "png"))
def test_animated_pictures_are_kept_as_uploaded_without_variants(kind: str) -> None:
    upload = pictures.animated(kind, 1000, 600)
    for process in (imaging.process_upload, imaging.process_stored):
        picture = process(upload, kind, MAX_PIXELS)
        assert picture == imaging.Picture(upload, 1000, 600)


def test_an_mpo_photo_is_stored_as_its_first_picture_like_a_jpeg() -> None:
    upload = pictures.phone_mpo(1000, 600)
    assert opened(upload).format == "MPO" and getattr(opened(upload), "n_frames", 1) == 2
    assert pictures.GPS_DATUM in upload and pictures.MAKER in upload
    picture = imaging.process_upload(upload, "jpg", MAX_PIXELS)
    stored = opened(picture.data)
    # A still JPEG of the first picture alone: no index of others, no second picture after it.
    assert stored.format == "JPEG" and "mp" not in stored.info and b"MPF\0" not in picture.data
    assert picture.data.count(b"\xff\xd8\xff") == 1
    # Turned as its EXIF said, red on top (the second picture was all green, and smaller).
    assert stored.size == (600, 1000) == (picture.width, picture.height)
    assert stored.getpixel((300, 200))[0] > 150  # type: ignore[index]
    # Without metadata but its colour profile.
    assert not stored.getexif() and stored.info["icc_profile"] == pictures.PROFILE
    assert not {"exif", "xmp", "comment"} & set(stored.info)
    for mark in (pictures.GPS_DATUM, pictures.MAKER, pictures.COMMENT, pictures.XMP):
        assert mark not in picture.data
    # With the variants of a JPEG of the same size.
    jpeg = imaging.process_upload(pictures.phone_jpeg(1000, 600), "jpg", MAX_PIXELS)
    made = [(variant.kind, variant.width) for variant in picture.variants]
    assert made == [(variant.kind, variant.width) for variant in jpeg.variants]
    assert made == [("webp", 600), ("webp", 480), ("jpg", 480)]
    assert all(opened(variant.data).size[1] > variant.width for variant in picture.variants)


def test_a_stored_mpo_photo_is_measured_like_a_jpeg() -> None:
    upload = pictures.phone_mpo(1000, 600)
    picture = imaging.process_stored(upload, "jpg", MAX_PIXELS)
    # Its bytes kept; its size upright, as browsers show its first picture; and variants.
    assert (picture.data, picture.width, picture.height) == (upload, 600, 1000)
    assert [variant.width for variant in picture.variants] == [600, 480, 480]


#: What each kind of animation says about itself (see ``pictures.animated_with_metadata``),
#: none of which may be stored: EXIF and GPS, XMP, text and comments, and chunks or blocks
#: that hold them by their names; and bytes after the file's end.
ANIMATION_METADATA = {
    "png": (
        pictures.MAKER,
        pictures.GPS_DATUM,
        pictures.XMP,
        pictures.COMMENT,
        b"eXIf",
        b"tEXt",
        b"zTXt",
        b"iTXt",
        b"tIME",
    ),
    "webp": (pictures.MAKER, pictures.GPS_DATUM, pictures.XMP, b"EXIF", b"XMP "),
    "gif": (pictures.XMP, pictures.COMMENT, b"XMP DataXMP"),
}


@pytest.mark.parametrize("kind", ("png", "webp", "gif"))
def test_animations_are_kept_frame_for_frame_without_metadata(kind: str) -> None:
    upload = pictures.animated_with_metadata(kind, 1000, 600)
    for mark in (*ANIMATION_METADATA[kind], pictures.TRAILING):
        assert mark in upload
    picture = imaging.process_upload(upload, kind, MAX_PIXELS)
    assert (picture.width, picture.height, picture.variants) == (1000, 600, ())
    for mark in (*ANIMATION_METADATA[kind], pictures.TRAILING):
        assert mark not in picture.data
    # The same animation: every frame's pixels and timing, and how often it loops.
    stored, original = opened(picture.data), opened(upload)
    assert (stored.format, stored.size) == (original.format, (1000, 600))
    assert getattr(stored, "n_frames", 1) == getattr(original, "n_frames", 1) == 3
    assert pictures.frames(picture.data) == pictures.frames(upload)
    assert stored.info["loop"] == original.info["loop"] == 0
    # Its colour profile kept (Pillow does not read a GIF's: it stays as it was).
    if kind == "gif":
        assert pictures.gif_application(b"ICCRGBG1012", pictures.PROFILE) in picture.data
        assert b"NETSCAPE2.0" in picture.data
    else:
        assert stored.info["icc_profile"] == pictures.PROFILE
        assert not {"exif", "xmp"} & set(stored.info)
    if kind == "webp":
        # VP8X's flags: a colour profile, an animation, and neither EXIF nor XMP.
        assert picture.data[12:16] == b"VP8X" and picture.data[20] == 0x20 | 0x02
        (riff_size,) = struct.unpack("<I", picture.data[4:8])
        assert riff_size == len(picture.data) - 8
    else:
        assert picture.data.endswith(b"IEND\xaeB`\x82" if kind == "png" else b"\0;")


def _animated_png_with_a_long_chunk() -> bytes:
    """An APNG whose last frame's chunk says it is longer than the file."""
    upload = pictures.animated("png")
    at = upload.rindex(b"fdAT") - 4
    return upload[:at] + struct.pack(">I", 0x7FFF_FFFF) + upload[at + 4 :]


def _gif_ending_in_a_second_frame() -> bytes:
    """A GIF of one frame followed by the start of a second one's graphic control block."""
    one = pictures.encoded(Image.new("P", (8, 6)), "gif")
    return one[: -len(b";")] + b"!\xf9\x04"


@pytest.mark.parametrize(
    ("upload", "kind"),
    (
        # Decoded as far as Pillow reads (the first frame), but cut short or
        # longer than the file further on.
        (pictures.animated("png")[:-20], "png"),
        (_animated_png_with_a_long_chunk(), "png"),
        (pictures.animated("gif")[:-5], "gif"),
        # Pillow fails on it as it counts its frames.
        (_gif_ending_in_a_second_frame(), "gif"),
    ),
)
def test_animations_that_end_too_soon_are_unreadable(upload: bytes, kind: str) -> None:
    with pytest.raises(imaging.UnreadableError):
        imaging.process_upload(upload, kind, MAX_PIXELS)


def test_a_picture_pillow_decodes_but_cannot_convert_is_unreadable() -> None:
    """Uploaded, or stored before (an upgrade's data step makes its variants)."""
    upload = palette_png_with_long_transparency()
    for process in (imaging.process_upload, imaging.process_stored):
        with pytest.raises(imaging.UnreadableError, match="palette"):
            process(upload, "png", MAX_PIXELS)


@pytest.mark.parametrize(("kind", "end"), (("png", 12), ("gif", 1)))
def test_an_animation_without_its_end_mark_is_kept_whole(kind: str, end: int) -> None:
    """As browsers and Pillow show it: every frame, and the end mark it lacked."""
    whole = pictures.animated(kind)
    picture = imaging.process_upload(whole[:-end], kind, MAX_PIXELS)
    assert picture.data.endswith(whole[-end:])
    with Image.open(io.BytesIO(picture.data)) as stored:
        assert getattr(stored, "n_frames", 1) == 3


def test_transparency_and_colour_profile_are_kept() -> None:
    # A palette picture with a transparent colour: its variants have alpha.
    palette = Image.new("P", (600, 400), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0] * 128)
    upload = pictures.encoded(palette, "png", transparency=1, icc_profile=b"profile")
    picture = imaging.process_upload(upload, "png", MAX_PIXELS)
    stored = opened(picture.data)
    assert stored.info["transparency"] == 1 and stored.info["icc_profile"] == b"profile"
    png_variant = next(variant for variant in picture.variants if variant.kind == "png")
    assert opened(png_variant.data).mode == "RGBA"
    assert opened(png_variant.data).info["icc_profile"] == b"profile"


def test_a_cmyk_profile_does_not_go_with_rgb_variants() -> None:
    cmyk = Image.new("CMYK", (600, 400), (0, 255, 255, 0))
    upload = pictures.encoded(cmyk, "jpg", icc_profile=b"cmyk profile")
    picture = imaging.process_upload(upload, "jpg", MAX_PIXELS)
    assert opened(picture.data).mode == "CMYK"
    assert opened(picture.data).info["icc_profile"] == b"cmyk profile"
    for variant in picture.variants:
        assert opened(variant.data).mode == "RGB"
        assert "icc_profile" not in opened(variant.data).info


def test_stored_pictures_keep_their_bytes() -> None:
    stored = pictures.phone_jpeg(1600, 1200)
    picture = imaging.process_stored(stored, "jpg", MAX_PIXELS)
    assert picture.data == stored
    # Its size as browsers show it, upright, and variants without metadata.
    assert (picture.width, picture.height) == (1200, 1600)
    assert [variant.width for variant in picture.variants] == [1200, 960, 960, 480, 480]
    assert all(not opened(variant.data).getexif() for variant in picture.variants)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header(width: int, height: int) -> bytes:
    """The start of a PNG file claiming a size, and no pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"")


@pytest.mark.parametrize(
    ("upload", "kind"),
    (
        (pictures.png(3200, 3200), "png"),
        # Pillow's own check, before any pixel is read: a decompression bomb.
        (_png_header(50_000, 50_000), "png"),
        # Above Pillow's warning, below its error: a warning made an error.
        (_png_header(10_000, 10_000), "png"),
    ),
)
def test_too_many_pixels(upload: bytes, kind: str) -> None:
    for process in (imaging.process_upload, imaging.process_stored):
        with pytest.raises(imaging.TooManyPixelsError):
            process(upload, kind, MAX_PIXELS)


@pytest.mark.parametrize(
    ("upload", "kind"),
    (
        (pictures.jpeg(64, 48)[:300], "jpg"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "png"),
        # Decoded only as the kind its first bytes showed.
        (pictures.png(), "jpg"),
        (pictures.gif(), "webp"),
    ),
)
def test_unreadable(upload: bytes, kind: str) -> None:
    with pytest.raises(imaging.UnreadableError):
        imaging.process_upload(upload, kind, MAX_PIXELS)


@pytest.mark.parametrize("kind", ("png", "webp"))
def test_a_broken_exif_block_leaves_the_picture_as_stored(kind: str) -> None:
    upload = pictures.encoded(pictures.photo(600, 400), kind, exif=pictures.BROKEN_EXIF)
    for process in (imaging.process_upload, imaging.process_stored):
        picture = process(upload, kind, MAX_PIXELS)
        # Not turned: the block says nothing that can be read. Variants made as for any other.
        assert (picture.width, picture.height) == (600, 400)
        assert [variant.width for variant in picture.variants if variant.kind == "webp"][-1] == 480
    stored = imaging.process_upload(upload, kind, MAX_PIXELS).data
    assert opened(stored).size == (600, 400)
    assert pictures.BROKEN_EXIF not in stored and "exif" not in opened(stored).info


@pytest.mark.parametrize("kind", ("jpg", "png", "webp"))
def test_a_readable_orientation_beside_a_mistyped_tag_is_followed(kind: str) -> None:
    upload = pictures.encoded(pictures.photo(600, 400), kind, exif=pictures.mistyped_exif())
    assert opened(upload).getexif()[274] == pictures.ROTATED_CLOCKWISE
    for process in (imaging.process_upload, imaging.process_stored):
        picture = process(upload, kind, MAX_PIXELS)
        # Turned as the EXIF said: a portrait, and its variants too.
        assert (picture.width, picture.height) == (400, 600)
        for variant in picture.variants:
            width, height = opened(variant.data).size
            assert height > width
    stored = opened(imaging.process_upload(upload, kind, MAX_PIXELS).data)
    assert stored.size == (400, 600) and not stored.getexif()


async def test_run_is_off_the_event_loop() -> None:
    import threading

    assert await imaging.run(threading.current_thread) is not threading.current_thread()
    assert (await imaging.run(threading.current_thread)).name.startswith("imaging")


def test_pillow_is_loaded_by_the_first_picture_not_by_starting_the_app(tmp_path: Path) -> None:
    # In a process of its own: this one has Pillow loaded by the tests already.
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(pictures.phone_jpeg(600, 400))
    script = f"""
import pathlib, sys
from quart_flaskr import create_app, imaging
create_app({{"DATABASE": {str(tmp_path / "blog.sqlite")!r}, "SECRET_KEY": "k" * 40}})
print("PIL" in sys.modules)
data = pathlib.Path({str(photo)!r}).read_bytes()
picture = imaging.process_upload(data, "jpg", imaging.MAX_PIXELS)
print("PIL" in sys.modules, picture.width, picture.height)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    # Stored upright, as its EXIF orientation says: 400 wide, 600 high.
    assert result.stdout.split() == ["False", "True", "400", "600"]


def test_a_working_pillow_is_no_problem() -> None:
    assert imaging_pillow.missing_codecs() == []
    assert imaging.problem() is None


def test_a_pillow_built_without_a_codec_is_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    built = {"jpg": True, "zlib": True, "webp": False}
    monkeypatch.setattr(features, "check", built.__getitem__)
    assert imaging.problem() == "Pillow was built without WebP"
    built["jpg"] = False
    assert imaging.problem() == "Pillow was built without JPEG, WebP"


def test_a_pillow_that_cannot_be_imported_is_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes its import fail, as a missing or broken package's does.
    monkeypatch.setitem(sys.modules, "quart_flaskr.imaging_pillow", None)
    monkeypatch.delattr(quart_flaskr, "imaging_pillow")
    found = imaging.problem()
    assert found is not None and found.startswith("Pillow cannot be imported (")
