"""Bounded tables: dicts kept to at most so many entries, the oldest dropped first.

Oldest rather than least recently used: a lookup is then one ``dict.get``,
and an entry still in use is soon put back.
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def put(entries: dict[K, V], key: K, value: V, most: int) -> None:
    """Keep ``value`` under ``key`` as the newest entry; the oldest goes when ``most`` are kept."""
    entries.pop(key, None)
    if len(entries) >= most:
        del entries[next(iter(entries))]
    entries[key] = value
