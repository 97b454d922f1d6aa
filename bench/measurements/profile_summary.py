"""py-spy's raw stacks summed up: own time by component and function; the app's inclusive time."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from bench.report import print_table

FRAME_RE = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*)\)$")
#: Inclusive time is shown for functions whose file is in one of these.
APP_PARTS = ("quart_flaskr/", "quart/", "jinja2/", "aiosqlite")


def frame_place(frame: str) -> tuple[str, str, str]:
    """(function, short file, component) of a py-spy frame "func (path)"."""
    match = FRAME_RE.match(frame)
    func, file = (match.group("func"), match.group("file")) if match else (frame, "")
    component = "other"
    short = file
    if "/site-packages/" in file:
        short = file.split("/site-packages/", 1)[1]
        component = short.split("/", 1)[0].removesuffix(".py")
    elif "/quart_flaskr/" in file:
        short = "quart_flaskr/" + file.split("/quart_flaskr/", 1)[1]
        component = "templates (Jinja)" if file.endswith(".html") else "quart_flaskr"
    elif re.search(r"/lib/python3\.\d+/", file):
        short = re.split(r"/lib/python3\.\d+/", file, maxsplit=1)[1]
        component = "stdlib " + short.split("/", 1)[0].removesuffix(".py")
    elif file.startswith("<frozen"):
        component = "stdlib (frozen)"
    elif file.endswith(".html"):
        component = "templates (Jinja)"
    return func, short, component


def summarise_profile(path: Path, label: str, rate: int) -> dict[str, Any]:
    """Print the three tables of one profile; return their figures for the JSON file."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    components: Counter[str] = Counter()
    total = 0
    for line in path.read_text("utf-8", "replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        places = [frame_place(f) for f in frames]
        function, file, component = places[-1]
        own[f"{function} ({file})"] += count
        components[component] += count
        for place in {f"{func} ({short})" for func, short, _ in places}:
            inclusive[place] += count
    if not total:
        return {}

    def share(value: int) -> str:
        return f"{100 * value / total:.1f}%"

    print_table(
        f"Profile of the worker, {label}: where the samples' own time is, by component",
        ["component", "own time"],
        [[name, share(n)] for name, n in components.most_common(14)],
    )
    print_table(
        f"Profile, {label}: functions by own time (top 20)",
        ["function (file)", "own"],
        [[name[:110], share(n)] for name, n in own.most_common(20)],
    )
    app_frames = [
        (name, n) for name, n in inclusive.most_common() if any(p in name for p in APP_PARTS)
    ]
    print_table(
        f"Profile, {label}: app, Quart, Jinja and aiosqlite functions by inclusive time (top 25)",
        ["function (file)", "incl."],
        [[name[:110], share(n)] for name, n in app_frames[:25]],
        [f"{total:,} samples at {rate} Hz (all threads, idle excluded); raw stacks in {path}"],
    )
    return {
        "samples": total,
        "components": dict(components.most_common()),
        "own": dict(own.most_common(40)),
        "inclusive": dict(app_frames[:40]),
        "raw": str(path),
    }
