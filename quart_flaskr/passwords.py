"""Password hashing, always off the event loop.

Hashes use scrypt at OWASP's minimum cost (N=2^17, r=8, p=1). Each one takes a
fraction of a second of CPU, so it runs in a thread (hashlib releases the GIL)
from a pool of one thread per core: a burst of logins queues up there instead
of starving the event loop that serves everyone else. On Linux those threads
also run at a lower priority (nice +10) than the event loop: where they share a
core, the loop gets it first when a request arrives, and a hash takes the time
the pages leave.
"""

from __future__ import annotations

import os
import sys
import threading
from functools import cache

from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from quart_flaskr import workers

#: Werkzeug's method string for new hashes, the PASSWORD_HASH_METHOD default.
#: Hashes stored with any other method (such as Flaskr's default, scrypt at
#: N=2^15) are replaced on the next successful login.
METHOD = "scrypt:131072:8:1"

#: How much lower the hashing threads' priority is than the event loop's.
NICENESS = 10


def _lower_priority() -> None:
    """Lower this thread's scheduling priority (Linux: a thread has a nice value of its own)."""
    if sys.platform == "linux":
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + NICENESS)


_pool = workers.Pool("password-hash", len(os.sched_getaffinity(0)), _lower_priority)


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("an unknown user has no password", method)


def _check(stored: str | None, password: str, method: str) -> bool:
    if stored is None:
        # The username is unknown: spend the same time as for a wrong
        # password. The login page's messages (Flaskr's, kept) say which of
        # the two was wrong, so this hides nothing they do not; it keeps each
        # failed login as costly as any other, to the hashing threads too.
        check_password_hash(_dummy_hash(method), password)
        return False
    return check_password_hash(stored, password)


async def hash_password(password: str, method: str) -> str:
    """Hash a new password with ``method``."""
    return await _pool.run(generate_password_hash, password, method)


async def check_password(stored: str | None, password: str, method: str) -> bool:
    """Whether ``password`` matches the stored hash; None stands for an unknown user.

    ``method`` is the current hashing method, used to spend the time of a
    real check when the user is unknown.
    """
    return await _pool.run(_check, stored, password, method)


def needs_rehash(stored: str, method: str) -> bool:
    """Whether a stored hash was made with another (older, weaker) method."""
    return not stored.startswith(method + "$")
