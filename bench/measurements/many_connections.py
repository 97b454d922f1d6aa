"""Many connections: 1,000 concurrent keep-alive connections on one worker, and every error."""

from __future__ import annotations

import dataclasses

from bench.context import BenchContext
from bench.load import Load
from bench.report import fmt_ms
from bench.report import log
from bench.report import print_table
from bench.report import result_cells
from bench.scenarios import ANON
from bench.scenarios import HELLO
from bench.scenarios import LABELS
from bench.servers import Server


def run(context: BenchContext, server: Server, loads: dict[str, Load]) -> None:
    count = context.settings.many_connections
    rows = []
    data = {}
    for key in (HELLO, ANON):
        log(f"{count} connections: {LABELS[key]}")
        result = context.measure(server, loads[key], connections=count)
        data[key] = dataclasses.asdict(result)
        errors = ", ".join(f"{kind} {n}" for kind, n in result.errors.items() if n) or "none"
        rows.append(
            [
                LABELS[key],
                *result_cells(result, errors=False),
                fmt_ms(result.max_ms),
                f"{result.requests:,}",
                errors,
            ]
        )
    context.results["many_connections"] = data
    print_table(
        f"{count} concurrent keep-alive connections (one worker)",
        ["scenario", "req/s", "p50", "p99", "max", "requests", "errors"],
        rows,
    )
