"""Error pages: every HTTP error is shown in the site's layout, with its message."""

from __future__ import annotations

from quart import Quart
from quart import render_template
from quart import ResponseReturnValue
from werkzeug.exceptions import HTTPException


async def render_error(error: HTTPException) -> ResponseReturnValue:
    response = error.get_response()
    response.set_data(await render_template("error.html", error=error))
    response.content_type = "text/html; charset=utf-8"
    return response


def init_app(app: Quart) -> None:
    app.register_error_handler(HTTPException, render_error)
