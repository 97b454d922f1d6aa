"""Reading a page's form as a browser does: the one place that knows where the CSRF token is."""

from __future__ import annotations

from html.parser import HTMLParser

#: The name of the hidden field that carries the token in every form of the app.
CSRF_FIELD = "csrf_token"


class _TokenFinder(HTMLParser):
    """Keeps the value of the first ``<input name="csrf_token">`` of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.token: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.token is not None or tag != "input":
            return
        fields = dict(attrs)
        if fields.get("name") == CSRF_FIELD:
            self.token = fields.get("value")


def csrf_token_in(page: str) -> str | None:
    """The CSRF token of the first form on ``page``, entities decoded; None when it has none."""
    finder = _TokenFinder()
    finder.feed(page)
    finder.close()
    return finder.token
