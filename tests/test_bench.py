"""The benchmark runs end to end: ``bench/run.py --quick`` prints a row per scenario.

It asserts no speed: the machine is shared and noisy, and the figures are for
people to compare, as ratios, within one run.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from quart.wrappers import Response

from bench.bare_quart import app as bare_quart
from bench.bare_quart import app_with_headers
from bench.cli import EXIT_NO_WRK
from tests.helpers import Client
from tests.pathological_markdown import CORPUS

ROOT = Path(__file__).resolve().parent.parent
#: The rows of the main table that every run prints.
SCENARIOS = (
    "GET / (anonymous)",
    "GET / (logged in)",
    "GET /hello",
    "GET /<id>",
    "GET /?q=word",
    "POST /create",
    "POST /auth/login",
)
RATE = re.compile(r"\d[\d,]*(\.\d+)?")
LATENCY = re.compile(r"\d+(\.\d+)?(ms|s)")


def quick_bench(results: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``bench/run.py --quick`` with ``options``, its figures in ``results``; skips without wrk."""
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            *options,
            "--json",
            str(results),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if run.returncode == EXIT_NO_WRK:
        pytest.skip(f"wrk is not available: {run.stderr.strip()}")
    assert run.returncode == 0, run.stdout + run.stderr
    return run


async def test_the_bare_quart_app_with_the_blogs_headers_sends_what_the_blog_does(
    client: Client,
) -> None:
    def headers(response: Response) -> set[tuple[str, str]]:
        return {(name.lower(), value) for name, value in response.headers.items()}

    blog = headers(await client.get("/hello"))
    bare = headers(await bare_quart.test_client().get("/hello"))
    with_headers = headers(await app_with_headers.test_client().get("/hello"))
    assert with_headers == blog
    assert len(blog - bare) == 7


@pytest.mark.slow
def test_quick_benchmark_prints_a_row_per_scenario(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    run = quick_bench(results)

    lines = run.stdout.splitlines()
    for label in SCENARIOS:
        rows = [line for line in lines if line.startswith(label + " ")]
        assert len(rows) == 1, f"no single row for {label}:\n{run.stdout}"
        cells = rows[0][len(label) :].split()
        rate, p50, p99 = cells[:3]
        assert RATE.fullmatch(rate), rows[0]
        assert LATENCY.fullmatch(p50), rows[0]
        assert LATENCY.fullmatch(p99), rows[0]
        # The error count and CPU per request, then the bare app's req/s.
        assert cells[3].isdigit(), rows[0]
        assert RATE.fullmatch(cells[4]), rows[0]
        assert RATE.fullmatch(cells[5]), rows[0]

    data = json.loads(results.read_text("utf-8"))
    for key in ("anon", "user", "hello", "detail", "search", "create", "login"):
        assert data["main"][key]["ours"]["requests"] > 0
        assert data["main"][key]["bare"]["requests"] > 0
    # GET /hello on a bare Quart app too, and the blog's hooks overhead over it.
    assert data["main"]["hello"]["quart"]["requests"] > 0
    assert "hooks overhead = ours' cpu / bare Quart's cpu - 1, round by round = " in run.stdout
    assert isinstance(data["main"]["hooks_overhead"]["overhead_pct"], float)
    # And on one sending the blog's headers: what they cost the server alone.
    assert data["main"]["hello"]["quart_headers"]["requests"] > 0
    assert "bare Quart, blog's headers" in run.stdout
    assert isinstance(data["main"]["hooks_overhead"]["headers_pct"], float)
    # The same three apps' /hello counted by valgrind, in process.
    assert "Hooks overhead by instruction count: GET /hello in process (valgrind)" in run.stdout
    counted = data["hooks_instructions"]
    assert (counted["warm_up"], counted["requests"]) == (10, 20)
    # A request through Quart is hundreds of thousands of instructions, not a start-up's share.
    for app in ("ours", "quart", "quart_headers"):
        assert 300_000 < counted[app] < 3_000_000, counted
    assert counted["overhead_pct"] == pytest.approx((counted["ours"] / counted["quart"] - 1) * 100)
    assert "hooks overhead = ours / bare Quart - 1 = " in run.stdout
    # The listings without the page cache, at --quick's 5 posts a page.
    assert "Listings without the page cache: 5 posts a page" in run.stdout
    listings = data["listings"]["scenarios"]
    assert len(listings) == 8
    for figures in listings.values():
        assert figures["requests"] > 0
        assert figures["posts_shown"] == 5
        assert len(figures["cpu_rounds"]) == len(figures["rounds"]) >= 1
        assert isinstance(figures["cpu_ratio_to_index"], float)
    # And each page counted by valgrind in process, anonymous and logged in.
    assert "Listings by instruction count: a request in process (valgrind)" in run.stdout
    counted_listings = data["listings"]["instructions"]
    assert (counted_listings["warm_up"], counted_listings["requests"]) == (20, 10)
    assert len(counted_listings["counts"]) == 8
    for page, count in counted_listings["counts"].items():
        # A listing's render is millions of instructions; a logged-in reader's more.
        assert 1_000_000 < count < 30_000_000, (page, count)
        assert counted_listings["ratio_to_index"][page] == pytest.approx(
            count / counted_listings["counts"][f"index-{page.split('-', 1)[1]}"]
        )
    assert (
        counted_listings["counts"]["index-logged-in"]
        > counted_listings["counts"]["index-anonymous"]
    )
    # Counted in --quick's two layouts: each count is the mean of the two.
    assert counted_listings["layouts"] == 2
    for page, found in counted_listings["layout_counts"].items():
        assert len(found) == 2 and counted_listings["counts"][page] == pytest.approx(sum(found) / 2)
        index = counted_listings["layout_counts"][f"index-{page.split('-', 1)[1]}"]
        assert counted_listings["layout_ratios_to_index"][page] == pytest.approx(
            [found[0] / index[0], found[1] / index[1]]
        )
    # The chart of the main table, beside the figures.
    assert f"Chart drawn in {results.with_suffix('.png')}" in run.stdout
    assert results.with_suffix(".png").read_bytes().startswith(b"\x89PNG")


#: The PostgreSQL table's setups, in the order they print under each scenario.
POSTGRES_SETUPS = (
    "(a) SQLite, 1 host",
    "(b) PostgreSQL, 1 host",
    "(c) PostgreSQL, 2 hosts, 1 core",
    "(c') PostgreSQL, 2 hosts, 2 cores",
)


@pytest.mark.slow
def test_quick_connection_measurements_print_their_tables(tmp_path: Path) -> None:
    """``--many``, ``--slow-clients`` and ``--writers`` in their quick sizes (100 connections,
    50 slow clients, 8 writers), and ``--browsers``: each prints its table and records its
    figures."""
    results = tmp_path / "results.json"
    run = quick_bench(results, "--skip-main", "--many", "--slow-clients", "--writers", "--browsers")

    assert "100 concurrent keep-alive connections (one worker)" in run.stdout
    assert "100 concurrent keep-alive connections (one worker), each client pausing" in run.stdout
    assert "while 50 slow clients trickle their headers" in run.stdout
    assert "while 8 writers post continuously" in run.stdout
    data = json.loads(results.read_text("utf-8"))
    for figures in data["many_connections"].values():
        assert figures["requests"] > 0
        assert figures["rss_peak_kib"] >= figures["rss_before_kib"] > 0
    # --quick's pausing clients wait 100 to 200 ms before each request: at most one request
    # per 100 ms each, and the pause is not counted in a request's latency.
    # The blog's two rows, then the bare apps' under the same load: the floors that
    # Hypercorn (the bare ASGI app) and Quart (the bare Quart app) set.
    assert list(data["many_connections_pausing"]) == ["hello", "anon", "bare", "quart"]
    assert "bare ASGI app, GET /'s bytes" in run.stdout
    assert "bare Quart app, GET /hello" in run.stdout
    for figures in data["many_connections_pausing"].values():
        assert 0 < figures["requests"] <= 100 * (figures["seconds"] / 0.1 + 1)
        assert figures["p50_ms"] < 100
        assert figures["rss_peak_kib"] >= figures["rss_before_kib"] > 0
    slow = data["slow_clients"]
    assert slow["readers_during"]["requests"] > 0
    assert slow["trickle"]["opened"] >= 50
    writers = data["writers"]
    assert writers["readers_during"]["requests"] > 0
    assert writers["writes"]["requests"] > 0
    assert "Readers as browsers send their requests (page cache on)" in run.stdout
    browsers = data["browsers"]
    for figures in browsers["median"].values():
        assert figures["requests"] > 0 and not any(figures["errors"].values())
    assert set(browsers["cpu_ratios"]) == {"browsers", "shared"}
    assert all(ratio > 0 for ratio in browsers["cpu_ratios"].values())


@pytest.mark.slow
def test_quick_postgres_benchmark_prints_every_setup(tmp_path: Path) -> None:
    """``--postgres`` (kept out of ``--quick``: it needs a PostgreSQL server, and adds a minute).

    Like the tests on PostgreSQL, it uses the local server or a throwaway cluster.
    """
    results = tmp_path / "results.json"
    run = quick_bench(results, "--skip-main", "--postgres", "--prepared-statements")
    assert "DATABASE_PREPARED_STATEMENTS True (--prepared-statements)" in run.stdout

    lines = run.stdout.splitlines()
    table = lines.index("PostgreSQL: one host on SQLite, one on PostgreSQL, two on one PostgreSQL")
    rows = list(itertools.takewhile(lambda line: not line.startswith("  * "), lines[table + 3 :]))
    setups = POSTGRES_SETUPS if len(rows) == 5 * 4 else POSTGRES_SETUPS[:3]
    labels = ("GET / (anonymous)", "GET / (logged in)", "GET /<id>", "GET /?q=word", "POST /create")
    assert len(rows) == len(labels) * len(setups), run.stdout
    for number, row in enumerate(rows):
        label, setup = labels[number // len(setups)], setups[number % len(setups)]
        if number % len(setups) == 0:
            assert row.startswith(label + " "), row
            row = row[len(label) :]
        cells = row.split(setup, 1)[1].split()
        rate, p50, p99, errors, cpu, database_cpu = cells[:6]
        assert RATE.fullmatch(rate), row
        assert LATENCY.fullmatch(p50) and LATENCY.fullmatch(p99), row
        assert errors.isdigit() and RATE.fullmatch(cpu), row
        assert RATE.fullmatch(database_cpu) or database_cpu == "-", row
        # Every setup but SQLite's gives its ratio to the one it is compared with.
        assert (len(cells) == 8) == (setup != setups[0]), row

    data = json.loads(results.read_text("utf-8"))["postgres"]
    for key in ("anon", "user", "detail", "search", "create"):
        # The index is measured again on SQLite and on PostgreSQL without the page cache.
        uncached = 2 if key in ("anon", "user") else 0
        assert len(data["scenarios"][key]) == len(setups) + uncached
        for measured in data["scenarios"][key].values():
            assert measured["requests"] > 0


@pytest.mark.slow
def test_markdown_benchmark_prints_both_tables() -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "markdown_load.py"),
            "--posts",
            "4",
            "--seconds",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Rendering {len(CORPUS)} pathological texts" in run.stdout
    rows = [
        line.split() for line in run.stdout.splitlines() if line.startswith(("alone", "during"))
    ]
    assert [row[0] for row in rows] == ["alone", "during"]
    for row in rows:
        # Requests made, then p50, p99 and the largest latency in ms.
        assert int(row[-4]) > 0 and all(float(cell) > 0 for cell in row[-3:]), row
    assert "the 4 posts took" in run.stdout


@pytest.mark.slow
def test_quick_big_blog_benchmark_prints_every_page(tmp_path: Path) -> None:
    """``--big N``: both blogs seeded straight into SQLite, each page's figures and ratios."""
    results = tmp_path / "results.json"
    run = quick_bench(results, "--skip-main", "--big", "6000")

    lines = run.stdout.splitlines()
    labels = (
        "GET /",
        "GET /<id>",
        "GET /?q=word",
        "GET /tag/<name>",
        "GET /u/<name>",
        "GET /?page=1,000",
    )
    for label in labels:
        rows = [line for line in lines if line.startswith(label + " ")]
        assert len(rows) == 1, f"no single row for {label}:\n{run.stdout}"
        cells = rows[0][len(label) :].split()
        assert len(cells) == 9, rows[0]
        assert all(RATE.fullmatch(cells[i]) for i in (0, 3)), rows[0]
        assert all(LATENCY.fullmatch(cells[i]) for i in (1, 2, 4, 5)), rows[0]
        assert all(re.fullmatch(r"\d+\.\d\d", cells[i]) for i in (6, 7)), rows[0]
        assert cells[8] in ("yes", "NO"), rows[0]
    assert "6,000 posts by 600 users" in run.stdout

    data = json.loads(results.read_text("utf-8"))["big"]
    assert data["seeding"]["big"]["posts"] == 6000
    assert data["paths"]["big"]["deep"] == "/?page=1000"
    # The profile read is a typical author's: about 10 posts, as the average.
    author = data["seeding"]["big"]["author"]
    assert data["paths"]["big"]["profile"] == f"/u/{author['username']}"
    assert abs(author["posts"] - 10) <= 2, author
    assert f"GET /u/<name>: {author['username']} ({author['posts']} posts)" in run.stdout
    for measured in data["scenarios"].values():
        assert measured["small"]["requests"] > 0 and measured["big"]["requests"] > 0
    # Each read the first after a write, timed.
    assert set(data["after_write_ms"]) == {"index", "deep"}
    assert all(ms > 0 for ms in data["after_write_ms"].values())
    assert "the first after a write (median of 21): GET / " in run.stdout
    # The main table was skipped: no chart to draw.
    assert not results.with_suffix(".png").exists()
