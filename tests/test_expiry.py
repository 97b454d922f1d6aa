"""Until when an answer is the app's, as far as the clock goes: the earliest time noted."""

from __future__ import annotations

import math
from typing import cast

from hypercorn.typing import Scope

from quart_flaskr import expiry


def test_an_answer_nothing_noted_lasts_as_long_as_the_data() -> None:
    assert expiry.until(cast(Scope, {"type": "http"})) == math.inf


def test_the_earliest_time_noted_is_kept() -> None:
    scope = cast(Scope, {"type": "http"})
    for noted, kept in ((20, 20.0), (30, 20.0), (10, 10.0)):
        expiry.note(scope, noted)
        assert expiry.until(scope) == kept
