from __future__ import annotations

import pytest
from markupsafe import Markup

from quart_flaskr import markdown


@pytest.mark.parametrize(
    ("source", "html"),
    (
        ("*a* **b** `c` ~~d~~", "<p><em>a</em> <strong>b</strong> <code>c</code> <s>d</s></p>\n"),
        ("# Title", "<h1>Title</h1>\n"),
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
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
        ("[x](JaVaScRiPt:alert(1))", "<p>[x](JaVaScRiPt:alert(1))</p>\n"),
        ("[x](vbscript:msgbox)", "<p>[x](vbscript:msgbox)</p>\n"),
        (
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<p>[x](data:text/html;base64,PHNjcmlwdD4=)</p>\n",
        ),
        (
            "![x](data:image/png;base64,AAAA)",
            '<p><a rel="nofollow ugc noopener noreferrer">x</a></p>\n',
        ),
        ("<javascript:alert(1)>", "<p>&lt;javascript:alert(1)&gt;</p>\n"),
        ("[x](ftp://example.com)", '<p><a rel="nofollow ugc noopener noreferrer">x</a></p>\n'),
    ),
)
def test_render(source: str, html: str) -> None:
    assert markdown.render(source) == html


def test_tables_lose_inline_styles() -> None:
    # The Content-Security-Policy would block style attributes anyway.
    html = markdown.render("| a | b |\n|--:|---|\n| 1 | 2 |")
    assert "<th>a</th>" in html
    assert "style" not in html


def test_output_is_markup_and_cached() -> None:
    first = markdown.render("*same*")
    assert isinstance(first, Markup)
    assert markdown.render("*same*") is first


async def test_render_in_thread() -> None:
    assert await markdown.render_in_thread("*x*") == "<p><em>x</em></p>\n"
