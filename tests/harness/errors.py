"""The harness's errors: the bench reports them as messages, tests as failures."""

from __future__ import annotations


class HarnessError(Exception):
    """Something the harness was asked to do did not happen."""


class UnexpectedStatusError(HarnessError):
    """A server answered with another status than the one expected."""


class MissingTokenError(HarnessError):
    """A page that should carry a form's CSRF token carries none."""


class ServerFailedError(HarnessError):
    """A server process exited, or did not answer, when it should have been serving."""
