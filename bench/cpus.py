"""Where servers and load generators run: pinned to CPUs apart, so that they do not take turns."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Sequence

from bench.errors import BenchError
from bench.report import log


@dataclasses.dataclass(frozen=True)
class Cpus:
    """The CPU for servers and the one for clients; None: anywhere (no taskset)."""

    server: str | None
    client: str | None
    client_threads: int

    @staticmethod
    def pinned() -> Cpus:
        """The servers on the first CPU, the clients on the second, when there are two."""
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            log("fewer than 2 CPUs: servers and wrk are not pinned apart")
            return Cpus(None, None, 1)
        if shutil.which("taskset") is None:
            raise BenchError("taskset is missing (Debian package util-linux).")
        return Cpus(str(cpus[0]), str(cpus[1]), 1)

    @staticmethod
    def unpinned() -> Cpus:
        """Everything anywhere: for servers spread over every CPU."""
        # A wrk thread drives about ten single-core servers' worth of requests
        # (it spends some 40 us of CPU on one); more threads would only take
        # turns with the servers on the CPUs they share.
        return Cpus(None, None, max(1, cpu_count() // 4))


def cpu_count() -> int:
    """How many CPUs this process may run on."""
    return len(os.sched_getaffinity(0))


def taskset(cpus: str | None, command: Sequence[str]) -> list[str]:
    """``command`` run on ``cpus`` (and its children too); as it is when None."""
    return list(command) if cpus is None else ["taskset", "-c", cpus, *command]
