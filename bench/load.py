"""What wrk sends (a Load) and what it measured (a WrkResult)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence


@dataclasses.dataclass(frozen=True)
class Load:
    """One kind of request for wrk to send over and over."""

    path: str
    method: str = "GET"
    cookie: str | None = None
    #: A url-encoded form body sent with each request (POST).
    body: str | None = None
    #: Add a fresh "&title=..." to each request's body (new posts each time).
    unique_title: bool = False
    #: Several paths to send in turn (ignores path).
    rotate: tuple[str, ...] = ()
    #: Loopback ports wrk's threads connect to, one each in turn (else the URL's):
    #: the load split over several servers, its latency measured as one.
    ports: tuple[int, ...] = ()
    #: Each connection's pause before each of its requests (its first one too),
    #: in ms, drawn evenly from this range: a reader's time on the page. None
    #: sends each request the moment the last is answered.
    think_ms: tuple[int, int] | None = None
    #: Each request as a browser of its own sends it: a cookie of its own (a visitor's
    #: analytics id) and one of several browsers' Accept-Language and Accept-Encoding.
    browsers: bool = False
    #: With ``browsers``: each request's path followed by a click id of its own, as a
    #: link shared on a social site is (``?fbclid=<n>``).
    click_ids: bool = False


@dataclasses.dataclass
class WrkResult:
    """What one wrk run measured: throughput, latency percentiles in ms, errors by kind."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    connections: int
    #: CPU time the server's processes spent per completed request, in ms: less
    #: sensitive than req/s to other work on a shared machine.
    cpu_ms_per_request: float = 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def median(results: Sequence[WrkResult]) -> WrkResult:
    """The run with the median req/s (the lower middle one of an even count)."""
    ordered = sorted(results, key=lambda result: result.rps)
    return ordered[(len(ordered) - 1) // 2]


def paired_ratio(values: Sequence[float], bases: Sequence[float]) -> float | None:
    """The median, over rounds, of a value over its base measured in the same round.

    Each round measures both back to back, so what the shared machine's other
    work adds in one round it adds to both: a ratio taken round by round
    cancels it, where a ratio of two medians picked apart (each app's run
    with the median req/s, from different rounds) does not. None when no
    round has a base.
    """
    ratios = sorted(value / base for value, base in zip(values, bases, strict=True) if base)
    if not ratios:
        return None
    middle = len(ratios) // 2
    return ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2
