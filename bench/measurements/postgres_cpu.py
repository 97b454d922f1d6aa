"""CPU per request on SQLite and on PostgreSQL, app and database server together, and how many
app cores one PostgreSQL core feeds: the sizing rule the README gives ops."""

from __future__ import annotations

from bench.context import BenchContext
from bench.report import fmt_cpu
from bench.report import print_table
from bench.scenarios import LABELS
from bench.scenarios import UNCACHED_LABELS

SQLITE = "sqlite"
PG = "postgres"
#: PostgreSQL's CPU per request (host and server) over SQLite's (issue 16, target 5).
TARGET_RATIO = 1.5
NO_CACHE = " no cache"


def _label(row: str) -> str:
    if row.endswith(NO_CACHE):
        return UNCACHED_LABELS[row.removesuffix(NO_CACHE)]
    return LABELS[row]


def report(
    context: BenchContext, figures: dict[str, dict[str, tuple[float, float | None]]], version: str
) -> None:
    """Print and record the table; ``figures``: row -> backend -> (host ms, database ms)."""
    rows = []
    data = {}
    feeds = []
    missed = []
    for row, by_backend in figures.items():
        sqlite_ms = by_backend[SQLITE][0]
        host_ms, server_ms = by_backend[PG]
        total = host_ms + (server_ms or 0.0)
        ratio = total / sqlite_ms if sqlite_ms else None
        fed = host_ms / server_ms if server_ms else None
        if fed is not None:
            feeds.append((fed, row))
        if ratio is None or ratio > TARGET_RATIO or server_ms is None:
            missed.append(_label(row))
        data[row] = {
            "sqlite_ms": sqlite_ms,
            "postgres_host_ms": host_ms,
            "postgres_server_ms": server_ms,
            "postgres_total_ms": total,
            "ratio": ratio,
            "app_cores_per_postgres_core": fed,
        }
        rows.append(
            [
                _label(row),
                fmt_cpu(sqlite_ms),
                fmt_cpu(host_ms),
                "-" if server_ms is None else fmt_cpu(server_ms),
                fmt_cpu(total),
                "-" if ratio is None else f"{ratio:.2f}",
                "-" if fed is None else f"{fed:.1f}",
            ]
        )
    context.results["postgres_cpu"] = data
    notes = [
        "ms of CPU per request, median run: on SQLite the host's (SQLite runs inside it); on"
        f" PostgreSQL {version} the host's (app) and the server's processes' (pg: its backends"
        " for the bench's databases, and its shared WAL writer, checkpointer and autovacuum).",
        "pg/sqlite: (app + pg) over SQLite's; app/pg: app cores one PostgreSQL core feeds"
        " (the host's CPU per request over the server's).",
        f"Target: pg/sqlite <= {TARGET_RATIO} on every row: "
        + ("met." if not missed else f"MISSED ({', '.join(missed)})."),
    ]
    if feeds:
        fewest, row = min(feeds)
        notes.append(
            f"Sizing: one PostgreSQL core feeds {fewest:.1f} app cores at the least"
            f" ({_label(row)}), {max(feeds)[0]:.1f} at the most."
        )
    print_table(
        "CPU per request (ms): one host on SQLite against one host and its PostgreSQL server",
        ["scenario", "sqlite", "app", "pg", "app+pg", "pg/sqlite", "app/pg"],
        rows,
        notes,
    )
