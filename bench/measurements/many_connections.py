"""Many connections: 10,000 concurrent keep-alive connections on one worker, its peak memory,
and every error."""

from __future__ import annotations

import dataclasses
import threading

from bench.context import BenchContext
from bench.load import Load
from bench.load import WrkResult
from bench.report import fmt_cpu
from bench.report import fmt_mib
from bench.report import fmt_ms
from bench.report import log
from bench.report import print_table
from bench.report import result_cells
from bench.scenarios import ANON
from bench.scenarios import HELLO
from bench.scenarios import LABELS
from bench.servers import Server
from bench.servers import settle
from bench.wrk import TIMEOUT_S
from tests.harness.processes import cpu_seconds
from tests.harness.processes import rss_bytes

#: Issue 16's targets for 10,000 connections: p99 and the worker's peak RSS.
TARGET_P99_MS = 2000.0
TARGET_RSS_KIB = 200 * 1000 * 1000 // 1024
#: Connections wrk opens a second, about: the load lasts long enough for all to be served.
CONNECTS_PER_S = 500


@dataclasses.dataclass
class Sampled:
    """One load's figures, and the worker's resident size before it and at its peak."""

    result: WrkResult
    rss_before_kib: int
    rss_peak_kib: int
    seconds: float


def run(context: BenchContext, server: Server, loads: dict[str, Load]) -> None:
    count = context.settings.many_connections
    seconds = max(context.settings.duration, count / CONNECTS_PER_S)
    rows = []
    data = {}
    measured = []
    for key in (HELLO, ANON):
        log(f"{count} connections: {LABELS[key]} ({seconds:g} s)")
        sampled = _sampled(context, server, loads[key], count, seconds)
        result = sampled.result
        measured.append(sampled)
        data[key] = {**dataclasses.asdict(result), **dataclasses.asdict(sampled)}
        del data[key]["result"]
        errors = ", ".join(f"{kind} {n}" for kind, n in result.errors.items() if n) or "none"
        rows.append(
            [
                LABELS[key],
                *result_cells(result, errors=False),
                fmt_ms(result.max_ms),
                f"{result.requests:,}",
                errors,
                fmt_cpu(result.cpu_ms_per_request),
                f"{fmt_mib(sampled.rss_before_kib)} / {fmt_mib(sampled.rss_peak_kib)}",
            ]
        )
    context.results["many_connections"] = data
    print_table(
        f"{count:,} concurrent keep-alive connections (one worker)",
        ["scenario", "req/s", "p50", "p99", "max", "requests", "errors", "cpu", "RSS MiB"],
        rows,
        _notes(context, count, seconds, measured),
    )


def _notes(context: BenchContext, count: int, seconds: float, measured: list[Sampled]) -> list[str]:
    met = all(
        each.result.p99_ms < TARGET_P99_MS
        and each.rss_peak_kib < TARGET_RSS_KIB
        and not each.result.error_count
        for each in measured
    )
    verdict = "met" if met else "MISSED"
    return [
        f"wrk: {count:,} connections, one thread on CPU {context.pinned.client}, {seconds:g} s,"
        " each sending its next request as soon as the last is answered (no pause).",
        "latency counts from when wrk sends a request, so the first ones include the wait"
        " for the server to accept the connection; with every client always waiting,"
        f" a request waits for the others: p50 is about connections / req/s ({count:,} /"
        " req/s).",
        "cpu: ms of the server's CPU per request (accepting and closing the connections"
        " included); RSS: the worker's VmRSS before the load / its peak during it"
        " (sampled every 0.2 s).",
        f"Target: 0 errors, p99 < {fmt_ms(TARGET_P99_MS)}, worker RSS < 200 MB"
        f" ({fmt_mib(TARGET_RSS_KIB)} MiB): {verdict}.",
    ]


def _sampled(
    context: BenchContext, server: Server, load: Load, count: int, seconds: float
) -> Sampled:
    """wrk run to the end while the worker's RSS is sampled; then the server left to settle."""
    workers = server.worker_pids()
    processes = server.processes()

    def rss_kib() -> int:
        return sum(rss_bytes(pid) for pid in workers) // 1024

    before = rss_kib()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], rss_kib())

    sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    cpu_before = cpu_seconds(processes)
    process = context.wrk.start(server, load, seconds, count, context.pinned)
    sampler.start()
    try:
        result = context.wrk.collect(process, count, seconds + TIMEOUT_S + 60)
        # The server closes the connections wrk left, and ends what they had asked.
        settle(server)
    finally:
        done.set()
        sampler.join()
    if result.requests:
        result.cpu_ms_per_request = 1000 * (cpu_seconds(processes) - cpu_before) / result.requests
    return Sampled(result, before, peak[0], seconds)
