"""Error pages: every HTTP error is shown in the site's layout, with its message.

A database that cannot answer now (down, restarting, every connection busy)
is a 503 with ``Retry-After``, never a 500: the same request a few seconds
later may well succeed.
"""

from __future__ import annotations

from quart import current_app
from quart import Quart
from quart import render_template
from quart import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import ServiceUnavailable

from quart_flaskr.db import DatabaseUnavailableError

#: Seconds a client is asked to wait before trying again when the database is away.
RETRY_AFTER_SECONDS = 5


async def render_error(error: HTTPException) -> ResponseReturnValue:
    response = error.get_response()
    response.set_data(await render_template("error.html", error=error))
    response.content_type = "text/html; charset=utf-8"
    return response


async def database_unavailable(error: DatabaseUnavailableError) -> ResponseReturnValue:
    current_app.logger.warning("Database unavailable: %s", error)
    return await render_error(
        ServiceUnavailable(
            "The blog's database cannot be reached just now:"
            f" try again in {RETRY_AFTER_SECONDS} seconds.",
            retry_after=RETRY_AFTER_SECONDS,
        )
    )


def init_app(app: Quart) -> None:
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(DatabaseUnavailableError, database_unavailable)
