"""Markdown that once cost a second of CPU, posted over real HTTP to the installed wheel.

How long it takes is for ``bench/markdown_load.py`` to measure; here, a post and a
comment holding the corpus's worst texts are accepted, shown, and leave the
server answering, and raw HTML in them is shown as text.
"""

from __future__ import annotations

import re

import pytest

from tests.live import logged_in
from tests.live import no_server_errors
from tests.live import Server
from tests.pathological_markdown import CORPUS

pytestmark = pytest.mark.slow

_POST_LINK = re.compile(r'href="/(\d+)"')


def test_pathological_markdown_over_http(live_server: Server) -> None:
    writer = logged_in(live_server, "writer")
    names = ("image openers", "nested links", "block quotes", "table rows", "emphasis runs")
    for name in names:
        page = writer.submit("/create", {"title": name, "body": CORPUS[name]})
        assert page.location == "/", name
    index = writer.get("/")
    ids = _POST_LINK.findall(index.text)
    assert ids, index.text
    post = writer.get(f"/{ids[0]}")
    assert post.status == 200
    # The newest post, "emphasis runs", shown as Markdown made it.
    assert "<em>a" in post.text

    comment = CORPUS["image openers"][:5_000]
    page = writer.submit(f"/{ids[0]}/comment", {"body": comment}, token_from=f"/{ids[0]}")
    assert page.status == 302
    assert "![![![" in writer.get(f"/{ids[0]}").text

    raw = "<script>alert(1)</script> <img src=x onerror=alert(2)>"
    assert writer.submit("/create", {"title": "raw", "body": raw}).location == "/"
    index = writer.get("/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index.text
    assert "<script>alert" not in index.text and "<img src=x" not in index.text
    assert live_server.answers()
    no_server_errors(live_server)
