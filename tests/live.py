"""Real servers for the slow tests: the app installed and started the way ops do it.

The wheel is built from this checkout and installed into a fresh virtual
environment outside it; the database and the secret key are made with the
installed ``quart`` command, and Hypercorn serves the app with the checkout's
``hypercorn.toml``. Every command runs in an empty directory, because Hypercorn
puts the current directory first on ``sys.path`` and the checkout's source
folder would shadow the installed package. Pages are fetched with the standard
library, the way a browser would: cookies kept, forms posted with their CSRF
token, redirects followed only when asked.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
import urllib.parse
import urllib.request
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import closing
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest

#: The fixtures, which conftest.py imports.
__all__ = ["deployment", "fresh_deployment", "live_server"]

#: The checkout: what the wheel is built from.
ROOT = Path(__file__).resolve().parent.parent
HYPERCORN_TOML = ROOT / "hypercorn.toml"
APP = "quart_flaskr:create_app()"
#: How long Hypercorn gives in-flight requests after SIGTERM (its default is 3 s).
GRACEFUL_TIMEOUT = float(
    tomllib.loads(HYPERCORN_TOML.read_text("utf-8")).get("graceful_timeout", 3)
)
#: How long a server may take to answer after starting, or to exit after SIGTERM.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
#: Seconds any one HTTP request may take.
REQUEST_TIMEOUT = 60.0

_CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _environment(venv: Path) -> dict[str, str]:
    """This process's environment, minus what would change how the installed app runs."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTHON", "QUART_", "FLASK_", "COVERAGE_", "COV_CORE_"))
        and name != "VIRTUAL_ENV"
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _check_run(command: list[str], cwd: Path, env: Mapping[str, str]) -> str:
    """Run a command to completion; fail the test with its output if it fails."""
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
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
    def env(self) -> dict[str, str]:
        return _environment(self.venv)

    def program(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, name: str, *args: str) -> str:
        """Run one of the environment's programs; return its output, fail the test if it fails."""
        return _check_run([self.program(name), *args], self.workdir, self.env)

    def quart(self, *args: str) -> str:
        return self.run("quart", "--app", "quart_flaskr", *args)

    def init_db(self, force: bool = False) -> None:
        """Create the tables as ops do; ``force`` erases an existing database."""
        output = self.quart("init-db", *(["--force"] if force else []))
        assert "Initialized the database." in output
        assert self.database.is_file(), f"init-db did not create {self.database}"

    def post_titles(self) -> list[str]:
        """The titles of all posts, read straight from the database file (read-only)."""
        uri = f"{self.database.as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as conn:
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


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """The wheel installed in a fresh venv, with a database and a secret key, as ops set it up."""
    installed = install_from_wheel(tmp_path_factory.mktemp("deployment"))
    installed.init_db()
    installed.quart("gen-secret-key")
    assert installed.config.is_file()
    return installed


@pytest.fixture
def fresh_deployment(deployment: Deployment) -> Deployment:
    """The deployment with its database emptied (``init-db --force``).

    The tests run one at a time and each server is stopped before the next test
    starts, so resetting the one database isolates them as well as a venv each would.
    """
    deployment.init_db(force=True)
    return deployment


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _processes() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every process, from /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # The process has exited meanwhile.
            continue
        # The command name (in parentheses) may hold spaces: split after it.
        _state, ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        yield int(entry.name), int(ppid), int(pgrp)


class StillRunningError(AssertionError):
    """A server did not exit when it should have."""


class Server:
    """A Hypercorn master process serving the installed app, in a process group of its own.

    With ``processes``, that many Hypercorns share the port instead, each on a
    socket of its own opened with SO_REUSEPORT and passed as ``--bind fd://N``,
    as systemd's socket units do in the README (``bench/reuseport.py`` opens
    them and passes signals on).
    """

    def __init__(self, deployment: Deployment, log_dir: Path, processes: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        #: How many Hypercorns must say they run before the server is ready.
        self.servers = processes or 1
        self.stdout_path = log_dir / f"hypercorn-{self.port}.out"
        self.stderr_path = log_dir / f"hypercorn-{self.port}.err"
        hypercorn = [deployment.program("hypercorn"), "--config", str(HYPERCORN_TOML)]
        if processes is None:
            command = [*hypercorn, "--bind", f"127.0.0.1:{self.port}", APP]
        else:
            command = [
                deployment.program("python"),
                str(ROOT / "bench" / "reuseport.py"),
                str(processes),
                f"127.0.0.1:{self.port}",
                *hypercorn,
                APP,
            ]
        with self.stdout_path.open("wb") as stdout, self.stderr_path.open("wb") as stderr:
            # A session of its own, so that the cleanup can kill every worker
            # with the master, and no signal for the test run reaches them.
            self.process = subprocess.Popen(
                command,
                cwd=deployment.workdir,
                env=deployment.env,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text("utf-8", errors="replace")

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text("utf-8", errors="replace")

    def answers(self, timeout: float = 5.0) -> bool:
        """Whether ``/hello`` answers now."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", "/hello")
            with conn.getresponse() as response:
                return response.status == 200 and response.read() == b"Hello, World!"
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def wait_until_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        # Every Hypercorn sharing the port up, not only the first to answer.
        while self.stderr.count("] Running on ") < self.servers or not self.answers():
            if self.process.poll() is not None:
                pytest.fail(
                    f"Hypercorn exited with {self.process.returncode} before answering:\n"
                    + self.stderr,
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(f"Hypercorn did not answer within {timeout} s:\n" + self.stderr)
            time.sleep(0.05)

    def wait_for_exit(self, timeout: float) -> float | None:
        """Seconds until the master process exits, or None if it is still running at ``timeout``."""
        start = time.monotonic()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return time.monotonic() - start

    def stop(self, timeout: float = STOP_TIMEOUT) -> float:
        """SIGTERM the master process only, as ``kill PID`` does; the seconds it took to exit."""
        start = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        if self.wait_for_exit(timeout) is None:
            raise StillRunningError(
                f"Hypercorn still runs {timeout} s after SIGTERM:\n{self.stderr}"
            )
        return time.monotonic() - start

    def worker_pids(self) -> list[int]:
        """The processes that serve: the Hypercorns sharing the port, or Hypercorn itself."""
        workers = []
        children = [pid for pid, ppid, _ in _processes() if ppid == self.process.pid]
        for pid in children:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"hypercorn" in cmdline:
                workers.append(pid)
        # With workers = 0 (hypercorn.toml) Hypercorn serves in its own process.
        return workers or [self.process.pid]

    def open_connections(self) -> int:
        """How many client connections the workers have accepted and hold open now."""
        port = f":{self.port:04X}"
        # /proc/net/tcp lists sockets by inode; state 01 is ESTABLISHED.
        established = set()
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(port) and fields[3] == "01":
                established.add(f"socket:[{fields[9]}]")
        held = 0
        for pid in self.worker_pids():
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                try:
                    held += os.readlink(fd) in established
                except OSError:  # Closed meanwhile.
                    continue
        return held

    def kill(self) -> None:
        """SIGKILL every process left in the server's process group, then reap the master."""
        for pid, _, group in _processes():
            if group == self.process.pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.process.wait()


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
    server = Server(deployment, log_dir, processes)
    try:
        server.wait_until_ready()
        yield server
        if server.process.poll() is None:
            server.stop()
            assert server.process.returncode == 0, server.stderr
    finally:
        server.kill()


@pytest.fixture
def live_server(fresh_deployment: Deployment, tmp_path: Path) -> Iterator[Server]:
    """Hypercorn as hypercorn.toml configures it (one worker), on an empty database."""
    with serve(fresh_deployment, tmp_path) as server:
        yield server


@dataclass(frozen=True)
class Page:
    status: int
    headers: Message
    text: str

    @property
    def location(self) -> str | None:
        """The path a redirect points to."""
        location = self.headers.get("Location")
        return None if location is None else urllib.parse.urlsplit(location).path


@dataclass(frozen=True)
class RawPage:
    """A response as bytes: for images, and for requests whose body the test built itself."""

    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class _EveryResponse(urllib.request.HTTPErrorProcessor):
    """Hand back every response as it is: no exception for 4xx and 5xx, no redirect followed."""

    def http_response(
        self, request: urllib.request.Request, response: http.client.HTTPResponse
    ) -> http.client.HTTPResponse:
        return response

    https_response = http_response


class Browser:
    """A client with a cookie jar that reads forms' CSRF tokens as a browser does."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            # No proxy from the environment comes between the test and 127.0.0.1.
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(self.cookies),
            _EveryResponse,
        )

    def request(
        self, method: str, path: str, form: Mapping[str, str] | None = None, follow: bool = False
    ) -> Page:
        data = None if form is None else urllib.parse.urlencode(form).encode()
        url = urllib.parse.urljoin(self.base_url, path)
        # Always an http:// URL on the test's own server.
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        with self._opener.open(request, timeout=REQUEST_TIMEOUT) as response:
            page = Page(response.status, response.headers, response.read().decode())
        if follow and page.status in _REDIRECTS and page.location is not None:
            return self.get(page.location, follow=True)
        return page

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RawPage:
        """Send a body exactly as given, with the jar's cookies and any ``headers``."""
        url = urllib.parse.urljoin(self.base_url, path)
        # Always an http:// URL on the test's own server.
        request = urllib.request.Request(  # noqa: S310
            url, data=body, headers=dict(headers or {}), method=method
        )
        with self._opener.open(request, timeout=REQUEST_TIMEOUT) as response:
            return RawPage(response.status, response.headers, response.read())

    def get(self, path: str, follow: bool = False) -> Page:
        return self.request("GET", path, follow=follow)

    def post(self, path: str, form: Mapping[str, str], follow: bool = False) -> Page:
        """Post a form as it is, without adding a CSRF token."""
        return self.request("POST", path, form, follow)

    def csrf_token(self, path: str = "/") -> str:
        """The CSRF token of the form on the page at ``path``."""
        page = self.get(path)
        match = _CSRF_TOKEN.search(page.text)
        assert match is not None, f"no CSRF token on {path} ({page.status})"
        return match.group(1)

    def submit(self, path: str, form: Mapping[str, str], token_from: str | None = None) -> Page:
        """Post a form with the CSRF token read from ``token_from`` (the form's own page)."""
        token = self.csrf_token(path if token_from is None else token_from)
        return self.post(path, {**form, "csrf_token": token})

    def register(self, username: str, password: str) -> Page:
        return self.submit("/auth/register", {"username": username, "password": password})

    def login(self, username: str, password: str) -> Page:
        return self.submit("/auth/login", {"username": username, "password": password})

    def logout(self) -> Page:
        return self.submit("/auth/logout", {}, token_from="/")

    def share_session(self, other: Browser) -> None:
        """Send ``other``'s cookies from now on, as a second tab of the same browser would."""
        for cookie in other.cookies:
            self.cookies.set_cookie(cookie)
