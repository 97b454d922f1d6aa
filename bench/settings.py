"""What the command line asks for, and where the benchmark keeps its files."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from datetime import datetime
from datetime import UTC
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
#: Virtual environments the benchmark makes for itself (Flaskr, py-spy); gitignored.
CACHE = BENCH / ".cache"
RESULTS = BENCH / "results"
#: The environment the benchmark runs in: its hypercorn and quart serve the blog.
BIN = Path(sys.prefix) / "bin"

USAGE = """\
Benchmark the blog under Hypercorn with wrk, beside a bare ASGI app and, optionally, Flaskr.

    .venv/bin/python bench/run.py                      # the main table, about 3 minutes
    .venv/bin/python bench/run.py --full --flaskr DIR  # everything, about 10 minutes
    .venv/bin/python bench/run.py --quick              # a smoke run, under a minute
    .venv/bin/python bench/run.py --skip-main --big 1000000   # a million posts vs 50

See bench/README.md for what each figure means and how to read it.
"""

Value = TypeVar("Value", int, float)


@dataclasses.dataclass(frozen=True)
class Settings:
    """One run's settings; written to the JSON file as they are."""

    duration: float
    rounds: int
    login_duration: float
    connections: int
    posts: int
    many_connections: int
    #: Connections that trickle their headers in --slow-clients.
    slow_clients: int
    #: Connections that post at once in --writers.
    writers: int
    big_posts: int
    #: Posts a page in --listings (the blog seeds six pages' worth).
    listings_per_page: int
    #: Posts of the big blog (``--big``), or None.
    big: int | None
    memory_requests: int
    memory_chunk: float
    profile_duration: float
    flaskr: Path | None
    many: bool
    interference: bool
    slow: bool
    write_burst: bool
    cores: bool
    data: bool
    listings: bool
    #: The anonymous index as browsers send it (their own cookies and headers) vs wrk's.
    browsers: bool
    memory: bool
    profile: bool
    postgres: bool
    #: --postgres's hosts with DATABASE_PREPARED_STATEMENTS on.
    prepared_statements: bool
    rate_limits: bool
    skip_main: bool
    quick: bool
    keep: bool
    json_path: Path

    @property
    def any_extra(self) -> bool:
        """Whether any measurement beyond the main table was asked for."""
        return (
            self.many
            or self.browsers
            or self.interference
            or self.slow
            or self.write_burst
            or self.memory
            or self.profile
            or self.cores
            or self.data
        )

    def rounds_note(self) -> str:
        """The sentence a table's notes end with when it shows the median of several rounds."""
        return f" Median of {self.rounds} interleaved rounds." if self.rounds > 1 else ""

    def round_label(self, round_: int) -> str:
        """What a progress message says of the round it is in, when there are several."""
        return f" (round {round_} of {self.rounds})" if self.rounds > 1 else ""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, help="seconds per scenario (default 5)")
    parser.add_argument("--connections", type=int, help="wrk connections (default 16)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each main-table scenario this many times, interleaved; show the median",
    )
    parser.add_argument("--posts", type=int, help="posts seeded over HTTP (default 50)")
    parser.add_argument("--flaskr", type=Path, metavar="PATH", help="Flask's examples/tutorial")
    parser.add_argument("--full", action="store_true", help="all the extra measurements below")
    parser.add_argument("--many", action="store_true", help="10,000 keep-alive connections")
    parser.add_argument(
        "--many-connections", type=int, help="connections for --many (default 10000)"
    )
    parser.add_argument("--interference", action="store_true", help="/hello during logins")
    parser.add_argument(
        "--slow-clients", action="store_true", help="GET / while 1,000 clients trickle headers"
    )
    parser.add_argument("--writers", action="store_true", help="GET / while 64 clients post")
    parser.add_argument("--cores", action="store_true", help="all cores vs one core")
    parser.add_argument("--data", action="store_true", help="100,000 posts vs 50")
    parser.add_argument(
        "--listings",
        action="store_true",
        help="search, tag page and page 5 vs the index, no page cache (CPU per request)",
    )
    parser.add_argument(
        "--browsers",
        action="store_true",
        help="GET / anonymous as browsers send it (own cookies, varied headers) vs wrk's",
    )
    parser.add_argument("--memory", action="store_true", help="RSS before/after 100k requests")
    parser.add_argument("--profile", action="store_true", help="py-spy the worker under load")
    parser.add_argument(
        "--postgres", action="store_true", help="SQLite vs PostgreSQL vs two hosts on PostgreSQL"
    )
    parser.add_argument(
        "--prepared-statements",
        action="store_true",
        help="--postgres with DATABASE_PREPARED_STATEMENTS = True (statements planned once)",
    )
    parser.add_argument("--big-posts", type=int, help="posts for --data (default 100000)")
    parser.add_argument(
        "--big",
        type=int,
        metavar="N",
        help="N posts (N/10 users, 10 tags a post) seeded into SQLite vs --posts, no page cache",
    )
    parser.add_argument("--memory-requests", type=int, help="requests for --memory (100000)")
    parser.add_argument(
        "--rate-limits",
        action="store_true",
        help="keep the app's login rate limit on (the login scenario then measures 429s)",
    )
    parser.add_argument("--skip-main", action="store_true", help="only the extra measurements")
    parser.add_argument("--quick", action="store_true", help="tiny smoke-test settings")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """The settings for a run: what the command line gives, else the normal or --quick defaults."""
    parser = _parser()
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    full = bool(args.full)

    def given_or(value: Value | None, normal: Value, small: Value) -> Value:
        return value if value is not None else (small if quick else normal)

    duration = float(given_or(args.duration, 5.0, 1.0))
    flaskr = args.flaskr.resolve() if args.flaskr else None
    if flaskr is not None and not (flaskr / "flaskr" / "__init__.py").is_file():
        parser.error(f"--flaskr {flaskr}: no flaskr/__init__.py there (pass examples/tutorial)")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Settings(
        duration=duration,
        rounds=max(1, int(args.rounds)),
        login_duration=max(duration, 2.0 if quick else 10.0),
        connections=given_or(args.connections, 16, 4),
        posts=max(2, given_or(args.posts, 50, 5)),
        many_connections=given_or(args.many_connections, 10_000, 100),
        slow_clients=50 if quick else 1000,
        writers=8 if quick else 64,
        big_posts=given_or(args.big_posts, 100_000, 2_000),
        listings_per_page=5 if quick else 50,
        big=args.big,
        memory_requests=given_or(args.memory_requests, 100_000, 2_000),
        memory_chunk=1.0 if quick else 10.0,
        profile_duration=max(duration, 2.0 if quick else 10.0),
        flaskr=flaskr,
        many=full or bool(args.many),
        interference=full or bool(args.interference),
        slow=full or bool(args.slow_clients),
        write_burst=full or bool(args.writers),
        cores=full or bool(args.cores),
        data=full or bool(args.data),
        # A smoke run of it with --quick, unless only the extras asked for run.
        listings=full or bool(args.listings) or (quick and not args.skip_main),
        browsers=full or bool(args.browsers),
        memory=full or bool(args.memory),
        profile=full or bool(args.profile),
        postgres=full or bool(args.postgres),
        prepared_statements=bool(args.prepared_statements),
        rate_limits=bool(args.rate_limits),
        skip_main=bool(args.skip_main),
        quick=quick,
        keep=bool(args.keep),
        json_path=args.json or RESULTS / f"bench-{stamp}.json",
    )
