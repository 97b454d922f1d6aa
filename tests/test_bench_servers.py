"""How the benchmark starts its servers (fast: no server, no wrk)."""

from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import bench.bare_server
import bench.ours
from bench.bare_server import start_bare
from bench.bare_server import start_bare_quart
from bench.ours import OursInstance
from bench.servers import HYPERCORN_ENVIRONMENT

README = Path(__file__).parent.parent / "README.md"


def test_the_bench_runs_hypercorn_with_the_environment_the_readme_unit_sets() -> None:
    readme = README.read_text("utf-8")
    unit = readme.split("`/etc/systemd/system/quart-flaskr@.service`:", 1)[1].split("```", 2)[1]
    lines = [line for line in unit.splitlines() if line.startswith("Environment=")]
    assert lines
    assert dict(line.removeprefix("Environment=").split("=", 1) for line in lines) == (
        HYPERCORN_ENVIRONMENT
    )


class _Recorded:
    """Stands in for bench.servers.Server: what a server would be started with, not started."""

    def __init__(self, started: list[_Recorded], name: str, command: list[str], **options: Any):
        self.name = name
        self.command = command
        self.env = options.get("env")
        started.append(self)

    def wait_ready(self, *args: object, **kwargs: object) -> None:
        """Nothing runs: nothing to wait for."""


def _recording(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> list[_Recorded]:
    started: list[_Recorded] = []
    monkeypatch.setattr(module, "Server", functools.partial(_Recorded, started))
    return started


def test_the_blogs_hypercorn_gets_the_units_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started = _recording(monkeypatch, bench.ours)
    OursInstance(tmp_path, "blog", rate_limits=False).serve(None)
    OursInstance(tmp_path, "blogs", rate_limits=False).serve(None, processes=2)
    assert [server.env for server in started] == [HYPERCORN_ENVIRONMENT] * 2


def test_the_bare_apps_hypercorns_get_the_units_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started = _recording(monkeypatch, bench.bare_server)
    start_bare(tmp_path, {"anon": 10}, None)
    start_bare_quart(tmp_path, None)
    start_bare_quart(tmp_path, None, headers=True)
    bare, quart, with_headers = (server.env or {} for server in started)
    assert bare == {**HYPERCORN_ENVIRONMENT, "BENCH_BARE_SIZES": '{"/anon": 10}'}
    assert quart == with_headers == HYPERCORN_ENVIRONMENT
