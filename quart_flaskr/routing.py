"""URL converters."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map

#: SQLite's largest integer; a larger id in a URL cannot name a row.
SQLITE_MAX_INT = 2**63 - 1


class RowIdConverter(IntegerConverter):
    """``<id:name>``: a positive integer that fits in an SQLite row id, else 404."""

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=SQLITE_MAX_INT)
