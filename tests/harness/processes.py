"""Server processes for the live tests and the bench: each in a session of its own, stopped whole.

Each server runs in a process group of its own, so that stopping it reaches
every worker it spawned, and no signal meant for the test run or the bench
(Ctrl+C) reaches it. psutil lists its processes and reads their CPU time,
memory and connections.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Self

import psutil

from tests.harness.errors import ServerFailedError

#: Every server started and not yet stopped, so that an exit path can stop what is left.
_RUNNING: list[ServerProcess] = []


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(processes: Iterable[psutil.Process]) -> float:
    """User plus system CPU time these processes have used (those that exited count nothing)."""
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def rss_bytes(pid: int) -> int:
    """The resident memory of one process; 0 once it has exited."""
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return 0


def _command_line(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


class ServerProcess:
    """A server process in a session of its own, its output in files.

    :param stderr_path: where standard error goes; None: into ``stdout_path`` too.
    :param env: the whole environment of the server; None: this process's.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        cwd: Path,
        stdout_path: Path,
        stderr_path: Path | None = None,
        env: Mapping[str, str] | None = None,
        name: str = "server",
    ) -> None:
        self.name = name
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path or stdout_path
        with contextlib.ExitStack() as files:
            stdout = files.enter_context(stdout_path.open("ab"))
            stderr = (
                subprocess.STDOUT
                if stderr_path is None
                else files.enter_context(stderr_path.open("ab"))
            )
            # The child has its own copies of the descriptors: ours close at once.
            self.process = subprocess.Popen(
                list(command),
                cwd=cwd,
                env=None if env is None else dict(env),
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        self._root = psutil.Process(self.process.pid)
        _RUNNING.append(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text("utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text("utf-8", errors="replace")

    def tail(self, lines: int = 20) -> str:
        """The last lines of standard error: where a failure to start shows."""
        return "\n".join(self.stderr.splitlines()[-lines:])

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``ready`` until it holds.

        :raise ServerFailedError: the server exited, logged a traceback, or
            ``timeout`` seconds passed first.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise ServerFailedError(
                    f"{self.name} exited with {self.process.returncode}"
                    f" before {what}:\n{self.tail()}"
                )
            if "Traceback (most recent call last)" in self.stderr:
                raise ServerFailedError(f"{self.name} failed before {what}:\n{self.tail()}")
            if ready():
                return
            if time.monotonic() > deadline:
                raise ServerFailedError(
                    f"{self.name}: not {what} within {timeout:g} s:\n{self.tail()}"
                )
            time.sleep(0.05)

    def wait_for_exit(self, timeout: float) -> float | None:
        """Seconds until the first process exits, or None if it still runs after ``timeout``."""
        started = time.monotonic()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return time.monotonic() - started

    def send_signal(self, signum: int) -> None:
        """Signal the first process only, as ``kill PID`` does."""
        self.process.send_signal(signum)

    def signal_group(self, signum: int) -> None:
        """Signal every process of the group still running."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL every process left in the group, then reap the first."""
        if self in _RUNNING:
            _RUNNING.remove(self)
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the whole group; whatever still runs after ``timeout`` is killed."""
        if self.process.poll() is None:
            self.signal_group(signal.SIGTERM)
            self.wait_for_exit(timeout)
        # Workers or a resource tracker may outlive the first process.
        self.kill()

    def processes(self) -> list[psutil.Process]:
        """The first process and all its descendants, while the first one runs."""
        try:
            return [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return []

    def pids(self) -> list[int]:
        return [process.pid for process in self.processes()]

    def worker_pids(self) -> list[int]:
        """The processes that serve requests.

        Hypercorn's spawned workers when it has any; else the Hypercorns started
        directly under the first process (several sharing a port, as
        ``bench/reuseport.py`` starts them); else the first process itself.
        """
        descendants = self.processes()[1:]
        spawned = [p.pid for p in descendants if "spawn_main" in _command_line(p)]
        if spawned:
            return spawned
        direct = [
            p.pid
            for p in descendants
            if _ppid(p) == self.process.pid and "hypercorn" in _command_line(p)
        ]
        return direct or [self.process.pid]

    def cpu_seconds(self) -> float:
        """CPU time used so far by the processes running now."""
        return cpu_seconds(self.processes())

    def open_connections(self, port: int) -> int:
        """How many client connections to ``port`` the workers have accepted and hold open now."""
        held = 0
        for pid in self.worker_pids():
            with contextlib.suppress(psutil.Error):
                held += sum(
                    1
                    for connection in psutil.Process(pid).net_connections(kind="tcp")
                    if connection.status == psutil.CONN_ESTABLISHED
                    and connection.laddr
                    and connection.laddr.port == port
                )
        return held


def _ppid(process: psutil.Process) -> int | None:
    try:
        return process.ppid()
    except psutil.Error:
        return None


def stop_all() -> None:
    """Stop every server started here and not stopped yet (an exit path's safety net)."""
    for server in list(_RUNNING):
        server.stop()
