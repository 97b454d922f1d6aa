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


def test_a_weighed_table_drops_the_oldest_until_an_entry_fits() -> None:
    table: bounded.WeighedTable[str, str] = bounded.WeighedTable(10)
    for key, weight in (("a", 4), ("b", 4), ("c", 2)):
        table.put(key, key.upper(), weight)
    assert (len(table), table.weight) == (3, 10)
    table.put("d", "D", 7)
    assert [table.get(key) for key in "abcd"] == [None, None, "C", "D"]
    assert table.weight == 9


def test_a_weighed_table_keeps_nothing_heavier_than_itself_and_replaces_an_entry() -> None:
    table: bounded.WeighedTable[str, str] = bounded.WeighedTable(10)
    table.put("a", "A", 3)
    table.put("huge", "H", 11)
    assert table.get("huge") is None and table.get("a") == "A"
    table.put("a", "new", 5)
    assert (table.get("a"), table.weight, len(table)) == ("new", 5, 1)


def test_a_value_too_heavy_to_keep_drops_the_one_kept_under_its_key() -> None:
    table: bounded.WeighedTable[str, str] = bounded.WeighedTable(10)
    table.put("a", "A", 3)
    table.put("a", "huge", 11)
    assert (table.get("a"), table.weight, len(table)) == (None, 0, 0)
