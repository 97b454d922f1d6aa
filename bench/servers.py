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

#: What a server's environment keeps of the bench's, as a service manager (systemd)
#: starts a service with little more. Hypercorn's access log copies every
#: environment variable into each request's record (38 us a request with a
#: shell's 35 variables, 11 us with 3): a shell's would be measured as the app's.
SERVICE_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONPATH")
#: What the README's systemd unit sets for each Hypercorn (its ``Environment=``
#: lines), given here to every Hypercorn the bench starts: the blog's and the
#: bare apps' beside it (Flaskr's waitress keeps the tutorial's environment).
HYPERCORN_ENVIRONMENT = {"MALLOC_ARENA_MAX": "1"}


def service_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a server is started with: ``SERVICE_ENVIRONMENT``'s, then ``extra``."""
    kept = {name: os.environ[name] for name in SERVICE_ENVIRONMENT if name in os.environ}
    return {**kept, **(extra or {})}


class Server(ServerProcess):
    """A server on a loopback port, run on ``cpus``, its output in one log file.

    Started with a service's environment (``service_environment``), not the bench's.
    """

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
            env=service_environment(env),
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
