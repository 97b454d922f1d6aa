"""PostgreSQL: the same load on one host on SQLite, one on PostgreSQL, and two on one PostgreSQL."""

from __future__ import annotations

import contextlib
import dataclasses
import urllib.parse
from collections import Counter
from pathlib import Path

import psycopg

from bench.context import BenchContext
from bench.cpus import Cpus
from bench.load import Load
from bench.load import WrkResult
from bench.measurements import postgres_cpu
from bench.ours import OursInstance
from bench.postgres import database
from bench.postgres import server as postgres_server
from bench.postgres import ServerCpu
from bench.report import fmt_cpu
from bench.report import fmt_ratio
from bench.report import log
from bench.report import print_table
from bench.report import result_cells
from bench.scenarios import ANON
from bench.scenarios import CREATE
from bench.scenarios import DETAIL
from bench.scenarios import LABELS
from bench.scenarios import SEARCH
from bench.scenarios import USER
from bench.seeding import seed_ours
from bench.servers import exceptions_in_logs
from bench.servers import Server
from bench.settings import Settings

#: The scenarios, reads before the write (so that every read sees the seeded posts only).
SCENARIOS = (ANON, USER, DETAIL, SEARCH, CREATE)
#: wrk's threads in every setup, so that only the servers differ: with two
#: hosts, one thread (and half the connections) each.
WRK_THREADS = 2
SQLITE = "sqlite"
ONE_HOST = "postgres"
TWO_HOSTS = "postgres-2-hosts"
TWO_HOSTS_TWO_CORES = "postgres-2-hosts-2-cores"
#: (a) and (b) again with PAGE_CACHE_SIZE = 0, for the index's rows only: in the CPU table.
UNCACHED = {SQLITE: "sqlite-no-page-cache", ONE_HOST: "postgres-no-page-cache"}
#: Each setup's ratio: its req/s over the one named's.
RATIOS = {ONE_HOST: SQLITE, TWO_HOSTS: ONE_HOST, TWO_HOSTS_TWO_CORES: ONE_HOST}
LETTERS = {SQLITE: "a", ONE_HOST: "b", TWO_HOSTS: "c", TWO_HOSTS_TWO_CORES: "c'"}


@dataclasses.dataclass(frozen=True)
class Setup:
    """Hosts serving one database, the loads split over them, and where wrk runs."""

    key: str
    label: str
    hosts: tuple[Server, ...]
    loads: dict[str, Load]
    client: Cpus
    instance: OursInstance


@dataclasses.dataclass(frozen=True)
class Run:
    """One load: wrk's figures and the PostgreSQL server's CPU per request (None: not seen)."""

    result: WrkResult
    database_cpu_ms: float | None


def run(context: BenchContext) -> None:
    """Serve and seed every setup, load each scenario on each in turn, print the table."""
    with contextlib.ExitStack() as stack:
        server_url = stack.enter_context(postgres_server())
        setups = _serve(context, stack, server_url)
        uncached = _serve_uncached(context, stack, server_url)
        server_cpu = ServerCpu.of(server_url)
        runs = _measure(context, setups, server_cpu)
        for key, by_setup in _measure(context, uncached, server_cpu, (ANON, USER)).items():
            runs[key].update(by_setup)
        version = _server_version(server_url)
    # (c) and (c') share an instance (one database): its logs once.
    errors = {
        setup.instance.name: exceptions_in_logs(sorted(setup.instance.workdir.glob("server-*.log")))
        for setup in setups + uncached
    }
    context.results["postgres"] = {
        "server_version": version,
        "setups": {setup.key: setup.label for setup in setups + uncached},
        "scenarios": {
            key: {
                name: {
                    **dataclasses.asdict(_median(runs_).result),
                    "database_cpu_ms_per_request": _median(runs_).database_cpu_ms,
                    "rounds": [each.result.rps for each in runs_],
                    "errors_per_round": [each.result.error_count for each in runs_],
                }
                for name, runs_ in by_setup.items()
            }
            for key, by_setup in runs.items()
        },
        "server_exceptions": {name: dict(found) for name, found in errors.items()},
    }
    _print(context, setups, runs, errors, server_url, version)
    postgres_cpu.report(context, _cpu_figures(runs), version)


def _cpu_figures(
    runs: dict[str, dict[str, list[Run]]],
) -> dict[str, dict[str, tuple[float, float | None]]]:
    """For each row of the CPU table, the host's and the database server's CPU per request
    (ms, median run) on SQLite and on PostgreSQL, one host each."""
    figures = {}
    for key in SCENARIOS:
        for cache, (sqlite, pg) in (("", (SQLITE, ONE_HOST)), (" no cache", UNCACHED.values())):
            if sqlite in runs[key] and pg in runs[key]:
                figures[key + cache] = {
                    name: (_median(runs[key][each]).result.cpu_ms_per_request, cpu)
                    for name, each in ((postgres_cpu.SQLITE, sqlite), (postgres_cpu.PG, pg))
                    for cpu in [_median(runs[key][each]).database_cpu_ms]
                }
    return figures


def _postgres_config(settings: Settings, url: str) -> dict[str, object]:
    """A PostgreSQL host's settings: the database, and prepared statements if asked for."""
    return {"DATABASE_URL": url, "DATABASE_PREPARED_STATEMENTS": settings.prepared_statements}


def _serve(context: BenchContext, stack: contextlib.ExitStack, server_url: str) -> list[Setup]:
    """The hosts of each setup, served and seeded with the same posts until ``stack`` closes."""
    settings = context.settings
    cpu, other = context.pinned.server, context.pinned.client
    pinned = Cpus(cpu, other, WRK_THREADS)

    def instance(name: str, url: str | None) -> OursInstance:
        config = _postgres_config(settings, url) if url else None
        return OursInstance(context.workdir, f"postgres-{name}", settings.rate_limits, config)

    def seeded(host: Server, data: Path | str) -> dict[str, Load]:
        log(f"seeding {settings.posts} posts over HTTP into {host.name} ({host.url})")
        return seed_ours(host.url, data, settings.posts).loads(csrf=True)

    sqlite = instance("sqlite", None)
    host = stack.enter_context(sqlite.serve(cpu))
    setups = [
        Setup(SQLITE, "SQLite, 1 host", (host,), seeded(host, sqlite.database), pinned, sqlite)
    ]
    one_url = stack.enter_context(database(server_url))
    one = instance("one-host", one_url)
    host = stack.enter_context(one.serve(cpu))
    setups.append(
        Setup(ONE_HOST, "PostgreSQL, 1 host", (host,), seeded(host, one_url), pinned, one)
    )
    two_url = stack.enter_context(database(server_url))
    two = instance("two-hosts", two_url)
    hosts = (stack.enter_context(two.serve(cpu)), stack.enter_context(two.serve(cpu)))
    loads = seeded(hosts[0], two_url)
    setups.append(
        Setup(TWO_HOSTS, "PostgreSQL, 2 hosts, 1 core", hosts, _split(loads, hosts), pinned, two)
    )
    if cpu is not None and other is not None:
        # The same two hosts' database, served by two more hosts, one per CPU.
        hosts = (stack.enter_context(two.serve(cpu)), stack.enter_context(two.serve(other)))
        setups.append(
            Setup(
                TWO_HOSTS_TWO_CORES,
                "PostgreSQL, 2 hosts, 2 cores",
                hosts,
                _split(loads, hosts),
                Cpus(None, None, WRK_THREADS),
                two,
            )
        )
    return setups


def _serve_uncached(
    context: BenchContext, stack: contextlib.ExitStack, server_url: str
) -> list[Setup]:
    """(a) and (b) with the page cache off (every request renders), seeded the same way."""
    settings = context.settings
    pinned = Cpus(context.pinned.server, context.pinned.client, WRK_THREADS)
    setups = []
    for key, url in ((SQLITE, None), (ONE_HOST, stack.enter_context(database(server_url)))):
        config = {"PAGE_CACHE_SIZE": 0, **(_postgres_config(settings, url) if url else {})}
        name = UNCACHED[key]
        instance = OursInstance(context.workdir, name, settings.rate_limits, config)
        host = stack.enter_context(instance.serve(context.pinned.server))
        log(f"seeding {settings.posts} posts over HTTP into {name} ({host.url})")
        loads = seed_ours(host.url, url or instance.database, settings.posts).loads(csrf=True)
        label = f"{'SQLite' if url is None else 'PostgreSQL'}, 1 host, no page cache"
        setups.append(Setup(name, label, (host,), loads, pinned, instance))
    return setups


def _split(loads: dict[str, Load], hosts: tuple[Server, ...]) -> dict[str, Load]:
    """The loads with wrk's threads sent to each host's port in turn."""
    ports = tuple(host.port for host in hosts)
    return {key: dataclasses.replace(load, ports=ports) for key, load in loads.items()}


def _measure(
    context: BenchContext,
    setups: list[Setup],
    server_cpu: ServerCpu | None,
    scenarios: tuple[str, ...] = SCENARIOS,
) -> dict[str, dict[str, list[Run]]]:
    """Each scenario on every setup back to back, ``--rounds`` times."""
    settings = context.settings
    runs: dict[str, dict[str, list[Run]]] = {}
    for key in scenarios:
        runs[key] = {setup.key: [] for setup in setups}
        for round_ in range(1, settings.rounds + 1):
            for setup in setups:
                log(f"{LABELS[key]}: {setup.label}{settings.round_label(round_)}")
                runs[key][setup.key].append(_load(context, setup, key, server_cpu))
    return runs


def _load(context: BenchContext, setup: Setup, key: str, server_cpu: ServerCpu | None) -> Run:
    """One wrk run over the setup's hosts, and the PostgreSQL server's CPU time meanwhile."""
    before = server_cpu.reading() if server_cpu else {}
    result = context.wrk.run(
        setup.hosts[0],
        setup.loads[key],
        context.duration_for(key),
        context.settings.connections,
        setup.client,
        also=setup.hosts[1:],
    )
    if server_cpu is None or not result.requests:
        return Run(result, None)
    used = ServerCpu.used(before, server_cpu.reading())
    return Run(result, 1000 * used / result.requests)


def _median(runs: list[Run]) -> Run:
    """The run with the median req/s (the lower middle one of an even count)."""
    return sorted(runs, key=lambda each: each.result.rps)[(len(runs) - 1) // 2]


def _server_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def _print(
    context: BenchContext,
    setups: list[Setup],
    runs: dict[str, dict[str, list[Run]]],
    errors: dict[str, Counter[str]],
    server_url: str,
    version: str,
) -> None:
    rows = []
    for key in SCENARIOS:
        medians = {name: _median(each) for name, each in runs[key].items()}
        for number, setup in enumerate(setups):
            median = medians[setup.key]
            base = RATIOS.get(setup.key)
            ratio = ""
            if base is not None:
                ratio = (
                    f"{LETTERS[setup.key]}/{LETTERS[base]} "
                    f"{fmt_ratio(median.result.rps, medians[base].result.rps)}"
                )
            rows.append(
                [
                    LABELS[key] if number == 0 else "",
                    f"({LETTERS[setup.key]}) {setup.label}",
                    *result_cells(median.result, cpu=True),
                    "-" if median.database_cpu_ms is None else fmt_cpu(median.database_cpu_ms),
                    ratio,
                ]
            )
    print_table(
        "PostgreSQL: one host on SQLite, one on PostgreSQL, two on one PostgreSQL",
        ["scenario", "setup", "req/s", "p50", "p99", "err", "cpu", "pg cpu", "ratio"],
        rows,
        _notes(context, setups, errors, server_url, version),
    )


def _notes(
    context: BenchContext,
    setups: list[Setup],
    errors: dict[str, Counter[str]],
    server_url: str,
    version: str,
) -> list[str]:
    settings = context.settings
    cpu, other = context.pinned.server, context.pinned.client
    where = urllib.parse.urlsplit(server_url)
    notes = [
        f"a host: one Hypercorn (hypercorn.toml, --workers 1) pinned to CPU {cpu}. (a) on an"
        " SQLite file; (b) on a PostgreSQL database; (c) two hosts on two ports sharing one"
        " PostgreSQL database, both on the same CPU as (b): the cost of the split and of"
        " sharing the database, at equal CPU.",
        f"wrk: {WRK_THREADS} threads, {settings.connections} connections in all (with two"
        " hosts, one thread and half the connections each; latencies over both), pinned to"
        f" CPU {other}; {settings.duration:g} s per scenario. Ratios are of req/s."
        + settings.rounds_note(),
        f"PostgreSQL {version} at {where.hostname}:{where.port}, not pinned: it shares the"
        " CPUs with wrk (and the hosts). Databases made for the run, synchronous_commit on,"
        " DATABASE_POOL_SIZE at its default, DATABASE_PREPARED_STATEMENTS"
        f" {settings.prepared_statements} (--prepared-statements).",
        "cpu: ms of CPU the hosts used per request; pg cpu: ms of CPU of all the PostgreSQL"
        " server's processes per request (other clients of that server included).",
        f"{settings.posts} posts seeded over HTTP into each database; err: non-2xx/3xx"
        " answers plus socket errors and timeouts.",
    ]
    if any(setup.key == TWO_HOSTS_TWO_CORES for setup in setups):
        notes.append(
            f"(c') the database of (c), served by two more hosts, pinned to CPUs {cpu} and"
            f" {other}, wrk not pinned. On 2 cores wrk and PostgreSQL run on the hosts' CPUs,"
            " so c'/b is not what two machines give: it is bounded by this machine's two"
            " cores, shared by everything."
        )
    for name, found in errors.items():
        notes += [f"server log ({name}): {n} x {error}" for error, n in found.most_common(5)]
    return notes
