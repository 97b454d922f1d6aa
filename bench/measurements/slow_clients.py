"""Slow clients: readers' latency alone, then while 1,000 connections trickle their headers."""

from __future__ import annotations

import dataclasses

from bench.context import BenchContext
from bench.load import Load
from bench.report import fmt_ms
from bench.report import log
from bench.report import print_table
from bench.report import result_cells
from bench.scenarios import ANON
from bench.scenarios import LABELS
from bench.servers import Server
from bench.servers import settle
from bench.slowloris import Trickler

#: Seconds between two header lines of a trickling connection.
INTERVAL_S = 2.0
#: The readers' p99 the trickling clients must not lift it above (issue 16, target 4).
TARGET_P99_MS = 100.0


def run(context: BenchContext, server: Server, loads: dict[str, Load]) -> None:
    """GET / (anonymous) with wrk alone, then with the slow clients held open meanwhile."""
    settings = context.settings
    count = settings.slow_clients
    log(f"slow clients: {LABELS[ANON]} alone")
    alone = context.measure(server, loads[ANON])
    log(f"slow clients: {LABELS[ANON]} while {count} connections trickle their headers")
    trickler = Trickler(server.port, count, INTERVAL_S)
    trickler.start()
    try:
        opened = trickler.wait_open(30)
        during = context.measure(server, loads[ANON])
    finally:
        report = trickler.stop()
    settle(server)
    median, longest = report.lifetime(0.5), report.lifetime(1.0)
    context.results["slow_clients"] = {
        "clients": count,
        "interval_s": INTERVAL_S,
        "open_before_readers": opened,
        "readers_alone": dataclasses.asdict(alone),
        "readers_during": dataclasses.asdict(during),
        "trickle": {
            **{k: v for k, v in dataclasses.asdict(report).items() if k != "lifetimes"},
            "lifetime_median_s": median,
            "lifetime_max_s": longest,
        },
    }
    kept = "" if median is None else f", after {median:.1f} s (median; longest {longest:.1f} s)"
    answered = ", ".join(f"{n} x {status}" for status, n in report.answered.items()) or "none"
    met = "met" if during.p99_ms <= TARGET_P99_MS and not during.error_count else "MISSED"
    print_table(
        f"{LABELS[ANON]} alone and while {count} slow clients trickle their headers",
        ["readers", "req/s", "p50", "p99", "err"],
        [
            ["alone", *result_cells(alone)],
            [f"with {count} trickling", *result_cells(during)],
        ],
        [
            f"slow clients: {count} connections (raw sockets), each sending its request line"
            f" and then a header line every {INTERVAL_S:g} s, never the blank line that ends"
            " the headers; each opened again at once when the server closes it.",
            f"{opened} open before the readers started; {report.open_median:.0f} open at once"
            f" (median of samples); {report.opened:,} connections opened in all.",
            f"dropped by the server: {report.dropped:,}{kept}; answered before closing:"
            f" {answered}; still open at the end: {report.open_at_end}; failed connects:"
            f" {report.failed}.",
            f"readers: wrk, {settings.connections} connections, {settings.duration:g} s."
            f" Target: readers' p99 <= {fmt_ms(TARGET_P99_MS)} with the slow clients: {met}.",
        ],
    )
