"""The language switcher at the foot of every page: a reader's choice, remembered."""

from __future__ import annotations

from quart import abort
from quart import Blueprint
from quart import current_app
from quart import redirect
from quart import ResponseReturnValue

from quart_flaskr.forms import read_form
from quart_flaskr.i18n import COOKIE
from quart_flaskr.i18n import COOKIE_SECONDS
from quart_flaskr.i18n import gettext
from quart_flaskr.i18n import LANGUAGES
from quart_flaskr.security import local_path
from quart_flaskr.security import same_origin_form

bp = Blueprint("i18n", __name__)


@bp.route("/language", methods=("POST",))
@same_origin_form
async def choose() -> ResponseReturnValue:
    """Remember the language a reader picked, and show the page they picked it on again."""
    form = await read_form("language", "next")
    language = form["language"]
    if language not in LANGUAGES:
        abort(400, gettext("The blog is not written in that language."))
    target = form["next"]
    response = redirect(target if local_path(target) else "/")
    response.set_cookie(
        COOKIE,
        language,
        max_age=COOKIE_SECONDS,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response
