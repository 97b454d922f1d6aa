"""The failures that end a benchmark run with a message rather than a traceback."""

from __future__ import annotations


class BenchError(Exception):
    """A failure that ends the run with a message."""


class WrkMissingError(BenchError):
    """wrk is missing and could not be installed (the run exits with its own status)."""
