"""Memory: the worker's resident size before and after many logged-in requests, and in between."""

from __future__ import annotations

from bench.context import BenchContext
from bench.errors import BenchError
from bench.load import Load
from bench.report import fmt_mib
from bench.report import log
from bench.report import print_table
from bench.scenarios import SEARCH_WORD
from bench.scenarios import Seeded
from bench.servers import Server
from tests.harness.processes import rss_bytes


def _rss_kib(pids: list[int]) -> int:
    return sum(rss_bytes(pid) for pid in pids) // 1024


def run(context: BenchContext, server: Server, seeded: Seeded) -> None:
    """Rotate over the pages, in chunks of wrk runs, until ``--memory-requests`` are done."""
    settings = context.settings
    paths = ["/", "/hello", "/auth/login", f"/{seeded.post_id}", f"/?q={SEARCH_WORD}"]
    load = Load("/", cookie=seeded.user_cookie, rotate=tuple(paths))
    workers = server.worker_pids()

    def snapshot() -> tuple[int, int]:
        """KiB resident in the workers, and in the whole server."""
        return _rss_kib(workers), _rss_kib(server.pids())

    before = snapshot()
    done = 0
    curve = [(0, before[0])]
    log(f"memory: {settings.memory_requests:,} requests ({', '.join(paths)})")
    while done < settings.memory_requests:
        result = context.measure(server, load, settings.memory_chunk)
        if result.requests == 0:
            raise BenchError("memory: wrk completed no request")
        done += result.requests
        curve.append((done, snapshot()[0]))
    after = snapshot()
    context.results["memory"] = {
        "requests": done,
        "before_kib": before,
        "after_kib": after,
        "worker_curve": curve,
        "paths": paths,
    }
    rows = [
        [label, fmt_mib(was), fmt_mib(now), f"{(now - was) / 1024:+.1f}"]
        for label, was, now in (
            ("worker process", before[0], after[0]),
            ("whole server (master, tracker, worker)", before[1], after[1]),
        )
    ]
    steps = ", ".join(f"{n:,}: {fmt_mib(kib)}" for n, kib in curve[:: max(1, len(curve) // 8)])
    print_table(
        f"Memory: RSS (MiB) before and after {done:,} requests",
        ["process", "before", "after", "change"],
        rows,
        [
            f"requests in turn: {' '.join(paths)} (logged in)",
            f"worker RSS by requests: {steps}",
        ],
    )
