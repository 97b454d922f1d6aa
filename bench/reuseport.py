"""Serve one port from several single-process Hypercorns, as systemd socket units do.

    python bench/reuseport.py [--pin] COUNT HOST:PORT hypercorn [OPTION ...] APP

opens COUNT listening sockets on HOST:PORT, each with SO_REUSEPORT, and starts
the command once per socket with ``--bind fd://N`` (N: that socket's descriptor)
put before APP. The kernel spreads new connections over the sockets, so over
the processes: the shape of the README's deployment, where systemd opens one
socket per instance of ``quart-flaskr@.socket`` (``ReusePort=yes``) and hands
it to the Hypercorn it starts. With ``--pin``, process i and all its threads
run on the i-th CPU this one may use (systemd: ``CPUAffinity=``). SIGTERM and
SIGINT are passed on to every process; the exit status is the highest of theirs.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import sys
from types import FrameType

#: Hypercorn's own setting in the project's hypercorn.toml.
BACKLOG = 2048


def listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    # Listening before the server starts, as systemd does: connections wait
    # in the socket's queue until its process accepts them.
    sock.listen(BACKLOG)
    return sock


def exit_status(returncode: int) -> int:
    """A shell's exit status for a child's return code (-N: killed by signal N)."""
    return 128 - returncode if returncode < 0 else returncode


def main(argv: list[str]) -> int:
    pin = argv[1:2] == ["--pin"]
    argv = argv[1:] if pin else argv
    if len(argv) < 5 or not argv[1].isdigit():
        sys.exit(__doc__)
    count = int(argv[1])
    host, port = argv[2].rsplit(":", 1)
    *command, app = argv[3:]
    cpus = sorted(os.sched_getaffinity(0))
    sockets = [listen(host.strip("[]"), int(port)) for _ in range(count)]
    processes: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signum)

    # Before the first process starts, so that none is left behind.
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        for i, sock in enumerate(sockets):
            affinity = {cpus[i % len(cpus)]}
            processes.append(
                subprocess.Popen(
                    [*command, "--bind", f"fd://{sock.fileno()}", app],
                    pass_fds=[sock.fileno()],
                    # Set in the child before it starts: its threads inherit it.
                    preexec_fn=functools.partial(os.sched_setaffinity, 0, affinity)
                    if pin
                    else None,
                )
            )
    except BaseException:
        forward(signal.SIGTERM, None)
        raise
    finally:
        for sock in sockets:
            sock.close()
    return wait_for_all(processes)


def wait_for_all(processes: list[subprocess.Popen[bytes]]) -> int:
    """Wait for every process; say on stderr as soon as one fails; the highest exit status."""
    running = {process.pid: process for process in processes}
    status = 0
    while running:
        pid, wait_status = os.wait()
        process = running.pop(pid, None)
        if process is None:
            continue
        process.returncode = os.waitstatus_to_exitcode(wait_status)
        if process.returncode:
            how = (
                f"was killed by {signal.Signals(-process.returncode).name}"
                if process.returncode < 0
                else f"exited with {process.returncode}"
            )
            print(f"reuseport: process {pid} {how}", file=sys.stderr, flush=True)
        status = max(status, exit_status(process.returncode))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
