"""Bare Quart apps: one route, none of the blog's hooks, extensions or middleware.

``bench/run.py`` serves them exactly as the blog (the project's ``hypercorn.toml``,
one worker, the servers' CPU) and loads their ``/hello`` back to back with the
blog's: the blog's CPU per request over ``app``'s, less one, is what the blog's
own per-request hooks cost ("hooks overhead" under the main table).

``app_with_headers`` answers with the headers the blog's ``/hello`` carries
beyond Quart's own (its security headers, added by the blog's own ASGI layer,
and a page's ``Vary`` and ``Cache-Control``), and nothing else of the blog: what
sending them costs the server is then told apart from the hooks' own work.
"""

from __future__ import annotations

from quart import Quart
from quart import Response

from quart_flaskr.security import PAGES_CACHE_CONTROL
from quart_flaskr.security import PAGES_VARY
from quart_flaskr.security import SecurityHeaders


def _hello_app(name: str) -> Quart:
    app = Quart(name)

    @app.route("/hello")
    async def hello() -> str:
        """The same answer as the blog's ``/hello``."""
        return "Hello, World!"

    return app


app = _hello_app(__name__)

app_with_headers = _hello_app(f"{__name__}.headers")


@app_with_headers.after_request
async def page_headers(response: Response) -> Response:
    """A page's headers, as the blog's sends them (constant here)."""
    response.headers["Vary"] = PAGES_VARY
    response.headers["Cache-Control"] = PAGES_CACHE_CONTROL
    return response


app_with_headers.asgi_app = SecurityHeaders(  # type: ignore[method-assign]
    app_with_headers.asgi_app, hsts_seconds=0
)
