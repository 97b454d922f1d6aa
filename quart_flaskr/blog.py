"""The blog: the index of posts, and writing, editing and deleting them."""

from __future__ import annotations

from quart import abort
from quart import Blueprint
from quart import flash
from quart import g
from quart import redirect
from quart import render_template
from quart import request
from quart import ResponseReturnValue
from quart import url_for

from quart_flaskr.auth import login_required
from quart_flaskr.db import get_db
from quart_flaskr.forms import read_form
from quart_flaskr.models import posts
from quart_flaskr.models.posts import Post

bp = Blueprint("blog", __name__)

TITLE_MAX = 200
BODY_MAX = 20_000


@bp.route("/")
async def index() -> ResponseReturnValue:
    """Show all the posts, most recent first."""
    return await render_template("blog/index.html", posts=await posts.select_posts(get_db()))


async def get_post(id: int, check_author: bool = True) -> Post:
    """Get a post and its author by id.

    :param id: id of post to get
    :param check_author: require the current user to be the author
    :raise 404: if a post with the given id doesn't exist
    :raise 403: if the current user isn't the author
    """
    post = await posts.select_post(get_db(), id)
    if post is None:
        abort(404, f"Post id {id} doesn't exist.")
    if check_author and post.author_id != g.user.id:
        abort(403)
    return post


async def _read_post_form() -> tuple[str, str, str | None]:
    """The submitted title and body, and what is wrong with them, if anything."""
    form = await read_form("title", "body")
    title, body = form["title"], form["body"]
    error = None
    if not title:
        error = "Title is required."
    elif len(title) > TITLE_MAX:
        error = f"Title must be at most {TITLE_MAX} characters."
    elif len(body) > BODY_MAX:
        error = f"Body must be at most {BODY_MAX} characters."
    return title, body, error


@bp.route("/create", methods=("GET", "POST"))
@login_required
async def create() -> ResponseReturnValue:
    """Create a new post for the current user."""
    if request.method == "POST":
        title, body, error = await _read_post_form()
        if error is None:
            await posts.insert_post(get_db(), g.user.id, title, body)
            return redirect(url_for("blog.index"))
        await flash(error)
        return await render_template("blog/create.html", title=title, body=body)
    return await render_template("blog/create.html", title="", body="")


@bp.route("/<id:id>/update", methods=("GET", "POST"))
@login_required
async def update(id: int) -> ResponseReturnValue:
    """Update a post if the current user is the author."""
    post = await get_post(id)
    if request.method == "POST":
        title, body, error = await _read_post_form()
        if error is None:
            await posts.update_post(get_db(), id, title, body)
            return redirect(url_for("blog.index"))
        await flash(error)
        return await render_template("blog/update.html", post=post, title=title, body=body)
    return await render_template("blog/update.html", post=post, title=post.title, body=post.body)


@bp.route("/<id:id>/delete", methods=("POST",))
@login_required
async def delete(id: int) -> ResponseReturnValue:
    """Delete a post, if the current user is its author."""
    await get_post(id)
    await posts.delete_post(get_db(), id)
    return redirect(url_for("blog.index"))
