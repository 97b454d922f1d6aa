from __future__ import annotations

import ast
import importlib
import io
import logging
import tomllib

import pytest
from hypercorn.config import Config
from hypercorn.logging import AccessLogAtoms
from hypercorn.typing import ResponseSummary

from quart_flaskr.accesslog import escape
from quart_flaskr.accesslog import EscapeAccessLog
from quart_flaskr.accesslog import EscapedAtoms
from tests.harness.asgi import http_scope
from tests.harness.hypercorn import HYPERCORN_TOML

#: The checkout's format, read from hypercorn.toml as Hypercorn reads it.
ACCESS_LOG_FORMAT = str(tomllib.loads(HYPERCORN_TOML.read_text("utf-8"))["access_log_format"])


@pytest.mark.parametrize(
    ("value", "logged"),
    (
        ("\r", "\\x0d"),
        ("\n", "\\x0a"),
        ("/auth//login\r\nX-Injected: 1", "/auth//login\\x0d\\x0aX-Injected: 1"),
        ("\x00", "\\x00"),
        ("\t", "\\x09"),
        ("\x0b\x0c\x1c\x1d\x1e", "\\x0b\\x0c\\x1c\\x1d\\x1e"),
        ("\x1b[2J", "\\x1b[2J"),
        ("\x7f", "\\x7f"),
        ("\x85", "\\x85"),
        ("\x9b31m", "\\x9b31m"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
        ("\u202e", "\\u202e"),
        ("\xa0", "\\xa0"),
        ("\ud800", "\\ud800"),
        ("\U000e0001", "\\U000e0001"),
        ("\\", "\\\\"),
        ("\\x0a", "\\\\x0a"),
        ('"', '\\"'),
        ('a" 200 0 "b', 'a\\" 200 0 \\"b'),
        ("", ""),
        ("GET /auth/login 1.1", "GET /auth/login 1.1"),
        ("Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (X11; Linux x86_64)"),
        ("/tag/Блог", "/tag/Блог"),
        ("/tag/블로그", "/tag/블로그"),
        ("café 🙂", "café 🙂"),
    ),
)
def test_escape(value: str, logged: str) -> None:
    assert escape(value) == logged


def test_escape_every_character() -> None:
    """Whatever a value holds, it is logged as one printable line that reads back as the value."""
    everything = "".join(map(chr, range(0x110000)))
    logged = escape(everything)
    assert logged.isprintable()
    assert len(logged.splitlines()) == 1
    assert ast.literal_eval(f'"{logged}"') == everything


def access_atoms(path: str, headers: list[tuple[bytes, bytes]]) -> AccessLogAtoms:
    """The atoms Hypercorn logs for a GET answered 200 with 2 bytes in 5 ms."""
    response: ResponseSummary = {"status": 200, "headers": [(b"content-length", b"2")]}
    return AccessLogAtoms(http_scope(path, headers), response, 0.005)


def log_access(
    atoms: AccessLogAtoms, log_filter: logging.Filter, log_format: str = ACCESS_LOG_FORMAT
) -> str:
    """What a logger with ``log_filter`` writes for ``atoms``, as Hypercorn's access log does."""
    # A logger of its own, outside logging's registry: no global state changes.
    logger = logging.Logger("test-access")
    stream = io.StringIO()
    logger.addHandler(logging.StreamHandler(stream))
    logger.addFilter(log_filter)
    logger.info(log_format, atoms)
    return stream.getvalue()


def test_ordinary_request_logged_unchanged() -> None:
    atoms = access_atoms("/auth/login", [(b"user-agent", b"curl/8.5.0")])
    assert log_access(atoms, EscapeAccessLog()) == log_access(atoms, logging.Filter())
    assert log_access(atoms, EscapeAccessLog()) == (
        '127.0.0.1:50000 "GET /auth/login 1.1" 200 2 0.005000s "curl/8.5.0"\n'
    )


def test_injected_request_logged_as_one_line() -> None:
    # Hypercorn decodes header bytes as latin-1, so the byte 0x85 becomes U+0085 (NEL).
    atoms = access_atoms("/auth//login\r\nX-Injected: 1", [(b"user-agent", b"ua\x1b[2J\x85\\")])
    assert log_access(atoms, EscapeAccessLog()) == (
        '127.0.0.1:50000 "GET /auth//login\\x0d\\x0aX-Injected: 1 1.1" 200 2 0.005000s'
        ' "ua\\x1b[2J\\x85\\\\"\n'
    )


def test_hypercorn_default_format_escaped() -> None:
    """Hypercorn's own format logs the Referer too: escaped as well."""
    atoms = access_atoms(
        "/\u2028",
        [(b"referer", b"http://x/\x85X-Injected: 1"), (b"user-agent", b'"\x7f')],
    )
    logged = log_access(atoms, EscapeAccessLog(), Config.access_log_format)
    assert logged.endswith('"GET /\\u2028 1.1" 200 2 "http://x/\\x85X-Injected: 1" "\\"\\x7f"\n')
    assert len(logged.splitlines()) == 1


def test_atoms_keep_hypercorn_lookups() -> None:
    """Header names in any case, ``-`` for what is absent, numbers left numbers."""
    atoms = EscapedAtoms(access_atoms("/", [(b"referer", b"http://x/\x7f")]))
    assert atoms["{Referer}i"] == "http://x/\\x7f"
    assert atoms["f"] == "http://x/\\x7f"
    assert atoms["a"] == "-"
    assert atoms["D"] == 5000
    assert len(atoms) == len(list(atoms)) > 0


def test_filter_escapes_once() -> None:
    """A record that goes through the filter twice keeps its backslashes escaped once."""
    record = logging.LogRecord(
        "hypercorn.access", logging.INFO, "", 0, "%(a)s", ({"a": "\\"},), None
    )
    log_filter = EscapeAccessLog()
    assert log_filter.filter(record)
    assert log_filter.filter(record)
    assert record.getMessage() == "\\\\"


def test_filter_leaves_positional_arguments() -> None:
    record = logging.LogRecord("hypercorn.access", logging.INFO, "", 0, "%s", ("\n",), None)
    assert EscapeAccessLog().filter(record)
    assert record.getMessage() == "\n"


def test_hypercorn_toml_installs_the_filter() -> None:
    """The dotted path in hypercorn.toml names the filter, so Hypercorn can start with it."""
    log_config = tomllib.loads(HYPERCORN_TOML.read_text("utf-8"))["logconfig_dict"]
    module, name = log_config["filters"]["escape"]["()"].rsplit(".", 1)
    assert getattr(importlib.import_module(module), name) is EscapeAccessLog
    assert log_config["loggers"]["hypercorn.access"]["filters"] == ["escape"]
