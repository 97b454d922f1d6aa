"""A stop signal cancels the work it comes in, and nothing else."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator

import pytest

from quart_flaskr.stopping import SIGNALS
from quart_flaskr.stopping import stoppable
from quart_flaskr.stopping import StoppedError


def _ignored(signum: int, frame: object) -> None:
    """The handler the tests put in place first: the process must survive their signals."""


@pytest.fixture
def handlers() -> Iterator[dict[int, object]]:
    """The signals' handlers before a test, the tests' own; put back afterwards."""
    saved = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum in SIGNALS:
        signal.signal(signum, _ignored)
    try:
        yield {signum: _ignored for signum in SIGNALS}
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def current_handlers() -> dict[int, object]:
    return {signum: signal.getsignal(signum) for signum in SIGNALS}


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda signum: signal.Signals(signum).name)
async def test_a_signal_stops_the_block(handlers: dict[int, object], signum: int) -> None:
    reached = []
    with pytest.raises(StoppedError) as stopped:
        async with stoppable("doing a long job", "the next one goes on from there."):
            os.kill(os.getpid(), signum)
            await asyncio.sleep(30)
            reached.append("the end")
    name = signal.Signals(signum).name
    assert str(stopped.value) == (
        f"Stopped by {name} while doing a long job: the next one goes on from there."
    )
    assert reached == []
    with pytest.raises(StoppedError, match=f"^Stopped by {name} while copying[.]$"):
        async with stoppable("copying"):
            os.kill(os.getpid(), signum)
            await asyncio.sleep(30)
    assert current_handlers() == handlers
    # The task goes on uncancelled: it can still wait and close what it opened.
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await asyncio.sleep(0)


async def test_without_a_signal_the_block_runs_as_it_would(handlers: dict[int, object]) -> None:
    async with stoppable("starting"):
        assert current_handlers() != handlers
        await asyncio.sleep(0)
    assert current_handlers() == handlers
    with pytest.raises(ValueError, match="the block's own"):
        async with stoppable("starting"):
            raise ValueError("the block's own")
    assert current_handlers() == handlers


async def test_a_cancellation_without_a_signal_is_passed_on(handlers: dict[int, object]) -> None:
    async def start() -> None:
        async with stoppable("starting"):
            await asyncio.sleep(30)

    task = asyncio.create_task(start())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert current_handlers() == handlers


async def test_a_signal_as_the_block_ends_cancels_nothing_after_it(
    handlers: dict[int, object],
) -> None:
    async with stoppable("starting"):
        # Handled at once, but its cancellation is run by the loop: after the block.
        os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


def test_outside_the_main_thread_signals_are_left_alone(handlers: dict[int, object]) -> None:
    seen = []

    async def start() -> None:
        async with stoppable("starting"):
            seen.append(current_handlers())

    thread = threading.Thread(target=asyncio.run, args=(start(),))
    thread.start()
    thread.join()
    assert seen == [handlers]
