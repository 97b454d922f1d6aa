"""How the benchmark speaks: progress on standard error, tables of figures on standard output."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bench.load import WrkResult


def log(message: str) -> None:
    """A progress message, kept apart from the tables (standard error)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def fmt_rps(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def fmt_ms(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:.2f}s"
    return f"{value:.1f}ms" if value >= 10 else f"{value:.2f}ms"


def fmt_ratio(ours: float, other: float) -> str:
    return f"{ours / other:.2f}" if other else "-"


def fmt_cpu(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.2f}"


def fmt_mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def result_cells(result: WrkResult | None, errors: bool = True, cpu: bool = False) -> list[str]:
    """req/s, p50 and p99, then the error count and CPU per request when asked for.

    None (an app without the scenario: Flaskr has no post page or search)
    gives "n/a" and empty cells.
    """
    if result is None:
        return ["n/a", "", ""] + ([""] if errors else []) + ([""] if cpu else [])
    cells = [fmt_rps(result.rps), fmt_ms(result.p50_ms), fmt_ms(result.p99_ms)]
    if errors:
        cells.append(str(result.error_count))
    if cpu:
        cells.append(fmt_cpu(result.cpu_ms_per_request))
    return cells


def print_table(
    title: str, header: list[str], rows: list[list[str]], notes: Sequence[str] = ()
) -> None:
    """A table with its first column to the left, the others to the right, and notes under it."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(cells)
        )

    print(f"\n{title}")
    print(line(header))
    print("-" * len(line(header)))
    for row in rows:
        print(line(row))
    for note in notes:
        print(f"  * {note}")
    sys.stdout.flush()
