"""How a process writes, on either backend: one write at a time, committed in groups.

A process's writes take its writer connection in turn (:class:`WriteQueue`).
The first opens a transaction, which takes the database's write lock (SQLite's
``BEGIN IMMEDIATE``; PostgreSQL's advisory lock, shared by every host); each
write that was waiting for the writer meanwhile goes on in that transaction,
from a savepoint of its own; then they all commit at once (group commit).
Every write still commits or rolls back as a whole, and returns only once it
is committed, so the next read anywhere sees it; a busy blog pays one commit
(the journal's writes, the search index's flush, the disk's sync, a trip to
the server) for a queue of writes instead of one each.

A backend gives its writer as a :class:`Writer`: the transaction the models
use, and the statements that open, mark, undo and end one.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import abstractmethod
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from contextlib import asynccontextmanager
from typing import Any
from typing import Generic
from typing import TypeVar

from quart_flaskr.db.interface import DatabaseBusyError
from quart_flaskr.db.interface import DatabaseUnavailableError
from quart_flaskr.db.interface import Transaction


class Writer(Transaction):
    """A backend's write connection while writes hold it, errors translated as queries' are."""

    #: Set once its transaction has lifted its time limits (a schema step): no
    #: other write joins that transaction, where it would run without them too.
    ungrouped = False

    @abstractmethod
    async def begin(self) -> None:
        """Open a transaction holding the database's write lock; end one left open first."""

    @abstractmethod
    async def savepoint(self, name: str) -> None:
        """Mark where the next write in the open transaction starts."""

    @abstractmethod
    async def rollback_to(self, name: str) -> None:
        """Undo the open transaction's work since the savepoint ``name``."""

    @abstractmethod
    async def commit(self) -> None:
        """Commit the open transaction."""

    @abstractmethod
    async def rollback(self) -> None:
        """Roll the open transaction back."""


W = TypeVar("W", bound=Writer)

#: The most writes after the first that one transaction takes in. Each is a
#: savepoint, and on PostgreSQL a subtransaction: past 64 in one transaction,
#: the server's per-session cache of them overflows and everyone's reads slow
#: down while it lasts. And a group holds the write lock of every host until
#: it commits: a full group commits before the next write begins another.
MOST_SAVEPOINTS = 48


class LoopLock:
    """An asyncio lock, a new one for each event loop that asks for it.

    The command line runs each command in a loop of its own on the same
    Database, and an asyncio lock that has once been waited for belongs to the
    loop it was waited for in.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def __call__(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock


async def _to_the_end(work: Coroutine[Any, Any, None]) -> None:
    """Await ``work`` to its end even when the caller is cancelled meanwhile, once or more;
    then let the cancellation go on.

    So the caller holds the writer until the statement is done: let go while an
    undo or a commit is on its way, the next write would go on in a transaction
    in a state nobody knows (or on a connection already handed back).
    """
    task = asyncio.ensure_future(work)
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait((task,))
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        task.exception()  # Read, and dropped: the cancellation goes on instead.
        raise asyncio.CancelledError
    task.result()


def _retrieve(future: asyncio.Future[None]) -> None:
    """Mark a group's outcome as read, so that asyncio does not log it as never retrieved."""
    future.exception()


class _CommitGroup(Generic[W]):
    """The writes that share one transaction and learn together how its commit went."""

    def __init__(
        self, writer: W, commit: Callable[[_CommitGroup[W]], Coroutine[Any, Any, None]]
    ) -> None:
        self.writer = writer
        #: Writes that joined after the first, each from a savepoint named after its number.
        self.savepoints = 0
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # A write cancelled while it waits for the commit leaves nobody to read a failure.
        self.committed.add_done_callback(_retrieve)
        #: The task that commits the group when its turn for the writer comes.
        self.committer = asyncio.create_task(commit(self))

    def tell(self, error: BaseException | None) -> None:
        """Give the writes the outcome, once: a later one is of a transaction already ended."""
        with contextlib.suppress(asyncio.InvalidStateError):
            if error is None:
                self.committed.set_result(None)
            else:
                self.committed.set_exception(error)

    async def commit(self) -> None:
        """Commit, then tell the writes; a failed commit is rolled back after telling them."""
        try:
            await self.writer.commit()
        except BaseException as error:
            self.tell(error)
            # A commit that fails may leave the transaction open. Where even the
            # rollback fails, the next write finds it open and ends it.
            with contextlib.suppress(Exception):
                await self.writer.rollback()
        else:
            self.tell(None)


class WriteQueue(Generic[W]):
    """A process's writes to one database: in turn, on one writer, committed in groups.

    :param acquire: the writer for a new transaction (opened if need be)
    :param release: what to do with the writer once its transaction is over
        (SQLite keeps its one writer; PostgreSQL hands the connection back to
        the pool)
    :param location: the database, as errors name it
    :param timeout: seconds a write waits for its turn before it is busy;
        None waits as long as it takes
    """

    def __init__(
        self,
        acquire: Callable[[], Awaitable[W]],
        release: Callable[[W], Awaitable[None]],
        *,
        location: str,
        timeout: float | None = None,
    ) -> None:
        self._acquire = acquire
        self._release = release
        self._location = location
        self._timeout = timeout
        self._lock = LoopLock()
        #: The writes that share the open transaction, until it commits.
        self.group: _CommitGroup[W] | None = None

    @asynccontextmanager
    async def _turn(self, wait: float | None) -> AsyncIterator[None]:
        """Hold the writer; within ``wait`` seconds, or the write is busy."""
        lock = self._lock()
        try:
            async with asyncio.timeout(wait):
                await lock.acquire()
        except TimeoutError as error:
            raise DatabaseBusyError(
                f"{self._location}: other writes held the writer for {wait:g} s"
            ) from error
        try:
            yield
        finally:
            lock.release()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[W]:
        """Hold the writer for one write, then wait for the commit of its group."""
        async with self._turn(self._timeout):
            group = self.group
            if group is not None and (
                group.savepoints == MOST_SAVEPOINTS
                or group.committer.done()
                or group.writer.ungrouped
            ):
                # Full, its committer gone (cancelled with its event loop), or
                # a schema step's: committed now, and this write begins the
                # next transaction.
                await self._commit(group)
                group = None
            writer = await self._acquire() if group is None else group.writer
            savepoint = ""
            try:
                # Inside the try: a request cancelled (a client gone) while
                # BEGIN is on its way may still have the statement run, and
                # must roll it back.
                if group is None:
                    await writer.begin()
                else:
                    group.savepoints += 1
                    savepoint = f"write_{group.savepoints}"
                    # Never released: the group's COMMIT ends every savepoint.
                    await _to_the_end(writer.savepoint(savepoint))
                yield writer
            except BaseException:
                # Never stopped half-way by the request's cancellation.
                await _to_the_end(self._undo(writer, group, savepoint))
                raise
            group = group or self._start_group(writer)
        await asyncio.shield(group.committed)

    def _start_group(self, writer: W) -> _CommitGroup[W]:
        """Open a group on the transaction a write just began; its committer waits for the
        writer behind the writes already waiting for it."""
        group = self.group = _CommitGroup(writer, self._commit_in_turn)
        return group

    async def _undo(self, writer: W, group: _CommitGroup[W] | None, savepoint: str) -> None:
        """Undo a write that raised: to its savepoint, or the whole transaction if it began it."""
        if group is not None:
            try:
                await writer.rollback_to(savepoint)
                return
            except Exception:
                # The failure ended the transaction (SQLite rolls back the whole
                # of it on a full disk, say): the group's writes are lost too.
                self.group = None
                group.tell(
                    DatabaseUnavailableError("the write was lost with another in its transaction")
                )
        try:
            await writer.rollback()
        finally:
            await self._release(writer)

    async def _commit_in_turn(self, group: _CommitGroup[W]) -> None:
        """Commit ``group`` once the writes queued before this call have joined it."""
        async with self._turn(None):
            if self.group is group:
                await self._commit(group)

    async def _commit(self, group: _CommitGroup[W]) -> None:
        """Commit the group (the caller holds the writer) to the end, so that cancelling
        the caller (a server stopping) leaves no write without its answer."""
        self.group = None
        await _to_the_end(self._end(group))

    async def _end(self, group: _CommitGroup[W]) -> None:
        try:
            await group.commit()
        finally:
            await self._release(group.writer)

    @asynccontextmanager
    async def drained(self) -> AsyncIterator[None]:
        """Hold the writer with no write left waiting for its commit: to close the connections.

        A write that comes meanwhile waits, then opens a connection of its own.
        """
        async with self._turn(None):
            if self.group is not None:
                await self._commit(self.group)
            yield
