"""How long the worst Markdown takes, alone and as a burst of posts against a live server.

    .venv/bin/python bench/markdown_load.py [--posts 32] [--seconds 10]

1. Renders each text of ``tests/pathological_markdown.py`` (20,000 characters
   each) in this process: the best of five runs, worst texts first.
2. Serves the blog under Hypercorn with ``hypercorn.toml`` (pinned to one core
   when there are two), measures ``GET /healthz`` alone, then again while
   ``--posts`` clients each create a post with the slowest text at once,
   and prints the p50, p99 and largest latency of each, and how long the burst
   took. Write limits are off, as in ``bench/run.py``: one user posts them all.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, Python puts bench/ first on sys.path; the imports below
    # (bench.*, tests.*) need the repository root there instead.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.cpus import Cpus
from bench.ours import OursInstance
from bench.report import print_table
from bench.seeding import seed_ours
from quart_flaskr import markdown
from tests.harness.http import Client
from tests.pathological_markdown import CORPUS

RUNS = 5


def render_times() -> list[tuple[float, str]]:
    """Each text's best render time in ms, slowest first."""
    times = []
    for name, text in CORPUS.items():
        best = float("inf")
        for _ in range(RUNS):
            markdown.render.cache_clear()
            start = time.perf_counter()
            markdown.render(text)
            best = min(best, time.perf_counter() - start)
        times.append((best * 1000, name))
    return sorted(times, reverse=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def probe(url: str, stop: threading.Event) -> list[float]:
    """GET /healthz one after another until ``stop``; each latency in ms."""
    latencies = []
    with Client(url, timeout=30) as client:
        while not stop.is_set():
            page = client.get("/healthz")
            if page.status != 200:
                raise RuntimeError(f"/healthz answered {page.status}")
            latencies.append(page.seconds * 1000)
            time.sleep(0.005)
    return latencies


def burst(url: str, cookies: dict[str, str], token: str, body: str, posts: int) -> float:
    """Seconds until ``posts`` clients, started together, each created a post of ``body``."""
    failures: list[str] = []
    start_line = threading.Barrier(posts + 1)

    def create(number: int) -> None:
        with Client(url, cookies) as client:
            start_line.wait()
            # Each body its own (a last line of digits), or the app's cache of
            # rendered texts would render one and serve the rest from memory.
            unique = f"{body[: -len(str(number)) - 1]}\n{number}"
            form = {"csrf_token": token, "title": f"Burst {number}", "body": unique}
            page = client.post("/create", form)
        if page.status != 302:
            failures.append(f"{page.status}")

    threads = [threading.Thread(target=create, args=(number,)) for number in range(posts)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"creates failed: {failures}")
    return time.perf_counter() - began


def measure_healthz(url: str, seconds: float, during: threading.Thread | None) -> list[float]:
    """/healthz latencies for ``seconds``, or while ``during`` runs."""
    stop = threading.Event()
    result: list[float] = []
    prober = threading.Thread(target=lambda: result.extend(probe(url, stop)))
    prober.start()
    if during is None:
        time.sleep(seconds)
    else:
        time.sleep(0.5)
        during.start()
        during.join()
        time.sleep(0.5)
    stop.set()
    prober.join()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    times = render_times()
    print_table(
        f"Rendering {len(CORPUS)} pathological texts of 20,000 characters (best of {RUNS})",
        ["text", "ms"],
        [[name, f"{ms:.1f}"] for ms, name in times[:10]],
        [f"slowest {times[0][0]:.1f} ms ({times[0][1]}); median {times[len(times) // 2][0]:.1f}"],
    )
    worst = CORPUS[times[0][1]]

    cpus = Cpus.pinned()
    if cpus.client is not None:
        # The clients keep off the server's core, as wrk does in bench/run.py.
        os.sched_setaffinity(0, {int(cpus.client)})
    with tempfile.TemporaryDirectory(prefix="quart-flaskr-md-") as workdir:
        blog = OursInstance(Path(workdir), "blog", rate_limits=False)
        with blog.serve(cpus.server) as server:
            seeded = seed_ours(server.url, blog.database, posts=5)
            alone = measure_healthz(server.url, args.seconds, None)
            took: list[float] = []
            creating = threading.Thread(
                target=lambda: took.append(
                    burst(server.url, seeded.user_cookies, seeded.user_token, worst, args.posts)
                )
            )
            during = measure_healthz(server.url, args.seconds, creating)
    rows = [
        [
            label,
            str(len(values)),
            *(f"{percentile(values, q):.1f}" for q in (0.5, 0.99)),
            f"{max(values):.1f}",
        ]
        for label, values in (("alone", alone), (f"during {args.posts} posts", during))
    ]
    print_table(
        f"GET /healthz while {args.posts} posts of {times[0][1]!r} are created at once",
        ["healthz", "requests", "p50 ms", "p99 ms", "max ms"],
        rows,
        [f"the {args.posts} posts took {took[0]:.2f} s in all"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
