"""The language switcher at the foot of every page: a reader's choice, remembered."""

from __future__ import annotations

from urllib.parse import quote
from urllib.parse import urlsplit

from quart import abort
from quart import Blueprint
from quart import current_app
from quart import redirect
from quart import request
from quart import ResponseReturnValue
from quart import url_for

from quart_flaskr.forms import read_form
from quart_flaskr.i18n import COOKIE
from quart_flaskr.i18n import COOKIE_SECONDS
from quart_flaskr.i18n import gettext
from quart_flaskr.i18n import LANGUAGES
from quart_flaskr.paging import page_query
from quart_flaskr.security import local_path
from quart_flaskr.security import same_origin_form

bp = Blueprint("i18n", __name__)

#: What stays as it is in the path of the address the switcher sends back.
_PATH_SAFE = "/:@!$&'()*+,;="


def here() -> str:
    """The request's address on the site, mount point included, for the switcher to come back to.

    Percent-encoded, so that a page whose path holds Cyrillic, Korean or a
    space (a tag, a profile) passes ``local_path`` as any other: the
    decoded path did not, and the reader was sent to the front page.
    """
    rule = request.url_rule
    if rule is not None and "GET" not in (rule.methods or ()):
        # A page shown at an address only a form posts to (a comment refused
        # is shown on its post's page): the page the form was sent from.
        return _referring_page() or url_for("index")
    address = request.root_path + quote(request.path, safe=_PATH_SAFE)
    # The parameters the page is made from, so that it stays the same page
    # whatever else its link carried (see paging.PARAMETERS).
    query = page_query()
    return f"{address}?{query}" if query else address


def _referring_page() -> str | None:
    """The address on this site of the page the request came from (``Referer``, which
    browsers send to the same origin), or None."""
    try:
        referrer = urlsplit(request.referrer or "")
    except ValueError:  # An address no page has ("http://[::1", say): from nowhere.
        return None
    if (referrer.scheme, referrer.netloc.lower()) != (request.scheme, request.host.lower()):
        return None
    address = f"{referrer.path}?{referrer.query}" if referrer.query else referrer.path
    return address if local_path(address) else None


@bp.route("/language", methods=("POST",))
@same_origin_form
async def choose() -> ResponseReturnValue:
    """Remember the language a reader picked, and show the page they picked it on again."""
    form = await read_form("language", "next")
    language = form["language"]
    if language not in LANGUAGES:
        abort(400, gettext("The blog is not written in that language."))
    target = form["next"]
    response = redirect(target if local_path(target) else url_for("index"))
    response.set_cookie(
        COOKIE,
        language,
        max_age=COOKIE_SECONDS,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response
