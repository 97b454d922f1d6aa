"""How the benchmark starts its servers (fast: no server, no wrk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.servers import HYPERCORN_ENVIRONMENT
from bench.servers import service_environment

README = Path(__file__).parent.parent / "README.md"


def test_the_bench_runs_hypercorn_with_the_environment_the_readme_unit_sets() -> None:
    readme = README.read_text("utf-8")
    unit = readme.split("`/etc/systemd/system/quart-flaskr@.service`:", 1)[1].split("```", 2)[1]
    lines = [line for line in unit.splitlines() if line.startswith("Environment=")]
    assert lines
    assert dict(line.removeprefix("Environment=").split("=", 1) for line in lines) == (
        HYPERCORN_ENVIRONMENT
    )


def test_a_server_keeps_only_what_a_service_manager_gives_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.setenv("FLASKR_UNRELATED", "shell only")
    env = service_environment(HYPERCORN_ENVIRONMENT)
    assert env["PATH"] == "/usr/bin"
    assert env["MALLOC_ARENA_MAX"] == "1"
    assert "FLASKR_UNRELATED" not in env
