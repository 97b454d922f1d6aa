"""Interference: does hashing passwords for logins starve the event loop that answers /hello?"""

from __future__ import annotations

import dataclasses
import time

from bench.context import BenchContext
from bench.load import Load
from bench.report import fmt_ratio
from bench.report import log
from bench.report import print_table
from bench.report import result_cells
from bench.scenarios import HELLO
from bench.scenarios import LOGIN
from bench.servers import Server
from bench.servers import settle
from bench.wrk import TIMEOUT_S


def run(context: BenchContext, server: Server, loads: dict[str, Load]) -> None:
    """GET /hello alone, then while a second wrk keeps the same number of clients logging in."""
    settings = context.settings
    connections = settings.connections
    log("GET /hello alone")
    alone = context.measure(server, loads[HELLO])
    log(f"GET /hello while {connections} clients log in")
    logins = context.wrk.start(
        server, loads[LOGIN], settings.duration + 3, connections, context.pinned
    )
    try:
        # Let the logins fill the server's queue first.
        time.sleep(1.5)
        during = context.measure(server, loads[HELLO])
    finally:
        login_result = context.wrk.collect(logins, connections, settings.duration + TIMEOUT_S + 30)
    settle(server)
    context.results["interference"] = {
        "hello_alone": dataclasses.asdict(alone),
        "hello_during_logins": dataclasses.asdict(during),
        "logins": dataclasses.asdict(login_result),
    }
    print_table(
        f"GET /hello while {connections} clients log in continuously",
        ["load", "req/s", "p50", "p99", "err"],
        [
            ["GET /hello alone", *result_cells(alone)],
            ["GET /hello during logins", *result_cells(during)],
            ["POST /auth/login (the logins)", *result_cells(login_result)],
        ],
        [
            f"p99 during/alone: {fmt_ratio(during.p99_ms, alone.p99_ms)};"
            f" req/s during/alone: {fmt_ratio(during.rps, alone.rps)}"
        ],
    )
