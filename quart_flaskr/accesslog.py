"""Escaping for Hypercorn's access log, so that no request can write a line break or forge a field.

Hypercorn logs the request line decoded (``%0d%0a`` in a path becomes a real
line break) and header values as they came. ``hypercorn.toml`` installs
:class:`EscapeAccessLog` on the ``hypercorn.access`` logger: it escapes every
value the access log format takes, and leaves the format itself alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from collections.abc import Mapping

#: Characters escaped although printable: the escape character itself, so that a
#: value cannot forge an escape, and the quote that the log format puts around values.
_SPECIAL = {"\\": "\\\\", '"': '\\"'}


def _escape_character(char: str) -> str:
    """One character as the log shows it: itself if printable, else a Python-style escape."""
    if char in _SPECIAL:
        return _SPECIAL[char]
    if char.isprintable():
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(value: str) -> str:
    """``value`` as one printable line: non-printable characters, backslash and quote escaped.

    Non-printable is Python's ``str.isprintable``: C0 and C1 controls, DEL,
    U+2028/U+2029 and every other character that ``str.splitlines`` or a terminal
    treats as a line break or a command, invisible format characters (bidi
    overrides), lone surrogates, and spaces other than U+0020. The escapes are
    Python's (``\\x0d``, ``\\u2028``, ``\\\\``, ``\\"``), so a log line reads back unambiguously.
    """
    if value.isprintable() and not any(char in value for char in _SPECIAL):
        return value
    return "".join(_escape_character(char) for char in value)


class EscapedAtoms(Mapping[str, object]):
    """Hypercorn's access log atoms, each string escaped when the format reads it.

    Wrapping keeps what Hypercorn's ``AccessLogAtoms`` does on lookup (``-`` for
    an absent header, header names in any case), and escapes only the atoms the
    format uses, not the whole environment the atoms also carry.
    """

    def __init__(self, atoms: Mapping[str, object]) -> None:
        self._atoms = atoms

    def __getitem__(self, key: str) -> object:
        value = self._atoms[key]
        return escape(value) if isinstance(value, str) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._atoms)

    def __len__(self) -> int:
        return len(self._atoms)


class EscapeAccessLog(logging.Filter):
    """A logging filter that makes a record's mapping arguments escape themselves."""

    def filter(self, record: logging.LogRecord) -> bool:
        # A record passed through twice (the filter on a logger and a handler)
        # must not have its backslashes escaped twice.
        if isinstance(record.args, Mapping) and not isinstance(record.args, EscapedAtoms):
            record.args = EscapedAtoms(record.args)
        return True
