"""Until when a request's answer is the one the app would give again, as far as the clock goes.

Besides the database, a logged-in reader's page depends on the time: the
session cookie is refused once older than the session's lifetime and signed
again (a ``Set-Cookie``) once ``SESSION_REFRESH_SECONDS`` old, the login
ends at its expiry, and its use is recorded again (a write) once
``LAST_SEEN_SECONDS`` have passed. Each of those decisions notes here when it
would go the other way, in the request's ASGI scope; the fast path
(``fastpath.py``) answers a logged-in reader's repeated request itself only
until the earliest, and asks the database's data version about the rest.
"""

from __future__ import annotations

import math
from typing import cast

from hypercorn.typing import Scope

#: Where the scope holds the earliest time noted (seconds since the epoch).
_UNTIL = "quart_flaskr.expiry.until"


def note(scope: Scope, until: float) -> None:
    """Note that the request's answer may differ from ``until`` (seconds since the epoch) on."""
    # ASGI scopes are plain dicts; middleware may add its own keys.
    values = cast(dict[str, object], scope)
    noted = values.get(_UNTIL)
    if not isinstance(noted, float) or until < noted:
        values[_UNTIL] = float(until)


def until(scope: Scope) -> float:
    """The earliest time noted for the request's answer: infinity when none was."""
    noted = cast(dict[str, object], scope).get(_UNTIL)
    return noted if isinstance(noted, float) else math.inf
