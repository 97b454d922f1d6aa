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
    """GET /hello on the three servers: the blog, the bare ASGI app, the bare Quart app."""

    ours: WrkResult
    bare: WrkResult
    quart: WrkResult

    @property
    def overhead_pct(self) -> float | None:
        """(ours' CPU per request) / (bare Quart's) - 1, as a percentage."""
        ours, quart = self.ours.cpu_ms_per_request, self.quart.cpu_ms_per_request
        return (ours / quart - 1) * 100 if quart else None

    def as_json(self) -> dict[str, Any]:
        overhead = self.overhead_pct
        return {
            "ours_cpu_ms": self.ours.cpu_ms_per_request,
            "quart_cpu_ms": self.quart.cpu_ms_per_request,
            "bare_cpu_ms": self.bare.cpu_ms_per_request,
            "quart_rps": self.quart.rps,
            "overhead_pct": overhead,
            "target_pct": TARGET_PCT,
            "met": overhead is not None and overhead <= TARGET_PCT,
        }


def _versus_quart(result: WrkResult, quart: WrkResult) -> str:
    if not quart.cpu_ms_per_request:
        return "-"
    return f"{(result.cpu_ms_per_request / quart.cpu_ms_per_request - 1) * 100:+.0f}%"


def print_hooks_table(context: BenchContext, runs: HelloRuns) -> None:
    """The three /hello runs, and the blog's CPU per request over the bare Quart app's."""
    rows = [
        [name, *result_cells(result, cpu=True), _versus_quart(result, runs.quart)]
        for name, result in (
            ("quart_flaskr (ours)", runs.ours),
            ("bare Quart", runs.quart),
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
        "the three /hello runs of the main table (same hypercorn.toml, one worker, the same"
        f" pinned CPU {context.pinned.server}, back to back)." + context.settings.rounds_note(),
        "cpu: ms of CPU the server's processes used per request; vs Quart: that over the bare"
        " Quart app's, less one.",
        f"hooks overhead = ours' cpu / bare Quart's cpu - 1 = {verdict}"
        f" (target: at most +{TARGET_PCT:.0f}%).",
    ]
    print_table(
        "Hooks overhead: GET /hello on the blog and on a bare Quart app",
        ["app", "req/s", "p50", "p99", "err", "cpu", "vs Quart"],
        rows,
        notes,
    )
