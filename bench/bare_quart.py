"""A bare Quart app: one route, none of the blog's hooks, extensions or middleware.

``bench/run.py`` serves it exactly as the blog (the project's ``hypercorn.toml``,
one worker, the servers' CPU) and loads its ``/hello`` back to back with the
blog's: the blog's CPU per request over this one's, less one, is what the
blog's own per-request hooks cost ("hooks overhead" under the main table).
"""

from __future__ import annotations

from quart import Quart

app = Quart(__name__)


@app.route("/hello")
async def hello() -> str:
    """The same answer as the blog's ``/hello``."""
    return "Hello, World!"
