"""Which of SQLite's errors mean the database cannot answer now, told by their result codes.

SQLite reports every error with a result code (``sqlite3.Error.sqlite_errorcode``
since Python 3.11); its low byte is the primary code that extended codes refine
(``SQLITE_BUSY_SNAPSHOT`` is ``SQLITE_BUSY`` plus why). Messages are for people
and may change between SQLite releases; codes are SQLite's interface.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from quart_flaskr.db.interface import DatabaseBusyError
from quart_flaskr.db.interface import DatabaseUnavailableError
from quart_flaskr.db.interface import ReferenceGoneError

#: Another connection holds a lock this one needs.
BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
#: The file cannot be opened, read or written as a database now.
UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_NOTADB,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOLFS,
    }
)


def primary_code(error: sqlite3.Error) -> int | None:
    """The primary result code of an error SQLite reported; None for one raised by Python."""
    code: int | None = getattr(error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def is_busy(error: sqlite3.Error) -> bool:
    """Whether the error is SQLITE_BUSY or SQLITE_LOCKED, or one of their extended codes."""
    return primary_code(error) in BUSY_CODES


@contextmanager
def translated_errors() -> Iterator[None]:
    """Raise the errors of ``interface.py`` for the driver's errors that mean them.

    Besides SQLite's codes: the file cannot be created (``OSError``), or the
    connection was closed under the call (aiosqlite's ``ValueError``); and a
    foreign key that refused a statement. Every other error, another broken
    constraint say, is the statement's and passes as it is.
    """
    try:
        yield
    except sqlite3.Error as error:
        code = primary_code(error)
        if code in BUSY_CODES:
            raise DatabaseBusyError(str(error)) from error
        if code in UNAVAILABLE_CODES:
            raise DatabaseUnavailableError(str(error)) from error
        if getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
            raise ReferenceGoneError(str(error)) from error
        raise
    except (OSError, ValueError) as error:
        raise DatabaseUnavailableError(str(error)) from error
