"""The main table as a picture: req/s of the blog, Flaskr and the bare app for each row, as bars.

Drawn with Pillow (a dependency of the app already), so that the benchmark
needs no plotting library. Each row of the table is a group of bars on one
linear scale, its figure written at the end of each bar; the rows measured
without the page cache follow the cached ones they repeat.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from bench.report import fmt_rps
from bench.scenarios import LABELS
from bench.scenarios import UNCACHED_LABELS

#: The apps, in the order their bars are drawn, with their names and colours.
APPS = (
    ("ours", "quart_flaskr", (37, 99, 235)),
    ("flaskr", "Flaskr", (234, 88, 12)),
    ("bare", "bare Hypercorn", (120, 120, 120)),
)
WIDTH = 1000
LABEL_WIDTH = 270
VALUE_WIDTH = 70
BAR = 16
GAP = 4
ROW_GAP = 14
MARGIN = 16
TEXT = (20, 20, 20)
BACKGROUND = (255, 255, 255)


@dataclasses.dataclass(frozen=True)
class ChartRow:
    """One row of the table: its label and each measured app's req/s."""

    label: str
    rps: dict[str, float]


def chart_rows(main: Mapping[str, Any]) -> list[ChartRow]:
    """The rows of the main table's JSON figures, in the order they were measured.

    A row without the page cache (``user-nocache``) shows the blog's figure and
    Flaskr's, which renders every page (the comparison the row is for), again;
    its bare figure is the cached row's, shown above it.
    """
    rows = []
    for name, entry in main.items():
        key, _, variant = name.partition("-")
        labels = UNCACHED_LABELS if variant == "nocache" else LABELS
        if key not in labels:
            continue
        apps = ("ours", "flaskr") if variant else tuple(app for app, _, _ in APPS)
        rps = {app: float(entry[app]["rps"]) for app in apps if app in entry}
        rows.append(ChartRow(labels[key], rps))
    return rows


def draw(rows: list[ChartRow], title: str) -> Image.Image:
    """The bar chart of ``rows``, headed by ``title`` and a legend."""
    font = ImageFont.load_default(size=14)
    heading = ImageFont.load_default(size=17)
    apps = [app for app in APPS if any(app[0] in row.rps for row in rows)]
    top = MARGIN + 30 + 24
    heights = [len(row.rps) * (BAR + GAP) - GAP + ROW_GAP for row in rows]
    image = Image.new("RGB", (WIDTH, top + sum(heights) + MARGIN), BACKGROUND)
    pen = ImageDraw.Draw(image)
    pen.text((MARGIN, MARGIN), title, fill=TEXT, font=heading)
    x = MARGIN
    for _, name, colour in apps:
        pen.rectangle((x, MARGIN + 32, x + 12, MARGIN + 44), fill=colour)
        pen.text((x + 18, MARGIN + 30), name, fill=TEXT, font=font)
        x += 40 + int(pen.textlength(name, font=font))
    pen.text((x + 20, MARGIN + 30), "requests per second", fill=TEXT, font=font)
    most = max((value for row in rows for value in row.rps.values()), default=0.0) or 1.0
    scale = (WIDTH - LABEL_WIDTH - VALUE_WIDTH - 2 * MARGIN) / most
    y = top
    for row, height in zip(rows, heights, strict=True):
        pen.text((MARGIN, y), row.label, fill=TEXT, font=font)
        bar_y = y
        for app, _, colour in apps:
            if app not in row.rps:
                continue
            value = row.rps[app]
            end = LABEL_WIDTH + max(1, round(value * scale))
            pen.rectangle((LABEL_WIDTH, bar_y, end, bar_y + BAR), fill=colour)
            pen.text((end + 6, bar_y), fmt_rps(value), fill=TEXT, font=font)
            bar_y += BAR + GAP
        y += height
    return image


def write_chart(main: Mapping[str, Any], path: Path, title: str) -> None:
    """Draw the main table's figures as a PNG file at ``path``."""
    draw(chart_rows(main), title).save(path, "PNG", optimize=True)
