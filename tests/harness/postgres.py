"""A PostgreSQL server for the tests and the bench: the one configured, or a throwaway cluster.

``QUART_FLASKR_TEST_POSTGRES`` names a server by the URL of a database to
connect to as a role that may create databases (by default the local
server's ``postgres`` database as ``postgres``). Where none answers there, a
cluster of Debian's PostgreSQL is made in a temporary folder, started on a
port of its own, and removed afterwards; as root, it runs as the
``postgres`` user, since PostgreSQL refuses to run as root. Databases are
created from ``template0`` with a UTF-8 character type, so that text search
lowers and splits any language's text whatever the server's locale.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from tests.harness.processes import free_port

#: The environment variable that names the server to use.
SERVER_URL_VARIABLE = "QUART_FLASKR_TEST_POSTGRES"
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
#: Where Debian's packages put each version's programs.
DEBIAN_BIN = Path("/usr/lib/postgresql")


class NoServerError(RuntimeError):
    """No PostgreSQL answers, and none could be started here."""


def answers(url: str) -> bool:
    """Whether a server answers at ``url`` and lets this role in."""
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def server_programs() -> Path:
    """The bin folder of the newest PostgreSQL installed from Debian's packages."""
    found = sorted(
        (path for path in DEBIAN_BIN.glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if not found:
        raise NoServerError(
            f"No PostgreSQL answers at {DEFAULT_SERVER_URL} (or ${SERVER_URL_VARIABLE}),"
            f" and none is installed under {DEBIAN_BIN}: install Debian's postgresql"
            " package ('python3 tasks.py test' does, as root)."
        )
    return found[-1]


def _as_server_user(command: list[str]) -> list[str]:
    """``command`` as the user the cluster runs as: postgres when this process is root."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@dataclass(frozen=True)
class Cluster:
    """A throwaway cluster: its postgres database's URL, and how to stop and start it again."""

    url: str
    #: The cluster's data folder, and the server's log.
    data: Path
    log: Path
    #: The server's options: its port, socket folder and settings.
    options: str
    programs: Path

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(
            _as_server_user([str(self.programs / "pg_ctl"), "--pgdata", str(self.data), *args]),
            check=check,
            capture_output=True,
        )

    def start(self) -> None:
        """Start the server (again); return once it accepts connections."""
        self._pg_ctl("--log", str(self.log), "--options", self.options, "--wait", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server as ``pg_ctl stop --mode`` does; return once it has stopped.

        ``fast`` ends every session and writes a checkpoint, as a service stop
        does; ``immediate`` ends the server at once, as a crash would.
        """
        self._pg_ctl("--mode", mode, "--wait", "stop")


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A new cluster on a free loopback port until the block ends."""
    programs = server_programs()
    folder = Path(tempfile.mkdtemp(prefix="quart-flaskr-postgres-"))
    data = folder / "data"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(programs / "initdb"),
                    "--pgdata",
                    str(data),
                    "--username",
                    "postgres",
                    "--auth",
                    "trust",
                    "--encoding",
                    "UTF8",
                    "--locale",
                    "C.UTF-8",
                ]
            ),
            check=True,
            capture_output=True,
        )
        cluster = Cluster(
            url=f"postgresql://postgres@127.0.0.1:{port}/postgres",
            data=data,
            log=folder / "server.log",
            options=f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off",
            programs=programs,
        )
        cluster.start()
        try:
            yield cluster
        finally:
            cluster._pg_ctl("--mode", "immediate", "stop", check=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """The URL of a server's maintenance database: the configured one, else a throwaway one.

    :raise NoServerError: the configured server does not answer, or none
        answers by default and none can be started
    """
    url = os.environ.get(SERVER_URL_VARIABLE)
    if url:
        if not answers(url):
            raise NoServerError(f"No PostgreSQL answers at ${SERVER_URL_VARIABLE} ({url}).")
        yield url
    elif answers(DEFAULT_SERVER_URL):
        yield DEFAULT_SERVER_URL
    else:
        with throwaway_cluster() as cluster:
            yield cluster.url


def database_url(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``server_url``."""
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}"


@contextlib.contextmanager
def new_database(server_url: str, prefix: str = "quart_flaskr_test") -> Iterator[str]:
    """An empty database of its own until the block ends; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'"
                " LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            ).format(sql.Identifier(name))
        )
        # Throwaway data: commits need not wait for the disk.
        admin.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name))
        )
    try:
        yield database_url(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def end_connections(url: str) -> int:
    """End every other connection to the database, as ``pg_terminate_backend`` does; how many."""
    with psycopg.connect(url, autocommit=True) as admin:
        ended = [
            pid
            for (pid,) in admin.execute(
                # Materialized: only this database's connections reach the call.
                "WITH others AS MATERIALIZED (SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid())"
                " SELECT pid FROM others WHERE pg_terminate_backend(pid)"
            )
        ]
        # Ended once gone from the list: each socket then holds the end of its stream.
        while admin.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s)", (ended,)
        ).fetchone():
            time.sleep(0.01)
    return len(ended)
