from __future__ import annotations

from quart_flaskr import bounded


def test_the_oldest_entry_goes_first() -> None:
    entries: dict[str, int] = {}
    for number, key in enumerate("abc"):
        bounded.put(entries, key, number, 2)
    assert entries == {"b": 1, "c": 2}


def test_putting_a_kept_key_again_makes_it_the_newest_and_drops_nothing() -> None:
    entries = {"a": 0, "b": 1}
    bounded.put(entries, "a", 2, 2)
    assert list(entries.items()) == [("b", 1), ("a", 2)]
    bounded.put(entries, "c", 3, 2)
    assert list(entries.items()) == [("a", 2), ("c", 3)]
