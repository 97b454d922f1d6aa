"""A process's writer commits the writes that queued for it together, each whole or not at all.

On both backends: the queue is one piece of code (``quart_flaskr/db/writes.py``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiosqlite
import pytest
from psycopg_pool import AsyncConnectionPool

from quart_flaskr.db import Database
from quart_flaskr.db import DatabaseUnavailableError
from quart_flaskr.db import ReferenceGoneError
from quart_flaskr.db import SQLiteDatabase
from quart_flaskr.db import Transaction
from quart_flaskr.db.postgres import PostgresDatabase
from quart_flaskr.db.postgres import PostgresWriter
from quart_flaskr.db.sqlite import SQLiteWriter
from quart_flaskr.db.writes import Writer

#: Writes sent at once in each test: the first takes the writer, the rest queue.
WRITES = 8
#: Each backend's writer.
WRITERS: dict[str, type[Writer]] = {
    "sqlite": SQLiteWriter,
    "postgresql": PostgresWriter,
}

#: PostgreSQL: the transactions the test's writes ran in, by id (``note_transaction``).
transaction_ids: set[int] = set()


@pytest.fixture(autouse=True)
def no_transactions_noted() -> None:
    transaction_ids.clear()


@pytest.fixture(autouse=True)
async def every_connection_handed_back(db: Database) -> AsyncIterator[None]:
    """PostgreSQL: once the test's writes are over, the pool has every connection back."""
    yield
    if isinstance(db, PostgresDatabase) and db._pool is not None:
        # The pool may still be adding a connection for requests that waited: up to 5 s.
        for _ in range(100):
            stats = db._pool.get_stats()
            if stats.get("pool_available", 0) == stats["pool_size"]:
                break
            await asyncio.sleep(0.05)
        assert stats.get("pool_available", 0) == stats["pool_size"]


async def note_transaction(tx: Transaction) -> None:
    """PostgreSQL: note the (top-level) transaction a write runs in, to count commits by."""
    if isinstance(tx, PostgresWriter):
        row = await tx.fetch_one("SELECT txid_current()")
        assert row is not None
        transaction_ids.add(int(row[0]))


async def commits(db: Database) -> int:
    """Transactions committed so far.

    SQLite: the change counter of the WAL-index header, bytes 8-11 of the
    ``-shm`` file, in the machine's byte order (https://sqlite.org/walformat.html;
    ``WalIndex.read`` reads it little-endian). PostgreSQL: the transactions
    the test's writes noted that committed, as the server reports them.
    """
    if isinstance(db, PostgresDatabase):
        statuses = await db.fetch_all(
            "SELECT pg_xact_status(id::text::xid8) FROM unnest(?::bigint[]) AS id",
            (sorted(transaction_ids),),
        )
        return sum(row[0] == "committed" for row in statuses)
    assert isinstance(db, SQLiteDatabase)
    await db.fetch_one("SELECT 1")  # Opens the reader, which maps the WAL index.
    assert sys.byteorder == "little"
    assert db._wal_index is not None
    header = db._wal_index.read()
    assert header is not None
    return (header >> 64) & 0xFFFF_FFFF


async def tag_names(db: Database) -> list[str]:
    """The names of the tags stored, as another request would read them."""
    return [row[0] for row in await db.fetch_all("SELECT name FROM tag ORDER BY id")]


def tag(number: int) -> str:
    return f"write-{number}"


async def add_tag(db: Database, number: int) -> None:
    """One write: a tag, then read back from outside the transaction once it has returned."""
    async with db.transaction() as tx:
        await note_transaction(tx)
        await tx.insert("INSERT INTO tag (name) VALUES (?)", (tag(number),))
    # Committed by the time the write returns: the next read anywhere sees it.
    assert tag(number) in await tag_names(db)


async def test_writes_that_queued_commit_together(db: Database) -> None:
    before = await commits(db)
    await asyncio.gather(*(add_tag(db, number) for number in range(WRITES)))
    assert await tag_names(db) == [tag(number) for number in range(WRITES)]
    assert await commits(db) == before + 1
    # One at a time, each commits on its own.
    await add_tag(db, WRITES)
    await add_tag(db, WRITES + 1)
    assert await commits(db) == before + 3


@pytest.mark.parametrize("refusal", [ValueError, ReferenceGoneError])
@pytest.mark.parametrize("failing", [0, 3, WRITES - 1])
async def test_a_write_that_raises_undoes_only_itself(
    db: Database, failing: int, refusal: type[Exception]
) -> None:
    """The first write of a group rolls back the transaction; a later one, its savepoint.

    Whether the write raised or the database refused one of its statements (a
    post by an account deleted meanwhile), which on PostgreSQL fails the
    transaction until the undo.
    """

    async def write(number: int) -> None:
        async with db.transaction() as tx:
            await note_transaction(tx)
            await tx.insert("INSERT INTO tag (name) VALUES (?)", (tag(number),))
            await tx.execute("UPDATE post SET title = ? WHERE id = 1", (tag(number),))
            if number == failing:
                if refusal is ReferenceGoneError:
                    await tx.insert(
                        "INSERT INTO post (title, body, author_id) VALUES ('t', '', 99)"
                    )
                raise ValueError("refused")

    before = await commits(db)
    results = await asyncio.gather(
        *(write(number) for number in range(WRITES)), return_exceptions=True
    )
    # The first write failing leaves the others a transaction of their own.
    assert await commits(db) == before + 1
    assert [type(result) for result in results] == [
        refusal if number == failing else type(None) for number in range(WRITES)
    ]
    assert await tag_names(db) == [tag(n) for n in range(WRITES) if n != failing]
    last = WRITES - 2 if failing == WRITES - 1 else WRITES - 1
    row = await db.fetch_one("SELECT title FROM post WHERE id = 1")
    assert row is not None and row[0] == tag(last)


@pytest.mark.parametrize("cancels", [1, 2])
async def test_a_write_cancelled_in_a_group_undoes_only_itself(db: Database, cancels: int) -> None:
    """Cancelled again while its savepoint is rolled back, it holds the writer till that is done."""
    inside = asyncio.Event()

    async def stuck() -> None:
        async with db.transaction() as tx:
            await note_transaction(tx)
            await tx.insert("INSERT INTO tag (name) VALUES ('cancelled')")
            inside.set()
            await asyncio.sleep(60)

    before = await commits(db)
    first = asyncio.create_task(add_tag(db, 0))
    await asyncio.sleep(0)  # The first write takes the writer, the stuck one queues...
    task = asyncio.create_task(stuck())
    others = [asyncio.create_task(add_tag(db, number)) for number in range(1, WRITES)]
    await inside.wait()  # ...and holds it while the others queue behind it.
    for _ in range(cancels):
        task.cancel()
        await asyncio.sleep(0)
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.gather(first, *others)
    assert await tag_names(db) == [tag(number) for number in range(WRITES)]
    assert await commits(db) == before + 1


async def test_a_write_cancelled_twice_holds_the_writer_until_its_undo_is_done(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled again while its undo is on its way (a server stopping after the client went),
    a write still holds the writer until the undo is done: here it finds the transaction
    ended, so the write before it is lost, and the writes queued behind it begin anew."""
    gate, inside = asyncio.Event(), asyncio.Event()

    async def ended(self: Writer, name: str) -> None:
        await gate.wait()
        raise DatabaseUnavailableError("the transaction ended")

    monkeypatch.setattr(WRITERS[db.dialect], "rollback_to", ended)

    async def stuck() -> None:
        async with db.transaction() as tx:
            await tx.insert("INSERT INTO tag (name) VALUES ('cancelled')")
            inside.set()
            await asyncio.sleep(60)

    first = asyncio.create_task(add_tag(db, 0))
    await asyncio.sleep(0)  # The first write takes the writer, the stuck one queues...
    task = asyncio.create_task(stuck())
    others = [asyncio.create_task(add_tag(db, number)) for number in range(1, WRITES)]
    await inside.wait()  # ...joins the first's group, and the others queue behind it.
    group = db._writes.group  # type: ignore[attr-defined]
    task.cancel()
    await asyncio.sleep(0.01)  # Its undo waits at the gate...
    task.cancel()
    await asyncio.sleep(0.05)  # ...and is not cut short by a second cancellation:
    assert group.savepoints == 1  # no write has joined the group meanwhile.
    assert not task.done()
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    results = await asyncio.gather(first, *others, return_exceptions=True)
    assert isinstance(results[0], DatabaseUnavailableError)
    assert results[1:] == [None] * (WRITES - 1)
    assert await tag_names(db) == [tag(number) for number in range(1, WRITES)]


async def test_a_full_group_commits_before_the_next_write_begins(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group takes in at most MOST_SAVEPOINTS writes after its first (here 2)."""
    monkeypatch.setattr("quart_flaskr.db.writes.MOST_SAVEPOINTS", 2)
    before = await commits(db)
    await asyncio.gather(*(add_tag(db, number) for number in range(WRITES)))
    assert await tag_names(db) == [tag(number) for number in range(WRITES)]
    assert await commits(db) == before + 3  # 3 + 3 + 2 writes


async def test_a_group_whose_committer_was_cancelled_is_committed_by_the_next_write(
    db: Database,
) -> None:
    """An event loop ending cancels its tasks: the next write commits what was left waiting."""
    written = asyncio.Event()

    async def first_write() -> None:
        async with db.transaction() as tx:
            await note_transaction(tx)
            await tx.insert("INSERT INTO tag (name) VALUES (?)", (tag(0),))
            written.set()

    before = await commits(db)
    first = asyncio.create_task(first_write())
    await written.wait()  # The first write's body is done; its group waits to commit...
    group = db._writes.group  # type: ignore[attr-defined]
    group.committer.cancel()  # ...and its committer is cancelled.
    await asyncio.sleep(0.01)
    assert group.committer.cancelled() and not first.done()
    await add_tag(db, 1)
    await asyncio.wait_for(first, 5)
    assert await tag_names(db) == [tag(0), tag(1)]
    assert await commits(db) == before + 2


#: A statement that runs long enough to be cancelled on its way, on each backend.
SLOW_STATEMENT = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)"
    " SELECT count(*) FROM n",
    "postgresql": "SELECT pg_sleep(10)",
}


async def test_a_write_cancelled_mid_statement_undoes_only_itself(db: Database) -> None:
    """A client gone while its write's statement runs: the others in its group are kept."""
    inside = asyncio.Event()

    async def slow() -> None:
        async with db.transaction() as tx:
            await tx.insert("INSERT INTO tag (name) VALUES ('cancelled')")
            inside.set()
            await tx.fetch_one(SLOW_STATEMENT[db.dialect])

    before = await commits(db)
    first = asyncio.create_task(add_tag(db, 0))
    await asyncio.sleep(0)  # The first write takes the writer, the slow one queues...
    task = asyncio.create_task(slow())
    others = [asyncio.create_task(add_tag(db, number)) for number in range(1, WRITES)]
    await inside.wait()
    await asyncio.sleep(0.05)  # ...and its statement is under way when it is cancelled.
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(asyncio.gather(first, *others), 20)
    assert await tag_names(db) == [tag(number) for number in range(WRITES)]
    assert await commits(db) == before + 1


async def test_a_write_that_ends_the_transaction_fails_its_group_clearly(
    db: Database,
) -> None:
    """SQLite rolls a whole transaction back on some errors (a full disk, say).

    The writes before it in the group are lost with it: they raise, as an
    unavailable database does (503), instead of returning as if stored. The
    writes queued after it go on in a transaction of their own.
    """
    ending = 3

    async def write(number: int) -> None:
        if number != ending:
            return await add_tag(db, number)
        async with db.transaction() as tx:
            await tx.insert("INSERT INTO tag (name) VALUES (?)", (tag(number),))
            await tx.execute("ROLLBACK")
            raise ValueError("the transaction ended under it")

    results = await asyncio.gather(
        *(write(number) for number in range(WRITES)), return_exceptions=True
    )
    assert [type(result) for result in results] == (
        [DatabaseUnavailableError] * ending + [ValueError] + [type(None)] * (WRITES - ending - 1)
    )
    assert "lost with another" in str(results[0])
    assert await tag_names(db) == [tag(number) for number in range(ending + 1, WRITES)]


#: A foreign key checked only at commit, and a row that breaks it, on each backend.
BROKEN_AT_COMMIT = {
    "sqlite": (
        "PRAGMA defer_foreign_keys = ON",
        "INSERT INTO post (title, body, author_id) VALUES ('t', '', 99)",
    ),
    "postgresql": (
        "CREATE TABLE broken (tag_id INTEGER REFERENCES tag (id) DEFERRABLE INITIALLY DEFERRED)",
        "INSERT INTO broken (tag_id) VALUES (99)",
    ),
}


async def test_a_commit_that_fails_fails_every_write_in_it(db: Database) -> None:
    """Here a foreign key checked at commit: nothing of the group is stored; the writer goes on."""
    breaking = 5

    async def write(number: int) -> None:
        if number != breaking:
            return await add_tag(db, number)
        async with db.transaction() as tx:
            for statement in BROKEN_AT_COMMIT[db.dialect]:
                await tx.execute(statement)

    before = await commits(db)
    results = await asyncio.gather(
        *(write(number) for number in range(WRITES)), return_exceptions=True
    )
    # All queued while the first held the writer, so all share its transaction.
    assert all(isinstance(result, ReferenceGoneError) for result in results)
    assert await tag_names(db) == []
    assert await commits(db) == before
    await add_tag(db, WRITES)
    assert await tag_names(db) == [tag(WRITES)]


async def close_during_a_write(db: Database) -> tuple[asyncio.Task[None], ...]:
    """A write, and close() queued for the writer while the write held it: both tasks."""
    inside, release = asyncio.Event(), asyncio.Event()

    async def write() -> None:
        async with db.transaction() as tx:
            await tx.insert("INSERT INTO tag (name) VALUES ('kept')")
            inside.set()
            await release.wait()
            await tx.insert("INSERT INTO tag (name) VALUES ('after')")

    writing = asyncio.create_task(write())
    await inside.wait()
    closing = asyncio.create_task(db.close())
    await asyncio.sleep(0)  # close() waits for the writer...
    release.set()  # ...the write goes on, then waits for its commit, which close() makes.
    return writing, closing


#: What closes a backend's connections: aiosqlite's connections, psycopg's pool.
CLOSERS: dict[str, Any] = {"sqlite": aiosqlite.Connection, "postgresql": AsyncConnectionPool}


async def test_closing_commits_the_writes_waiting_for_their_commit(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """close() queued for the writer before the group's commit did: it commits the group
    itself, before it closes the connections."""
    events: list[str] = []
    writer, closer = WRITERS[db.dialect], CLOSERS[db.dialect]
    commit, close = writer.commit, closer.close

    async def noted_commit(self: Writer) -> None:
        await commit(self)
        events.append("commit")

    async def noted_close(self: object, *args: Any) -> None:
        events.append("close")
        await close(self, *args)

    monkeypatch.setattr(writer, "commit", noted_commit)
    monkeypatch.setattr(closer, "close", noted_close)
    await asyncio.gather(*await close_during_a_write(db))
    assert events[0] == "commit" and "close" in events
    monkeypatch.undo()
    # Read again on connections of its own (closed, it opens new ones).
    assert await tag_names(db) == ["kept", "after"]


async def test_a_write_that_comes_while_closing_waits_and_reopens(db: Database) -> None:
    await add_tag(db, 0)
    closing = asyncio.create_task(db.close())
    await asyncio.sleep(0)  # close() holds the writer...
    await add_tag(db, 1)  # ...so this waits, then opens a connection of its own.
    await closing
    assert await tag_names(db) == [tag(0), tag(1)]


async def test_a_cancelled_close_still_answers_the_writes_it_commits(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server stopping may cancel close() mid-commit: the commit goes on; its writes return."""
    gate = asyncio.Event()
    writer = WRITERS[db.dialect]
    commit = writer.commit

    async def slow_commit(self: Writer) -> None:
        await gate.wait()
        await commit(self)

    monkeypatch.setattr(writer, "commit", slow_commit)
    writing, closing = await close_during_a_write(db)
    while not closing.done() and not gate.is_set():
        await asyncio.sleep(0.01)
        if db._writes.group is None:  # type: ignore[attr-defined]  # close() is in the commit, held at the gate.
            closing.cancel()
            gate.set()
    with pytest.raises(asyncio.CancelledError):
        await closing
    await asyncio.wait_for(writing, 5)
    assert await tag_names(db) == ["kept", "after"]


async def test_a_commit_that_fails_and_cannot_roll_back_still_answers(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Writer) -> None:
        raise DatabaseUnavailableError("disk I/O error")

    async def write() -> None:
        async with db.transaction() as tx:
            await tx.insert("INSERT INTO tag (name) VALUES ('lost')")
            monkeypatch.setattr(WRITERS[db.dialect], "commit", broken)
            monkeypatch.setattr(WRITERS[db.dialect], "rollback", broken)

    with pytest.raises(DatabaseUnavailableError, match="disk I/O"):
        await asyncio.wait_for(write(), 5)
    monkeypatch.undo()
    # The transaction left open is ended by the next write (SQLite) or by the
    # pool it went back to (PostgreSQL); the next write commits.
    await add_tag(db, 0)
    assert await tag_names(db) == [tag(0)]
