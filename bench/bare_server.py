"""The bare apps, served as the blog is: bench/bare.py (raw ASGI) and bench/bare_quart.py."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from bench.load import Load
from bench.servers import Server
from bench.settings import BENCH
from bench.settings import BIN
from tests.harness.hypercorn import hypercorn_command
from tests.harness.processes import free_port


def start_bare(workdir: Path, sizes: dict[str, int], cpus: str | None) -> Server:
    """bench/bare.py under the project's hypercorn.toml; ``/<key>`` answers ``sizes[key]`` bytes."""
    port = free_port()
    server = Server(
        "bare ASGI app (hypercorn)",
        hypercorn_command(BIN, port, "bare:app", workers=1),
        cwd=BENCH,
        port=port,
        log_path=workdir / "bare.log",
        cpus=cpus,
        env={"BENCH_BARE_SIZES": json.dumps({f"/{key}": size for key, size in sizes.items()})},
    )
    server.wait_ready()
    return server


def bare_load(key: str, load: Load) -> Load:
    """The same request (headers, body) sent to the bare app's path for this scenario."""
    return dataclasses.replace(load, path=f"/{key}")


def start_bare_quart(workdir: Path, cpus: str | None) -> Server:
    """bench/bare_quart.py (Quart, one ``/hello`` route) served as the blog is."""
    port = free_port()
    server = Server(
        "bare Quart app (hypercorn)",
        hypercorn_command(BIN, port, "bare_quart:app", workers=1),
        cwd=BENCH,
        port=port,
        log_path=workdir / "bare-quart.log",
        cpus=cpus,
    )
    server.wait_ready()
    return server
