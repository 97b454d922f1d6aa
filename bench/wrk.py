"""wrk, the load generator: found or installed, run for a while, its figures read back."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

from bench.cpus import Cpus
from bench.cpus import taskset
from bench.errors import BenchError
from bench.errors import WrkMissingError
from bench.installed import ensure_installed
from bench.load import Load
from bench.load import WrkResult
from bench.lua import lua_script
from bench.lua import RESULT_PREFIX
from bench.servers import Server
from bench.servers import settle
from tests.harness.processes import cpu_seconds

#: wrk's per-request timeout: a login waits behind a queue of password hashes.
TIMEOUT_S = 60


def ensure_wrk() -> str:
    """The path of wrk, installing it with apt-get when it is missing."""
    return ensure_installed("wrk", WrkMissingError)


def parse_output(output: str, connections: int) -> WrkResult:
    """The figures of wrk's result line (printed by the Lua script's ``done``)."""
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            data = json.loads(line.removeprefix(RESULT_PREFIX))
            seconds = data["duration_us"] / 1e6
            return WrkResult(
                requests=data["requests"],
                seconds=seconds,
                rps=data["requests"] / seconds if seconds else 0.0,
                p50_ms=data["p50"] / 1000,
                p90_ms=data["p90"] / 1000,
                p99_ms=data["p99"] / 1000,
                max_ms=data["max"] / 1000,
                errors={k: data[k] for k in ("connect", "read", "write", "status", "timeout")},
                connections=connections,
            )
    raise BenchError(f"wrk printed no result:\n{output[-2000:]}")


class Wrk:
    """Runs wrk against a server, its Lua scripts written into ``workdir``."""

    def __init__(self, executable: str, workdir: Path) -> None:
        self.executable = executable
        self.workdir = workdir
        self._scripts = 0

    def command(
        self, port: int, load: Load, duration: float, connections: int, cpus: Cpus
    ) -> list[str]:
        self._scripts += 1
        script = self.workdir / f"load-{self._scripts}.lua"
        script.write_text(lua_script(load), "utf-8")
        threads = max(1, min(cpus.client_threads, connections))
        command = [
            self.executable,
            "--latency",
            f"--threads={threads}",
            f"--connections={connections}",
            f"--duration={max(1, round(duration))}s",
            f"--timeout={TIMEOUT_S}s",
            f"--script={script}",
        ]
        if load.cookie:
            command.append(f"--header=Cookie: {load.cookie}")
        command.append(f"http://127.0.0.1:{port}{load.path}")
        return taskset(cpus.client, command)

    def run(
        self,
        server: Server,
        load: Load,
        duration: float,
        connections: int,
        cpus: Cpus,
        also: Sequence[Server] = (),
    ) -> WrkResult:
        """Run wrk to the end, then wait for the server to finish what wrk left queued.

        ``also``: the other servers a load split over ports (``load.ports``)
        reaches; they are waited for, and their CPU time counted, too.
        """
        command = self.command(server.port, load, duration, connections, cpus)
        servers = [server, *also]
        processes = [process for each in servers for process in each.processes()]
        cpu_before = cpu_seconds(processes)
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=duration + TIMEOUT_S + 30,
            check=False,
        )
        if result.returncode != 0:
            raise BenchError(f"wrk failed ({result.returncode}): {result.stderr.strip()}")
        for each in servers:
            settle(each)
        # The processes of before the load: one that exited meanwhile counts nothing.
        cpu_used = cpu_seconds(processes) - cpu_before
        parsed = parse_output(result.stdout, connections)
        if parsed.requests:
            parsed.cpu_ms_per_request = 1000 * cpu_used / parsed.requests
        return parsed

    def start(
        self, server: Server, load: Load, duration: float, connections: int, cpus: Cpus
    ) -> subprocess.Popen[str]:
        """Start wrk in the background; finish it with collect()."""
        return subprocess.Popen(
            self.command(server.port, load, duration, connections, cpus),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def collect(
        self, process: subprocess.Popen[str], connections: int, timeout: float
    ) -> WrkResult:
        """The figures of a wrk started with start(), once it ends."""
        try:
            output, errors = process.communicate(timeout=timeout)
        except BaseException:
            process.kill()
            process.wait()
            raise
        if process.returncode != 0:
            raise BenchError(f"wrk failed ({process.returncode}): {errors.strip()}")
        return parse_output(output, connections)
