"""Many connections: 10,000 concurrent keep-alive connections on one worker, its peak memory,
and every error: first with every client asking again at once, then with each pausing between
requests, as a reader on a page does, each scenario on a worker of its own."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import tomllib
from collections.abc import Callable
from collections.abc import Iterator

from bench.bare_server import bare_load
from bench.bare_server import start_bare
from bench.bare_server import start_bare_quart
from bench.context import BenchContext
from bench.load import Load
from bench.load import WrkResult
from bench.ours import OursInstance
from bench.report import fmt_cpu
from bench.report import fmt_mib
from bench.report import fmt_ms
from bench.report import log
from bench.report import print_table
from bench.report import result_cells
from bench.scenarios import ANON
from bench.scenarios import HELLO
from bench.scenarios import LABELS
from bench.seeding import seed_ours
from bench.servers import Server
from bench.servers import settle
from bench.wrk import TIMEOUT_S
from tests.harness.hypercorn import HYPERCORN_TOML
from tests.harness.processes import cpu_seconds
from tests.harness.processes import rss_bytes

#: Issue 16's targets for 10,000 connections: p99 and the worker's peak RSS.
TARGET_P99_MS = 2000.0
TARGET_RSS_KIB = 200 * 1000 * 1000 // 1024
#: Connections wrk opens a second, about: the load lasts long enough for all to be served.
CONNECTS_PER_S = 500
#: A pausing client waits between these fractions of hypercorn.toml's keep_alive_timeout
#: before each request: as long as it can and keep its connection (the server closes one
#: idle for the whole timeout), so the fewest requests a second 10,000 kept connections make.
PAUSE_FRACTIONS = (0.6, 0.9)
#: Requests each pausing client makes in its run, about.
PAUSED_REQUESTS = 12
#: --quick's pauses, in ms: a smoke run, not a measurement.
QUICK_PAUSE_MS = (100, 200)
#: The bare ASGI app answering as many bytes as the blog's GET / (anonymous).
BARE = "bare"
#: The bare Quart app (bench/bare_quart.py) answering its /hello.
BARE_QUART = "quart"
_LABELS = {**LABELS, BARE: "bare ASGI app, GET /'s bytes", BARE_QUART: "bare Quart app, GET /hello"}
#: The rows that are floors, not the blog's: the targets are not theirs.
_FLOORS = (BARE, BARE_QUART)


@dataclasses.dataclass
class Sampled:
    """One load's figures, and the worker's resident size before it and at its peak."""

    result: WrkResult
    rss_before_kib: int
    rss_peak_kib: int
    seconds: float


def run(context: BenchContext, server: Server, loads: dict[str, Load]) -> None:
    """Clients that ask again at once, on the server the other extras share."""

    @contextlib.contextmanager
    def shared(key: str) -> Iterator[tuple[Server, Load]]:
        yield server, loads[key]

    count = context.settings.many_connections
    seconds = max(context.settings.duration, count / CONNECTS_PER_S)
    _measure(context, count, seconds, None, shared, (HELLO, ANON))


def run_pausing(context: BenchContext) -> None:
    """Clients that pause between requests, each scenario on a fresh worker: RSS never shrinks,
    so a worker that has held the first scenario's peak would show it again for the second.
    Then the bare ASGI app under the same load, answering as many bytes as ``GET /``: what
    Hypercorn itself holds for these connections, whatever app it serves; and the bare Quart
    app's ``/hello``: what the framework holds, with none of the blog."""
    # The blog's loads as its rows sent them, and the bytes of its answer to GET /.
    seen: dict[str, Load] = {}
    sizes: dict[str, int] = {}

    @contextlib.contextmanager
    def fresh(key: str) -> Iterator[tuple[Server, Load]]:
        if key == BARE:
            with start_bare(context.workdir, sizes, context.pinned.server) as server:
                yield server, bare_load(ANON, seen[ANON])
            return
        if key == BARE_QUART:
            with start_bare_quart(context.workdir, context.pinned.server) as server:
                yield server, seen[HELLO]
            return
        instance = OursInstance(context.workdir, f"pausing-{key}", context.settings.rate_limits)
        with instance.serve(context.pinned.server) as server:
            seeded = seed_ours(server.url, instance.database, context.settings.posts)
            load = seeded.loads(csrf=True)[key]
            seen[key] = load
            sizes[ANON] = seeded.sizes[ANON]
            yield server, load

    count = context.settings.many_connections
    pauses = pause_ms(context.settings.quick)
    seconds = max(
        context.settings.duration, count / CONNECTS_PER_S, PAUSED_REQUESTS * sum(pauses) / 2000
    )
    _measure(context, count, seconds, pauses, fresh, (HELLO, ANON, BARE, BARE_QUART))


def pause_ms(quick: bool) -> tuple[int, int]:
    """A pausing client's shortest and longest pause, in ms."""
    if quick:
        return QUICK_PAUSE_MS
    timeout_s = float(tomllib.loads(HYPERCORN_TOML.read_text("utf-8"))["keep_alive_timeout"])
    low, high = PAUSE_FRACTIONS
    return round(low * timeout_s * 1000), round(high * timeout_s * 1000)


def _measure(
    context: BenchContext,
    count: int,
    seconds: float,
    pauses: tuple[int, int] | None,
    serving: Callable[[str], contextlib.AbstractContextManager[tuple[Server, Load]]],
    keys: tuple[str, ...],
) -> None:
    """A row for each scenario, with its verdict; the figures recorded in the results."""
    rows = []
    data = {}
    for key in keys:
        log(f"{count} connections{_pausing(pauses)}: {_LABELS[key]} ({seconds:g} s)")
        with serving(key) as (server, load):
            sampled = _sampled(
                context, server, dataclasses.replace(load, think_ms=pauses), count, seconds
            )
        result = sampled.result
        data[key] = {**dataclasses.asdict(result), **dataclasses.asdict(sampled)}
        del data[key]["result"]
        errors = ", ".join(f"{kind} {n}" for kind, n in result.errors.items() if n) or "none"
        rows.append(
            [
                _LABELS[key],
                *result_cells(result, errors=False),
                fmt_ms(result.max_ms),
                f"{result.requests:,}",
                errors,
                fmt_cpu(result.cpu_ms_per_request),
                f"{fmt_mib(sampled.rss_before_kib)} / {fmt_mib(sampled.rss_peak_kib)}",
                "(floor)" if key in _FLOORS else "met" if _met(sampled) else "MISSED",
            ]
        )
    context.results["many_connections" if pauses is None else "many_connections_pausing"] = data
    print_table(
        f"{count:,} concurrent keep-alive connections (one worker){_pausing(pauses)}",
        [
            "scenario",
            "req/s",
            "p50",
            "p99",
            "max",
            "requests",
            "errors",
            "cpu",
            "RSS MiB",
            "target",
        ],
        rows,
        _notes(context, count, seconds, pauses),
    )


def _met(sampled: Sampled) -> bool:
    return (
        sampled.result.p99_ms < TARGET_P99_MS
        and sampled.rss_peak_kib < TARGET_RSS_KIB
        and not sampled.result.error_count
    )


def _pausing(pauses: tuple[int, int] | None) -> str:
    if pauses is None:
        return ""
    return f", each client pausing {pauses[0] / 1000:g} to {pauses[1] / 1000:g} s"


def _notes(
    context: BenchContext, count: int, seconds: float, pauses: tuple[int, int] | None
) -> list[str]:
    wrk = f"wrk: {count:,} connections, one thread on CPU {context.pinned.client}, {seconds:g} s,"
    if pauses is None:
        how = [
            f"{wrk} each sending its next request as soon as the last is answered (no pause).",
            "latency counts from when wrk sends a request, so the first ones include the wait"
            " for the server to accept the connection; with every client always waiting,"
            f" a request waits for the others: p50 is about connections / req/s ({count:,} /"
            " req/s).",
        ]
    else:
        how = [
            f"{wrk} each pausing {pauses[0]:,} to {pauses[1]:,} ms (drawn evenly) before each"
            " request, its first one too: a reader on a page, for as long as keeps the"
            " connection (hypercorn.toml's keep_alive_timeout closes one idle longer), so about"
            f" {count:,} / {sum(pauses) / 2000:g} s requests a second; a fresh worker for each"
            " scenario.",
            "latency counts from when wrk sends a request, not the pause before it.",
            "bare ASGI app: bench/bare.py under the same hypercorn.toml, answering as many bytes"
            " as the blog's GET / with no framework: the floor Hypercorn itself sets (its"
            " connections' memory); bare Quart app: bench/bare_quart.py, one route and none of"
            " the blog, its /hello sent as to the blog's: the floor the framework sets; the"
            " targets are the blog's.",
        ]
    return [
        *how,
        "cpu: ms of the server's CPU per request (accepting and closing the connections"
        " included); RSS: the worker's VmRSS before the load / its peak during it"
        " (sampled every 0.2 s).",
        f"target: 0 errors, p99 < {fmt_ms(TARGET_P99_MS)}, worker RSS < 200 MB"
        f" ({fmt_mib(TARGET_RSS_KIB)} MiB).",
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
