"""The words search understands, in English, Russian and Korean: one analyser for both backends.

A post's title, author's name and body, and a search, are turned into terms
here, in Python, so that SQLite and PostgreSQL index and look up exactly the
same terms and find exactly the same posts. Text is NFKC-normalised and
case-folded; a word is a run of letters, digits and combining marks, cut
again wherever the script changes ("Quartсервер" is two words). Then:

- Cyrillic words: ё read as е, Snowball's Russian stem ("развертывания" and
  "развертывание" are one term).
- Hangul, Han, Hiragana and Katakana, which Korean and Japanese write without
  spaces between a word and its particles ("서버에"): each run's character
  bigrams, as Lucene's CJK analyser makes them, then each of its characters,
  so that a search for one syllable works too. A search word of two or more
  characters looks for its bigrams as a phrase (one after the other), so
  "서버" finds "서버에" and "버서" does not.
- Any other script (Latin above all): diacritics removed ("café" finds
  "cafe"), Snowball's English stem ("posts" finds "post").

There are no stop words: every word can be searched for. Terms are capped at
``TERM_MAX`` characters, which both backends accept.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import unicodedata
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass

import Stemmer  # type: ignore[import-not-found]  # PyStemmer ships no types.

#: Characters of a term at most: a longer word is cut to this, as typed and as
#: searched, so it is still found. PostgreSQL refuses lexemes over 2047 bytes.
TERM_MAX = 100
#: Most words of a search that are looked up; the rest are ignored.
SEARCH_WORDS_MAX = 20
#: Characters of a post above which analysing it would hold the event loop for
#: more than about a millisecond, so it is analysed in a thread instead.
INLINE_MAX = 2_000

#: Cyrillic letters and marks (the thousands sign and two punctuation marks left out).
_CYRILLIC = (
    "\u0400-\u0481\u0483-\u052f\u1c80-\u1c8f\u2de0-\u2dff"
    "\ua640-\ua672\ua674-\ua67d\ua67f-\ua69f\U0001e030-\U0001e08f"
)
_CJK = (
    "\u1100-\u11ff"  # Hangul Jamo
    "\u3005\u3007\u3021-\u3029\u3038-\u303b"  # ideographic iteration marks and numbers
    "\u3041-\u309f"  # Hiragana
    "\u30a1-\u30fa\u30fc-\u30ff"  # Katakana, but its middle dot (punctuation)
    "\u3131-\u318f"  # Hangul compatibility Jamo
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK unified ideographs, extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\ua960-\ua97f"  # Hangul Jamo extended A
    "\uac00-\ud7ff"  # Hangul syllables, Hangul Jamo extended B
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U0001b000-\U0001b16f"  # Kana supplement and extensions
    "\U00020000-\U0003134f"  # CJK unified ideographs, extensions B to G
)
#: Accents that NFKC could not compose into their letter (and stress marks on
#: Cyrillic): removed from every script.
_DIACRITICS = re.compile("[\u0300-\u036f]+")
#: Latin letters whose stroke or slash no decomposition removes.
_UNSTROKED = str.maketrans("øđħłŧ", "odhlt")


def _mark_ranges() -> str:
    """The combining marks (Unicode categories Mn, Mc, Me) as a regular expression's ranges.

    Python's ``\\w`` leaves them out, which would cut Devanagari or Thai words
    at every vowel sign. Planes 0, 1 and 14 hold every mark Unicode has.
    """
    ranges: list[str] = []
    start = previous = -2
    for point in itertools.chain(range(0x20000), range(0xE0000, 0xE1000)):
        if unicodedata.category(chr(point)).startswith("M"):
            if point != previous + 1:
                if start >= 0:
                    ranges.append(f"{chr(start)}-{chr(previous)}")
                start = point
            previous = point
    ranges.append(f"{chr(start)}-{chr(previous)}")
    return "".join(ranges)


#: A word's run of one script: Cyrillic, CJK, or any other. A word is letters,
#: digits and marks, never an underscore; a mark belongs to the run before it.
#: A run of letters, digits and marks begins with a letter or digit: marks alone
#: make no word (an emoji's variation selector, U+FE0F, was one, the same for
#: every emoji written with it, so "❤️" found "☀️").
_RUN = re.compile(
    f"(?P<cyrillic>[{_CYRILLIC}]+)|(?P<cjk>[{_CJK}]+)"
    f"|[^\\W_{_CYRILLIC}{_CJK}](?:[^\\W_{_CYRILLIC}{_CJK}]|[{_mark_ranges()}])*"
)
_ENGLISH_STEMMER = Stemmer.Stemmer("english")
_ENGLISH: Callable[[str], str] = _ENGLISH_STEMMER.stemWord
_ENGLISH_WORDS: Callable[[list[str]], list[str]] = _ENGLISH_STEMMER.stemWords
_RUSSIAN: Callable[[str], str] = Stemmer.Stemmer("russian").stemWord


@dataclass(frozen=True, slots=True)
class PostTerms:
    """A post's title and body as the index stores them (see :func:`indexed`)."""

    title: str
    body: str


def _normalised(text: str) -> str:
    return _DIACRITICS.sub("", unicodedata.normalize("NFKC", text).casefold())


#: ``_RUN`` over ASCII text (lower case): only letters and digits make words there.
_ASCII_RUN = re.compile("[a-z0-9]+")


def _ascii_words(text: str) -> list[str]:
    """The runs of ASCII ``text``, all Latin: what normalising leaves of ASCII is its
    lower case, and ``_RUN``'s classes of it are ASCII letters and digits."""
    return _ASCII_RUN.findall(text.lower())


def _runs(text: str) -> Iterator[tuple[str | None, str]]:
    """Each run of one script in the words of ``text``: ("cyrillic" | "cjk" | None, run)."""
    if text.isascii():
        for word in _ascii_words(text):
            yield None, word
        return
    for run in _RUN.finditer(_normalised(text)):
        yield run.lastgroup, run.group()


def _stem(script: str | None, run: str) -> str:
    """The one term of a Cyrillic or other (Latin...) run."""
    if script == "cyrillic":
        return _RUSSIAN(run[:TERM_MAX].replace("ё", "е"))
    if not run.isascii():
        decomposed = unicodedata.normalize("NFD", run.translate(_UNSTROKED))
        run = unicodedata.normalize("NFC", _DIACRITICS.sub("", decomposed))
    return _ENGLISH(run[:TERM_MAX])


def _bigrams(run: str) -> list[str]:
    return [first + second for first, second in itertools.pairwise(run)]


def terms(text: str) -> list[str]:
    """The terms of ``text``, in order, as the index holds them.

    A CJK run gives its bigrams first, one after the other (a search's phrase
    is found among them), then each of its characters.
    """
    if text.isascii():
        # Latin words only (see _runs), stemmed in one call.
        return _ENGLISH_WORDS([word[:TERM_MAX] for word in _ascii_words(text)])
    found: list[str] = []
    for script, run in _runs(text):
        if script == "cjk":
            found += _bigrams(run)
            found += run
        else:
            found.append(_stem(script, run))
    return found


def _stored(found: list[str]) -> str:
    return "".join(f" {term} " for term in found)


def indexed(text: str) -> str:
    """The terms of ``text`` as one text, each between two spaces: `` post  quart ``.

    The index splits it at the spaces; a search counts and finds a term or a
    phrase in it as a substring (a term's or phrase's own spaces included), so
    that it never matches part of a term.
    """
    return _stored(terms(text))


def post_terms(title: str, body: str) -> PostTerms:
    """A post's terms, as stored with it (its author's are ``indexed(username)``)."""
    return PostTerms(indexed(title), indexed(body))


async def analyse_post(title: str, body: str) -> PostTerms:
    """:func:`post_terms`, in a thread when the post is long enough to hold the event loop."""
    if len(title) + len(body) > INLINE_MAX:
        return await asyncio.to_thread(post_terms, title, body)
    return post_terms(title, body)


def query(text: str) -> list[tuple[str, ...]]:
    """What a search looks for: for each of its first words, the terms that must follow each other.

    A word is one term, but a CJK word of two or more characters, which is
    its bigrams as a phrase. Repeated words are looked up once. Anything
    typed is only ever words: no character has a meaning of its own.
    """
    units: list[tuple[str, ...]] = []
    for number, (script, run) in enumerate(_runs(text)):
        if number == SEARCH_WORDS_MAX:
            break
        if script == "cjk":
            unit = tuple(_bigrams(run)) if len(run) > 1 else (run,)
        else:
            unit = (_stem(script, run),)
        if unit not in units:
            units.append(unit)
    return units


def stored_phrase(unit: tuple[str, ...]) -> str:
    """A search's word as it appears in :func:`indexed` text where a post holds it."""
    return _stored(list(unit))
