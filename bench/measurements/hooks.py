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

    @property
    def overhead_pct(self) -> float | None:
        """(ours' CPU per request) / (bare Quart's) - 1, as a percentage."""
        return _over(self.ours, self.quart)

    @property
    def headers_pct(self) -> float | None:
        """What sending the blog's headers alone adds to bare Quart's CPU, as a percentage."""
        return _over(self.quart_headers, self.quart)

    def as_json(self) -> dict[str, Any]:
        overhead = self.overhead_pct
        return {
            "ours_cpu_ms": self.ours.cpu_ms_per_request,
            "quart_cpu_ms": self.quart.cpu_ms_per_request,
            "quart_headers_cpu_ms": self.quart_headers.cpu_ms_per_request,
            "bare_cpu_ms": self.bare.cpu_ms_per_request,
            "quart_rps": self.quart.rps,
            "headers_pct": self.headers_pct,
            "overhead_pct": overhead,
            "target_pct": TARGET_PCT,
            "met": overhead is not None and overhead <= TARGET_PCT,
        }


def _over(result: WrkResult, quart: WrkResult) -> float | None:
    """``result``'s CPU per request over ``quart``'s, less one, as a percentage."""
    if not quart.cpu_ms_per_request:
        return None
    return (result.cpu_ms_per_request / quart.cpu_ms_per_request - 1) * 100


def _versus_quart(result: WrkResult, quart: WrkResult) -> str:
    over = _over(result, quart)
    return "-" if over is None else f"{over:+.0f}%"


def print_hooks_table(context: BenchContext, runs: HelloRuns) -> None:
    """The four /hello runs, and the blog's CPU per request over the bare Quart app's."""
    rows = [
        [name, *result_cells(result, cpu=True), _versus_quart(result, runs.quart)]
        for name, result in (
            ("quart_flaskr (ours)", runs.ours),
            ("bare Quart", runs.quart),
            ("bare Quart, blog's headers", runs.quart_headers),
            ("bare ASGI", runs.bare),
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
        "cpu: ms of CPU the server's processes used per request; vs Quart: that over the bare"
        " Quart app's, less one.",
        "bare Quart, blog's headers: the bare Quart app sending the headers the blog's"
        " /hello carries (its security headers, through the blog's own ASGI layer, Vary and"
        " Cache-Control): what sending them costs the server, apart from the hooks' own work.",
        f"hooks overhead = ours' cpu / bare Quart's cpu - 1 = {verdict}"
        f" (target: at most +{TARGET_PCT:.0f}%).",
    ]
    print_table(
        "Hooks overhead: GET /hello on the blog and on a bare Quart app",
        ["app", "req/s", "p50", "p99", "err", "cpu", "vs Quart"],
        rows,
        notes,
    )
