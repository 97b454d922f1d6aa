"""Slow clients (slowloris): connections that send a request's headers a line at a time, never
finishing them, each opened again as soon as the server closes it, as an attacker would.

Raw asyncio sockets in a thread of their own, so that the bench can load the server with wrk
meanwhile; :meth:`Trickler.stop` ends them and says what the server did to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import statistics
import threading
import time


@dataclasses.dataclass
class TrickleReport:
    """What became of the trickling connections."""

    #: Connections opened in all (the first ``count`` and every reopening).
    opened: int
    #: Connections the server closed (or reset) while they trickled.
    dropped: int
    #: Of those, the ones it sent an answer first (an error status), by status line.
    answered: dict[str, int]
    #: Seconds each dropped connection lived, from connected to closed.
    lifetimes: list[float]
    #: Connections still open when the trickling stopped.
    open_at_end: int
    #: Connection attempts that failed (refused, reset, timed out).
    failed: int
    #: Header lines sent in all.
    lines: int
    #: How many were open at once, sampled every half second.
    open_samples: list[int]

    def lifetime(self, quantile: float) -> float | None:
        """A quantile of the dropped connections' lifetimes (0.5: the median), or None."""
        if not self.lifetimes:
            return None
        ordered = sorted(self.lifetimes)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]

    @property
    def open_median(self) -> float:
        return statistics.median(self.open_samples) if self.open_samples else 0.0


class Trickler:
    """``count`` connections to a loopback port, each sending a header line every ``interval`` s."""

    def __init__(self, port: int, count: int, interval: float, path: str = "/") -> None:
        self.port = port
        self.count = count
        self.interval = interval
        self.path = path
        self._report = TrickleReport(0, 0, {}, [], 0, 0, 0, [])
        self._open = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slowloris", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait_open(self, timeout: float) -> int:
        """Wait until every connection is open (or ``timeout`` passes); how many are."""
        deadline = time.monotonic() + timeout
        while self._open < self.count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self._open

    def stop(self) -> TrickleReport:
        """Close every connection; what happened to them all."""
        self._stopping.set()
        self._thread.join(timeout=30)
        return self._report

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        slots = [asyncio.create_task(self._slot(number)) for number in range(self.count)]
        while not self._stopping.is_set():
            self._report.open_samples.append(self._open)
            await asyncio.sleep(0.5)
        self._report.open_at_end = self._open
        for slot in slots:
            slot.cancel()
        await asyncio.gather(*slots, return_exceptions=True)

    async def _slot(self, number: int) -> None:
        """One connection at a time, opened again each time the server closes it."""
        while not self._stopping.is_set():
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", self.port), 10
                )
            except (OSError, TimeoutError):
                self._report.failed += 1
                await asyncio.sleep(self.interval)
                continue
            self._report.opened += 1
            self._open += 1
            try:
                await self._trickle(number, reader, writer)
            finally:
                self._open -= 1
                writer.close()
                with contextlib.suppress(OSError, asyncio.CancelledError):
                    await writer.wait_closed()

    async def _trickle(
        self, number: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """The request line, then a header line every ``interval``, until the server ends it."""
        connected = time.monotonic()
        line = f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
        sent = 0
        try:
            while True:
                writer.write(line)
                await writer.drain()
                self._report.lines += 1
                sent += 1
                line = f"X-Slow-{number}-{sent}: {'x' * 16}\r\n".encode()
                try:
                    data = await asyncio.wait_for(reader.read(4096), self.interval)
                except TimeoutError:
                    continue
                if data:
                    status = data.split(b"\r\n", 1)[0].decode("latin-1")[:40]
                    self._report.answered[status] = self._report.answered.get(status, 0) + 1
                break
        except (ConnectionError, OSError):
            pass
        self._report.dropped += 1
        self._report.lifetimes.append(time.monotonic() - connected)
