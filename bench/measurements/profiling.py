"""Profile: py-spy samples the worker while wrk loads it; the stacks are summed up in tables."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime
from datetime import UTC
from pathlib import Path

from bench.context import BenchContext
from bench.load import Load
from bench.measurements.profile_summary import summarise_profile
from bench.report import log
from bench.scenarios import LABELS
from bench.servers import Server
from bench.servers import settle
from bench.settings import CACHE
from bench.settings import RESULTS

#: Samples a second: enough for a 10 s run, little enough to leave the worker its CPU.
RATE = 250


def ensure_py_spy() -> str | None:
    """py-spy, installed into a virtual environment of the bench's own; None if that fails."""
    tools = CACHE / "tools-venv"
    spy = tools / "bin" / "py-spy"
    if spy.exists():
        return str(spy)
    log(f"installing py-spy into {tools}")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(tools)], check=True)
        subprocess.run(
            [str(tools / "bin" / "python"), "-m", "pip", "install", "--quiet", "py-spy"],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as error:
        log(f"could not install py-spy ({error}); skipping the profile")
        return None
    return str(spy)


def _record(spy: str, pid: int, seconds: float, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(round(seconds)),
            "--rate",
            str(RATE),
            "--format",
            "raw",
            "--nolineno",
            "--full-filenames",
            "--nonblocking",
            "--output",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def run(context: BenchContext, server: Server, loads: dict[str, Load], tag: str) -> None:
    """Profile the worker under each load; ``tag`` names the instance in titles and files."""
    spy = ensure_py_spy()
    if spy is None:
        return
    settings = context.settings
    worker = server.worker_pids()[0]
    out = RESULTS / f"profile-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.txt"
    RESULTS.mkdir(parents=True, exist_ok=True)
    profiles = context.results.setdefault("profile", {})
    for key, load in loads.items():
        label = LABELS[key] + tag
        path = out.with_name(out.stem + f"-{key}{'-nocache' if tag else ''}.txt")
        log(f"profiling {label} with py-spy ({settings.profile_duration:g} s)")
        wrk = context.wrk.start(
            server, load, settings.profile_duration + 2, settings.connections, context.pinned
        )
        try:
            # Sample the steady load, not wrk's start.
            time.sleep(1)
            result = _record(spy, worker, settings.profile_duration, path)
        finally:
            context.wrk.collect(wrk, settings.connections, settings.profile_duration + 90)
        settle(server)
        if result.returncode != 0 or not path.exists():
            log(f"py-spy failed: {result.stderr.strip()[-500:]}")
            return
        profiles[key + tag] = summarise_profile(path, label, RATE)
