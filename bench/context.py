"""What every measurement works with: the settings, wrk, pinned CPUs and the results so far."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from bench.cpus import Cpus
from bench.load import Load
from bench.load import WrkResult
from bench.scenarios import LOGIN
from bench.servers import Server
from bench.settings import Settings
from bench.wrk import Wrk


@dataclasses.dataclass
class BenchContext:
    """The run's shared state, handed to each measurement in place of globals."""

    settings: Settings
    wrk: Wrk
    #: The run's temporary directory: instances, logs, wrk's scripts.
    workdir: Path
    #: Servers on one CPU, wrk on another.
    pinned: Cpus
    #: What is written to the JSON file at the end, by measurement.
    results: dict[str, Any]

    def measure(
        self,
        server: Server,
        load: Load,
        duration: float | None = None,
        connections: int | None = None,
        cpus: Cpus | None = None,
    ) -> WrkResult:
        """One wrk run with the settings' duration and connections unless told otherwise."""
        return self.wrk.run(
            server,
            load,
            duration or self.settings.duration,
            connections or self.settings.connections,
            cpus or self.pinned,
        )

    def duration_for(self, key: str) -> float:
        """Logins take longer: each waits for a password hash."""
        return self.settings.login_duration if key == LOGIN else self.settings.duration
