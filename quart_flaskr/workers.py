"""Threads for work kept off the event loop: password hashing, Markdown, pictures.

Each pool starts its threads when first given work, and every pool is shut down,
its threads ended, when the app stops serving (``init_app``); work given to it
after that starts it again (an app served again in the same process, as tests do).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec
from typing import TypeVar

from quart import Quart

P = ParamSpec("P")
T = TypeVar("T")

#: Every pool made, for shut_down().
_POOLS: list[Pool] = []


class Pool:
    """A thread pool of ``size`` threads named after ``name``, started on first use."""

    def __init__(self, name: str, size: int, initializer: Callable[[], None] | None = None) -> None:
        self.name = name
        self.size = size
        self._initializer = initializer
        self._executor: ThreadPoolExecutor | None = None
        _POOLS.append(self)

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``function(*args, **kwargs)`` in one of the pool's threads."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.size, thread_name_prefix=self.name, initializer=self._initializer
            )
        call = functools.partial(function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def shut_down(self) -> None:
        """End the pool's threads once the work given to them is done (none if not started)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


async def shut_down() -> None:
    """End every pool's threads, waiting in a thread of asyncio's own for work under way."""
    loop = asyncio.get_running_loop()
    for pool in _POOLS:
        await loop.run_in_executor(None, pool.shut_down)


def init_app(app: Quart) -> None:
    app.after_serving(shut_down)
