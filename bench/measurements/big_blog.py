"""A big blog (``--big N``): the pages readers ask for, on N posts against the same on a few.

Both blogs are seeded straight into SQLite (``bench/big_blog.py``) and served
with the page cache off, at the app's default page size, so that every request
renders; each page is then loaded on the small blog and on the big one back to
back, ``--rounds`` times.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

from bench.big_blog import Author
from bench.big_blog import database_bytes
from bench.big_blog import FIRST_TAG
from bench.big_blog import middle_post
from bench.big_blog import seed_blog
from bench.big_blog import typical_author
from bench.context import BenchContext
from bench.errors import BenchError
from bench.load import Load
from bench.load import median
from bench.load import WrkResult
from bench.ours import OursInstance
from bench.report import fmt_ms
from bench.report import log
from bench.report import print_table
from bench.report import result_cells
from bench.scenarios import SEARCH_WORD
from bench.servers import Server
from tests.harness.http import Client

#: The page of the index read deep in the blog.
DEEP_PAGE = 1_000
INDEX = "index"
POST = "post"
SEARCH = "search"
TAG = "tag"
PROFILE = "profile"
DEEP = "deep"
LABELS = {
    INDEX: "GET /",
    POST: "GET /<id>",
    SEARCH: "GET /?q=word",
    TAG: "GET /tag/<name>",
    PROFILE: "GET /u/<name>",
    DEEP: f"GET /?page={DEEP_PAGE:,}",
}
#: The most a page may slow down on the big blog, as a ratio of p50s.
TARGET = 1.25
#: A request slower than this alone is measured with one connection.
SLOW_S = 0.5
#: Reads of the index and of page 1,000, each the first after a write: the median is shown.
AFTER_WRITE_READS = 21
#: A write that changes nothing but moves the database's data version, as any post,
#: like or login does: the page model's noted page starts no longer hold.
TOUCH = "UPDATE tag SET name = name WHERE name = ?"
#: The app's settings on both blogs: every request renders, default page size.
CONFIG: dict[str, Any] = {"PAGE_CACHE_SIZE": 0, "POSTS_PER_PAGE": None}


def paths(posts: int, author: Author) -> dict[str, str]:
    """Each scenario's path on a blog of ``posts`` posts, whose typical author is ``author``.

    A small blog has no page 1,000: its first page stands for it (the same
    number of posts rendered, read from the top of the index).
    """
    return {
        INDEX: "/",
        POST: f"/{middle_post(posts)}",
        SEARCH: f"/?q={SEARCH_WORD}",
        TAG: f"/tag/{FIRST_TAG}",
        PROFILE: f"/u/{author.username}",
        DEEP: f"/?page={DEEP_PAGE}" if posts >= DEEP_PAGE * 5 else "/",
    }


@dataclasses.dataclass(frozen=True)
class Seeding:
    """How long a blog took from ``init-db`` to seeded, its size, and the profile read."""

    posts: int
    users: int
    post_tags: int
    seconds: float
    bytes: int
    author: Author


def _seeded(context: BenchContext, name: str, posts: int) -> tuple[OursInstance, Seeding]:
    started = time.perf_counter()
    instance = OursInstance(context.workdir, name, context.settings.rate_limits, CONFIG)
    blog = seed_blog(instance.database, posts)
    seconds = time.perf_counter() - started
    size = database_bytes(instance.database)
    author = typical_author(instance.database)
    log(
        f"{name}: init-db and {posts:,} posts, {blog.users:,} users, {blog.post_tags:,} tags"
        f" given in {seconds:.1f} s; {size / 2**20:,.0f} MiB; profile: {author.username}"
        f" ({author.posts} posts)"
    )
    return instance, Seeding(posts, blog.users, blog.post_tags, round(seconds, 1), size, author)


def _alone_seconds(server: Server, path: str) -> float:
    """One request's time, after one that warms the caches; it must succeed."""
    with Client(server.url) as client:
        client.expect("GET", path, 200)
        return client.expect("GET", path, 200).seconds


def _after_write_seconds(server: Server, database: Path, paths: list[str]) -> list[float]:
    """For each of ``paths``, the median time of its first read after a write (in turn)."""
    times: list[list[float]] = [[] for _ in paths]
    with (
        Client(server.url) as client,
        contextlib.closing(sqlite3.connect(database, isolation_level=None, timeout=10)) as conn,
        contextlib.closing(sqlite3.connect(database, isolation_level=None)) as watcher,
    ):
        for _ in range(AFTER_WRITE_READS):
            for path, taken in zip(paths, times, strict=True):
                before = watcher.execute("PRAGMA data_version").fetchone()
                touched = conn.execute(TOUCH, (FIRST_TAG,)).rowcount
                if touched != 1 or watcher.execute("PRAGMA data_version").fetchone() == before:
                    raise BenchError(f"'{TOUCH}' ({FIRST_TAG}) did not move the data version")
                taken.append(client.expect("GET", path, 200).seconds)
    return [statistics.median(taken) for taken in times]


def run(context: BenchContext) -> None:
    """Seed both blogs, load each page on both in turn, print the ratios."""
    settings = context.settings
    big_posts = settings.big
    if big_posts is None:
        return
    log(f"seeding a blog of {settings.posts} posts and one of {big_posts:,}")
    small, small_seeding = _seeded(context, "big-small", settings.posts)
    big, big_seeding = _seeded(context, "big", big_posts)
    small_paths = paths(settings.posts, small_seeding.author)
    big_paths = paths(big_posts, big_seeding.author)
    cpu = context.pinned.server
    results: dict[str, dict[str, WrkResult]] = {}
    alone: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        small_server = stack.enter_context(small.serve(cpu))
        big_server = stack.enter_context(big.serve(cpu))
        for key, label in LABELS.items():
            alone[key] = _alone_seconds(big_server, big_paths[key])
            _alone_seconds(small_server, small_paths[key])
            connections = 1 if alone[key] > SLOW_S else None
            runs: dict[str, list[WrkResult]] = {"small": [], "big": []}
            for round_ in range(1, settings.rounds + 1):
                for size, server, path in (
                    ("small", small_server, small_paths[key]),
                    ("big", big_server, big_paths[key]),
                ):
                    log(f"{label}: {size}{settings.round_label(round_)}")
                    runs[size].append(context.measure(server, Load(path), connections=connections))
            results[key] = {size: median(measured) for size, measured in runs.items()}
        after_write = _after_write_seconds(
            big_server, big.database, [big_paths[INDEX], big_paths[DEEP]]
        )
    for key, measured in results.items():
        if any(result.error_count for result in measured.values()):
            raise BenchError(f"{LABELS[key]} answered errors: {measured}")
    context.results["big"] = {
        "seeding": {
            "small": dataclasses.asdict(small_seeding),
            "big": dataclasses.asdict(big_seeding),
        },
        "paths": {"small": small_paths, "big": big_paths},
        "alone_ms": {key: round(seconds * 1000, 2) for key, seconds in alone.items()},
        "after_write_ms": {
            key: round(seconds * 1000, 2)
            for key, seconds in zip((INDEX, DEEP), after_write, strict=True)
        },
        "scenarios": {
            key: {size: dataclasses.asdict(result) for size, result in measured.items()}
            for key, measured in results.items()
        },
    }
    _print(context, small_seeding, big_seeding, results, alone, after_write)


def ratio_cells(small: WrkResult, big: WrkResult) -> list[str]:
    """The p50 and p99 ratios, and whether the p50's meets the target."""
    p50 = big.p50_ms / small.p50_ms if small.p50_ms else float("inf")
    p99 = big.p99_ms / small.p99_ms if small.p99_ms else float("inf")
    return [f"{p50:.2f}", f"{p99:.2f}", "yes" if p50 <= TARGET else "NO"]


def _print(
    context: BenchContext,
    small: Seeding,
    big: Seeding,
    results: dict[str, dict[str, WrkResult]],
    alone: dict[str, float],
    after_write: list[float],
) -> None:
    settings = context.settings
    rows = [
        [
            LABELS[key],
            *result_cells(measured["small"], errors=False),
            *result_cells(measured["big"], errors=False),
            *ratio_cells(measured["small"], measured["big"]),
        ]
        for key, measured in results.items()
    ]
    notes = [
        f"{big.posts:,} posts by {big.users:,} users with {big.post_tags:,} tags given"
        f" ({big.post_tags / big.posts:.1f} a post): init-db to seeded in {big.seconds:,.1f} s,"
        f" {big.bytes / 2**20:,.0f} MiB on disk; {small.posts} posts: {small.seconds:.1f} s,"
        f" {small.bytes / 2**20:,.1f} MiB.",
        "PAGE_CACHE_SIZE=0 (every request renders), the default page size; one Hypercorn"
        f" worker pinned to CPU {context.pinned.server}, {settings.connections} connections,"
        f" {settings.duration:g} s a page and blog." + settings.rounds_note(),
        f"x: the {big.posts:,}-post figure over the {small.posts}-post one; target: p50 x"
        f" <= {TARGET}.",
        f"{LABELS[PROFILE]}: {big.author.username} ({big.author.posts} posts) on the big blog,"
        f" {small.author.username} ({small.author.posts}) on the small one: as many as the"
        " average author's.",
        f"GET /?page={DEEP_PAGE:,} is compared with the small blog's GET / (it has no page"
        f" {DEEP_PAGE:,}).",
        "one request alone on the big blog: "
        + ", ".join(f"{LABELS[key]} {fmt_ms(seconds * 1000)}" for key, seconds in alone.items()),
        f"{LABELS[DEEP]} is read from where page {DEEP_PAGE - 1:,} ends once a read of it or of"
        " that page noted it (the same data version); the first read after a write steps over"
        " the pages before it. One request alone, the first after a write (median of"
        f" {AFTER_WRITE_READS}): {LABELS[INDEX]} {fmt_ms(after_write[0] * 1000)},"
        f" {LABELS[DEEP]} {fmt_ms(after_write[1] * 1000)}.",
    ]
    if any(seconds > SLOW_S for seconds in alone.values()):
        notes.append(f"rows where one request took over {SLOW_S} s: measured with 1 connection")
    print_table(
        f"A big blog: {small.posts} posts vs {big.posts:,} (no page cache)",
        [
            "page",
            f"{small.posts} req/s",
            "p50",
            "p99",
            f"{big.posts:,} req/s",
            "p50",
            "p99",
            "p50 x",
            "p99 x",
            "met",
        ],
        rows,
        notes,
    )
