"""The PostgreSQL pool when the server ends its connections or goes away: requests get new ones."""

from __future__ import annotations

import asyncio
import select
import socket
import threading
import time
from typing import Any

import psycopg
import pytest
from psycopg import sql

from quart_flaskr.db import DatabaseUnavailableError
from quart_flaskr.db.postgres import _has_input
from quart_flaskr.db.postgres import PostgresDatabase
from tests.harness.postgres import end_connections
from tests.harness.postgres import new_database
from tests.harness.postgres import throwaway_cluster
from tests.harness.relay import Relay


async def test_idle_connections_the_server_ended_fail_no_request(postgres_url: str) -> None:
    database = PostgresDatabase(postgres_url, timeout=2.0)
    try:
        # Requests arriving together fill the pool with several connections.
        await asyncio.gather(*(database.fetch_one("SELECT pg_sleep(0.2)") for _ in range(4)))
        assert database._pool is not None
        idle = database._pool.get_stats()["pool_available"]
        assert idle >= 2
        assert end_connections(postgres_url) == idle
        # Each ended connection is found and replaced before a request uses it,
        # without a wait between them that would outlast the timeout.
        for number in range(idle + 1):
            row = await database.fetch_one("SELECT ?::int", (number,))
            assert row is not None and row[0] == number
    finally:
        await database.close()


def allow_connections(server_url: str, database_url: str, allowed: bool) -> None:
    """Let connections to the database in, or turn every new one away (superusers' too)."""
    name = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
                sql.Identifier(str(name)), sql.Literal(allowed)
            )
        )


async def test_a_request_whose_connection_was_ended_waits_no_longer_than_its_timeout(
    postgres_server_url: str, postgres_url: str
) -> None:
    timeout = 1.0
    database = PostgresDatabase(postgres_url, pool_size=1, timeout=timeout)
    try:
        assert await database.fetch_one("SELECT 1") is not None
        async with database._connection():
            # The pool's one connection is out; the server ends it and lets no new one in.
            assert end_connections(postgres_url) == 1
            allow_connections(postgres_server_url, postgres_url, False)
            started = time.monotonic()
            request = asyncio.create_task(database.fetch_one("SELECT 1"))
            # The request waits three quarters of its timeout for that connection.
            await asyncio.sleep(0.75 * timeout)
        # Found ended, it is handed back; no other comes: the request fails
        # when its own timeout is up, not a whole timeout after it took that one.
        with pytest.raises(DatabaseUnavailableError):
            await asyncio.wait_for(request, 5 * timeout)
        elapsed = time.monotonic() - started
        assert database._pool is not None
        assert database._pool.get_stats().get("returns_bad") == 1
        assert 0.9 * timeout < elapsed < 1.4 * timeout
    finally:
        await database.close()
        allow_connections(postgres_server_url, postgres_url, True)


async def test_taking_a_connection_from_the_pool_costs_no_round_trip(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = PostgresDatabase(postgres_url)
    sent: list[str] = []
    execute = psycopg.AsyncConnection.execute

    async def counting(conn: psycopg.AsyncConnection[Any], query: Any, *args: Any) -> Any:
        sent.append(str(query))
        return await execute(conn, query, *args)

    try:
        assert await database.fetch_one("SELECT 1") is not None
        monkeypatch.setattr(psycopg.AsyncConnection, "execute", counting)
        for number in range(3):
            row = await database.fetch_one("SELECT ?::int", (number,))
            assert row is not None and row[0] == number
        # A connection the pool opens meanwhile is set up by statements of its own.
        assert [query for query in sent if not query.startswith("SET ")] == ["SELECT %s::int"] * 3
    finally:
        await database.close()


@pytest.mark.parametrize("poll", [True, False], ids=["poll", "select"])
def test_a_socket_is_looked_at_without_waiting(poll: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not poll:
        # As on Windows.
        monkeypatch.delattr(select, "poll")
    ours, servers = socket.socketpair()
    with ours, servers:
        # Looked at in a thread: a look that waited would hold up every request
        # (and one that waited for input, forever); here it fails the test.
        answers: list[bool] = []
        looking = threading.Thread(
            target=lambda: answers.append(_has_input(ours.fileno())), daemon=True
        )
        looking.start()
        looking.join(0.5)
        waited = looking.is_alive()
        servers.close()  # Input at last: a waiting look returns.
        looking.join()
        assert not waited
        assert answers == [False]
        assert _has_input(ours.fileno())


async def test_the_first_request_after_an_outage_connects() -> None:
    with throwaway_cluster() as cluster, new_database(cluster.url) as url:
        database = PostgresDatabase(url, timeout=1.0)
        try:
            assert await database.fetch_one("SELECT 1") is not None
            await asyncio.to_thread(cluster.stop)
            # Requests keep failing for a while: the pool's tries to connect
            # again back off, 1 s, 2 s, 4 s... apart.
            away = time.monotonic()
            while time.monotonic() - away < 4:
                with pytest.raises(DatabaseUnavailableError):
                    await database.fetch_one("SELECT 1")
            await asyncio.to_thread(cluster.start)
            # The next request does not wait for the next of those tries.
            row = await database.fetch_one("SELECT 2")
            assert row is not None and row[0] == 2
        finally:
            await database.close()


async def test_a_server_that_answers_nothing_is_given_up_on(postgres_url: str) -> None:
    """Frozen, or behind a network that drops everything: no error ever comes, and a request
    (a cached page's data version read too) or a write would wait for its answer for ever. Each
    is a DatabaseUnavailableError (a 503) once it has waited as long as the server would let
    the statement run, and a little; closing, as at SIGTERM, then waits for nothing."""
    async with Relay(postgres_url) as relay:
        database = PostgresDatabase(relay.url, timeout=0.5)
        try:
            async with asyncio.timeout(60):  # Not a limit the test measures: it must not hang.
                await database.migrate()
                await database.data_version()
                relay.go_silent()
                with pytest.raises(DatabaseUnavailableError, match=r"no answer within 1\.5 s"):
                    await database.data_version()
                with pytest.raises(DatabaseUnavailableError):
                    async with database.transaction() as tx:
                        await tx.insert("INSERT INTO tag (name) VALUES (?)", ("lost",))
        finally:
            async with asyncio.timeout(60):
                await database.close()
