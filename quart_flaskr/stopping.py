"""Long work a stop signal ends: a start bringing a big blog up to date, an operator command.

Hypercorn takes SIGTERM and SIGINT as soon as it starts, but acts on them only
once the app has started: a start that brings a big blog's rows up to date
(minutes, see ``migrations/data.py``) would run to its end first, long after
systemd or the operator gave up waiting. Within :func:`stoppable`, either
signal also cancels the work, which then fails with :class:`StoppedError`;
the server exits. What was brought up to date stays so (the data steps commit
batch by batch, a schema step whole or not at all), and the next start goes on
from there. Hypercorn's own handling is left as it was: the signal reaches it
as well, through the event loop.

An operator's command (``db/cli.py``) runs the same way: stopped, it undoes
what it must (a backup's ``pg_dump`` is ended and its partial file removed)
and ends with the message, instead of dying where it stood.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType

#: The signals that stop a server: systemd's and a terminal's.
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StoppedError(Exception):
    """A stop signal came while the work ran: it was cancelled."""


@asynccontextmanager
async def stoppable(what: str, then: str = "") -> AsyncIterator[None]:
    """Run the block as work that SIGTERM or SIGINT cancels.

    :param what: what the block does, for the message
    :param then: what becomes of the work, for the message
    :raise StoppedError: when either signal came while the block ran
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
        message = f"Stopped by {received[0].name} while {what}" + (f": {then}" if then else ".")
        raise StoppedError(message) from None
    finally:
        running = False
        for signum, handler in previous.items():
            signal.signal(signum, handler)
