"""Error pages: every HTTP error is shown in the site's layout, with its message.

A database that cannot answer now (down, restarting, every connection busy)
is a 503 with ``Retry-After``, never a 500: the same request a few seconds
later may well succeed. A write that refers to a post or an account deleted
while it was being made (a comment on a post its author deleted in another
tab, a post by an account deleted in another) is a 409: nothing was saved.
"""

from __future__ import annotations

from quart import current_app
from quart import Quart
from quart import render_template
from quart import ResponseReturnValue
from werkzeug.exceptions import Conflict
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import ServiceUnavailable

from quart_flaskr.db import DatabaseUnavailableError
from quart_flaskr.db import ReferenceGoneError
from quart_flaskr.i18n import gettext
from quart_flaskr.i18n import N_
from quart_flaskr.i18n import ngettext

#: Seconds a client is asked to wait before trying again when the database is away.
RETRY_AFTER_SECONDS = 5


#: The names and standard messages of the errors the blog can answer with, as
#: Werkzeug words them, so that the catalogs translate them; a view's own
#: message (``abort(404, gettext(...))``) is translated where it is raised.
HTTP_ERROR_TEXTS = (
    N_("Bad Request"),
    N_("The browser (or proxy) sent a request that this server could not understand."),
    N_("Forbidden"),
    N_(
        "You don't have the permission to access the requested resource. It is either"
        " read-protected or not readable by the server."
    ),
    N_("Not Found"),
    N_(
        "The requested URL was not found on the server. If you entered the URL manually"
        " please check your spelling and try again."
    ),
    N_("Method Not Allowed"),
    N_("The method is not allowed for the requested URL."),
    N_("Conflict"),
    N_("Request Entity Too Large"),
    N_("The data value transmitted exceeds the capacity limit."),
    N_("Too Many Requests"),
    N_("Internal Server Error"),
    N_(
        "The server encountered an internal error and was unable to complete your request."
        " Either the server is overloaded or there is an error in the application."
    ),
    N_("Service Unavailable"),
)


async def render_error(error: HTTPException) -> ResponseReturnValue:
    response = error.get_response()
    page = await render_template(
        "error.html",
        error=error,
        name=gettext(error.name),
        description=gettext(error.description) if error.description else "",
    )
    response.set_data(page)
    response.content_type = "text/html; charset=utf-8"
    return response


async def database_unavailable(error: DatabaseUnavailableError) -> ResponseReturnValue:
    current_app.logger.warning("Database unavailable: %s", error)
    return await render_error(
        ServiceUnavailable(
            ngettext(
                "The blog's database cannot be reached just now: try again in %(num)d second.",
                "The blog's database cannot be reached just now: try again in %(num)d seconds.",
                RETRY_AFTER_SECONDS,
            ),
            retry_after=RETRY_AFTER_SECONDS,
        )
    )


async def reference_gone(error: ReferenceGoneError) -> ResponseReturnValue:
    current_app.logger.info("Write refused, what it refers to was deleted: %s", error)
    return await render_error(
        Conflict(
            gettext(
                "Nothing was saved: the post or the account it belongs to was deleted meanwhile."
            )
        )
    )


def init_app(app: Quart) -> None:
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(DatabaseUnavailableError, database_unavailable)
    app.register_error_handler(ReferenceGoneError, reference_gone)
