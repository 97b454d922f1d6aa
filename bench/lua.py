"""The Lua script that tells wrk what to send, and makes it print its figures as JSON."""

from __future__ import annotations

import textwrap

from bench.load import Load

#: The line of wrk's output that holds the figures, and its prefix.
RESULT_PREFIX = "BENCH_JSON "
_DONE = """
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
    """A Lua long-bracket string: no character in ``value`` needs escaping."""
    return "[==[" + value + "]==]"


def _setup(load: Load) -> str:
    """Numbers each thread (for unique titles); sends each to a port of ``load.ports`` in turn."""
    ports = ", ".join(lua_string(str(port)) for port in load.ports)
    to_port = (
        '  thread.addr = wrk.lookup("127.0.0.1", ports[((threads - 1) % #ports) + 1])[1]\n'
        if load.ports
        else ""
    )
    return (
        f"local ports = {{{ports}}}\n"
        "local threads = 0\n"
        "thread_id = 0\n"
        "function setup(thread)\n"
        "  threads = threads + 1\n"
        '  thread:set("thread_id", threads)\n'
        f"{to_port}"
        "end\n"
    )


def _unique_titles(load: Load) -> str:
    """Each request's body gets a title of its own: thread number and counter."""
    return textwrap.dedent(
        f"""
        local counter = 0
        function request()
          counter = counter + 1
          local body = {lua_string(load.body or "")}
            .. "&title=Bench+post+w" .. thread_id .. "-" .. counter
          return wrk.format(nil, {lua_string(load.path)}, nil, body)
        end
        """
    )


def _rotation(load: Load) -> str:
    """The requests go to each of ``load.rotate`` in turn."""
    paths = ", ".join(lua_string(path) for path in load.rotate)
    return textwrap.dedent(
        f"""
        local paths = {{{paths}}}
        local i = 0
        function request()
          i = i + 1
          return wrk.format(nil, paths[(i % #paths) + 1])
        end
        """
    )


#: Accept-Language headers as browsers word them: English, Russian and Korean readers.
BROWSER_LANGUAGES = (
    "en-US,en;q=0.9",
    "en-GB,en-US;q=0.9,en;q=0.8",
    "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7",
    "ru,en;q=0.9",
    "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7",
)
#: Accept-Encoding headers as browsers send them.
BROWSER_ENCODINGS = ("gzip, deflate, br, zstd", "gzip, deflate, br")


def _browsers(load: Load) -> str:
    """Each request with a cookie of its own and a browser's language and encodings in turn
    (and a click id of its own after the path, with ``load.click_ids``)."""
    languages = ", ".join(lua_string(value) for value in BROWSER_LANGUAGES)
    encodings = ", ".join(lua_string(value) for value in BROWSER_ENCODINGS)
    path = lua_string(load.path)
    if load.click_ids:
        path += ' .. "?fbclid=" .. thread_id .. "." .. counter'
    return textwrap.dedent(
        f"""
        local languages = {{{languages}}}
        local encodings = {{{encodings}}}
        local counter = 0
        function request()
          counter = counter + 1
          return wrk.format(nil, {path}, {{
            ["Cookie"] = "_visitor=" .. thread_id .. "." .. counter,
            ["Accept-Language"] = languages[(counter % #languages) + 1],
            ["Accept-Encoding"] = encodings[(counter % #encodings) + 1],
          }})
        end
        """
    )


def _think(think_ms: tuple[int, int]) -> str:
    """wrk waits between these many ms before each request on a connection."""
    return f"function delay()\n  return math.random({think_ms[0]}, {think_ms[1]})\nend\n"


def lua_script(load: Load) -> str:
    """The whole script for one load."""
    lines = [f"wrk.method = {lua_string(load.method)}"]
    if load.think_ms:
        lines.append(_think(load.think_ms))
    if load.body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"')
        lines.append(f"wrk.body = {lua_string(load.body)}")
    if load.unique_title or load.ports or load.browsers:
        lines.append(_setup(load))
    if load.unique_title:
        lines.append(_unique_titles(load))
    elif load.browsers:
        lines.append(_browsers(load))
    elif load.rotate:
        lines.append(_rotation(load))
    lines.append(_DONE)
    return "\n".join(lines)
