"""Benchmark the blog under Hypercorn with wrk, beside a bare ASGI app and, optionally, Flaskr.

    .venv/bin/python bench/run.py                      # the main table, about 3 minutes
    .venv/bin/python bench/run.py --full --flaskr DIR  # everything, about 10 minutes
    .venv/bin/python bench/run.py --quick              # a smoke run, under a minute

See bench/README.md for what each figure means and how to read it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import html
import http.client
import importlib.util
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from http.cookies import SimpleCookie
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CACHE = BENCH / ".cache"
RESULTS = BENCH / "results"
#: The environment the script runs in; its hypercorn and quart serve the blog.
BIN = Path(sys.prefix) / "bin"
HYPERCORN_TOML = ROOT / "hypercorn.toml"

#: Exit status when wrk is missing and cannot be installed (tests skip on it).
EXIT_NO_WRK = 3
EXIT_FAILED = 1

USERNAME = "bench"
PASSWORD = "bench-password-123"  # noqa: S105 - a throwaway account in a temporary database
SEARCH_WORD = "needle"
TITLE_PREFIX = "Bench post "
LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor"
    " incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud"
    " exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure"
    " dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur."
    " Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt."
)
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
#: wrk's per-request timeout: a login waits behind a queue of password hashes.
WRK_TIMEOUT_S = 60

# Scenario keys, in the order they run and print. Reads run before writes, so
# that every read sees the seeded posts only.
ANON, USER, HELLO, DETAIL, SEARCH, CREATE, LOGIN = (
    "anon",
    "user",
    "hello",
    "detail",
    "search",
    "create",
    "login",
)
UNCACHED_LABELS = {
    ANON: "GET / (anonymous, no page cache)",
    USER: "GET / (logged in, no page cache)",
}
SCENARIO_LABELS = {
    ANON: "GET / (anonymous)",
    USER: "GET / (logged in)",
    HELLO: "GET /hello",
    DETAIL: "GET /<id>",
    SEARCH: "GET /?q=word",
    CREATE: "POST /create",
    LOGIN: "POST /auth/login",
}


class BenchError(Exception):
    """A failure that ends the run with a message rather than a traceback."""


class WrkMissingError(BenchError):
    """wrk is missing and could not be installed."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def post_title(number: int) -> str:
    return f"{TITLE_PREFIX}{number}"


def post_body(number: int) -> str:
    """About 450 characters; every fifth post (1, 6, 11, ...) holds the search word."""
    return f"{LOREM} {SEARCH_WORD if number % 5 == 1 else 'haystack'} {number}."


# --------------------------------------------------------------------------- settings


@dataclasses.dataclass(frozen=True)
class Settings:
    duration: float
    rounds: int
    login_duration: float
    connections: int
    posts: int
    many_connections: int
    big_posts: int
    memory_requests: int
    memory_chunk: float
    profile_duration: float
    flaskr: Path | None
    many: bool
    interference: bool
    cores: bool
    data: bool
    memory: bool
    profile: bool
    rate_limits: bool
    skip_main: bool
    quick: bool
    keep: bool
    json_path: Path


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, help="seconds per scenario (default 5)")
    parser.add_argument("--connections", type=int, help="wrk connections (default 16)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each main-table scenario this many times, interleaved; show the median",
    )
    parser.add_argument("--posts", type=int, help="posts seeded over HTTP (default 50)")
    parser.add_argument("--flaskr", type=Path, metavar="PATH", help="Flask's examples/tutorial")
    parser.add_argument("--full", action="store_true", help="all the extra measurements below")
    parser.add_argument("--many", action="store_true", help="1,000 keep-alive connections")
    parser.add_argument("--interference", action="store_true", help="/hello during logins")
    parser.add_argument("--cores", action="store_true", help="all cores vs one core")
    parser.add_argument("--data", action="store_true", help="100,000 posts vs 50")
    parser.add_argument("--memory", action="store_true", help="RSS before/after 100k requests")
    parser.add_argument("--profile", action="store_true", help="py-spy the worker under load")
    parser.add_argument("--big-posts", type=int, help="posts for --data (default 100000)")
    parser.add_argument("--memory-requests", type=int, help="requests for --memory (100000)")
    parser.add_argument(
        "--rate-limits",
        action="store_true",
        help="keep the app's login rate limit on (the login scenario then measures 429s)",
    )
    parser.add_argument("--skip-main", action="store_true", help="only the extra measurements")
    parser.add_argument("--quick", action="store_true", help="tiny smoke-test settings")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)

    quick = bool(args.quick)
    full = bool(args.full)

    def pick(value: Any, normal: Any, small: Any) -> Any:
        return value if value is not None else (small if quick else normal)

    duration = float(pick(args.duration, 5.0, 1.0))
    flaskr = args.flaskr.resolve() if args.flaskr else None
    if flaskr is not None and not (flaskr / "flaskr" / "__init__.py").is_file():
        parser.error(f"--flaskr {flaskr}: no flaskr/__init__.py there (pass examples/tutorial)")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Settings(
        duration=duration,
        rounds=max(1, int(args.rounds)),
        login_duration=max(duration, 2.0 if quick else 10.0),
        connections=int(pick(args.connections, 16, 4)),
        posts=max(2, int(pick(args.posts, 50, 5))),
        many_connections=100 if quick else 1000,
        big_posts=int(pick(args.big_posts, 100_000, 2_000)),
        memory_requests=int(pick(args.memory_requests, 100_000, 2_000)),
        memory_chunk=1.0 if quick else 10.0,
        profile_duration=max(duration, 2.0 if quick else 10.0),
        flaskr=flaskr,
        many=full or bool(args.many),
        interference=full or bool(args.interference),
        cores=full or bool(args.cores),
        data=full or bool(args.data),
        memory=full or bool(args.memory),
        profile=full or bool(args.profile),
        rate_limits=bool(args.rate_limits),
        skip_main=bool(args.skip_main),
        quick=quick,
        keep=bool(args.keep),
        json_path=args.json or RESULTS / f"bench-{stamp}.json",
    )


# --------------------------------------------------------------------------- tools


def raise_open_file_limit() -> None:
    """wrk -c 1000 and the server each need a descriptor per connection; children inherit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError) as error:
        log(f"could not raise the open-file limit from {soft}: {error}")


def ensure_wrk() -> str:
    """The path of wrk, installing it with apt-get when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") is None:
        raise WrkMissingError("wrk is not installed and there is no apt-get to install it with.")
    log("wrk is not installed: running apt-get update && apt-get install -y wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise WrkMissingError(
                f"wrk is not installed and '{' '.join(command)}' failed"
                f" (exit {result.returncode}): {' / '.join(tail)}."
                " Install wrk (apt-get install wrk) and run again."
            )
    found = shutil.which("wrk")
    if not found:
        raise WrkMissingError("apt-get installed wrk but it is not on PATH.")
    return found


@dataclasses.dataclass(frozen=True)
class Cpus:
    """Where servers and load generators run. None: anywhere (no taskset)."""

    server: str | None
    client: str | None
    client_threads: int

    @staticmethod
    def pinned() -> Cpus:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            log("fewer than 2 CPUs: servers and wrk are not pinned apart")
            return Cpus(None, None, 1)
        if shutil.which("taskset") is None:
            raise BenchError("taskset is missing (Debian package util-linux).")
        return Cpus(str(cpus[0]), str(cpus[1]), 1)

    @staticmethod
    def unpinned() -> Cpus:
        # A wrk thread drives about ten single-core servers' worth of requests
        # (it spends some 40 us of CPU on one); more threads would only take
        # turns with the servers on the CPUs they share.
        return Cpus(None, None, max(1, len(os.sched_getaffinity(0)) // 4))


def taskset(cpus: str | None, command: list[str]) -> list[str]:
    return command if cpus is None else ["taskset", "-c", cpus, *command]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- HTTP client


@dataclasses.dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def csrf_token(self) -> str:
        match = CSRF_RE.search(self.text)
        if match is None:
            raise BenchError(f"no csrf_token field in the page (status {self.status})")
        return html.unescape(match.group(1))


class Client:
    """A cookie-keeping HTTP client for seeding; does not follow redirects."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        timeout: float = 120.0,
    ) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Host": f"127.0.0.1:{self.port}"}
            if self.cookies:
                headers["Cookie"] = self.cookie_header()
            body = None
            if form is not None:
                body = urllib.parse.urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            seconds = time.perf_counter() - start
            for value in response.headers.get_all("Set-Cookie") or []:
                cookie: SimpleCookie = SimpleCookie()
                cookie.load(value)
                for name, morsel in cookie.items():
                    if not morsel.value or morsel["max-age"] == "0":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return Reply(response.status, response.headers, data, seconds)
        finally:
            conn.close()

    def expect(
        self, method: str, path: str, status: int, form: dict[str, str] | None = None
    ) -> Reply:
        reply = self.request(method, path, form)
        if reply.status != status:
            snippet = " ".join(re.sub(r"<[^>]+>", " ", reply.text).split())[:300]
            raise BenchError(f"{method} {path}: expected {status}, got {reply.status}: {snippet}")
        return reply


# --------------------------------------------------------------------------- servers

#: Every server started, so that the exit path can stop whatever is left.
_RUNNING: list[Server] = []


class Server:
    """A server process in its own process group, stopped with its whole group."""

    def __init__(
        self,
        name: str,
        command: list[str],
        cwd: Path,
        port: int,
        log_path: Path,
        cpus: str | None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            taskset(cpus, command),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _RUNNING.append(self)

    def wait_ready(self, path: str = "/hello", timeout: float = 60.0, servers: int = 0) -> None:
        """Until ``path`` answers 200 and (if given) ``servers`` Hypercorns say they run."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited ({self.process.returncode}):\n{self.tail()}")
            text = self.log_path.read_text("utf-8", "replace")
            if "Traceback (most recent call last)" in text:
                raise BenchError(f"{self.name} failed to start:\n{self.tail()}")
            if text.count("] Running on ") < servers:
                time.sleep(0.1)
                continue
            with contextlib.suppress(OSError, http.client.HTTPException):
                if Client(self.port).request("GET", path, timeout=5).status == 200:
                    return
            time.sleep(0.1)
        raise BenchError(
            f"{self.name} did not answer GET {path} in {timeout:.0f} s:\n{self.tail()}"
        )

    def tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text("utf-8", "replace").splitlines()
        return "\n".join(text[-lines:])

    def pids(self) -> list[int]:
        """The server process and all its descendants."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    stat = (entry / "stat").read_text()
                    parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        found = [self.process.pid]
        for pid in found:
            found.extend(child for child, parent in parents.items() if parent == pid)
        return found

    def worker_pids(self) -> list[int]:
        """Hypercorn's worker processes (spawned children); else the server itself."""
        workers = []
        for pid in self.pids():
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    workers.append(pid)
        return workers or [self.process.pid]

    def stop(self) -> None:
        if self in _RUNNING:
            _RUNNING.remove(self)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log(f"{self.name} did not stop on SIGTERM: killing it")
        # Whatever is left of the group (workers, resource tracker) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_all_servers() -> None:
    for server in list(_RUNNING):
        server.stop()


def cpu_ticks(pids: Sequence[int]) -> int:
    """User plus system CPU time of these processes, in clock ticks."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total


def settle(server: Server, timeout: float = 120.0) -> None:
    """Wait until the server is idle again (work queued by the last load is done).

    Idle: under 10% of a CPU over a quarter of a second, twice in a row.
    """
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        pids = server.pids()
        before = cpu_ticks(pids)
        time.sleep(0.25)
        used = (cpu_ticks(pids) - before) / ticks_per_s
        quiet = quiet + 1 if used < 0.025 else 0


def rss_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------- wrk


@dataclasses.dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    connections: int
    #: CPU time the server's processes spent per completed request, in ms: less
    #: sensitive than req/s to other work on a shared machine.
    cpu_ms_per_request: float = 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclasses.dataclass
class Load:
    """One kind of request for wrk to send over and over."""

    path: str
    method: str = "GET"
    cookie: str | None = None
    #: A url-encoded form body sent with each request (POST).
    body: str | None = None
    #: Add a fresh "&title=..." to each request's body (new posts each time).
    unique_title: bool = False
    #: Several paths to send in turn (ignores path).
    rotate: tuple[str, ...] = ()


LUA_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50": %d, "p90": %d, "p99": %d,'
    .. ' "max": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def lua_script(load: Load) -> str:
    lines = [f"wrk.method = {lua_string(load.method)}"]
    if load.body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"')
        lines.append(f"wrk.body = {lua_string(load.body)}")
    if load.unique_title:
        lines.append(
            textwrap.dedent(
                f"""
                local counter = 0
                local threads = 0
                thread_id = 0
                function setup(thread)
                  threads = threads + 1
                  thread:set("thread_id", threads)
                end
                function request()
                  counter = counter + 1
                  local body = {lua_string(load.body or "")}
                    .. "&title=Bench+post+w" .. thread_id .. "-" .. counter
                  return wrk.format(nil, {lua_string(load.path)}, nil, body)
                end
                """
            )
        )
    elif load.rotate:
        paths = ", ".join(lua_string(path) for path in load.rotate)
        lines.append(
            textwrap.dedent(
                f"""
                local paths = {{{paths}}}
                local i = 0
                function request()
                  i = i + 1
                  return wrk.format(nil, paths[(i % #paths) + 1])
                end
                """
            )
        )
    lines.append(LUA_DONE)
    return "\n".join(lines)


class Wrk:
    def __init__(self, executable: str, workdir: Path) -> None:
        self.executable = executable
        self.workdir = workdir
        self._scripts = 0

    def command(
        self, port: int, load: Load, duration: float, connections: int, cpus: Cpus
    ) -> list[str]:
        self._scripts += 1
        script = self.workdir / f"load-{self._scripts}.lua"
        script.write_text(lua_script(load), "utf-8")
        threads = max(1, min(cpus.client_threads, connections))
        command = [
            self.executable,
            "--latency",
            f"--threads={threads}",
            f"--connections={connections}",
            f"--duration={max(1, round(duration))}s",
            f"--timeout={WRK_TIMEOUT_S}s",
            f"--script={script}",
        ]
        if load.cookie:
            command.append(f"--header=Cookie: {load.cookie}")
        command.append(f"http://127.0.0.1:{port}{load.path}")
        return taskset(cpus.client, command)

    @staticmethod
    def parse(output: str, connections: int) -> WrkResult:
        for line in output.splitlines():
            if line.startswith("BENCH_JSON "):
                data = json.loads(line.removeprefix("BENCH_JSON "))
                seconds = data["duration_us"] / 1e6
                return WrkResult(
                    requests=data["requests"],
                    seconds=seconds,
                    rps=data["requests"] / seconds if seconds else 0.0,
                    p50_ms=data["p50"] / 1000,
                    p90_ms=data["p90"] / 1000,
                    p99_ms=data["p99"] / 1000,
                    max_ms=data["max"] / 1000,
                    errors={k: data[k] for k in ("connect", "read", "write", "status", "timeout")},
                    connections=connections,
                )
        raise BenchError(f"wrk printed no result:\n{output[-2000:]}")

    def run(
        self, server: Server, load: Load, duration: float, connections: int, cpus: Cpus
    ) -> WrkResult:
        """Run wrk to the end, then wait for the server to finish what wrk left queued."""
        command = self.command(server.port, load, duration, connections, cpus)
        pids = server.pids()
        cpu_before = cpu_ticks(pids)
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=duration + WRK_TIMEOUT_S + 30,
            check=False,
        )
        if result.returncode != 0:
            raise BenchError(f"wrk failed ({result.returncode}): {result.stderr.strip()}")
        settle(server)
        cpu_seconds = (cpu_ticks(pids) - cpu_before) / os.sysconf("SC_CLK_TCK")
        parsed = self.parse(result.stdout, connections)
        if parsed.requests:
            parsed.cpu_ms_per_request = 1000 * cpu_seconds / parsed.requests
        return parsed

    def start(
        self, server: Server, load: Load, duration: float, connections: int, cpus: Cpus
    ) -> subprocess.Popen[str]:
        """Start wrk in the background; finish it with collect()."""
        return subprocess.Popen(
            self.command(server.port, load, duration, connections, cpus),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def collect(
        self, process: subprocess.Popen[str], connections: int, timeout: float
    ) -> WrkResult:
        try:
            output, errors = process.communicate(timeout=timeout)
        except BaseException:
            process.kill()
            process.wait()
            raise
        if process.returncode != 0:
            raise BenchError(f"wrk failed ({process.returncode}): {errors.strip()}")
        return self.parse(output, connections)


# --------------------------------------------------------------------------- the apps


@dataclasses.dataclass
class Seeded:
    """What the load needs from a seeded app: cookies, tokens, a post id."""

    user_cookie: str
    user_token: str
    login_cookie: str
    login_token: str
    post_id: int
    sizes: dict[str, int] = dataclasses.field(default_factory=dict)
    available: dict[str, str] = dataclasses.field(default_factory=dict)
    #: Whether anonymous / logged-in pages carry an ETag (the app's page cache serves them).
    anonymous_cache: bool = False
    user_cache: bool = False

    def loads(self, csrf: bool) -> dict[str, Load]:
        """The scenarios; ``csrf`` False for Flaskr, whose forms carry no token."""
        token = f"csrf_token={urllib.parse.quote(self.user_token)}&" if csrf else ""
        login_token = f"csrf_token={urllib.parse.quote(self.login_token)}&" if csrf else ""
        body = urllib.parse.quote_plus(post_body(0))
        login = urllib.parse.urlencode({"username": USERNAME, "password": PASSWORD})
        return {
            ANON: Load("/"),
            USER: Load("/", cookie=self.user_cookie),
            HELLO: Load("/hello"),
            DETAIL: Load(f"/{self.post_id}"),
            SEARCH: Load(f"/?q={SEARCH_WORD}"),
            CREATE: Load(
                "/create",
                "POST",
                cookie=self.user_cookie,
                body=f"{token}body={body}",
                unique_title=True,
            ),
            LOGIN: Load(
                "/auth/login", "POST", cookie=self.login_cookie or None, body=login_token + login
            ),
        }


class OursInstance:
    """The blog with its own temporary database, served by Hypercorn."""

    def __init__(
        self,
        workdir: Path,
        name: str,
        rate_limits: bool,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        self.workdir = workdir / name
        self.workdir.mkdir(parents=True)
        self.name = name
        self.database = self.workdir / "blog.sqlite"
        config = {
            "DATABASE": str(self.database),
            "SECRET_KEY": secrets.token_hex(32),
            "POSTS_PER_PAGE": 50,
            "TESTING": False,
            "DEBUG": False,
            "QUART_RATE_LIMITER_ENABLED": rate_limits,
            **(extra_config or {}),
        }
        # None: leave the setting at the app's own default.
        config = {name: value for name, value in config.items() if value is not None}
        # Hypercorn puts its working directory first on sys.path, so each
        # worker imports this module; create_app() gets the configuration in
        # place of the instance folder's config.py.
        (self.workdir / "bench_app.py").write_text(
            f'"""Generated by bench/run.py."""\n\nfrom quart_flaskr import create_app\n\n'
            f"app = create_app({config!r})\n",
            "utf-8",
        )
        result = subprocess.run(
            [str(BIN / "quart"), "--app", "bench_app", "init-db"],
            cwd=self.workdir,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(self.workdir), os.environ.get("PYTHONPATH")])
                ),
            },
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BenchError(f"init-db failed:\n{result.stdout}{result.stderr}")

    def serve(self, cpus: str | None, processes: int | None = None) -> Server:
        """Hypercorn with one worker; or ``processes`` Hypercorns sharing one port."""
        port = free_port()
        if processes is None:
            name = "hypercorn, 1 worker"
            command = hypercorn_command(port, "bench_app:app")
        else:
            name = f"{processes} hypercorn process{'es' if processes > 1 else ''}, one port"
            command = reuseport_command(port, processes, "bench_app:app")
        server = Server(
            f"{self.name} ({name})",
            command,
            cwd=self.workdir,
            port=port,
            log_path=self.workdir / f"server-{port}.log",
            cpus=cpus,
        )
        server.wait_ready(servers=processes or 1)
        return server

    def seed(self, port: int, posts: int) -> Seeded:
        client = Client(port)
        token = client.expect("GET", "/auth/register", 200).csrf_token()
        form = {"csrf_token": token, "username": USERNAME, "password": PASSWORD}
        client.expect("POST", "/auth/register", 302, form)
        token = client.expect("GET", "/auth/login", 200).csrf_token()
        login = client.expect("POST", "/auth/login", 302, {**form, "csrf_token": token})
        token = client.expect("GET", "/create", 200).csrf_token()
        created = None
        for number in range(1, posts + 1):
            post = {"csrf_token": token, "title": post_title(number), "body": post_body(number)}
            created = client.expect("POST", "/create", 302, post)
        index = client.expect("GET", "/", 200)
        if USERNAME not in index.text:
            raise BenchError("the logged-in index does not show the user's name")
        token = index.csrf_token() if CSRF_RE.search(index.text) else token
        # A separate anonymous session whose token the login scenario posts.
        anonymous = Client(port)
        login_token = anonymous.expect("GET", "/auth/login", 200).csrf_token()
        return Seeded(
            user_cookie=client.cookie_header(),
            user_token=token,
            login_cookie=anonymous.cookie_header(),
            login_token=login_token,
            post_id=middle_post_id(self.database),
            # The answers to the writes (redirects), for the bare app's sizes.
            sizes={CREATE: len(created.body) if created else 0, LOGIN: len(login.body)},
        )


class FlaskrInstance:
    """Flask's tutorial app in its own virtual environment, served by Waitress."""

    def __init__(self, source: Path, workdir: Path) -> None:
        self.source = source
        self.workdir = workdir / "flaskr"
        self.workdir.mkdir(parents=True)
        self.venv = CACHE / "flaskr-venv"
        self.database = self.workdir / "flaskr.sqlite"
        self._install()
        self._configure()

    def _pip(self, *args: str) -> None:
        command = [str(self.venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *args]
        log("+ " + " ".join(command))
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BenchError(f"pip failed:\n{result.stdout}{result.stderr}")

    def _install(self) -> None:
        digest = source_digest(self.source)
        marker = self.venv / ".bench-flaskr-source"
        if not (self.venv / "bin" / "python").exists():
            log(f"creating {self.venv} for Flaskr")
            subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
            self._pip("flask", "waitress")
        if not marker.exists() or marker.read_text() != digest:
            self._pip("--force-reinstall", "--no-deps", str(self.source))
            marker.write_text(digest)

    def _configure(self) -> None:
        python = str(self.venv / "bin" / "python")
        result = subprocess.run(
            [python, "-c", "import flaskr; print(flaskr.create_app().instance_path)"],
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=True,
        )
        instance = Path(result.stdout.strip().splitlines()[-1])
        instance.mkdir(parents=True, exist_ok=True)
        (instance / "config.py").write_text(
            f"SECRET_KEY = {secrets.token_hex(32)!r}\nDATABASE = {str(self.database)!r}\n"
        )
        subprocess.run(
            [str(self.venv / "bin" / "flask"), "--app", "flaskr", "init-db"],
            cwd=self.workdir,
            capture_output=True,
            check=True,
        )

    def serve(self, cpus: str | None) -> Server:
        port = free_port()
        server = Server(
            "Flaskr (waitress, 4 threads)",
            [
                str(self.venv / "bin" / "waitress-serve"),
                "--threads",
                "4",
                "--listen",
                f"127.0.0.1:{port}",
                "--call",
                "flaskr:create_app",
            ],
            cwd=self.workdir,
            port=port,
            log_path=self.workdir / "server.log",
            cpus=cpus,
        )
        server.wait_ready()
        return server

    def seed(self, port: int, posts: int) -> Seeded:
        client = Client(port)
        form = {"username": USERNAME, "password": PASSWORD}
        client.expect("POST", "/auth/register", 302, form)
        client.expect("POST", "/auth/login", 302, form)
        for number in range(1, posts + 1):
            post = {"title": post_title(number), "body": post_body(number)}
            client.expect("POST", "/create", 302, post)
        if USERNAME not in client.expect("GET", "/", 200).text:
            raise BenchError("Flaskr's logged-in index does not show the user's name")
        return Seeded(
            user_cookie=client.cookie_header(),
            user_token="",
            login_cookie="",
            login_token="",
            post_id=middle_post_id(self.database),
        )


def source_digest(source: Path) -> str:
    digest = hashlib.sha256(str(source).encode())
    for path in sorted(source.rglob("*")):
        parts = set(path.relative_to(source).parts)
        if path.is_file() and not parts & {".venv", "instance", "__pycache__", ".git"}:
            digest.update(str(path.relative_to(source)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def middle_post_id(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        count = conn.execute("SELECT count(*) FROM post").fetchone()[0]
        row = conn.execute(
            "SELECT id FROM post ORDER BY id LIMIT 1 OFFSET ?", (count // 2,)
        ).fetchone()
    return int(row[0]) if row else 1


def cookie_dict(header: str) -> dict[str, str]:
    pairs = (pair.split("=", 1) for pair in header.split("; ") if "=" in pair)
    return {name: value for name, value in pairs}


def count_posts_shown(page: str) -> int:
    return page.count(TITLE_PREFIX)


def probe_ours(port: int, seeded: Seeded) -> None:
    """Which of the routes added later exist, and the size of each answer (for the bare app)."""
    anon = Client(port)
    user = Client(port)
    user.cookies = cookie_dict(seeded.user_cookie)
    index = anon.expect("GET", "/", 200)
    seeded.sizes[ANON] = len(index.body)
    seeded.anonymous_cache = index.headers.get("ETag") is not None
    user_index = user.expect("GET", "/", 200)
    seeded.sizes[USER] = len(user_index.body)
    seeded.user_cache = user_index.headers.get("ETag") is not None
    seeded.sizes[HELLO] = len(anon.expect("GET", "/hello", 200).body)

    detail = anon.request("GET", f"/{seeded.post_id}")
    if detail.status == 200:
        seeded.available[DETAIL] = "yes"
        seeded.sizes[DETAIL] = len(detail.body)
    else:
        seeded.available[DETAIL] = f"n/a: GET /<id> answers {detail.status}"

    search = anon.request("GET", f"/?q={SEARCH_WORD}")
    # A word no post holds finds nothing, unless q is ignored (pages may be
    # full either way, so comparing with the index tells nothing).
    nothing = anon.request("GET", "/?q=nosuchwordinanypost")
    unfiltered = count_posts_shown(nothing.text)
    if search.status != 200:
        seeded.available[SEARCH] = f"n/a: GET /?q= answers {search.status}"
    elif unfiltered:
        seeded.available[SEARCH] = f"n/a: GET /?q= shows {unfiltered} posts (q is ignored)"
    else:
        seeded.available[SEARCH] = "yes"
        seeded.sizes[SEARCH] = len(search.body)

    seeded.available[CREATE] = seeded.available[LOGIN] = "yes"
    seeded.available[ANON] = seeded.available[USER] = seeded.available[HELLO] = "yes"


def median(results: Sequence[WrkResult]) -> WrkResult:
    """The run with the median req/s (the lower middle one of an even count)."""
    ordered = sorted(results, key=lambda result: result.rps)
    return ordered[(len(ordered) - 1) // 2]


def writes_broken(port: int, seeded: Seeded) -> bool:
    """Whether the blog fails to store a new post (one is added when it works)."""
    client = Client(port)
    client.cookies = cookie_dict(seeded.user_cookie)
    form = {"csrf_token": seeded.user_token, "title": "write check", "body": post_body(0)}
    return client.request("POST", "/create", form).status != 302


def exceptions_in_logs(paths: Sequence[Path]) -> Counter[str]:
    """The exception lines of the tracebacks in server logs, counted."""
    found: Counter[str] = Counter()
    for path in paths:
        in_traceback = False
        for line in path.read_text("utf-8", "replace").splitlines():
            if line.startswith("Traceback (most recent call last)"):
                in_traceback = True
            elif in_traceback and line and not line[0].isspace():
                found[line[:160]] += 1
                in_traceback = False
    return found


def hypercorn_command(port: int, app: str) -> list[str]:
    """Hypercorn with the project's hypercorn.toml and one worker, on a loopback port."""
    return [
        str(BIN / "hypercorn"),
        "--config",
        str(HYPERCORN_TOML),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        app,
    ]


def reuseport_command(port: int, processes: int, app: str) -> list[str]:
    """Hypercorns as in production (hypercorn.toml as it is: no worker processes),
    each on its own SO_REUSEPORT socket of one loopback port and, when there are
    several, pinned to a CPU of its own (bench/reuseport.py)."""
    return [
        sys.executable,
        str(BENCH / "reuseport.py"),
        *(["--pin"] if processes > 1 else []),
        str(processes),
        f"127.0.0.1:{port}",
        str(BIN / "hypercorn"),
        "--config",
        str(HYPERCORN_TOML),
        app,
    ]


def start_bare(workdir: Path, sizes: dict[str, int], cpus: str | None) -> Server:
    port = free_port()
    server = Server(
        "bare ASGI app (hypercorn)",
        hypercorn_command(port, "bare:app"),
        cwd=BENCH,
        port=port,
        log_path=workdir / "bare.log",
        cpus=cpus,
        env={"BENCH_BARE_SIZES": json.dumps({f"/{key}": size for key, size in sizes.items()})},
    )
    server.wait_ready()
    return server


def bare_load(key: str, load: Load) -> Load:
    """The same request (headers, body) sent to the bare app's path for this scenario."""
    return dataclasses.replace(load, path=f"/{key}")


def body_renderer() -> Callable[[str], str] | None:
    """The app's Markdown renderer, when it stores rendered bodies (``body_html``)."""
    try:
        module = importlib.import_module("quart_flaskr.markdown")
    except ImportError:
        return None
    render = getattr(module, "render", None)
    return None if render is None else lambda text: str(render(text))


def seed_big(database: Path, total: int) -> int:
    """Insert posts straight into SQLite until there are ``total``; return how many were added.

    Where the app stores each body's rendered HTML, it is rendered here with the
    app's own function, as saving a post would; else pages would render it on
    every read.
    """
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        have = int(conn.execute("SELECT count(*) FROM post").fetchone()[0])
        author = conn.execute("SELECT id FROM user ORDER BY id LIMIT 1").fetchone()[0]
        columns = {row[1] for row in conn.execute("PRAGMA table_info(post)")}
        render = body_renderer() if "body_html" in columns else None
        if "body_html" in columns and render is None:
            log("the post table has body_html but quart_flaskr.markdown.render is missing")
        start = datetime.now(UTC) - timedelta(days=3650)
        rows = (
            (
                author,
                (start + timedelta(minutes=number)).strftime("%Y-%m-%d %H:%M:%S"),
                post_title(number),
                post_body(number),
                *((render(post_body(number)),) if render else ()),
            )
            for number in range(have + 1, total + 1)
        )
        names = "author_id, created, title, body" + (", body_html" if render else "")
        marks = ", ".join("?" * (5 if render else 4))
        with conn:
            conn.executemany(f"INSERT INTO post ({names}) VALUES ({marks})", rows)  # noqa: S608
        conn.execute("PRAGMA optimize")
        return max(0, total - have)


# --------------------------------------------------------------------------- output


def fmt_rps(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def fmt_ms(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:.2f}s"
    return f"{value:.1f}ms" if value >= 10 else f"{value:.2f}ms"


def fmt_ratio(ours: float, other: float) -> str:
    return f"{ours / other:.2f}" if other else "-"


def fmt_cpu(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.2f}"


def result_cells(result: WrkResult | None, errors: bool = True, cpu: bool = False) -> list[str]:
    if result is None:
        return ["n/a", "", ""] + ([""] if errors else []) + ([""] if cpu else [])
    cells = [fmt_rps(result.rps), fmt_ms(result.p50_ms), fmt_ms(result.p99_ms)]
    if errors:
        cells.append(str(result.error_count) if result.error_count else "0")
    if cpu:
        cells.append(fmt_cpu(result.cpu_ms_per_request))
    return cells


def print_table(
    title: str, header: list[str], rows: list[list[str]], notes: Sequence[str] = ()
) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    line = "  ".join(
        cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(header)
    )
    print(line)
    print("-" * len(line))
    for row in rows:
        print(
            "  ".join(
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                for i, cell in enumerate(row)
            )
        )
    for note in notes:
        print(f"  * {note}")
    sys.stdout.flush()


def app_source() -> str:
    """Which quart_flaskr the servers import, and its git commit when there is one."""
    spec = importlib.util.find_spec("quart_flaskr")
    if spec is None or spec.origin is None:
        raise BenchError("quart_flaskr is not importable: install it (python3 tasks.py test)")
    package = Path(spec.origin).parent
    git = ["git", "-C", str(package.parent)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return str(package)
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", str(package)], capture_output=True, text=True
    ).stdout.strip()
    return f"{package} at {head.stdout.strip()}{' with uncommitted changes' if dirty else ''}"


# --------------------------------------------------------------------------- the runs


class Bench:
    def __init__(self, settings: Settings, wrk: Wrk, workdir: Path) -> None:
        self.s = settings
        self.wrk = wrk
        self.workdir = workdir
        self.pinned = Cpus.pinned()
        self.results: dict[str, Any] = {
            "settings": {
                k: str(v) if isinstance(v, Path) else v
                for k, v in dataclasses.asdict(settings).items()
            },
            "cpus": len(os.sched_getaffinity(0)),
            "app": app_source(),
        }
        self.results["load_average_before"] = os.getloadavg()
        print(f"Benchmarking {self.results['app']}", flush=True)
        print(
            "Load average before: {:.2f} {:.2f} {:.2f} (other work on the machine skews"
            " the figures)".format(*os.getloadavg()),
            flush=True,
        )

    def measure(
        self,
        server: Server,
        load: Load,
        duration: float | None = None,
        connections: int | None = None,
        cpus: Cpus | None = None,
    ) -> WrkResult:
        return self.wrk.run(
            server,
            load,
            duration or self.s.duration,
            connections or self.s.connections,
            cpus or self.pinned,
        )

    def duration_for(self, key: str) -> float:
        return self.s.login_duration if key == LOGIN else self.s.duration

    # ---- the main table: ours, bare and Flaskr side by side, scenario by scenario

    def main_table(self) -> None:
        s = self.s
        ours = OursInstance(self.workdir, "main", s.rate_limits)
        warnings: list[str] = []
        restarts = 0
        server = ours.serve(self.pinned.server)
        with contextlib.ExitStack() as stack:
            # The server may be replaced below; stop whichever is current.
            stack.callback(lambda: server.stop())
            log(f"seeding {s.posts} posts over HTTP into {server.name}")
            seeded = ours.seed(server.port, s.posts)
            probe_ours(server.port, seeded)
            bare = stack.enter_context(start_bare(self.workdir, seeded.sizes, self.pinned.server))
            flaskr_server = None
            flaskr_seeded = None
            if s.flaskr is not None:
                flaskr = FlaskrInstance(s.flaskr, self.workdir)
                flaskr_server = stack.enter_context(flaskr.serve(self.pinned.server))
                log(f"seeding {s.posts} posts over HTTP into {flaskr_server.name}")
                flaskr_seeded = flaskr.seed(flaskr_server.port, s.posts)
            our_loads = seeded.loads(csrf=True)
            flaskr_loads = flaskr_seeded.loads(csrf=False) if flaskr_seeded else {}
            rows: list[list[str]] = []
            table: dict[str, Any] = {}
            # Pages the app may serve from its page cache are measured again on a
            # second instance with the cache off: the render, comparable with Flaskr.
            uncached = [
                k for k, on in ((ANON, seeded.anonymous_cache), (USER, seeded.user_cache)) if on
            ]
            nocache_server = None
            nocache_loads: dict[str, Load] = {}
            if uncached:
                nocache = OursInstance(
                    self.workdir, "main-nocache", s.rate_limits, {"PAGE_CACHE_SIZE": 0}
                )
                nocache_server = stack.enter_context(nocache.serve(self.pinned.server))
                log(f"seeding {s.posts} posts over HTTP into {nocache_server.name}, no page cache")
                nocache_loads = nocache.seed(nocache_server.port, s.posts).loads(csrf=True)
            specs = [(key, label, False) for key, label in SCENARIO_LABELS.items()]
            for key in reversed(uncached):
                specs.insert(2, (key, UNCACHED_LABELS[key], True))
            floors: dict[str, WrkResult] = {}
            theirs_by_key: dict[str, WrkResult] = {}
            for key, label, without_cache in specs:
                name = f"{key}-nocache" if without_cache else key
                entry: dict[str, Any] = {"available": seeded.available.get(key, "n/a")}
                table[name] = entry
                if seeded.available.get(key, "n/a").startswith("n/a"):
                    rows.append([label, "n/a", "", "", "", "", "", "", "", "", "-"])
                    if flaskr_server:
                        rows[-1] += ["n/a", "", "", "", "", "-"]
                    continue
                duration = self.duration_for(key)
                mine_runs: list[WrkResult] = []
                floor_runs: list[WrkResult] = []
                their_runs: list[WrkResult] = []
                for round_ in range(1, s.rounds + 1):
                    of = f" (round {round_} of {s.rounds})" if s.rounds > 1 else ""
                    if without_cache and nocache_server is not None:
                        log(f"{label}: ours{of}")
                        mine_runs.append(self.measure(nocache_server, nocache_loads[key], duration))
                        continue
                    log(f"{label}: ours{of}")
                    mine_runs.append(self.measure(server, our_loads[key], duration))
                    if key == CREATE and writes_broken(server.port, seeded):
                        restarts += 1
                        log("writes fail after POST /create: restarting the server")
                        server.stop()
                        server = ours.serve(self.pinned.server)
                    log(f"{label}: bare{of}")
                    floor_runs.append(self.measure(bare, bare_load(key, our_loads[key]), duration))
                    if flaskr_server and key in (ANON, USER, HELLO, CREATE, LOGIN):
                        log(f"{label}: Flaskr{of}")
                        their_runs.append(self.measure(flaskr_server, flaskr_loads[key], duration))
                mine = median(mine_runs)
                # Rows without the cache reuse the bare app's and Flaskr's figures
                # for the same page.
                floor = median(floor_runs) if floor_runs else floors[key]
                floors[key] = floor
                theirs = median(their_runs) if their_runs else theirs_by_key.get(key)
                if theirs is not None:
                    theirs_by_key[key] = theirs
                    entry["flaskr"] = dataclasses.asdict(theirs)
                entry.update(
                    ours=dataclasses.asdict(mine),
                    bare=dataclasses.asdict(floor),
                    rounds={
                        "ours": [r.rps for r in mine_runs],
                        "bare": [r.rps for r in floor_runs],
                        "flaskr": [r.rps for r in their_runs],
                    },
                )
                entry["bytes"] = seeded.sizes.get(key)
                row = [
                    label,
                    *result_cells(mine, cpu=True),
                    *result_cells(floor, errors=False, cpu=True),
                    fmt_ratio(mine.rps, floor.rps),
                ]
                if flaskr_server:
                    row += [
                        *result_cells(theirs, cpu=True),
                        fmt_ratio(mine.rps, theirs.rps) if theirs else "-",
                    ]
                rows.append(row)
            if restarts:
                warnings.append(
                    f"after POST /create (wrk disconnects mid-request when it stops) the app"
                    f" answered 500 to a new post {restarts} time(s): its writer connection was"
                    " left inside a transaction; the server was restarted each time."
                )
            posts_shown = count_posts_shown(Client(server.port).expect("GET", "/", 200).text)
        header = [
            "scenario",
            "req/s",
            "p50",
            "p99",
            "err",
            "cpu",
            "bare req/s",
            "p50",
            "p99",
            "cpu",
            "ours/bare",
        ]
        if s.flaskr is not None:
            header += ["Flaskr req/s", "p50", "p99", "err", "cpu", "ours/Flaskr"]
        notes = [
            f"one Hypercorn worker (hypercorn.toml) pinned to CPU {self.pinned.server},"
            f" wrk on CPU {self.pinned.client}, {s.connections} connections,"
            f" {s.duration:g} s per scenario ({s.login_duration:g} s for login);"
            " ratios are of req/s."
            + (f" Median of {s.rounds} interleaved rounds." if s.rounds > 1 else ""),
            f"{s.posts} posts seeded; the index showed {posts_shown} after the run.",
            "err: non-2xx/3xx answers plus socket errors and timeouts.",
            "cpu: ms of CPU the server's processes used per request (all threads);"
            " steadier than req/s when other work shares the machine.",
            f"login: {'rate limit ON' if s.rate_limits else 'rate limit switched off'};"
            " ours hashes with scrypt N=2^17, Flaskr with Werkzeug's default N=2^15.",
        ]
        notes += [
            f"{SCENARIO_LABELS[k]}: {v}" for k, v in seeded.available.items() if v.startswith("n/a")
        ]
        if uncached:
            cached = " and ".join(SCENARIO_LABELS[k] for k in uncached)
            notes.append(
                f"{cached}: the app's page cache serves these (they carry an ETag; wrk sends"
                " no If-None-Match, so full 200s). The 'no page cache' rows are the same pages"
                " from a second instance with PAGE_CACHE_SIZE=0: the full render, the fair"
                " comparison with Flaskr; their bare and Flaskr columns repeat the cached rows'."
            )
        notes += warnings
        errors = exceptions_in_logs(sorted(ours.workdir.glob("server-*.log")))
        notes += [f"server log (ours): {n} x {error}" for error, n in errors.most_common(5)]
        table["server_exceptions"] = dict(errors)
        self.results["main"] = table
        print_table("Main table (ours = quart_flaskr)", header, rows, notes)

    # ---- extras, on a fresh instance

    def extras(self) -> None:
        s = self.s
        if not (s.many or s.interference or s.memory or s.profile or s.cores or s.data):
            return
        ours = OursInstance(self.workdir, "extras", s.rate_limits)
        with ours.serve(self.pinned.server) as server:
            seeded = ours.seed(server.port, s.posts)
            probe_ours(server.port, seeded)
            loads = seeded.loads(csrf=True)
            if s.memory:
                self.memory(server, seeded)
            if s.many:
                self.many_connections(server, loads)
            if s.interference:
                self.interference(server, loads)
            if s.profile:
                self.profile(server, {ANON: loads[ANON], USER: loads[USER]}, "")
        if s.cores:
            # Both servers run at once on the same database, so that the two are
            # measured in turn; the idle one costs nothing.
            workers = len(os.sched_getaffinity(0))
            with (
                ours.serve(self.pinned.server, processes=1) as one,
                ours.serve(None, processes=workers) as every,
            ):
                self.cores(one, every, loads)
        if s.profile and seeded.user_cache:
            # Rendering, not the page cache: an instance with the cache off.
            render = OursInstance(self.workdir, "render", s.rate_limits, {"PAGE_CACHE_SIZE": 0})
            with render.serve(self.pinned.server) as server:
                rendered = render.seed(server.port, s.posts)
                probe_ours(server.port, rendered)
                loads = rendered.loads(csrf=True)
                self.profile(server, {USER: loads[USER]}, ", no page cache")
        if s.data:
            # Rendering with the page cache off, at the default page size
            # (POSTS_PER_PAGE left at the app's own default).
            data = OursInstance(
                self.workdir, "data", s.rate_limits, {"PAGE_CACHE_SIZE": 0, "POSTS_PER_PAGE": None}
            )
            with data.serve(self.pinned.server) as server:
                rendered = data.seed(server.port, s.posts)
                probe_ours(server.port, rendered)
                self.data_scaling(server, data, rendered)

    def memory(self, server: Server, seeded: Seeded) -> None:
        paths = ["/", "/hello", "/auth/login"]
        if seeded.available.get(DETAIL) == "yes":
            paths.append(f"/{seeded.post_id}")
        if seeded.available.get(SEARCH) == "yes":
            paths.append(f"/?q={SEARCH_WORD}")
        load = Load("/", cookie=seeded.user_cookie, rotate=tuple(paths))
        workers = server.worker_pids()

        def snapshot() -> tuple[int, int]:
            worker = sum(rss_kib(pid) for pid in workers)
            tree = sum(rss_kib(pid) for pid in server.pids())
            return worker, tree

        before = snapshot()
        done = 0
        curve = [(0, before[0])]
        log(f"memory: {s_requests(self.s.memory_requests)} requests ({', '.join(paths)})")
        while done < self.s.memory_requests:
            result = self.measure(server, load, self.s.memory_chunk)
            if result.requests == 0:
                raise BenchError("memory: wrk completed no request")
            done += result.requests
            curve.append((done, snapshot()[0]))
        after = snapshot()
        self.results["memory"] = {
            "requests": done,
            "before_kib": before,
            "after_kib": after,
            "worker_curve": curve,
            "paths": paths,
        }
        rows = [
            [
                "worker process",
                f"{before[0] / 1024:.1f}",
                f"{after[0] / 1024:.1f}",
                f"{(after[0] - before[0]) / 1024:+.1f}",
            ],
            [
                "whole server (master, tracker, worker)",
                f"{before[1] / 1024:.1f}",
                f"{after[1] / 1024:.1f}",
                f"{(after[1] - before[1]) / 1024:+.1f}",
            ],
        ]
        steps = ", ".join(
            f"{n:,}: {kib / 1024:.1f}" for n, kib in curve[:: max(1, len(curve) // 8)]
        )
        print_table(
            f"Memory: RSS (MiB) before and after {done:,} requests",
            ["process", "before", "after", "change"],
            rows,
            [
                f"requests in turn: {' '.join(paths)} (logged in)",
                f"worker RSS by requests: {steps}",
            ],
        )

    def many_connections(self, server: Server, loads: dict[str, Load]) -> None:
        count = self.s.many_connections
        rows = []
        data = {}
        for key in (HELLO, ANON):
            log(f"{count} connections: {SCENARIO_LABELS[key]}")
            result = self.measure(server, loads[key], connections=count)
            data[key] = dataclasses.asdict(result)
            errors = ", ".join(f"{k} {v}" for k, v in result.errors.items() if v) or "none"
            rows.append(
                [
                    SCENARIO_LABELS[key],
                    *result_cells(result, errors=False),
                    fmt_ms(result.max_ms),
                    f"{result.requests:,}",
                    errors,
                ]
            )
        self.results["many_connections"] = data
        print_table(
            f"{count} concurrent keep-alive connections (one worker)",
            ["scenario", "req/s", "p50", "p99", "max", "requests", "errors"],
            rows,
        )

    def interference(self, server: Server, loads: dict[str, Load]) -> None:
        s = self.s
        log("GET /hello alone")
        alone = self.measure(server, loads[HELLO])
        log(f"GET /hello while {s.connections} clients log in")
        logins = self.wrk.start(server, loads[LOGIN], s.duration + 3, s.connections, self.pinned)
        try:
            time.sleep(1.5)
            during = self.wrk.run(server, loads[HELLO], s.duration, s.connections, self.pinned)
        finally:
            login_result = self.wrk.collect(logins, s.connections, s.duration + WRK_TIMEOUT_S + 30)
        settle(server)
        self.results["interference"] = {
            "hello_alone": dataclasses.asdict(alone),
            "hello_during_logins": dataclasses.asdict(during),
            "logins": dataclasses.asdict(login_result),
        }
        print_table(
            f"GET /hello while {s.connections} clients log in continuously",
            ["load", "req/s", "p50", "p99", "err"],
            [
                ["GET /hello alone", *result_cells(alone)],
                ["GET /hello during logins", *result_cells(during)],
                ["POST /auth/login (the logins)", *result_cells(login_result)],
            ],
            [
                f"p99 during/alone: {fmt_ratio(during.p99_ms, alone.p99_ms)};"
                f" req/s during/alone: {fmt_ratio(during.rps, alone.rps)}"
            ],
        )

    def cores(self, one: Server, every: Server, loads: dict[str, Load]) -> None:
        everywhere = Cpus.unpinned()
        rows = []
        data = {}
        for key in (ANON, USER, HELLO):
            one_runs: list[WrkResult] = []
            all_runs: list[WrkResult] = []
            for round_ in range(1, self.s.rounds + 1):
                of = f" (round {round_} of {self.s.rounds})" if self.s.rounds > 1 else ""
                log(f"one core: {SCENARIO_LABELS[key]}{of}")
                one_runs.append(self.measure(one, loads[key]))
                log(f"all cores: {SCENARIO_LABELS[key]}{of}")
                all_runs.append(self.measure(every, loads[key], cpus=everywhere))
            single, result = median(one_runs), median(all_runs)
            data[key] = {
                "one": dataclasses.asdict(single),
                "all": dataclasses.asdict(result),
                "rounds": {"one": [r.rps for r in one_runs], "all": [r.rps for r in all_runs]},
            }
            rows.append(
                [
                    SCENARIO_LABELS[key],
                    *result_cells(single, errors=False),
                    *result_cells(result),
                    fmt_ratio(result.rps, single.rps),
                ]
            )
        self.results["cores"] = data
        workers = len(os.sched_getaffinity(0))
        print_table(
            "All cores vs one core",
            [
                "scenario",
                "1 core req/s",
                "p50",
                "p99",
                f"{workers} processes req/s",
                "p50",
                "p99",
                "err",
                "all/one",
            ],
            rows,
            [
                "Hypercorn as in production (hypercorn.toml: no worker processes), on a"
                " socket of its own with SO_REUSEPORT (bench/reuseport.py, as systemd's"
                " socket units in the README). One core: 1 process pinned to CPU"
                f" {self.pinned.server}, wrk on CPU {self.pinned.client}. All cores:"
                f" {workers} processes on one port, each pinned to a CPU of its own, and"
                f" wrk (threads: {everywhere.client_threads}) unpinned, sharing the"
                f" {workers} CPUs with them."
                + (f" Median of {self.s.rounds} interleaved rounds." if self.s.rounds > 1 else "")
            ],
        )

    def data_scaling(self, server: Server, ours: OursInstance, seeded: Seeded) -> None:
        s = self.s
        keys = [ANON] + [k for k in (DETAIL, SEARCH) if seeded.available.get(k) == "yes"]
        # Logged in, so that every request renders (anonymous pages may be cached).
        loads = {
            key: dataclasses.replace(load, cookie=seeded.user_cookie)
            for key, load in seeded.loads(csrf=True).items()
        }
        labels = {
            ANON: "GET / (logged in)",
            DETAIL: "GET /<id> (logged in)",
            SEARCH: "GET /?q=word (logged in)",
        }
        user = Client(server.port)
        user.cookies = cookie_dict(seeded.user_cookie)
        small = {}
        for key in keys:
            log(f"{s.posts} posts: {labels[key]}")
            small[key] = self.measure(server, loads[key])
        shown_small = count_posts_shown(user.expect("GET", "/", 200).text)
        log(f"inserting posts into {ours.database} up to {s.big_posts:,}")
        started = time.perf_counter()
        added = seed_big(ours.database, s.big_posts)
        log(f"inserted {added:,} posts in {time.perf_counter() - started:.1f} s")
        first = user.expect("GET", "/", 200)
        shown_big = count_posts_shown(first.text)
        big = {}
        for key in keys:
            log(f"{s.big_posts:,} posts: {labels[key]}")
            probe = user.request("GET", loads[key].path)
            connections = 1 if probe.seconds > 0.5 else None
            big[key] = self.measure(server, loads[key], connections=connections)
        rows = []
        for key in keys:
            rows.append(
                [
                    labels[key],
                    *result_cells(small[key], errors=False, cpu=True),
                    *result_cells(big[key], cpu=True),
                    fmt_ratio(big[key].p50_ms, small[key].p50_ms),
                    fmt_ratio(big[key].cpu_ms_per_request, small[key].cpu_ms_per_request),
                ]
            )
        self.results["data"] = {
            key: {"small": dataclasses.asdict(small[key]), "big": dataclasses.asdict(big[key])}
            for key in keys
        } | {"posts_shown": [shown_small, shown_big], "index_bytes_big": len(first.body)}
        notes = [
            f"GET / showed {shown_small} posts with {s.posts} and {shown_big} with"
            f" {s.big_posts:,} ({len(first.body):,} bytes, {first.seconds * 1000:.0f} ms alone).",
            f"cpu: ms of CPU per request; x: the {s.big_posts:,}-post figure over the"
            f" {s.posts}-post one.",
        ]
        notes += [
            f"{SCENARIO_LABELS[k]}: {seeded.available[k]}"
            for k in (DETAIL, SEARCH)
            if seeded.available.get(k, "n/a").startswith("n/a")
        ]
        if any(r.connections == 1 for r in big.values()):
            notes.append("rows measured with 1 connection where a single request took over 0.5 s")
        print_table(
            f"Data: {s.posts} posts vs {s.big_posts:,} posts (one worker, pinned)",
            [
                "scenario",
                f"{s.posts} req/s",
                "p50",
                "p99",
                "cpu",
                f"{s.big_posts:,} req/s",
                "p50",
                "p99",
                "err",
                "cpu",
                "p50 x",
                "cpu x",
            ],
            rows,
            notes,
        )

    def profile(self, server: Server, loads: dict[str, Load], tag: str) -> None:
        spy = ensure_py_spy()
        if spy is None:
            return
        worker = server.worker_pids()[0]
        out = RESULTS / f"profile-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.txt"
        RESULTS.mkdir(parents=True, exist_ok=True)
        profiles = self.results.setdefault("profile", {})
        for key in loads:
            label = SCENARIO_LABELS[key] + tag
            path = out.with_name(out.stem + f"-{key}{'-nocache' if tag else ''}.txt")
            log(f"profiling {label} with py-spy ({self.s.profile_duration:g} s)")
            wrk = self.wrk.start(
                server, loads[key], self.s.profile_duration + 2, self.s.connections, self.pinned
            )
            try:
                time.sleep(1)
                result = subprocess.run(
                    [
                        spy,
                        "record",
                        "--pid",
                        str(worker),
                        "--duration",
                        str(round(self.s.profile_duration)),
                        "--rate",
                        "250",
                        "--format",
                        "raw",
                        "--nolineno",
                        "--full-filenames",
                        "--nonblocking",
                        "--output",
                        str(path),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
            finally:
                self.wrk.collect(wrk, self.s.connections, self.s.profile_duration + 90)
            settle(server)
            if result.returncode != 0 or not path.exists():
                log(f"py-spy failed: {result.stderr.strip()[-500:]}")
                return
            profiles[key + tag] = summarise_profile(path, label)


def s_requests(count: int) -> str:
    return f"{count:,}"


# --------------------------------------------------------------------------- profile


def ensure_py_spy() -> str | None:
    tools = CACHE / "tools-venv"
    spy = tools / "bin" / "py-spy"
    if spy.exists():
        return str(spy)
    log(f"installing py-spy into {tools}")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(tools)], check=True)
        subprocess.run(
            [str(tools / "bin" / "python"), "-m", "pip", "install", "--quiet", "py-spy"],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as error:
        log(f"could not install py-spy ({error}); skipping the profile")
        return None
    return str(spy)


FRAME_RE = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*)\)$")


def frame_place(frame: str) -> tuple[str, str, str]:
    """(function, short file, component) of a py-spy frame "func (path)"."""
    match = FRAME_RE.match(frame)
    func, file = (match.group("func"), match.group("file")) if match else (frame, "")
    component = "other"
    short = file
    if "/site-packages/" in file:
        short = file.split("/site-packages/", 1)[1]
        component = short.split("/", 1)[0].removesuffix(".py")
    elif "/quart_flaskr/" in file:
        short = "quart_flaskr/" + file.split("/quart_flaskr/", 1)[1]
        component = "templates (Jinja)" if file.endswith(".html") else "quart_flaskr"
    elif re.search(r"/lib/python3\.\d+/", file):
        short = re.split(r"/lib/python3\.\d+/", file, maxsplit=1)[1]
        component = "stdlib " + short.split("/", 1)[0].removesuffix(".py")
    elif file.startswith("<frozen"):
        component = "stdlib (frozen)"
    elif file.endswith(".html"):
        component = "templates (Jinja)"
    return func, short, component


def summarise_profile(path: Path, label: str) -> dict[str, Any]:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    components: Counter[str] = Counter()
    total = 0
    for line in path.read_text("utf-8", "replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        places = [frame_place(f) for f in frames]
        leaf = places[-1]
        own[f"{leaf[0]} ({leaf[1]})"] += count
        components[leaf[2]] += count
        for place in {f"{p[0]} ({p[1]})" for p in places}:
            inclusive[place] += count
    if not total:
        return {}

    def pct(value: int) -> str:
        return f"{100 * value / total:.1f}%"

    print_table(
        f"Profile of the worker, {label}: where the samples' own time is, by component",
        ["component", "own time"],
        [[name, pct(n)] for name, n in components.most_common(14)],
    )
    print_table(
        f"Profile, {label}: functions by own time (top 20)",
        ["function (file)", "own"],
        [[name[:110], pct(n)] for name, n in own.most_common(20)],
    )
    app_frames = [
        (name, n)
        for name, n in inclusive.most_common()
        if "quart_flaskr/" in name or "quart/" in name or "jinja2/" in name or "aiosqlite" in name
    ]
    print_table(
        f"Profile, {label}: app, Quart, Jinja and aiosqlite functions by inclusive time (top 25)",
        ["function (file)", "incl."],
        [[name[:110], pct(n)] for name, n in app_frames[:25]],
        [f"{total:,} samples at 250 Hz (all threads, idle excluded); raw stacks in {path}"],
    )
    return {
        "samples": total,
        "components": dict(components.most_common()),
        "own": dict(own.most_common(40)),
        "inclusive": dict(app_frames[:40]),
        "raw": str(path),
    }


# --------------------------------------------------------------------------- main


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def work_directory(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="quart-flaskr-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Even when started with SIGINT ignored (in the background), Ctrl+C stops the run.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    raise_open_file_limit()
    try:
        wrk = Wrk(ensure_wrk(), Path(tempfile.gettempdir()))
        with work_directory(settings.keep) as workdir:
            wrk.workdir = workdir
            bench = Bench(settings, wrk, workdir)
            started = time.monotonic()
            try:
                if not settings.skip_main:
                    bench.main_table()
                bench.extras()
            finally:
                stop_all_servers()
            bench.results["seconds"] = round(time.monotonic() - started, 1)
            bench.results["load_average_after"] = os.getloadavg()
            print("\nLoad average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
            settings.json_path.parent.mkdir(parents=True, exist_ok=True)
            settings.json_path.write_text(json.dumps(bench.results, indent=2, default=str))
            print(f"\nResults written to {settings.json_path}")
    except WrkMissingError as error:
        print(f"bench: {error}", file=sys.stderr)
        return EXIT_NO_WRK
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped", file=sys.stderr)
        return 130
    finally:
        stop_all_servers()
    return 0


if __name__ == "__main__":
    sys.exit(main())
