"""How the benchmark compares two loads' CPU (fast: no server, no wrk)."""

from __future__ import annotations

import pytest

from bench.load import WrkResult
from bench.measurements.hooks import HelloRuns
from bench.measurements.listings import _ratios
from bench.measurements.listings import Measured


def _result(cpu: float) -> WrkResult:
    return WrkResult(100, 1.0, 100.0, 1.0, 2.0, 3.0, 4.0, {}, 16, cpu_ms_per_request=cpu)


def test_hooks_overhead_is_taken_round_by_round() -> None:
    # The machine was twice as busy in the second round: both apps cost twice
    # as much there. Paired by round, the blog costs 8% more every round; the
    # medians picked apart (ours' 1.08 of round 1, Quart's 2.0 of round 2)
    # would say it costs less than bare Quart.
    runs = HelloRuns(
        _result(1.08),
        _result(0.5),
        _result(2.0),
        _result(1.05),
        {
            "ours": [1.08, 2.16, 1.08],
            "bare": [0.5, 1.0, 0.5],
            "quart": [1.0, 2.0, 1.0],
            "quart_headers": [1.05, 2.1, 1.1],
        },
    )
    assert runs.overhead_pct == pytest.approx(8.0)
    assert runs.headers_pct == pytest.approx(5.0)
    assert runs.over_quart("bare") == pytest.approx(-50.0)
    assert runs.as_json()["met"] is True
    assert runs.as_json()["cpu_rounds"]["ours"] == [1.08, 2.16, 1.08]


def test_hooks_overhead_without_quart_figures() -> None:
    runs = HelloRuns(
        _result(1.0),
        _result(0.5),
        _result(0.0),
        _result(0.0),
        {"ours": [1.0], "bare": [0.5], "quart": [0.0], "quart_headers": [0.0]},
    )
    assert runs.overhead_pct is None
    assert runs.as_json()["met"] is False


def _measured(page: str, reader: str, cpu_rounds: list[float]) -> Measured:
    return Measured(
        page, reader, _result(cpu_rounds[0]), [1.0] * len(cpu_rounds), cpu_rounds, 5, False
    )


def test_listing_ratios_are_paired_by_round_and_reader() -> None:
    measured = [
        _measured("index", "anonymous", [1.0, 2.0, 1.0, 1.0]),
        # Over the index in the same round: 0.9, 0.95, 1.2, 1.0; the median of four
        # is the mean of the middle two.
        _measured("search", "anonymous", [0.9, 1.9, 1.2, 1.0]),
        _measured("index", "logged in", [2.0, 2.0, 2.0, 0.0]),
        # A round whose index has no figure is left out.
        _measured("search", "logged in", [1.0, 3.0, 2.0, 5.0]),
    ]
    ratios = _ratios(measured)
    assert ratios["index", "anonymous"] == pytest.approx(1.0)
    assert ratios["search", "anonymous"] == pytest.approx(0.975)
    assert ratios["search", "logged in"] == pytest.approx(1.0)
