"""Moderation: moderators (made by an operator's command) delete any post or comment and
suspend or restore users; every action is logged on a page only moderators reach."""

from __future__ import annotations

import functools
from collections.abc import Awaitable
from collections.abc import Callable
from typing import ParamSpec
from typing import TypeVar

import click
from quart import abort
from quart import Blueprint
from quart import flash
from quart import Quart
from quart import redirect
from quart import render_template
from quart import ResponseReturnValue
from quart import url_for
from quart.cli import pass_script_info
from quart.cli import ScriptInfo

from quart_flaskr import blog
from quart_flaskr import paging
from quart_flaskr.db import get_db
from quart_flaskr.db.cli import run_on_database
from quart_flaskr.i18n import gettext
from quart_flaskr.i18n import N_
from quart_flaskr.login import current_user
from quart_flaskr.login import logged_in_user
from quart_flaskr.models import moderation
from quart_flaskr.security import not_stored

P = ParamSpec("P")
T = TypeVar("T")

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

#: Log entries on each page of the moderators' page.
LOG_PER_PAGE = 50

#: How the page names each logged action.
ACTIONS = {
    moderation.DELETE_POST: N_("deleted the post"),
    moderation.DELETE_COMMENT: N_("deleted the comment"),
    moderation.SUSPEND: N_("suspended"),
    moderation.RESTORE: N_("restored"),
}


def moderator_required(view: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Let only moderators through; to anyone else the view is not there.

    :raise 404: for anonymous users and users who are not moderators
    """

    @functools.wraps(view)
    async def wrapped_view(*args: P.args, **kwargs: P.kwargs) -> T:
        user = current_user()
        if user is None or not user.moderator:
            abort(404)
        return await view(*args, **kwargs)

    return wrapped_view


@bp.route("/")
@not_stored
@moderator_required
async def index() -> ResponseReturnValue:
    """The suspended users, each to restore, and the log of moderation actions, newest first."""
    db = get_db()
    number = paging.page_number()
    entries = await moderation.select_log(
        db, limit=LOG_PER_PAGE + 1, offset=paging.offset(number, LOG_PER_PAGE)
    )

    page = paging.make_page(entries, number, LOG_PER_PAGE, url_for("moderation.index"))
    return await render_template(
        "moderation/index.html",
        suspended=await moderation.select_suspended(db),
        page=page,
        entries=[(entry, gettext(ACTIONS[entry.action])) for entry in page.items],
    )


@bp.route("/post/<id:id>/delete", methods=("POST",))
@moderator_required
async def delete_post(id: int) -> ResponseReturnValue:
    """Delete any post, with its image, comments and likes."""
    if not await moderation.delete_post(get_db(), logged_in_user().username, id):
        abort(404, gettext(blog.POST_MISSING, id=id))
    await flash(gettext("The post is deleted."))
    return redirect(url_for("blog.index"))


@bp.route("/comment/<id:id>/delete", methods=("POST",))
@moderator_required
async def delete_comment(id: int) -> ResponseReturnValue:
    """Delete any comment."""
    post_id = await moderation.delete_comment(get_db(), logged_in_user().username, id)
    if post_id is None:
        abort(404, gettext("Comment id %(id)d doesn't exist.", id=id))
    await flash(gettext("The comment is deleted."))
    return redirect(url_for("blog.detail", id=post_id, _anchor="comments"))


@bp.route("/user/<id:id>/suspend", methods=("POST",))
@moderator_required
async def suspend(id: int) -> ResponseReturnValue:
    """Suspend a user: logged out, unable to log in, their posts and comments hidden."""
    if id == logged_in_user().id:
        abort(400, gettext("A moderator cannot suspend themselves."))
    if not await moderation.suspend_user(get_db(), logged_in_user().username, id):
        abort(404, gettext("There is no such user, or they are suspended already."))
    await flash(gettext("The user is suspended."))
    return redirect(url_for("moderation.index"))


@bp.route("/user/<id:id>/restore", methods=("POST",))
@moderator_required
async def restore(id: int) -> ResponseReturnValue:
    """Restore a suspended user: they can log in, and their posts and comments show again."""
    if not await moderation.restore_user(get_db(), logged_in_user().username, id):
        abort(404, gettext("There is no such suspended user."))
    await flash(gettext("The user is restored."))
    return redirect(url_for("moderation.index"))


@click.command("moderator")
@click.argument("username")
@click.option("--remove", is_flag=True, help="Take the moderator's rights back.")
@pass_script_info
def moderator_command(info: ScriptInfo, username: str, remove: bool) -> None:
    """Make USERNAME (exactly as registered) a moderator, or with --remove no longer one."""
    made = run_on_database(
        info.load_app(), lambda database: moderation.set_moderator(database, username, not remove)
    )
    if not made:
        raise click.ClickException(f"There is no user {username!r}.")
    if remove:
        click.echo(f"{username} is no longer a moderator.")
    else:
        click.echo(f"{username} is a moderator.")


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(moderator_command)
