"""Markdown texts that made renderers slow, each at the body limit (20,000 characters).

Used by ``tests/test_markdown.py`` (the output stays well-formed and shallow)
and by ``bench/markdown.py`` (how long each takes).
"""

from __future__ import annotations

#: The longest body a post may have.
LENGTH = 20_000


def _fill(unit: str) -> str:
    return (unit * (LENGTH // len(unit) + 1))[:LENGTH]


CORPUS = {
    # Unclosed link and image openers: markdown-it-py took 1.1 s on "![".
    "image openers": _fill("!["),
    "link openers": _fill("["),
    "link closers": _fill("]("),
    "nested links": ("[" * 5_000 + "a" + "](/x)" * 3_000)[:LENGTH],
    "image and link openers": _fill("![[]("),
    "unfinished links": _fill("[a]("),
    "empty links": _fill("[]"),
    # Emphasis delimiters that never close, or close all at once.
    "emphasis runs": _fill("*a"),
    "mixed delimiters": _fill("*_"),
    "strong nest": "*" * 9_999 + "a" + "*" * 9_999,
    "strikethrough runs": _fill("~~a"),
    "underscores": _fill("_a_"),
    "backticks": _fill("`"),
    "code spans": _fill("`a` "),
    # Deep containers: every level one more element for the HTML parser.
    "block quotes": _fill(">"),
    "spaced block quotes": _fill("> "),
    "list markers": _fill("- "),
    "ordered list markers": _fill("1. "),
    "quoted lists": _fill("> - "),
    "indented lists": "".join("  " * level + "1. x\n" for level in range(2_000))[:LENGTH],
    # Many small elements.
    "table rows": "|a|b|\n|-|-|\n" + _fill("|x|y|\n")[: LENGTH - 12],
    "wide table": ("|" + "a|" * 5_000 + "\n|" + "-|" * 5_000)[:LENGTH],
    "headings": _fill("# a\n"),
    "rules": _fill("---\n"),
    "hard breaks": _fill("a  \n"),
    "autolinks": _fill("<http://a>"),
    "email autolinks": _fill("<a@b.c>"),
    "reference definitions": _fill("[a]: /u\n[a]\n"),
    # Characters that become entities or stay escapes.
    "entities": _fill("&amp;"),
    "numeric entities": _fill("&#1;"),
    "ampersands": _fill("&"),
    "angle brackets": _fill("<"),
    "inline HTML": _fill("<b>"),
    "backslashes": _fill("\\"),
    "pipes": _fill("|"),
}
