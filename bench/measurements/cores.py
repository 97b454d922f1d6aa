"""Cores: one single-process Hypercorn on one core against one per core, all on one port."""

from __future__ import annotations

import dataclasses
from typing import Any

from bench.context import BenchContext
from bench.cpus import cpu_count
from bench.cpus import Cpus
from bench.load import Load
from bench.load import median
from bench.load import WrkResult
from bench.report import fmt_ratio
from bench.report import log
from bench.report import print_table
from bench.report import result_cells
from bench.scenarios import ANON
from bench.scenarios import HELLO
from bench.scenarios import LABELS
from bench.scenarios import USER
from bench.servers import Server


def run(context: BenchContext, one: Server, every: Server, loads: dict[str, Load]) -> None:
    """Each scenario on ``one`` (pinned) then ``every`` (wrk unpinned), ``--rounds`` times."""
    settings = context.settings
    everywhere = Cpus.unpinned()
    rows = []
    data: dict[str, Any] = {}
    for key in (ANON, USER, HELLO):
        one_runs: list[WrkResult] = []
        all_runs: list[WrkResult] = []
        for round_ in range(1, settings.rounds + 1):
            of = settings.round_label(round_)
            log(f"one core: {LABELS[key]}{of}")
            one_runs.append(context.measure(one, loads[key]))
            log(f"all cores: {LABELS[key]}{of}")
            all_runs.append(context.measure(every, loads[key], cpus=everywhere))
        single, spread = median(one_runs), median(all_runs)
        data[key] = {
            "one": dataclasses.asdict(single),
            "all": dataclasses.asdict(spread),
            "rounds": {"one": [r.rps for r in one_runs], "all": [r.rps for r in all_runs]},
        }
        rows.append(
            [
                LABELS[key],
                *result_cells(single, errors=False),
                *result_cells(spread),
                fmt_ratio(spread.rps, single.rps),
            ]
        )
    context.results["cores"] = data
    workers = cpu_count()
    print_table(
        "All cores vs one core",
        [
            "scenario",
            "1 core req/s",
            "p50",
            "p99",
            f"{workers} processes req/s",
            "p50",
            "p99",
            "err",
            "all/one",
        ],
        rows,
        [
            "Hypercorn as in production (hypercorn.toml: no worker processes), on a"
            " socket of its own with SO_REUSEPORT (bench/reuseport.py, as systemd's"
            " socket units in the README). One core: 1 process pinned to CPU"
            f" {context.pinned.server}, wrk on CPU {context.pinned.client}. All cores:"
            f" {workers} processes on one port, each pinned to a CPU of its own, and"
            f" wrk (threads: {everywhere.client_threads}) unpinned, sharing the"
            f" {workers} CPUs with them." + settings.rounds_note()
        ],
    )
