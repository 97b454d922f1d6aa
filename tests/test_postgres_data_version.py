"""PostgreSQL's data version: callers asking together share a read, never one begun earlier."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from quart_flaskr.db import DatabaseUnavailableError
from quart_flaskr.db import Params
from quart_flaskr.db import Row
from quart_flaskr.db.postgres import PostgresDatabase
from quart_flaskr.db.postgres import row_class


class Server:
    """Stands in for the server: each read takes the version committed when it is sent."""

    def __init__(self) -> None:
        self.committed = 1
        self.sent: list[int] = []
        self.replies: list[asyncio.Future[None]] = []

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        assert sql == "SELECT version FROM data_version"
        self.sent.append(self.committed)
        version = self.committed
        reply = asyncio.get_running_loop().create_future()
        self.replies.append(reply)
        await reply
        return row_class((b"version",))([version])

    def answer(self, read: int, error: Exception | None = None) -> None:
        if error is None:
            self.replies[read].set_result(None)
        else:
            self.replies[read].set_exception(error)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Server:
    server = Server()
    monkeypatch.setattr(PostgresDatabase, "fetch_one", lambda _, *args: server.fetch_one(*args))
    return server


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def reading_and_waiting(
    database: PostgresDatabase, waiting: int
) -> tuple[asyncio.Task[int], list[asyncio.Task[int]]]:
    """A caller whose read is under way, and ``waiting`` more that asked after it."""
    reading = asyncio.create_task(database.data_version())
    await settle()
    later = [asyncio.create_task(database.data_version()) for _ in range(waiting)]
    await settle()
    return reading, later


async def test_callers_asking_during_a_read_wait_for_the_next_one(server: Server) -> None:
    database = PostgresDatabase("postgresql:///blog")
    first = asyncio.create_task(database.data_version())
    await settle()
    assert server.sent == [1]
    # A write commits while the first read is on its way: whoever asks now
    # must not be answered by that read.
    server.committed = 2
    later = [asyncio.create_task(database.data_version()) for _ in range(10)]
    await settle()
    assert server.sent == [1]  # the next read waits for the one under way
    server.answer(0)
    await settle()
    assert first.result() == 1
    assert server.sent == [1, 2]  # one read for all ten
    server.committed = 3
    last = asyncio.create_task(database.data_version())
    server.answer(1)
    await settle()
    assert [caller.result() for caller in later] == [2] * 10
    assert server.sent == [1, 2, 3]
    server.answer(2)
    assert await last == 3
    # Nothing under way: the next caller reads at once.
    reading = asyncio.create_task(database.data_version())
    await settle()
    assert server.sent == [1, 2, 3, 3]
    server.answer(3)
    assert await reading == 3


async def test_a_failed_read_fails_everyone_it_answers_and_the_next_read_is_new(
    server: Server,
) -> None:
    database = PostgresDatabase("postgresql:///blog")
    first, sharing = await reading_and_waiting(database, 3)
    server.answer(0)
    await settle()
    assert await first == 1
    server.answer(1, DatabaseUnavailableError("the server went away"))
    for caller in sharing:
        with pytest.raises(DatabaseUnavailableError, match="went away"):
            await caller
    again = asyncio.create_task(database.data_version())
    await settle()
    server.answer(2)
    assert await again == 1
    assert len(server.sent) == 3


async def test_a_caller_cancelled_leaves_the_others_their_read(server: Server) -> None:
    database = PostgresDatabase("postgresql:///blog")
    reading, waiting = await reading_and_waiting(database, 2)
    # The caller whose own task reads goes (a client hung up): the read after it starts.
    reading.cancel()
    await settle()
    assert server.sent == [1, 1]
    # One of those waiting for that read goes too: the other still gets it.
    waiting[0].cancel()
    await settle()
    server.answer(1)
    assert await waiting[1] == 1
    assert waiting[0].cancelled()


async def test_the_read_after_is_given_up_when_its_callers_are_cancelled_before_it_starts(
    server: Server,
) -> None:
    # As when the event loop ends, cancelling every task: a read left queued
    # would otherwise answer every later caller with its cancellation.
    database = PostgresDatabase("postgresql:///blog")
    reading, (waiting,) = await reading_and_waiting(database, 1)
    for task in asyncio.all_tasks():
        if task.get_coro().__qualname__ == "PostgresDatabase._read_next_data_version":  # type: ignore[union-attr]
            task.cancel()
    await settle()
    assert waiting.cancelled()
    server.answer(0)
    assert await reading == 1
    later = asyncio.create_task(database.data_version())
    await settle()
    server.answer(1)
    assert await later == 1
    assert server.sent == [1, 1]


async def test_a_caller_waiting_for_the_next_read_waits_no_longer_than_the_timeout(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    # The database is away: the read under way waits out the whole timeout
    # (here it never answers), and the read after it would wait as long again.
    database = PostgresDatabase("postgresql://blog:secret@db/blog", timeout=0.2)
    reading, (waiting,) = await reading_and_waiting(database, 1)
    started = asyncio.get_running_loop().time()
    with pytest.raises(
        DatabaseUnavailableError, match=r"blog:\*\*\*@db/blog: no answer within 0.2 s"
    ):
        await waiting
    assert 0.15 < asyncio.get_running_loop().time() - started < 1.0
    # The read it waited for fails later, with nobody left to tell: no
    # "Task exception was never retrieved" in the server's log.
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        server.answer(0)
        await settle()
        server.answer(1, DatabaseUnavailableError("the server went away"))
        await settle()
        assert await reading == 1
        del waiting
        gc.collect()
    assert not caplog.records


async def test_on_the_server_requests_asking_at_once_share_reads(postgres_url: str) -> None:
    database = PostgresDatabase(postgres_url)
    await database.migrate()
    sent: list[str] = []
    fetch_one = PostgresDatabase.fetch_one

    async def counting(self: PostgresDatabase, sql: str, params: Params = ()) -> Row | None:
        sent.append(sql)
        return await fetch_one(self, sql, params)

    try:
        versions = await asyncio.gather(*(database.data_version() for _ in range(20)))
        assert len(set(versions)) == 1
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(PostgresDatabase, "fetch_one", counting)
            assert await asyncio.gather(*(database.data_version() for _ in range(20))) == versions
        assert 1 <= len(sent) <= 2
    finally:
        await database.close()
