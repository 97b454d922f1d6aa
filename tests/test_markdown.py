from __future__ import annotations

import asyncio
import threading
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from markupsafe import Markup

from quart_flaskr import markdown
from tests.pathological_markdown import CORPUS

REL = markdown.LINK_REL


@pytest.mark.parametrize(
    ("source", "html"),
    (
        ("*a* **b** `c` ~~d~~", "<p><em>a</em> <strong>b</strong> <code>c</code> <s>d</s></p>\n"),
        # One level down: the page's title is its one <h1>.
        ("# Title", "<h2>Title</h2>\n"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>\n"),
        ("3. three\n4. four", '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>\n'),
        ("```\n<b>code</b>\n```", "<pre><code>&lt;b&gt;code&lt;/b&gt;\n</code></pre>\n"),
        (
            '[a](https://example.com "T")',
            '<p><a href="https://example.com" title="T" rel="nofollow ugc noopener noreferrer">'
            "a</a></p>\n",
        ),
        (
            "[m](mailto:a@example.com)",
            '<p><a href="mailto:a@example.com" rel="nofollow ugc noopener noreferrer">m</a></p>\n',
        ),
        # Pictures become links to them: the page shows images from this site only.
        (
            "![a *b*](/uploads/x.png)",
            '<p><a href="/uploads/x.png" rel="nofollow ugc noopener noreferrer">a b</a></p>\n',
        ),
        # Raw HTML is shown as text, never run.
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
        (
            '<img src="x" onerror="alert(1)">',
            '<p>&lt;img src="x" onerror="alert(1)"&gt;</p>\n',
        ),
        # Links and images that would run script lose their URL.
        ("[x](javascript:alert(1))", f'<p><a rel="{REL}">x</a></p>\n'),
        # A picture in a link (a build badge) is its description: one link, to where
        # the outer one leads (a link inside it split it into an empty link and another).
        (
            "[![Build *status*](/static/favicon.svg)](https://ci.example.com/) ![next](/n.png)",
            f'<p><a href="https://ci.example.com/" rel="{REL}">Build status</a>'
            f' <a href="/n.png" rel="{REL}">next</a></p>\n',
        ),
        ("[x](JaVaScRiPt:alert(1))", f'<p><a rel="{REL}">x</a></p>\n'),
        ("[x](vbscript:msgbox)", f'<p><a rel="{REL}">x</a></p>\n'),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", f'<p><a rel="{REL}">x</a></p>\n'),
        ("![x](data:image/png;base64,AAAA)", f'<p><a rel="{REL}">x</a></p>\n'),
        ("<javascript:alert(1)>", f'<p><a rel="{REL}">javascript:alert(1)</a></p>\n'),
        ("[x](ftp://example.com)", '<p><a rel="nofollow ugc noopener noreferrer">x</a></p>\n'),
    ),
)
def test_render(source: str, html: str) -> None:
    assert markdown.render(source) == html


@pytest.mark.parametrize(
    ("source", "html"),
    (
        ("## Two\n##### Five\n###### Six", "<h3>Two</h3>\n<h6>Five</h6>\n<h6>Six</h6>\n"),
        ("1. one\n2. two", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n"),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"),
        ("- a\n\n- b", "<ul>\n<li><p>a</p>\n</li>\n<li><p>b</p>\n</li>\n</ul>\n"),
        ("a  \nb\nc\n\n---", "<p>a<br>\nb\nc</p>\n<hr>\n"),
        ("    indented <b>", "<pre><code>indented &lt;b&gt;</code></pre>\n"),
        ("x <b>bold</b> &amp; &lt;", "<p>x &lt;b&gt;bold&lt;/b&gt; &amp; &lt;</p>\n"),
        ("<div>\nblock\n</div>", "<p>&lt;div&gt;\nblock\n&lt;/div&gt;</p>\n"),
        (
            "<a@example.com>",
            f'<p><a href="mailto:a@example.com" rel="{REL}">a@example.com</a></p>\n',
        ),
        (
            "<https://example.com/a>",
            f'<p><a href="https://example.com/a" rel="{REL}">https://example.com/a</a></p>\n',
        ),
        # URLs are percent-encoded where they hold spaces, quotes or other scripts.
        ('[a](</a b?q="1">)', f'<p><a href="/a%20b?q=%221%22" rel="{REL}">a</a></p>\n'),
        ("[я](/блог)", f'<p><a href="/%D0%B1%D0%BB%D0%BE%D0%B3" rel="{REL}">я</a></p>\n'),
        ('[a](/x "<T>")', f'<p><a href="/x" title="&lt;T&gt;" rel="{REL}">a</a></p>\n'),
        # Inside a picture's description, only its text.
        ("![a `b` **c**\nd](/i.png)", f'<p><a href="/i.png" rel="{REL}">a b c d</a></p>\n'),
        ("![a ![b](/c.png)](/d.png) e", f'<p><a href="/d.png" rel="{REL}">a b</a> e</p>\n'),
        # A link cannot hold a link: the picture in it is its description.
        ("[a ![b](/c.png)](/d)", f'<p><a href="/d" rel="{REL}">a b</a></p>\n'),
        (
            "|a|b|\n|:-|-:|\n|1|2|\n|3|4|",
            "<table><thead><tr><th>a</th><th>b</th></tr></thead>"
            "<tbody><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4</td></tr></tbody></table>\n",
        ),
        ("|a|\n|-|", "<table><thead><tr><th>a</th></tr></thead></table>\n"),
        (
            "|a|\n|-|\n|1|\n\n|b|\n|-|",
            "<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>\n"
            "<table><thead><tr><th>b</th></tr></thead></table>\n",
        ),
    ),
)
def test_render_elements(source: str, html: str) -> None:
    assert markdown.render(source) == html


class _Depth(HTMLParser):
    """The deepest nesting of elements in a piece of HTML."""

    VOID = frozenset({"br", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.depth = self.deepest = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in self.VOID:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID:
            self.depth -= 1


def deepest(html: str) -> int:
    parser = _Depth()
    parser.feed(html)
    parser.close()
    assert parser.depth == 0, "unbalanced tags"
    return parser.deepest


def test_deep_nesting_keeps_the_text_but_not_the_tags() -> None:
    html = markdown.render("> " * 50 + "deep *down*")
    assert deepest(html) == markdown.MAX_NESTING
    assert html.count("<blockquote>") == markdown.MAX_NESTING
    assert "deep <em>down</em>" not in html and "deep down" in html
    shallow = markdown.render("> " * (markdown.MAX_NESTING - 2) + "*x*")
    assert "<em>x</em>" in shallow and deepest(shallow) == markdown.MAX_NESTING


@pytest.mark.parametrize("name", CORPUS)
def test_pathological_input_stays_shallow(name: str) -> None:
    # bench/markdown.py measures how long each takes; here, the output the
    # sanitiser parses stays balanced and no deeper than the limit, so its
    # parser's cost grows with the text's length only.
    html = markdown.to_html(CORPUS[name])
    assert deepest(html) <= markdown.MAX_NESTING
    assert deepest(str(markdown.render(CORPUS[name]))) <= markdown.MAX_NESTING


def test_tables_lose_inline_styles() -> None:
    # The Content-Security-Policy would block style attributes anyway.
    html = markdown.render("| a | b |\n|--:|---|\n| 1 | 2 |")
    assert "<th>a</th>" in html
    assert "style" not in html


def test_output_is_markup_and_cached() -> None:
    first = markdown.render("*same*")
    assert isinstance(first, Markup)
    assert markdown.render("*same*") is first


async def test_a_short_text_renders_on_the_event_loop_a_long_one_on_the_render_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[str] = []
    render = markdown.render

    def recording_render(text: str) -> Markup:
        threads.append(threading.current_thread().name)
        return render(text)

    monkeypatch.setattr(markdown, "render", recording_render)
    short = "*x*" + " " * (markdown.INLINE_MAX - 3)
    assert await markdown.render_async(short) == "<p><em>x</em></p>\n"
    long = short + " "
    assert await markdown.render_async(long) == "<p><em>x</em></p>\n"
    assert await asyncio.gather(
        *(markdown.render_async(f"*{number}*{' ' * markdown.INLINE_MAX}") for number in range(3))
    ) == [f"<p><em>{number}</em></p>\n" for number in range(3)]
    assert threads[0] == threading.current_thread().name
    assert all(name.startswith("markdown") for name in threads[1:])
    assert len(threads) == 5


@pytest.mark.parametrize(
    ("html", "length", "text", "cut"),
    (
        ("<p>Short.</p>\n", 300, "Short.", False),
        ("<p>test\nbody</p>\n", 300, "test\nbody", False),
        (
            "<h2>Title</h2>\n<ul>\n<li>a &amp; b</li>\n<li>c</li>\n</ul>\n",
            300,
            "Title\na & b\nc",
            False,
        ),
        ("<p>one two three four five six</p>", 20, "one two three four…", True),
        # A run without spaces (Korean may run on) is cut where the length ends.
        ("<p>가나다라마바사아자차카타파하</p>", 10, "가나다라마바사아자차…", True),
        # A space too far back would lose too much: cut at the length.
        ("<p>a bcdefghijklmnopqrstuvwxyz</p>", 10, "a bcdefghi…", True),
        ("<p>one two three, four</p>", 17, "one two three…", True),
        ("<p>x<br>y<br />z</p>", 300, "x\ny\nz", False),
    ),
)
def test_excerpt_is_the_beginning_of_the_text_cut_at_a_word(
    html: str, length: int, text: str, cut: bool
) -> None:
    item = SimpleNamespace(body="", html=Markup(html))  # noqa: S704 - the test's own HTML
    assert markdown.excerpt(item, length) == markdown.Excerpt(text, cut)


def test_excerpt_of_a_body_saved_before_its_html() -> None:
    item = SimpleNamespace(body="**Bold** <b>raw</b>", html=None)
    assert markdown.excerpt(item) == markdown.Excerpt("Bold <b>raw</b>", cut=False)
