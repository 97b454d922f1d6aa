"""The chart the benchmark draws of its main table (fast: no server, no wrk)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from bench.chart import APPS
from bench.chart import chart_rows
from bench.chart import ChartRow
from bench.chart import draw
from bench.chart import LABEL_WIDTH
from bench.chart import write_chart


def _measured(rps: float) -> dict[str, Any]:
    return {"rps": rps, "p50_ms": 1.0, "p99_ms": 2.0}


#: As bench/measurements/main_table.py writes it to the JSON file.
MAIN: dict[str, Any] = {
    "anon": {"flaskr": _measured(900.0), "ours": _measured(4000.0), "bare": _measured(9000.0)},
    "user": {"flaskr": _measured(850.0), "ours": _measured(3000.0), "bare": _measured(8800.0)},
    "anon-nocache": {
        "flaskr": _measured(900.0),
        "ours": _measured(700.0),
        "bare": _measured(9000.0),
    },
    "user-nocache": {
        "flaskr": _measured(850.0),
        "ours": _measured(650.0),
        "bare": _measured(8800.0),
    },
    "detail": {"ours": _measured(1200.0), "bare": _measured(9500.0)},
    "login": {"flaskr": _measured(30.0), "ours": _measured(7.5), "bare": _measured(9400.0)},
    "server_exceptions": {},
}


def test_rows_follow_the_table() -> None:
    assert chart_rows(MAIN) == [
        ChartRow("GET / (anonymous)", {"ours": 4000.0, "flaskr": 900.0, "bare": 9000.0}),
        ChartRow("GET / (logged in)", {"ours": 3000.0, "flaskr": 850.0, "bare": 8800.0}),
        # Without the page cache: the blog's figure against Flaskr's again (which renders
        # every page); the bare app's is the cached row's.
        ChartRow("GET / (anonymous, no page cache)", {"ours": 700.0, "flaskr": 900.0}),
        ChartRow("GET / (logged in, no page cache)", {"ours": 650.0, "flaskr": 850.0}),
        ChartRow("GET /<id>", {"ours": 1200.0, "bare": 9500.0}),
        ChartRow("POST /auth/login", {"ours": 7.5, "flaskr": 30.0, "bare": 9400.0}),
    ]


def test_a_bar_per_figure(tmp_path: Path) -> None:
    path = tmp_path / "bench.png"
    write_chart(MAIN, path, "Main table: quart_flaskr at 0000000")
    with Image.open(path) as image:
        assert image.format == "PNG"
        picture = image.convert("RGB")
    colours = {colour for _, _, colour in APPS}
    counts = {colour: 0 for colour in colours}
    # Down the column where every bar starts, each bar is a run of its colour.
    previous = None
    for y in range(picture.height):
        pixel = picture.getpixel((LABEL_WIDTH, y))
        if pixel in colours and pixel != previous:
            counts[pixel] += 1
        previous = pixel
    ours, flaskr, bare = (colour for _, _, colour in APPS)
    assert (counts[ours], counts[flaskr], counts[bare]) == (6, 5, 4)


def test_a_chart_of_nothing_measured_is_drawn() -> None:
    image = draw([], "nothing")
    assert image.width > 0 and image.height > 0
