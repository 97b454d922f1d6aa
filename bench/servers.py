"""The servers under test: started pinned, ready when they answer, idle again after a load."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

from bench.cpus import taskset
from tests.harness.http import answers
from tests.harness.processes import cpu_seconds
from tests.harness.processes import ServerProcess


class Server(ServerProcess):
    """A server on a loopback port, run on ``cpus``, its output in one log file."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        cwd: Path,
        port: int,
        log_path: Path,
        cpus: str | None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            taskset(cpus, command),
            cwd=cwd,
            stdout_path=log_path,
            env={**os.environ, **(env or {})},
            name=name,
        )
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self, path: str = "/hello", timeout: float = 60.0, servers: int = 0) -> None:
        """Until ``path`` answers 200 and ``servers`` Hypercorns say they run; else stop it."""

        def ready() -> bool:
            return self.stdout.count("] Running on ") >= servers and answers(self.url, path)

        try:
            self.wait_until(ready, timeout, f"answering GET {path}")
        except BaseException:
            self.stop()
            raise


def settle(server: ServerProcess, timeout: float = 120.0) -> None:
    """Wait until the server is idle again (work queued by the last load is done).

    Idle: under 10% of a CPU over a quarter of a second, twice in a row.
    """
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        processes = server.processes()
        before = cpu_seconds(processes)
        time.sleep(0.25)
        used = cpu_seconds(processes) - before
        quiet = quiet + 1 if used < 0.025 else 0


def exceptions_in_logs(paths: Sequence[Path]) -> Counter[str]:
    """The exception lines of the tracebacks in server logs, counted."""
    found: Counter[str] = Counter()
    for path in paths:
        in_traceback = False
        for line in path.read_text("utf-8", "replace").splitlines():
            if line.startswith("Traceback (most recent call last)"):
                in_traceback = True
            elif in_traceback and line and not line[0].isspace():
                found[line[:160]] += 1
                in_traceback = False
    return found
