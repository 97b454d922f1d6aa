"""The analyser: the terms every backend indexes and looks up, in English, Russian and Korean."""

from __future__ import annotations

import threading

import pytest

from quart_flaskr import search


@pytest.mark.parametrize(
    ("text", "terms"),
    (
        # English: Snowball stems, case folded, accents removed, no stop words.
        ("The Posts were RUNNING", ["the", "post", "were", "run"]),
        ("Café naïve Ñandú Øre straße", ["cafe", "naiv", "nandu", "ore", "strass"]),
        ("cafe\u0301", ["cafe"]),
        # Russian: Snowball stems, ё read as е, stress marks removed.
        ("Развертывание развертывания развертыванием", ["развертыван"] * 3),
        (
            "приложение Приложения ЁЛКА ёлка приве\u0301т",
            ["приложен"] * 2 + ["елк"] * 2 + ["привет"],
        ),
        # Korean: a run's bigrams, then its characters.
        ("서버에", ["서버", "버에", "서", "버", "에"]),
        ("휠", ["휠"]),
        ("日本語です", ["日本", "本語", "語で", "です", "日", "本", "語", "で", "す"]),
        # Words are letters and digits; the script changing starts a new one.
        ("Quartсервер", ["quart", "сервер"]),
        ("Quart서버", ["quart", "서버", "서", "버"]),
        ("python3 snake_case a-b", ["python3", "snake", "case", "a", "b"]),
        ("テスト・ケース", ["テス", "スト", "テ", "ス", "ト", "ケー", "ース", "ケ", "ー", "ス"]),
        # NFKC: full-width Latin and half-width katakana are the usual letters.
        ("ＱＵＡＲＴ ｶﾅ", ["quart", "カナ", "カ", "ナ"]),
        # Marks belong to their word (Devanagari's vowel signs).
        ("नमस्ते", ["नमस्ते"]),
        # Marks alone are no word: emoji's variation selector (U+FE0F) made one, the same
        # for every emoji written with it ("❤️" found "☀️").
        ("Sunny today \u2600\ufe0f, \u2764\ufe0f", ["sunni", "today"]),
        ("\ufe0f\u0301", []),
        ("\"'*()^:&|!<->\x00\x7f _", []),
    ),
)
def test_terms(text: str, terms: list[str]) -> None:
    assert search.terms(text) == terms


def test_indexed_text_puts_each_term_between_two_spaces() -> None:
    assert search.indexed("Posts about cafés") == " post  about  cafe "
    assert search.indexed("...") == ""
    assert search.post_terms("서버", "Body") == search.PostTerms(" 서버  서  버 ", " bodi ")


def test_terms_are_capped() -> None:
    (term,) = search.terms("a" * 5000)
    assert term == "a" * search.TERM_MAX
    # Cut before it is stemmed.
    (term,) = search.terms("я" * 5000)
    assert term == search.terms("я" * search.TERM_MAX)[0]
    assert len(term.encode()) < 2047
    # A word as long is found by itself.
    assert search.query("a" * 5000) == [("a" * search.TERM_MAX,)]


@pytest.mark.parametrize(
    ("text", "units"),
    (
        ("Развертывания приложения", [("развертыван",), ("приложен",)]),
        # One CJK character is its own term; more are their bigrams, a phrase.
        ("휠 서버 애플리케이션", [("휠",), ("서버",), ("애플", "플리", "리케", "케이", "이션")]),
        # Repeated words are looked up once.
        ("posts POST post", [("post",)]),
        # Syntax of either database is never more than separators.
        (
            '"a" OR b* NEAR(c) d:* e<->f !g & h|i',
            [(w,) for w in "a or b near c d e f g h i".split()],
        ),
        ("\x00\x1f\x7f", []),
    ),
)
def test_query(text: str, units: list[tuple[str, ...]]) -> None:
    assert search.query(text) == units


def test_query_looks_up_the_first_words_only() -> None:
    text = " ".join(f"w{number}" for number in range(search.SEARCH_WORDS_MAX + 5))
    units = search.query(text)
    assert units == [(f"w{number}",) for number in range(search.SEARCH_WORDS_MAX)]


@pytest.mark.parametrize(
    ("query", "found"),
    (
        ("서버", True),
        ("파일", True),
        ("애플리케이션", True),
        ("휠", True),
        ("버서", False),
        ("션애", False),
        # Bigrams that are there, but not one after the other.
        ("서버을", False),
    ),
)
def test_stored_phrase_is_found_where_the_post_has_the_word(query: str, found: bool) -> None:
    stored = search.indexed("애플리케이션을 프로덕션 서버에 배포하려면 휠 파일을 만듭니다.")
    assert all(search.stored_phrase(unit) in stored for unit in search.query(query)) is found


async def test_a_long_post_is_analysed_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[threading.Thread] = []
    original = search.post_terms

    def recording(title: str, body: str) -> search.PostTerms:
        threads.append(threading.current_thread())
        return original(title, body)

    monkeypatch.setattr(search, "post_terms", recording)
    short = await search.analyse_post("t", "b" * (search.INLINE_MAX - 1))
    long = await search.analyse_post("t", "b" * search.INLINE_MAX)
    assert short.title == long.title == " t "
    assert threads == [threading.current_thread(), threads[1]]
    assert threads[1] is not threading.current_thread()


@pytest.mark.parametrize("character", [chr(code) for code in range(128)])
def test_ascii_text_gives_the_terms_other_text_does(character: str) -> None:
    # The same words with a Cyrillic one after them take the path for any script.
    text = f"Quart{character}Hypercorn 2nd_Run {character}x{character} POSTS"
    assert search.terms(text) == search.terms(text + " ж")[:-1]
