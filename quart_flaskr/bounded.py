"""Bounded tables: dicts kept to at most so many entries, or so much weight, the oldest dropped
first.

Oldest rather than least recently used: a lookup is then one ``dict.get``,
and an entry still in use is soon put back.
"""

from __future__ import annotations

from typing import Generic
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def put(entries: dict[K, V], key: K, value: V, most: int) -> None:
    """Keep ``value`` under ``key`` as the newest entry; the oldest goes when ``most`` are kept."""
    entries.pop(key, None)
    if len(entries) >= most:
        del entries[next(iter(entries))]
    entries[key] = value


class WeighedTable(Generic[K, V]):
    """Entries kept up to a total weight (bytes, characters), the oldest dropped first.

    An entry heavier than the whole table is not kept.
    """

    def __init__(self, most: int) -> None:
        self.most = most
        #: The weight of the entries kept.
        self.weight = 0
        self._entries: dict[K, tuple[V, int]] = {}

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        return None if found is None else found[0]

    def put(self, key: K, value: V, weight: int) -> None:
        """Keep ``value`` under ``key`` (in place of any value kept there), dropping the oldest
        entries until it fits."""
        old = self._entries.pop(key, None)
        if old is not None:
            self.weight -= old[1]
        if weight > self.most:
            return
        while self.weight + weight > self.most:
            self.weight -= self._entries.pop(next(iter(self._entries)))[1]
        self._entries[key] = (value, weight)
        self.weight += weight

    def __len__(self) -> int:
        return len(self._entries)
