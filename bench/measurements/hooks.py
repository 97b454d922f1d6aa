"""Hooks overhead: the blog's GET /hello against a bare Quart app's, on the same server.

Both answer "Hello, World!" from one route; the blog's request passes through its
own hooks, extensions and middleware on the way (session, CSRF, security headers,
rate limits, the page cache's fast path, ...). The main table measures the bare
Quart app (``bench/bare_quart.py``) back to back with the blog and the bare ASGI
app; this table compares their CPU per request.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bench.context import BenchContext
from bench.load import paired_ratio
from bench.load import WrkResult
from bench.report import print_table
from bench.report import result_cells

#: The most the blog's hooks may add to a bare Quart app's CPU per request (issue 16).
TARGET_PCT = 10.0


@dataclasses.dataclass(frozen=True)
class HelloRuns:
    """GET /hello on the four servers: the blog, the bare ASGI app, the bare Quart apps."""

    ours: WrkResult
    bare: WrkResult
    quart: WrkResult
    #: The bare Quart app sending the blog's headers.
    quart_headers: WrkResult
    #: Each app's CPU per request in each round ("ours", "bare", "quart", "quart_headers").
    cpu_rounds: dict[str, list[float]]

    @property
    def overhead_pct(self) -> float | None:
        """(ours' CPU per request) / (bare Quart's) - 1, as a percentage, paired by round."""
        return self.over_quart("ours")

    @property
    def headers_pct(self) -> float | None:
        """What sending the blog's headers alone adds to bare Quart's CPU, as a percentage."""
        return self.over_quart("quart_headers")

    def over_quart(self, app: str) -> float | None:
        """``app``'s CPU per request over the bare Quart app's in the same round, less one,
        as a percentage: the median over the rounds."""
        ratio = paired_ratio(self.cpu_rounds[app], self.cpu_rounds["quart"])
        return None if ratio is None else (ratio - 1) * 100

    def as_json(self) -> dict[str, Any]:
        overhead = self.overhead_pct
        return {
            "ours_cpu_ms": self.ours.cpu_ms_per_request,
            "quart_cpu_ms": self.quart.cpu_ms_per_request,
            "quart_headers_cpu_ms": self.quart_headers.cpu_ms_per_request,
            "bare_cpu_ms": self.bare.cpu_ms_per_request,
            "quart_rps": self.quart.rps,
            "cpu_rounds": self.cpu_rounds,
            "headers_pct": self.headers_pct,
            "overhead_pct": overhead,
            "target_pct": TARGET_PCT,
            "met": overhead is not None and overhead <= TARGET_PCT,
        }


def _versus_quart(runs: HelloRuns, app: str) -> str:
    over = runs.over_quart(app)
    return "-" if over is None else f"{over:+.0f}%"


def print_hooks_table(context: BenchContext, runs: HelloRuns) -> None:
    """The four /hello runs, and the blog's CPU per request over the bare Quart app's."""
    rows = [
        [name, *result_cells(result, cpu=True), _versus_quart(runs, app)]
        for name, app, result in (
            ("quart_flaskr (ours)", "ours", runs.ours),
            ("bare Quart", "quart", runs.quart),
            ("bare Quart, blog's headers", "quart_headers", runs.quart_headers),
            ("bare ASGI", "bare", runs.bare),
        )
    ]
    overhead = runs.overhead_pct
    verdict = (
        "-"
        if overhead is None
        else f"{overhead:+.0f}%: target met"
        if overhead <= TARGET_PCT
        else f"{overhead:+.0f}%: target MISSED"
    )
    notes = [
        "the four /hello runs of the main table (same hypercorn.toml, one worker, the same"
        f" pinned CPU {context.pinned.server}, back to back)." + context.settings.rounds_note(),
        "cpu: ms of CPU the server's processes used per request (the run with the median"
        " req/s); vs Quart: each round's CPU per request over the bare Quart app's in the same"
        " round, less one, the median over the rounds.",
        "bare Quart, blog's headers: the bare Quart app sending the headers the blog's"
        " /hello carries (its security headers, through the blog's own ASGI layer, Vary and"
        " Cache-Control): what sending them costs the server, apart from the hooks' own work.",
        f"hooks overhead = ours' cpu / bare Quart's cpu - 1, round by round = {verdict}"
        f" (target: at most +{TARGET_PCT:.0f}%).",
    ]
    print_table(
        "Hooks overhead: GET /hello on the blog and on a bare Quart app",
        ["app", "req/s", "p50", "p99", "err", "cpu", "vs Quart"],
        rows,
        notes,
    )
