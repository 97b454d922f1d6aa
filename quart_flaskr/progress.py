"""How far a long operator command has got, and about how long it has left, on standard error.

``copy-db``, ``backup`` and the data step of ``migrate`` can take minutes on a
big blog. Every few seconds they print a line such as
``copy-db: post 120,000 of 1,000,000 (12%), about 2 min left``; a command
that ends sooner prints nothing. The lines are written by a thread, so that a
slow terminal or a full pipe never holds up the event loop.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TextIO

#: Seconds between two lines of one command.
EVERY = 5.0


def seconds_left(done: int, total: int, elapsed: float) -> float | None:
    """The time the rest will take at the pace so far; None before anything is done."""
    if done <= 0:
        return None
    return max(0, total - done) * elapsed / done


def describe_left(seconds: float) -> str:
    """A rough duration to read at a glance: ``about 40 s left``, ``about 2 min left``."""
    if seconds < 60:
        return f"about {max(1, round(seconds))} s left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min left" if minutes else f"about {hours} h left"


def describe(what: str, done: int, total: int | None, elapsed: float, unit: str = "") -> str:
    """One line's figures: how many of how many, the share, and the estimate when there is one."""
    counted = f"{what} {done:,}" if what else f"{done:,}"
    if total is None:
        return f"{counted} {unit}".rstrip()
    counted = f"{counted} of {total:,} {unit}".rstrip()
    share = min(100, done * 100 // total) if total else 100
    # No estimate before anything is done, nor once nothing is left.
    left = seconds_left(done, total, elapsed)
    estimate = f", {describe_left(left)}" if left else ""
    return f"{counted} ({share}%){estimate}"


class Progress:
    """The progress of one part of a command (a table, a kind of row), line by line.

    :param command: what the lines start with (``copy-db``)
    :param what: what is counted (``post``); empty when ``unit`` says it
    :param total: how many there are, when known: then the share and an
        estimate of the time left are given
    :param unit: written after the figures (``MiB``)
    """

    def __init__(
        self,
        command: str,
        what: str,
        total: int | None = None,
        *,
        unit: str = "",
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.command = command
        self.what = what
        self.total = total
        self.unit = unit
        self.done = 0
        self._stream = stream
        self._clock = clock
        self._started = self._last = clock()

    def line(self) -> str | None:
        """The line to print now, or None when the last was printed under ``EVERY`` seconds ago."""
        now = self._clock()
        if now - self._last < EVERY:
            return None
        self._last = now
        figures = describe(self.what, self.done, self.total, now - self._started, self.unit)
        return f"{self.command}: {figures}"

    def _write(self, line: str) -> None:
        stream = self._stream or sys.stderr
        stream.write(line + "\n")
        stream.flush()

    async def advance(self, count: int) -> None:
        """Count ``count`` more done; print a line when one is due."""
        await self.reach(self.done + count)

    async def reach(self, done: int) -> None:
        """Count ``done`` done in all; print a line when one is due."""
        self.done = done
        if (line := self.line()) is not None:
            await asyncio.to_thread(self._write, line)
