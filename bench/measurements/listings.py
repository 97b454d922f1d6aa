"""Listings without the page cache: a search, a tag page and page 5 against the index.

One blog with ``PAGE_CACHE_SIZE=0`` (every request renders) and ``POSTS_PER_PAGE``
of ``--listings``'s size (50; 5 with ``--quick``), seeded over HTTP with six
pages' worth of posts, each tagged ``bench`` and each holding the search word,
so that all four pages list as many posts. Each page is loaded anonymously and
logged in, back to back (``--rounds`` times, interleaved); the figure to read is
its CPU per request over the index's, for the same reader (issue 16: at most 1.0).
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from bench.context import BenchContext
from bench.errors import BenchError
from bench.load import Load
from bench.load import median
from bench.load import paired_ratio
from bench.load import WrkResult
from bench.ours import OursInstance
from bench.report import log
from bench.report import print_table
from bench.report import result_cells
from bench.scenarios import LOREM
from bench.scenarios import SEARCH_WORD
from bench.scenarios import Seeded
from bench.seeding import count_posts_shown
from bench.seeding import seed_ours
from bench.servers import exceptions_in_logs
from tests.harness.http import Client

#: The tag every seeded post carries.
TAG = "bench"
#: The page of the index read past the first.
PAGE = 5
INDEX = "index"
SEARCH = "search"
TAG_PAGE = "tag"
DEEP = "page"
PATHS = {
    INDEX: "/",
    SEARCH: f"/?q={SEARCH_WORD}",
    TAG_PAGE: f"/tag/{TAG}",
    DEEP: f"/?page={PAGE}",
}
LABELS = {key: f"GET {path}" for key, path in PATHS.items()}
ANONYMOUS = "anonymous"
LOGGED_IN = "logged in"
READERS = (ANONYMOUS, LOGGED_IN)
#: The most a listing may cost, as its CPU per request over the index's.
TARGET = 1.0


def listing_body(number: int) -> str:
    """A post's text, as the main table's but every post holds the search word."""
    return f"{LOREM} {SEARCH_WORD} {number}."


@dataclasses.dataclass(frozen=True)
class Measured:
    """One page for one reader: the run with the median req/s, and what the page showed."""

    page: str
    reader: str
    result: WrkResult
    rounds: list[float]
    #: Every round's CPU per request.
    cpu_rounds: list[float]
    posts_shown: int
    etag: bool


def _loads(seeded: Seeded) -> dict[tuple[str, str], Load]:
    cookies = {ANONYMOUS: None, LOGGED_IN: seeded.user_cookie}
    return {
        (page, reader): Load(path, cookie=cookies[reader])
        for reader in READERS
        for page, path in PATHS.items()
    }


def _check_pages(url: str, seeded: Seeded) -> dict[tuple[str, str], tuple[int, bool]]:
    """Each page's post count (titles on it) and whether it carries an ETag, per reader."""
    found = {}
    with Client(url) as anonymous, Client(url, seeded.user_cookies) as user:
        for reader, client in ((ANONYMOUS, anonymous), (LOGGED_IN, user)):
            for page, path in PATHS.items():
                answer = client.expect("GET", path, 200)
                shown = count_posts_shown(answer.text)
                if shown == 0:
                    raise BenchError(f"GET {path} ({reader}) lists no post")
                found[page, reader] = (shown, answer.headers.get("ETag") is not None)
    return found


def measure(context: BenchContext) -> tuple[list[Measured], Counter[str]]:
    """Serve and seed the blog, check what each page lists, then load each page."""
    settings = context.settings
    per_page = settings.listings_per_page
    posts = per_page * (PAGE + 1)
    instance = OursInstance(
        context.workdir,
        "listings",
        False,  # the rate limits off: seeding writes hundreds of posts
        {"PAGE_CACHE_SIZE": 0, "POSTS_PER_PAGE": per_page},
    )
    with instance.serve(context.pinned.server) as server:
        log(f"seeding {posts} posts tagged {TAG!r} over HTTP into {server.name}, no page cache")
        seeded = seed_ours(server.url, instance.database, posts, body=listing_body, tags=TAG)
        checked = _check_pages(server.url, seeded)
        for (page, reader), (shown, _) in checked.items():
            if shown != per_page:
                log(f"{LABELS[page]} ({reader}) lists {shown} posts, not {per_page}")
        loads = _loads(seeded)
        runs: dict[tuple[str, str], list[WrkResult]] = {key: [] for key in loads}
        for round_ in range(1, settings.rounds + 1):
            for (page, reader), load in loads.items():
                log(f"listings: {LABELS[page]} ({reader}){settings.round_label(round_)}")
                runs[page, reader].append(context.measure(server, load))
    errors = exceptions_in_logs(sorted(instance.workdir.glob("server-*.log")))
    measured = [
        Measured(
            page,
            reader,
            median(results),
            [result.rps for result in results],
            [result.cpu_ms_per_request for result in results],
            *checked[page, reader],
        )
        for (page, reader), results in runs.items()
    ]
    return measured, errors


def _ratios(measured: list[Measured]) -> dict[tuple[str, str], float | None]:
    """Each page's CPU per request over the index's, for the same reader, round by round."""
    index = {row.reader: row.cpu_rounds for row in measured if row.page == INDEX}
    return {
        (row.page, row.reader): paired_ratio(row.cpu_rounds, index[row.reader]) for row in measured
    }


def _verdict(ratio: float | None, page: str) -> str:
    if page == INDEX or ratio is None:
        return ""
    return "yes" if ratio <= TARGET else "NO"


def _notes(context: BenchContext, measured: list[Measured], errors: Counter[str]) -> list[str]:
    settings = context.settings
    per_page = settings.listings_per_page
    posts = per_page * (PAGE + 1)
    first, last = (PAGE - 1) * per_page + 1, PAGE * per_page
    notes = [
        f"one Hypercorn worker pinned to CPU {context.pinned.server}, PAGE_CACHE_SIZE=0 (every"
        f" request renders), POSTS_PER_PAGE={per_page}; {posts} posts seeded over HTTP, each"
        f" tagged {TAG!r} and each holding {SEARCH_WORD!r}; {settings.connections} connections,"
        f" {settings.duration:g} s each." + settings.rounds_note(),
        f"what each page lists: GET / the newest {per_page}; ?q={SEARCH_WORD} the {per_page}"
        f" best matches of {posts} (every post matches); /tag/{TAG} the newest {per_page} of"
        f" {posts} tagged; ?page={PAGE} posts {first} to {last} from the newest."
        " Each page also links to the next (and the later ones to the previous).",
        "posts: titles counted on the page before the load.",
        "cpu: ms of CPU the server's processes used per request (the run with the median"
        " req/s); / GET /: each round's over GET /'s for the same reader in the same round, the"
        f" median over the rounds; ok: at most {TARGET:.1f} (issue 16's target).",
    ]
    odd = [row for row in measured if row.posts_shown != per_page]
    if odd:
        notes.append(
            f"NOT like with like: {len(odd)} page(s) list other than {per_page} posts: "
            + ", ".join(f"{LABELS[row.page]} ({row.reader}) {row.posts_shown}" for row in odd)
        )
    if any(row.etag for row in measured):
        notes.append("some answers carry an ETag: the page cache may still serve them")
    notes += [f"server log: {n} x {error}" for error, n in errors.most_common(5)]
    return notes


def run(context: BenchContext) -> None:
    """Measure the listings, keep their figures for the JSON file and print them."""
    measured, errors = measure(context)
    ratios = _ratios(measured)
    per_page = context.settings.listings_per_page
    context.results["listings"] = {
        "posts": per_page * (PAGE + 1),
        "per_page": per_page,
        "paths": PATHS,
        "target_cpu_ratio": TARGET,
        "scenarios": {
            f"{row.page}-{row.reader.replace(' ', '-')}": dataclasses.asdict(row.result)
            | {
                "rounds": row.rounds,
                "cpu_rounds": row.cpu_rounds,
                "posts_shown": row.posts_shown,
                "etag": row.etag,
                "cpu_ratio_to_index": ratios[row.page, row.reader],
            }
            for row in measured
        },
        "server_exceptions": dict(errors),
    }
    rows = []
    for row in measured:
        ratio = ratios[row.page, row.reader]
        rows.append(
            [
                LABELS[row.page],
                row.reader,
                str(row.posts_shown),
                *result_cells(row.result, cpu=True),
                "" if row.page == INDEX else (f"{ratio:.2f}" if ratio is not None else "-"),
                _verdict(ratio, row.page),
            ]
        )
    print_table(
        f"Listings without the page cache: {per_page} posts a page, CPU per request vs GET /",
        ["page", "reader", "posts", "req/s", "p50", "p99", "err", "cpu", "/ GET /", "ok"],
        rows,
        _notes(context, measured, errors),
    )
