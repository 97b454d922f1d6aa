"""Data: the logged-in pages with the seeded posts, then with many more inserted into SQLite."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from bench.context import BenchContext
from bench.load import WrkResult
from bench.report import fmt_ratio
from bench.report import log
from bench.report import print_table
from bench.report import result_cells
from bench.scenarios import ANON
from bench.scenarios import DETAIL
from bench.scenarios import SEARCH
from bench.scenarios import Seeded
from bench.seeding import count_posts_shown
from bench.seeding import seed_big
from bench.servers import Server
from tests.harness.http import Client

LABELS = {
    ANON: "GET / (logged in)",
    DETAIL: "GET /<id> (logged in)",
    SEARCH: "GET /?q=word (logged in)",
}
#: A request slower than this alone is measured with one connection, so that
#: the run is not all queueing.
SLOW_S = 0.5


def run(context: BenchContext, server: Server, database: Path, seeded: Seeded) -> None:
    """Measure, insert posts up to ``--big-posts``, measure again; compare."""
    settings = context.settings
    # Logged in, so that every request renders (anonymous pages may be cached).
    loads = {
        key: dataclasses.replace(load, cookie=seeded.user_cookie)
        for key, load in seeded.loads(csrf=True).items()
        if key in LABELS
    }
    with Client(server.url, seeded.user_cookies) as user:
        small: dict[str, WrkResult] = {}
        for key, label in LABELS.items():
            log(f"{settings.posts} posts: {label}")
            small[key] = context.measure(server, loads[key])
        shown_small = count_posts_shown(user.expect("GET", "/", 200).text)
        log(f"inserting posts into {database} up to {settings.big_posts:,}")
        started = time.perf_counter()
        added = seed_big(database, settings.big_posts)
        log(f"inserted {added:,} posts in {time.perf_counter() - started:.1f} s")
        first = user.expect("GET", "/", 200)
        shown_big = count_posts_shown(first.text)
        big: dict[str, WrkResult] = {}
        for key, label in LABELS.items():
            log(f"{settings.big_posts:,} posts: {label}")
            alone = user.get(loads[key].path)
            connections = 1 if alone.seconds > SLOW_S else None
            big[key] = context.measure(server, loads[key], connections=connections)
    context.results["data"] = {
        key: {"small": dataclasses.asdict(small[key]), "big": dataclasses.asdict(big[key])}
        for key in LABELS
    } | {"posts_shown": [shown_small, shown_big], "index_bytes_big": len(first.body)}
    notes = [
        f"GET / showed {shown_small} posts with {settings.posts} and {shown_big} with"
        f" {settings.big_posts:,} ({len(first.body):,} bytes, {first.seconds * 1000:.0f} ms"
        " alone).",
        f"cpu: ms of CPU per request; x: the {settings.big_posts:,}-post figure over the"
        f" {settings.posts}-post one.",
    ]
    if any(result.connections == 1 for result in big.values()):
        notes.append(f"rows measured with 1 connection where a single request took over {SLOW_S} s")
    print_table(
        f"Data: {settings.posts} posts vs {settings.big_posts:,} posts (one worker, pinned)",
        [
            "scenario",
            f"{settings.posts} req/s",
            "p50",
            "p99",
            "cpu",
            f"{settings.big_posts:,} req/s",
            "p50",
            "p99",
            "err",
            "cpu",
            "p50 x",
            "cpu x",
        ],
        [
            [
                label,
                *result_cells(small[key], errors=False, cpu=True),
                *result_cells(big[key], cpu=True),
                fmt_ratio(big[key].p50_ms, small[key].p50_ms),
                fmt_ratio(big[key].cpu_ms_per_request, small[key].cpu_ms_per_request),
            ]
            for key, label in LABELS.items()
        ],
        notes,
    )
