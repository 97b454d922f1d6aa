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

A second signal while the work is still being undone ends the process at
once, as the signal would have without this module: an operator pressing
Ctrl-C again does not wait. A signal the process ignored (``SIG_IGN``, as a
shell starts a job in the background) stays ignored.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

#: The signals that stop a server: systemd's and a terminal's.
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StoppedError(Exception):
    """A stop signal came while the work ran: it was cancelled."""


@dataclasses.dataclass
class _Block:
    """A :func:`stoppable` block running: its task, and the signal that stopped it."""

    task: asyncio.Task[Any]
    stopped_by: signal.Signals | None = None
    running: bool = True

    def cancel(self) -> None:
        # Not once the block has ended: the task has gone on to other things.
        if self.running:
            self.task.cancel()


#: The blocks running, in every task of the main thread; the signals' handlers from
#: before the first of them began, put back when the last ends.
_running: list[_Block] = []
_previous: dict[int, Any] = {}


def _handle(signum: int, frame: FrameType | None) -> None:
    if any(block.stopped_by is not None for block in _running):
        # Stopped already, and asked again: end now, as the signal itself would.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    for block in _running:
        block.stopped_by = signal.Signals(signum)
        block.task.get_loop().call_soon_threadsafe(block.cancel)


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
    block = _Block(task)
    if not _running:
        for signum in SIGNALS:
            handler = signal.getsignal(signum)
            if handler is not signal.SIG_IGN:
                _previous[signum] = handler
                signal.signal(signum, _handle)
    _running.append(block)
    try:
        yield
    except asyncio.CancelledError:
        if block.stopped_by is None:
            raise
        task.uncancel()
        message = f"Stopped by {block.stopped_by.name} while {what}" + (
            f": {then}" if then else "."
        )
        raise StoppedError(message) from None
    finally:
        block.running = False
        _running.remove(block)
        if not _running:
            for number, handler in _previous.items():
                signal.signal(number, handler)
            _previous.clear()
