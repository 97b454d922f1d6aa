"""The PostgreSQL server the bench loads: found or started, a database per instance, its CPU."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from collections.abc import Iterator

import psutil
import psycopg
from psycopg import sql

from bench.errors import BenchError
from tests.harness.postgres import new_database
from tests.harness.postgres import NoServerError
from tests.harness.postgres import postgres_server

#: The prefix of the bench's databases' names (each dropped at the end of its run).
DATABASE_PREFIX = "quart_flaskr_bench"


@contextlib.contextmanager
def server() -> Iterator[str]:
    """The URL of a server's maintenance database: the local one, ``$QUART_FLASKR_TEST_POSTGRES``'s,
    or a throwaway cluster's (see tests/harness/postgres.py)."""
    try:
        with postgres_server() as url:
            yield url
    except NoServerError as error:
        raise BenchError(str(error)) from error


@contextlib.contextmanager
def database(server_url: str) -> Iterator[str]:
    """An empty database until the block ends; its URL.

    The tests' databases do not wait for the disk at commit; this one keeps
    the server's ``synchronous_commit``, as a production database does.
    """
    with new_database(server_url, DATABASE_PREFIX) as url:
        name = url.rpartition("/")[2]
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("ALTER DATABASE {} RESET synchronous_commit").format(sql.Identifier(name))
            )
        yield url


class ServerCpu:
    """CPU time of a PostgreSQL server's processes: the postmaster and all its children but the
    backends of other databases' clients (a bench's databases share their names' prefix).

    Backends that start and end between two readings are missed; the server's
    shared work (WAL writer, checkpointer, autovacuum) is counted whoever caused it.
    """

    def __init__(self, postmaster: psutil.Process) -> None:
        self._postmaster = postmaster

    @staticmethod
    def of(url: str) -> ServerCpu | None:
        """The server ``url`` reaches, when its processes are visible from here; else None."""
        try:
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT pg_backend_pid()").fetchone()
                postmaster = psutil.Process(int(row[0])).parent() if row else None
        except (psutil.Error, psycopg.Error):
            return None
        return None if postmaster is None else ServerCpu(postmaster)

    def reading(self) -> dict[int, float]:
        """Seconds of CPU each of the server's processes has used so far."""
        try:
            processes = [self._postmaster, *self._postmaster.children(recursive=True)]
        except psutil.Error:
            return {}
        return dict(_cpu_seconds(process for process in processes if _ours(process)))

    @staticmethod
    def used(before: dict[int, float], after: dict[int, float]) -> float:
        """Seconds of CPU used between two readings (a process new since ``before``: all of it)."""
        return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _ours(process: psutil.Process) -> bool:
    """Whether a server process works for the bench: not a backend of another database.

    A backend's title is ``postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE`` (or
    ``[local]``); the server's own processes have other titles (``postgres: walwriter``).
    """
    try:
        title = process.cmdline()
    except psutil.Error:
        return False
    words = " ".join(title).removeprefix("postgres: ").split()
    if words and words[0].endswith(":"):
        words = words[1:]
    client = len(words) >= 3 and ("(" in words[2] or words[2] == "[local]")
    return not client or words[1].startswith(DATABASE_PREFIX)


def _cpu_seconds(processes: Iterable[psutil.Process]) -> Iterator[tuple[int, float]]:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            yield process.pid, times.user + times.system
