"""Start-up that a stop signal ends: an operator's SIGTERM or Ctrl+C while a big blog upgrades.

Hypercorn takes SIGTERM and SIGINT as soon as it starts, but acts on them only
once the app has started: a start that brings a big blog's rows up to date
(minutes, see ``migrations/data.py``) would run to its end first, long after
systemd or the operator gave up waiting. Within :func:`stoppable`, either
signal also cancels the start-up, which then fails with :class:`StartStoppedError`;
the server exits. What was brought up to date stays so (the data steps commit
batch by batch, a schema step whole or not at all), and the next start goes on
from there. Hypercorn's own handling is left as it was: the signal reaches it
as well, through the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType

logger = logging.getLogger(__name__)

#: The signals that stop a server: systemd's and a terminal's.
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StartStoppedError(Exception):
    """A stop signal came while the app was starting: it did not start."""


@asynccontextmanager
async def stoppable(what: str) -> AsyncIterator[None]:
    """Run the block as part of start-up that SIGTERM or SIGINT cancels.

    :param what: what the block does, for the message
    :raise StartStoppedError: when either signal came while the block ran
    """
    task = asyncio.current_task()
    if task is None or threading.current_thread() is not threading.main_thread():
        # Signal handlers are the main thread's: elsewhere (an app started
        # in a thread of its own) the block runs as it would without.
        yield
        return
    loop = asyncio.get_running_loop()
    received: list[signal.Signals] = []
    running = True

    def cancel() -> None:
        # Not once the block has ended: the task has gone on to other things.
        if running:
            task.cancel()

    def handle(signum: int, frame: FrameType | None) -> None:
        received.append(signal.Signals(signum))
        loop.call_soon_threadsafe(cancel)

    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum in SIGNALS:
        signal.signal(signum, handle)
    try:
        yield
    except asyncio.CancelledError:
        if not received:
            raise
        task.uncancel()
        message = (
            f"Stopped by {received[0].name} while {what}: the next start goes on from"
            " where this one stopped."
        )
        logger.error(message)
        raise StartStoppedError(message) from None
    finally:
        running = False
        for signum, handler in previous.items():
            signal.signal(signum, handler)
