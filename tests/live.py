"""Real servers for the slow tests: the app installed and started the way ops do it.

The wheel is built from this checkout and installed into a fresh virtual
environment outside it; the database and the secret key are made with the
installed ``quart`` command, and Hypercorn serves the app with the checkout's
``hypercorn.toml``, started by the harness (``tests/harness/``) as the bench
starts it. Every command runs in an empty directory, because Hypercorn puts the
current directory first on ``sys.path`` and the checkout's source folder would
shadow the installed package. Tests talk to the server with the harness's
client, as a browser would. The fixtures are in ``tests/fixtures/live.py``.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import closing
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness.http import answers
from tests.harness.http import Client
from tests.harness.hypercorn import hypercorn_command
from tests.harness.hypercorn import HYPERCORN_TOML
from tests.harness.hypercorn import reuseport_command
from tests.harness.hypercorn import ROOT
from tests.harness.processes import free_port
from tests.harness.processes import ServerProcess

APP = "quart_flaskr:create_app()"
#: How long Hypercorn gives in-flight requests after SIGTERM (its default is 3 s).
GRACEFUL_TIMEOUT = float(
    tomllib.loads(HYPERCORN_TOML.read_text("utf-8")).get("graceful_timeout", 3)
)
#: How long a server may take to answer after starting, or to exit after SIGTERM.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
#: The password of every account :func:`logged_in` makes.
PASSWORD = "correct-horse-battery"


def _environment(venv: Path) -> dict[str, str]:
    """This process's environment, minus what would change how the installed app runs."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTHON", "QUART_", "FLASK_", "COVERAGE_", "COV_CORE_"))
        and name != "VIRTUAL_ENV"
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # A process that dies of a signal (a crash in a C library) says where.
    env["PYTHONFAULTHANDLER"] = "1"
    return env


def _run(
    command: list[str], cwd: Path, env: Mapping[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, whatever its exit status; its output captured."""
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _check_run(command: list[str], cwd: Path, env: Mapping[str, str]) -> str:
    """Run a command to completion; fail the test with its output if it fails."""
    result = _run(command, cwd, env)
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited with {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    return result.stdout


@dataclass(frozen=True)
class Deployment:
    """quart_flaskr installed from its wheel into a virtual environment of its own."""

    venv: Path
    #: An empty directory, the working directory of every command.
    workdir: Path

    @property
    def instance(self) -> Path:
        """Where an installed (not editable) Quart app keeps its instance folder."""
        return self.venv / "var" / "quart_flaskr-instance"

    @property
    def database(self) -> Path:
        return self.instance / "quart_flaskr.sqlite"

    @property
    def config(self) -> Path:
        return self.instance / "config.py"

    @property
    def bin_dir(self) -> Path:
        return self.venv / "bin"

    @property
    def env(self) -> dict[str, str]:
        return _environment(self.venv)

    def program(self, name: str) -> str:
        return str(self.bin_dir / name)

    def run(self, name: str, *args: str) -> str:
        """Run one of the environment's programs; return its output, fail the test if it fails."""
        return _check_run([self.program(name), *args], self.workdir, self.env)

    def quart(self, *args: str) -> str:
        return self.run("quart", "--app", "quart_flaskr", *args)

    def try_quart(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run an operator command of the installed app, whatever its exit status."""
        command = [self.program("quart"), "--app", "quart_flaskr", *args]
        return _run(command, self.workdir, self.env, timeout=120)

    def init_db(self, force: bool = False) -> None:
        """Create the tables as ops do; ``force`` erases an existing database."""
        output = self.quart("init-db", *(["--force"] if force else []))
        assert "Initialized the database." in output
        assert self.database.is_file(), f"init-db did not create {self.database}"

    @contextmanager
    def read_only(self) -> Iterator[sqlite3.Connection]:
        """A connection that can only read the database file, closed when the block ends."""
        uri = f"{self.database.as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            yield conn

    def post_titles(self) -> list[str]:
        """The titles of all posts, read straight from the database file."""
        with self.read_only() as conn:
            return [str(row[0]) for row in conn.execute("SELECT title FROM post ORDER BY id")]


def install_from_wheel(tmp: Path) -> Deployment:
    """Build the checkout's wheel, then install it into a new venv under ``tmp``."""
    assert not tmp.resolve().is_relative_to(ROOT), "the venv must live outside the checkout"
    workdir = tmp / "work"
    workdir.mkdir()
    dist = tmp / "dist"
    venv = tmp / "venv"
    env = _environment(venv)
    _check_run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], workdir, env
    )
    wheels = sorted(dist.glob("quart_flaskr-*.whl"))
    assert len(wheels) == 1, wheels
    _check_run([sys.executable, "-m", "venv", str(venv)], workdir, env)
    _check_run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheels[0])],
        workdir,
        env,
    )
    return Deployment(venv=venv, workdir=workdir)


class StillRunningError(AssertionError):
    """A server did not exit when it should have."""


class Server(ServerProcess):
    """Hypercorn serving the installed app on a loopback port of its own.

    With ``processes``, that many Hypercorns share the port instead, each on a
    socket of its own opened with SO_REUSEPORT, as systemd's socket units do in
    the README (``bench/reuseport.py`` opens them and passes signals on).
    """

    def __init__(self, deployment: Deployment, log_dir: Path, processes: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        #: How many Hypercorns must say they run before the server is ready.
        self.servers = processes or 1
        command = (
            hypercorn_command(deployment.bin_dir, self.port, APP)
            if processes is None
            else reuseport_command(deployment.bin_dir, self.port, processes, APP)
        )
        super().__init__(
            command,
            cwd=deployment.workdir,
            stdout_path=log_dir / f"hypercorn-{self.port}.out",
            stderr_path=log_dir / f"hypercorn-{self.port}.err",
            env=deployment.env,
            name="Hypercorn",
        )

    def answers(self, timeout: float = 5.0) -> bool:
        """Whether ``/hello`` answers now."""
        return answers(self.url, "/hello", b"Hello, World!", timeout=timeout)

    def wait_until_ready(self, timeout: float = START_TIMEOUT) -> None:
        # Every Hypercorn sharing the port up, not only the first to answer.
        self.wait_until(
            lambda: self.stderr.count("] Running on ") >= self.servers and self.answers(),
            timeout,
            "answering",
        )

    def shut_down(self, timeout: float = STOP_TIMEOUT) -> float:
        """SIGTERM the first process only, as ``kill PID`` does; the seconds it took to exit.

        :raise StillRunningError: it still runs ``timeout`` seconds later.
        """
        started = time.monotonic()
        self.send_signal(signal.SIGTERM)
        if self.wait_for_exit(timeout) is None:
            raise StillRunningError(
                f"Hypercorn still runs {timeout} s after SIGTERM:\n{self.stderr}"
            )
        return time.monotonic() - started


@contextmanager
def configured(deployment: Deployment, *lines: str) -> Iterator[None]:
    """Append settings to the instance config.py; put the file back as it was afterwards."""
    saved = deployment.config.read_bytes()
    mode = deployment.config.stat().st_mode
    with deployment.config.open("a", encoding="utf-8") as config:
        config.write("\n" + "\n".join(lines) + "\n")
    try:
        yield
    finally:
        deployment.config.write_bytes(saved)
        os.chmod(deployment.config, mode)


@contextmanager
def serve(deployment: Deployment, log_dir: Path, processes: int | None = None) -> Iterator[Server]:
    """Serve the deployment until the block ends, then SIGTERM it.

    On leaving the block normally, a server still running must exit promptly
    and cleanly; whatever happens, no process of it is left behind.
    """
    with serve_hosts(deployment, log_dir, 1, processes) as (server,):
        yield server


@contextmanager
def serve_hosts(
    deployment: Deployment, log_dir: Path, count: int, processes: int | None = None
) -> Iterator[list[Server]]:
    """``count`` servers of the deployment, started at once, each on a port of its own.

    As several hosts of one blog would be: the same install and instance
    config, so with a shared ``DATABASE_URL`` they serve one blog. Each is
    stopped as :func:`serve` stops its one: SIGTERM, then a prompt and clean
    exit; whatever happens, no process of any is left behind.
    """
    servers: list[Server] = []
    try:
        for _ in range(count):
            servers.append(Server(deployment, log_dir, processes))
        for server in servers:
            server.wait_until_ready()
        yield servers
        for server in servers:
            if server.process.poll() is None:
                server.shut_down()
                assert server.process.returncode == 0, server.stderr
    finally:
        for server in servers:
            server.kill()


def logged_in(server: Server, username: str, password: str = PASSWORD) -> Client:
    """A browser that has registered ``username`` and logged in."""
    browser = Client(server.url)
    assert browser.register(username, password).location == "/auth/login"
    assert browser.login(username, password).location == "/"
    return browser


def no_server_errors(server: Server) -> None:
    """Nothing the server logged so far is a traceback or a 5xx answer."""
    assert "Traceback" not in server.stderr, server.stderr
    assert not re.search(r'" 5\d\d ', server.stdout), server.stdout
