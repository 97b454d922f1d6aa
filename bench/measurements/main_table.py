"""The main table: each scenario on the blog, the bare app and Flaskr, measured back to back.

GET /hello is measured on a bare Quart app too, for the hooks overhead table under it.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

from bench.bare_server import bare_load
from bench.bare_server import start_bare
from bench.bare_server import start_bare_quart
from bench.context import BenchContext
from bench.flaskr_tutorial import FlaskrInstance
from bench.load import Load
from bench.load import median
from bench.load import WrkResult
from bench.measurements import hooks
from bench.measurements import instructions
from bench.ours import OursInstance
from bench.report import fmt_ratio
from bench.report import log
from bench.report import print_table
from bench.report import result_cells
from bench.scenarios import FLASKR_SCENARIOS
from bench.scenarios import HELLO
from bench.scenarios import LABELS
from bench.scenarios import UNCACHED_LABELS
from bench.scenarios import USER
from bench.seeding import count_posts_shown
from bench.seeding import seed_flaskr
from bench.seeding import seed_ours
from bench.servers import exceptions_in_logs
from bench.servers import Server
from tests.harness.http import Client


@dataclasses.dataclass(frozen=True)
class Target:
    """A seeded server and the loads that fit it."""

    server: Server
    loads: dict[str, Load]
    #: Bytes of the server's answer to each scenario.
    sizes: dict[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Row:
    """One scenario: the median run of each app and every round's req/s."""

    key: str
    label: str
    ours: WrkResult
    bare: WrkResult
    flaskr: WrkResult | None
    rounds: dict[str, list[float]]
    #: Every round's CPU per request, by app.
    cpu_rounds: dict[str, list[float]]
    #: Bytes of the blog's answer (the bare app answers as many).
    size: int | None
    #: Measured on an instance without the page cache.
    uncached: bool = False
    #: The bare Quart app's run, and its run sending the blog's headers (GET /hello only).
    quart: WrkResult | None = None
    quart_headers: WrkResult | None = None

    @property
    def name(self) -> str:
        """The row's key in the JSON results."""
        return f"{self.key}-nocache" if self.uncached else self.key

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        if self.flaskr is not None:
            entry["flaskr"] = dataclasses.asdict(self.flaskr)
        entry.update(
            ours=dataclasses.asdict(self.ours),
            bare=dataclasses.asdict(self.bare),
            rounds=self.rounds,
            cpu_rounds=self.cpu_rounds,
            bytes=self.size,
        )
        if self.quart is not None:
            entry["quart"] = dataclasses.asdict(self.quart)
        if self.quart_headers is not None:
            entry["quart_headers"] = dataclasses.asdict(self.quart_headers)
        return entry


@dataclasses.dataclass(frozen=True)
class MainTable:
    """The measured rows, in the order they print, and what the notes under them say."""

    rows: list[Row]
    #: The scenarios the page cache serves, measured again without it.
    cached: list[str]
    posts_shown: int
    server_exceptions: Counter[str]
    #: The blog's instance (its generated module and database, as the run left them).
    ours_dir: Path

    def hello_runs(self) -> hooks.HelloRuns | None:
        """GET /hello on the blog, the bare ASGI app and the bare Quart app."""
        for row in self.rows:
            if row.key == HELLO and row.quart is not None and row.quart_headers is not None:
                return hooks.HelloRuns(
                    row.ours, row.bare, row.quart, row.quart_headers, row.cpu_rounds
                )
        return None

    def as_json(self) -> dict[str, Any]:
        table = {row.name: row.as_json() for row in self.rows}
        hello = self.hello_runs()
        if hello is not None:
            table["hooks_overhead"] = hello.as_json()
        return table | {"server_exceptions": dict(self.server_exceptions)}


def measure(context: BenchContext) -> MainTable:
    """Serve and seed the three apps (and the blog without its page cache), then load each."""
    settings = context.settings
    cpu = context.pinned.server
    ours = OursInstance(context.workdir, "main", settings.rate_limits)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(ours.serve(cpu))
        log(f"seeding {settings.posts} posts over HTTP into {server.name}")
        seeded = seed_ours(server.url, ours.database, settings.posts)
        target = Target(server, seeded.loads(csrf=True), seeded.sizes)
        bare = stack.enter_context(start_bare(context.workdir, seeded.sizes, cpu))
        quart = (
            stack.enter_context(start_bare_quart(context.workdir, cpu)),
            stack.enter_context(start_bare_quart(context.workdir, cpu, headers=True)),
        )
        flaskr = None
        if settings.flaskr is not None:
            flaskr = _serve_flaskr(context, stack, settings.flaskr)
        # Pages the app may serve from its page cache are measured again on a
        # second instance with the cache off: the render, comparable with Flaskr.
        cached = seeded.cached()
        uncached = _serve_without_page_cache(context, stack) if cached else None
        rows: list[Row] = []
        for key, label in LABELS.items():
            rows.append(_measure_row(context, key, label, target, bare, flaskr, quart))
            if key == USER and uncached is not None:
                # Right after the pages they repeat, whose bare and Flaskr figures they reuse.
                measured = {row.key: row for row in rows}
                rows += [_measure_uncached(context, uncached, measured[page]) for page in cached]
        with Client(server.url) as client:
            posts_shown = count_posts_shown(client.expect("GET", "/", 200).text)
    errors = exceptions_in_logs(sorted(ours.workdir.glob("server-*.log")))
    return MainTable(rows, cached, posts_shown, errors, ours.workdir)


def _serve_flaskr(context: BenchContext, stack: contextlib.ExitStack, source: Path) -> Target:
    """Flaskr from ``source`` served and seeded, until ``stack`` closes."""
    instance = FlaskrInstance(source, context.workdir)
    server = stack.enter_context(instance.serve(context.pinned.server))
    log(f"seeding {context.settings.posts} posts over HTTP into {server.name}")
    seeded = seed_flaskr(server.url, instance.database, context.settings.posts)
    return Target(server, seeded.loads(csrf=False))


def _serve_without_page_cache(context: BenchContext, stack: contextlib.ExitStack) -> Target:
    """A second blog with ``PAGE_CACHE_SIZE=0``, served and seeded, until ``stack`` closes."""
    settings = context.settings
    instance = OursInstance(
        context.workdir, "main-nocache", settings.rate_limits, {"PAGE_CACHE_SIZE": 0}
    )
    server = stack.enter_context(instance.serve(context.pinned.server))
    log(f"seeding {settings.posts} posts over HTTP into {server.name}, no page cache")
    seeded = seed_ours(server.url, instance.database, settings.posts)
    return Target(server, seeded.loads(csrf=True))


def _measure_row(
    context: BenchContext,
    key: str,
    label: str,
    ours: Target,
    bare: Server,
    flaskr: Target | None,
    quart: tuple[Server, Server],
) -> Row:
    """The scenario on each app in turn, ``--rounds`` times; the run with the median req/s.

    GET /hello is also sent to the bare Quart apps (without and with the blog's
    headers), after the bare ASGI app.
    """
    settings = context.settings
    duration = context.duration_for(key)
    runs: dict[str, list[WrkResult]] = {
        "ours": [],
        "bare": [],
        "flaskr": [],
        "quart": [],
        "quart_headers": [],
    }
    for round_ in range(1, settings.rounds + 1):
        of = settings.round_label(round_)
        log(f"{label}: ours{of}")
        runs["ours"].append(context.measure(ours.server, ours.loads[key], duration))
        log(f"{label}: bare{of}")
        runs["bare"].append(context.measure(bare, bare_load(key, ours.loads[key]), duration))
        if key == HELLO:
            log(f"{label}: bare Quart{of}")
            runs["quart"].append(context.measure(quart[0], ours.loads[key], duration))
            log(f"{label}: bare Quart with the blog's headers{of}")
            runs["quart_headers"].append(context.measure(quart[1], ours.loads[key], duration))
        if flaskr is not None and key in FLASKR_SCENARIOS:
            log(f"{label}: Flaskr{of}")
            runs["flaskr"].append(context.measure(flaskr.server, flaskr.loads[key], duration))
    # The bare Quart apps answer GET /hello only.
    kept = {
        app: results
        for app, results in runs.items()
        if results or app not in ("quart", "quart_headers")
    }
    return Row(
        key,
        label,
        ours=median(runs["ours"]),
        bare=median(runs["bare"]),
        flaskr=median(runs["flaskr"]) if runs["flaskr"] else None,
        rounds={app: [result.rps for result in results] for app, results in kept.items()},
        cpu_rounds={
            app: [result.cpu_ms_per_request for result in results] for app, results in kept.items()
        },
        size=ours.sizes.get(key),
        quart=median(runs["quart"]) if runs["quart"] else None,
        quart_headers=median(runs["quart_headers"]) if runs["quart_headers"] else None,
    )


def _measure_uncached(context: BenchContext, uncached: Target, cached: Row) -> Row:
    """The blog without its page cache; the bare app's and Flaskr's figures are the cached row's."""
    label = UNCACHED_LABELS[cached.key]
    duration = context.duration_for(cached.key)
    runs = []
    for round_ in range(1, context.settings.rounds + 1):
        log(f"{label}: ours{context.settings.round_label(round_)}")
        runs.append(context.measure(uncached.server, uncached.loads[cached.key], duration))
    return dataclasses.replace(
        cached,
        label=label,
        ours=median(runs),
        rounds={"ours": [result.rps for result in runs], "bare": [], "flaskr": []},
        cpu_rounds={
            "ours": [result.cpu_ms_per_request for result in runs],
            "bare": [],
            "flaskr": [],
        },
        uncached=True,
    )


def print_main_table(context: BenchContext, table: MainTable) -> None:
    settings = context.settings
    with_flaskr = settings.flaskr is not None
    header = ["scenario", "req/s", "p50", "p99", "err", "cpu"]
    header += ["bare req/s", "p50", "p99", "cpu", "ours/bare"]
    if with_flaskr:
        header += ["Flaskr req/s", "p50", "p99", "err", "cpu", "ours/Flaskr"]
    rows = []
    for row in table.rows:
        cells = [
            row.label,
            *result_cells(row.ours, cpu=True),
            *result_cells(row.bare, errors=False, cpu=True),
            fmt_ratio(row.ours.rps, row.bare.rps),
        ]
        if with_flaskr:
            cells += [
                *result_cells(row.flaskr, cpu=True),
                fmt_ratio(row.ours.rps, row.flaskr.rps) if row.flaskr else "-",
            ]
        rows.append(cells)
    print_table("Main table (ours = quart_flaskr)", header, rows, _notes(context, table))
    hello = table.hello_runs()
    if hello is not None:
        hooks.print_hooks_table(context, hello)


def _notes(context: BenchContext, table: MainTable) -> list[str]:
    settings = context.settings
    notes = [
        f"one Hypercorn worker (hypercorn.toml) pinned to CPU {context.pinned.server},"
        f" wrk on CPU {context.pinned.client}, {settings.connections} connections,"
        f" {settings.duration:g} s per scenario ({settings.login_duration:g} s for login);"
        " ratios are of req/s." + settings.rounds_note(),
        f"{settings.posts} posts seeded; the index showed {table.posts_shown} after the run.",
        "err: non-2xx/3xx answers plus socket errors and timeouts.",
        "cpu: ms of CPU the server's processes used per request (all threads);"
        " steadier than req/s when other work shares the machine.",
        f"login: {'rate limit ON' if settings.rate_limits else 'rate limit switched off'};"
        " ours hashes with scrypt N=2^17, Flaskr with Werkzeug's default N=2^15.",
    ]
    if table.cached:
        cached = " and ".join(LABELS[key] for key in table.cached)
        notes.append(
            f"{cached}: the app's page cache serves these (they carry an ETag; wrk sends"
            " no If-None-Match, so full 200s). The 'no page cache' rows are the same pages"
            " from a second instance with PAGE_CACHE_SIZE=0: the full render, the fair"
            " comparison with Flaskr; their bare and Flaskr columns repeat the cached rows'."
        )
    errors = table.server_exceptions
    notes += [f"server log (ours): {n} x {error}" for error, n in errors.most_common(5)]
    return notes


def run(context: BenchContext) -> None:
    """Measure the main table, keep its figures for the JSON file and print it."""
    table = measure(context)
    context.results["main"] = table.as_json()
    print_main_table(context, table)
    instructions.run(context, table.ours_dir)
