"""The hooks' cost counted, not timed: instructions of one ``GET /hello`` through the whole
app in process, the blog's against the bare Quart apps', by valgrind.

wrk's CPU per request moves by a tenth from round to round on a shared machine, as much as
the hooks' target allows (at most +10% over bare Quart): the same code has given -6% and
+20%. An instruction count moves by thousandths, whatever else the machine is doing. It
counts the app's own work, not the server's: both apps' answers go through the same
Hypercorn, which the main table's hooks rows measure with wrk.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.context import BenchContext
from bench.errors import BenchError
from bench.installed import ensure_installed
from bench.measurements.hooks import TARGET_PCT
from bench.ours import APP_MODULE
from bench.report import log
from bench.report import print_table
from bench.settings import BENCH

COUNTER = BENCH / "count_requests.py"
#: Requests before those counted, and those counted: the first thousand of a bare Quart app
#: cost it 2% more each than the next (its garbage collector's first full passes over what
#: start-up made), so a count from the start would flatter the blog. And in --quick.
WARM_UP, REQUESTS = 1000, 1000
QUICK_WARM_UP, QUICK_REQUESTS = 10, 20
#: callgrind's total on stderr: "==123== Collected : 1785396898".
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


@dataclasses.dataclass(frozen=True)
class HelloCounts:
    """Instructions of one GET /hello in process: the blog's, bare Quart's, and bare Quart's
    sending the blog's headers."""

    ours: float
    quart: float
    quart_headers: float
    warm_up: int
    requests: int

    def over_quart(self, count: float) -> float:
        return (count / self.quart - 1) * 100

    @property
    def met(self) -> bool:
        return self.over_quart(self.ours) <= TARGET_PCT

    def as_json(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "overhead_pct": self.over_quart(self.ours),
            "headers_pct": self.over_quart(self.quart_headers),
            "target_pct": TARGET_PCT,
            "met": self.met,
        }


def instructions(
    valgrind: str,
    app: str,
    cwd: Path,
    path: str,
    requests: int,
    out: Path,
    cookie: str | None = None,
) -> int:
    """valgrind's count of instructions for ``requests`` requests to ``app`` (start-up
    included), each with ``cookie`` as its Cookie header when given."""
    command = [
        valgrind,
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        str(COUNTER),
        app,
        path,
        str(requests),
        *([cookie] if cookie else []),
    ]
    # A fixed hash seed: the same dictionaries, the same count.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    found = _COLLECTED.search(result.stderr)
    if result.returncode != 0 or found is None:
        tail = " / ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        raise BenchError(f"counting {app} {path} failed (exit {result.returncode}): {tail}")
    return int(found.group(1))


def per_request(
    valgrind: str,
    app: str,
    cwd: Path,
    path: str,
    warm_up: int,
    requests: int,
    out: Path,
    cookie: str | None = None,
) -> float:
    """Instructions of one request once warm: ``warm_up + requests`` counted, less ``warm_up``
    (and the start-up, in both)."""
    warm = instructions(valgrind, app, cwd, path, warm_up, out, cookie)
    total = instructions(valgrind, app, cwd, path, warm_up + requests, out, cookie)
    return (total - warm) / requests


def run(context: BenchContext, ours_dir: Path) -> None:
    """Count the three apps' /hello (the blog's instance in ``ours_dir``); print and keep them."""
    quick = context.settings.quick
    warm_up, requests = (QUICK_WARM_UP, QUICK_REQUESTS) if quick else (WARM_UP, REQUESTS)
    try:
        valgrind = ensure_installed("valgrind")
    except BenchError as error:
        print(f"\nHooks overhead by instruction count: skipped ({error})")
        return
    out = context.workdir / "callgrind.out"
    counts = {}
    for name, app, cwd in (
        ("ours", f"{APP_MODULE}:app", ours_dir),
        ("quart", "bare_quart:app", BENCH),
        ("quart_headers", "bare_quart:app_with_headers", BENCH),
    ):
        log(f"counting {app}'s GET /hello with valgrind ({warm_up} + {requests} requests)")
        counts[name] = per_request(valgrind, app, cwd, "/hello", warm_up, requests, out)
    result = HelloCounts(warm_up=warm_up, requests=requests, **counts)
    context.results["hooks_instructions"] = result.as_json()
    print_counts(result)


def print_counts(counts: HelloCounts) -> None:
    overhead = counts.over_quart(counts.ours)
    rows = [
        [name, f"{count:,.0f}", f"{counts.over_quart(count):+.1f}%"]
        for name, count in (
            ("quart_flaskr (ours)", counts.ours),
            ("bare Quart", counts.quart),
            ("bare Quart, blog's headers", counts.quart_headers),
        )
    ]
    verdict = "met" if counts.met else "MISSED"
    print_table(
        "Hooks overhead by instruction count: GET /hello in process (valgrind)",
        ["app", "instructions a request", "vs Quart"],
        rows,
        [
            "GET /hello through the whole ASGI app, no server (bench/count_requests.py), under"
            f" valgrind --tool=callgrind: a run of {counts.warm_up + counts.requests:,} requests"
            f" less a run of {counts.warm_up:,}, over {counts.requests:,}: a warm request, start-up"
            " and the first ones left out. PYTHONHASHSEED=0: the same run gives the same count.",
            "the app's own work only: the server's share (Hypercorn, h11) is in the main"
            " table's hooks rows.",
            f"hooks overhead = ours / bare Quart - 1 = {overhead:+.1f}%: target {verdict}"
            f" (target: at most +{TARGET_PCT:.0f}%).",
        ],
    )
