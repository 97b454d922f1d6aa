"""Readers as browsers send their requests: the anonymous index with each request's own cookie and
one of several browsers' Accept-Language and Accept-Encoding headers, against wrk's fixed ones.

The page cache's fast path answers a page it answered before without the framework. With wrk's
one client every request asks alike; browsers do not: each sends its own wording of the
languages it reads and the encodings it takes, and many carry a cookie of their own (an
analytics id); a link shared on a social site arrives with a click id of its own on each
click (``?fbclid=...``). The loads go to the same blog, round by round; the figure to read is
each one's CPU per request over wrk's.
"""

from __future__ import annotations

import dataclasses

from bench.context import BenchContext
from bench.load import Load
from bench.load import median
from bench.load import paired_ratio
from bench.load import WrkResult
from bench.lua import BROWSER_ENCODINGS
from bench.lua import BROWSER_LANGUAGES
from bench.report import fmt_cpu
from bench.report import log
from bench.report import print_table
from bench.report import result_cells
from bench.scenarios import ANON
from bench.servers import Server

FIXED = "fixed"
BROWSERS = "browsers"
SHARED = "shared"
LABELS = {
    FIXED: "GET / anonymous, wrk's headers",
    BROWSERS: "GET / anonymous, as browsers send it",
    SHARED: "GET /?fbclid=<n> anonymous, as browsers send it",
}


def run(context: BenchContext, server: Server, loads: dict[str, Load]) -> None:
    settings = context.settings
    sent = {
        FIXED: loads[ANON],
        BROWSERS: dataclasses.replace(loads[ANON], browsers=True),
        SHARED: dataclasses.replace(loads[ANON], browsers=True, click_ids=True),
    }
    runs: dict[str, list[WrkResult]] = {key: [] for key in sent}
    for round_ in range(1, settings.rounds + 1):
        for key, load in sent.items():
            log(f"browsers: {LABELS[key]}{settings.round_label(round_)}")
            runs[key].append(context.measure(server, load))
    cpu = {key: [result.cpu_ms_per_request for result in results] for key, results in runs.items()}
    ratios = {key: paired_ratio(cpu[key], cpu[FIXED]) for key in sent if key != FIXED}
    context.results["browsers"] = {
        "rounds": {key: [result.rps for result in results] for key, results in runs.items()},
        "cpu_rounds": cpu,
        "median": {key: dataclasses.asdict(median(results)) for key, results in runs.items()},
        "cpu_ratios": ratios,
    }
    rows = []
    for key, results in runs.items():
        result = median(results)
        ratio = ratios.get(key)
        over = "" if ratio is None else f"{ratio:.2f}"
        rows.append([LABELS[key], *result_cells(result), fmt_cpu(result.cpu_ms_per_request), over])
    print_table(
        "Readers as browsers send their requests (page cache on)",
        ["request", "req/s", "p50", "p99", "errors", "cpu", "cpu / wrk's"],
        rows,
        [
            "as browsers send it: each request with a cookie of its own (_visitor=<n>) and, in"
            f" turn, one of {len(BROWSER_LANGUAGES)} Accept-Language headers (English, Russian"
            f" and Korean readers) and one of {len(BROWSER_ENCODINGS)} Accept-Encoding headers,"
            " as browsers word them; ?fbclid=<n>: each request's own click id after the path,"
            " as on a link shared on a social site.",
            "cpu: ms of the server's CPU per request; cpu / wrk's: round by round, the median."
            + settings.rounds_note(),
        ],
    )
