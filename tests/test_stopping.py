"""A stop signal cancels the work it comes in, and nothing else."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from quart_flaskr import stopping
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


async def test_blocks_of_several_tasks_are_all_stopped_and_end_in_any_order(
    handlers: dict[int, object],
) -> None:
    """As hosts starting together in one process do: the handlers go back once all have ended."""
    first_in = asyncio.Event()
    results: dict[str, str] = {}

    async def block(name: str, enter_after: asyncio.Event | None, wait: float) -> None:
        if enter_after is not None:
            await enter_after.wait()
        try:
            async with stoppable(f"starting {name}"):
                first_in.set()
                await asyncio.sleep(wait)
            results[name] = "ended"
        except StoppedError as stopped:
            results[name] = str(stopped)

    # The first in ends first: the other's handlers stay until it ends too.
    inner = asyncio.create_task(block("inner", first_in, 0.2))
    await block("outer", None, 0.05)
    assert current_handlers() != handlers
    await inner
    assert results == {"outer": "ended", "inner": "ended"}
    assert current_handlers() == handlers

    # One signal stops every block running.
    first_in.clear()
    both = [
        asyncio.create_task(block("a", None, 30)),
        asyncio.create_task(block("b", first_in, 30)),
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.gather(*both)
    assert results["a"] == "Stopped by SIGTERM while starting a."
    assert results["b"] == "Stopped by SIGTERM while starting b."
    assert current_handlers() == handlers


async def test_an_ignored_signal_stays_ignored(handlers: dict[int, object]) -> None:
    """As a shell starts a job in the background: Ctrl-C in the terminal is not for it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    async with stoppable("starting"):
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is not handlers[signal.SIGTERM]
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGTERM) is handlers[signal.SIGTERM]


#: Work whose undoing takes long, stopped twice: the second signal ends the process.
_STOPPED_TWICE = """
import asyncio, os, signal, sys
from quart_flaskr.stopping import stoppable

# As a terminal starts it (a job a shell runs in the background ignores SIGINT).
signal.signal(signal.SIGINT, signal.default_int_handler)

async def main():
    async with stoppable("working"):
        try:
            os.kill(os.getpid(), signal.{name})
            await asyncio.sleep(30)
        finally:
            print("undoing", flush=True)
            os.kill(os.getpid(), signal.{name})
            await asyncio.sleep(30)
            print("undone", flush=True)

asyncio.run(main())
"""


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda signum: signal.Signals(signum).name)
def test_a_second_signal_while_undoing_ends_the_process_at_once(signum: int) -> None:
    name = signal.Signals(signum).name
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _STOPPED_TWICE.format(name=name)],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == -signum, done.stderr
    assert done.stdout == "undoing\n"
    assert time.monotonic() - started < 10


async def test_the_second_signal_is_sent_again_with_its_default_action(
    handlers: dict[int, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the process above sees, from inside: the signal's own action, then the signal."""
    sent: list[tuple[int, object]] = []
    monkeypatch.setattr(
        os, "kill", lambda pid, signum: sent.append((signum, signal.getsignal(signum)))
    )
    with pytest.raises(StoppedError):
        async with stoppable("working"):
            stopping._handle(signal.SIGTERM, None)
            try:
                await asyncio.sleep(30)
            finally:
                stopping._handle(signal.SIGINT, None)
    assert sent == [(signal.SIGINT, signal.SIG_DFL)]
    assert current_handlers() == handlers
