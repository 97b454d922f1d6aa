"""Comments on posts: logged-in users write them on a post's page; their authors and the
post's author delete them."""

from __future__ import annotations

from quart import abort
from quart import Blueprint
from quart import current_app
from quart import flash
from quart import redirect
from quart import ResponseReturnValue
from quart import url_for

from quart_flaskr import blog
from quart_flaskr import markdown
from quart_flaskr.db import get_db
from quart_flaskr.forms import read_form
from quart_flaskr.forms import shows_nothing
from quart_flaskr.forms import typed_lines
from quart_flaskr.i18n import gettext
from quart_flaskr.i18n import ngettext
from quart_flaskr.limits import COMMENT_MAX
from quart_flaskr.login import logged_in_user
from quart_flaskr.login import login_required
from quart_flaskr.models import comments
from quart_flaskr.ratelimit import limit_writes

bp = Blueprint("comments", __name__)


@bp.route("/<id:id>/comment", methods=("POST",))
@login_required
@limit_writes("comments")
async def create(id: int) -> ResponseReturnValue:
    """Comment on a post; the comment comes last."""
    body = typed_lines((await read_form("body"))["body"])
    error = None
    if shows_nothing(body):
        error = gettext("A comment cannot be empty.")
    elif len(body) > COMMENT_MAX:
        error = ngettext(
            "A comment must be at most %(num)d character.",
            "A comment must be at most %(num)d characters.",
            COMMENT_MAX,
        )
    if error is None:
        html = await markdown.render_async(body)
        added = await comments.insert_comment(get_db(), id, logged_in_user().id, body, html=html)
        if added is None:
            abort(404, gettext(blog.POST_MISSING, id=id))
        # To the page of the post's comments it is on: the last, unless more came meanwhile.
        number = (added.position - 1) // current_app.config["COMMENTS_PER_PAGE"] + 1
        page = number if number > 1 else None
        return redirect(url_for("blog.detail", id=id, page=page, _anchor=f"comment-{added.id}"))
    await flash(error)
    # The post's page again, with the message and what was typed.
    return await blog.render_post_page(id, comment=body), 400


@bp.route("/comment/<id:id>/delete", methods=("POST",))
@login_required
@limit_writes("deletes")
async def delete(id: int) -> ResponseReturnValue:
    """Delete a comment, if the current user wrote it or the post it is on."""
    comment = await comments.select_comment(get_db(), id)
    if comment is None:
        abort(404, gettext("Comment id %(id)d doesn't exist.", id=id))
    if logged_in_user().id not in (comment.author_id, comment.post_author_id):
        abort(403, gettext("Only its author and the post's author can delete a comment."))
    await comments.delete_comment(get_db(), id)
    return redirect(url_for("blog.detail", id=comment.post_id, _anchor="comments"))
