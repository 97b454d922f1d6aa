"""The bare apps, served as the blog is: bench/bare.py (raw ASGI) and bench/bare_quart.py."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from bench.load import Load
from bench.servers import HYPERCORN_ENVIRONMENT
from bench.servers import Server
from bench.settings import BENCH
from bench.settings import BIN
from tests.harness.hypercorn import hypercorn_command
from tests.harness.processes import free_port


def start_bare(workdir: Path, sizes: dict[str, int], cpus: str | None) -> Server:
    """bench/bare.py under the project's hypercorn.toml; ``/<key>`` answers ``sizes[key]`` bytes."""
    env = {"BENCH_BARE_SIZES": json.dumps({f"/{key}": size for key, size in sizes.items()})}
    return _serve("bare ASGI app (hypercorn)", "bare", workdir / "bare.log", cpus, env)


def _serve(
    name: str,
    module: str,
    log_path: Path,
    cpus: str | None,
    env: dict[str, str] | None = None,
    app: str = "app",
) -> Server:
    """``bench/<module>.py``'s ``app`` served as the blog is: hypercorn.toml, one worker."""
    port = free_port()
    server = Server(
        name,
        hypercorn_command(BIN, port, f"{module}:{app}", workers=1),
        cwd=BENCH,
        port=port,
        log_path=log_path,
        cpus=cpus,
        env={**HYPERCORN_ENVIRONMENT, **(env or {})},
    )
    server.wait_ready()
    return server


def bare_load(key: str, load: Load) -> Load:
    """The same request (headers, body) sent to the bare app's path for this scenario."""
    return dataclasses.replace(load, path=f"/{key}")


def start_bare_quart(workdir: Path, cpus: str | None, headers: bool = False) -> Server:
    """bench/bare_quart.py (Quart, one ``/hello`` route) served as the blog is.

    ``headers``: its ``app_with_headers``, which sends the blog's headers too.
    """
    if headers:
        return _serve(
            "bare Quart app with the blog's headers (hypercorn)",
            "bare_quart",
            workdir / "bare-quart-headers.log",
            cpus,
            app="app_with_headers",
        )
    return _serve("bare Quart app (hypercorn)", "bare_quart", workdir / "bare-quart.log", cpus)
