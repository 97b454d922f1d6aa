"""The blog: listings of posts (all, by tag, by search), one post, and writing, editing,
deleting and liking posts."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from quart import abort
from quart import Blueprint
from quart import current_app
from quart import flash
from quart import redirect
from quart import render_template
from quart import request
from quart import ResponseReturnValue
from quart import url_for

from quart_flaskr import images
from quart_flaskr import lookup
from quart_flaskr import markdown
from quart_flaskr import paging
from quart_flaskr import routing
from quart_flaskr.db import get_db
from quart_flaskr.db import request_data_version
from quart_flaskr.forms import is_text
from quart_flaskr.forms import one_line
from quart_flaskr.forms import read_form
from quart_flaskr.forms import shows_nothing
from quart_flaskr.forms import typed_lines
from quart_flaskr.fragments import render_page
from quart_flaskr.i18n import gettext
from quart_flaskr.i18n import N_
from quart_flaskr.i18n import ngettext
from quart_flaskr.limits import BODY_MAX
from quart_flaskr.limits import IMAGE_ALT_MAX
from quart_flaskr.limits import SEARCH_MAX
from quart_flaskr.limits import TAG_MAX
from quart_flaskr.limits import TAGS_FIELD_MAX
from quart_flaskr.limits import TAGS_MAX
from quart_flaskr.limits import TITLE_MAX
from quart_flaskr.login import current_user
from quart_flaskr.login import logged_in_user
from quart_flaskr.login import login_required
from quart_flaskr.models import comments
from quart_flaskr.models import images as image_queries
from quart_flaskr.models import likes
from quart_flaskr.models import posts
from quart_flaskr.models import tags
from quart_flaskr.models.posts import Post
from quart_flaskr.pagecache import cached_page
from quart_flaskr.ratelimit import limit_writes
from quart_flaskr.security import local_path

#: The message of a 404 for a post that is not there (``id``: the id asked for).
POST_MISSING = N_("Post id %(id)d doesn't exist.")

bp = Blueprint("blog", __name__)

#: Besides letters, digits and combining marks, what a tag may hold.
TAG_PUNCTUATION = frozenset(" -_.+#")


@dataclass(frozen=True, slots=True)
class PostForm:
    """What the create and update forms hold, as typed."""

    title: str = ""
    body: str = ""
    tags: str = ""
    image_alt: str = ""
    #: The update form's "Remove the image" box, ticked.
    remove_image: bool = False

    @classmethod
    def from_post(cls, post: Post) -> PostForm:
        return cls(post.title, post.body, ", ".join(post.tags), post.image_alt)


def _viewer_id() -> int | None:
    user = current_user()
    return None if user is None else user.id


def normalise_tag(text: str) -> str:
    """A tag as stored: composed Unicode, lower case, single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


#: The most characters of a tag a message quotes: a field of 250,000 is not said back whole.
QUOTED_MAX = 40


def quoted(tag: str) -> str:
    """A tag in quotes for a message, as it reads (an emoji of several characters as one)."""
    shown = tag if len(tag) <= QUOTED_MAX else tag[: QUOTED_MAX - 1] + "…"
    return f"'{shown}'"


def parse_tags(text: str) -> tuple[list[str], str | None]:
    """The tags in a comma-separated list, and what is wrong with them, if anything."""
    if len(text) > TAGS_FIELD_MAX:
        # More than the field lets a browser type: no list of tags that could be kept.
        return [], ngettext(
            "The tags must be at most %(num)d character in all.",
            "The tags must be at most %(num)d characters in all.",
            TAGS_FIELD_MAX,
        )
    names: list[str] = []
    for part in text.split(","):
        name = normalise_tag(part)
        if not name or name in names:
            continue
        if len(name) > TAG_MAX:
            return [], ngettext(
                "Tags must be at most %(num)d character: %(tag)s is longer.",
                "Tags must be at most %(num)d characters: %(tag)s is longer.",
                TAG_MAX,
                tag=quoted(name),
            )
        if not any(char.isalnum() for char in name) or not all(
            unicodedata.category(char)[0] in "LMN" or char in TAG_PUNCTUATION for char in name
        ):
            return [], gettext(
                "Tags may hold letters, digits, spaces and - _ . + # only,"
                " and at least one letter or digit: %(tag)s does not.",
                tag=quoted(name),
            )
        names.append(name)
        # Checked as they come: a field of thousands of tags stops here.
        if len(names) > TAGS_MAX:
            return [], ngettext(
                "A post can have at most %(num)d tag.",
                "A post can have at most %(num)d tags.",
                TAGS_MAX,
            )
    return names, None


async def _tag_shown_or_404(name: str) -> None:
    """:raise 404: when no post shown to readers carries the tag ``name`` (as the URL gives it)."""
    if not await tags.is_tag_shown(get_db(), normalise_tag(name)):
        abort(404, gettext("No post is tagged %(tag)s.", tag=quoted(name)))


def _check_search(search: str) -> None:
    """:raise 400: when the search's words cannot be searched for."""
    if not is_text(search):
        abort(400, gettext("The search holds characters that are not valid text."))
    if len(search) > SEARCH_MAX:
        abort(
            400,
            ngettext(
                "A search can be at most %(num)d character long.",
                "A search can be at most %(num)d characters long.",
                SEARCH_MAX,
            ),
        )


async def _listing(tag_name: str | None = None) -> ResponseReturnValue:
    """A page of posts, newest first, or best match first for a search (``?q=``); only
    those with the tag ``tag_name`` (as the URL gives it) when given."""
    search = lookup.value(request.args, "q", "").strip() or None
    if search is not None:
        _check_search(search)
    tag = None if tag_name is None else normalise_tag(tag_name)
    number = paging.page_number()
    per_page = current_app.config["POSTS_PER_PAGE"]
    found = await posts.select_posts(
        get_db(),
        limit=per_page + 1,
        offset=paging.offset(number, per_page),
        viewer_id=_viewer_id(),
        tag=tag,
        search=search,
        data_version=request_data_version,
    )
    # A tag no post carries is deleted, and one only posts of suspended authors
    # carry is not shown: only a listing of nothing asks which.
    if not found and tag_name is not None:
        await _tag_shown_or_404(tag_name)
    args: dict[str, Any] = {} if tag is None else {"name": tag}
    first_url = routing.url_for(request.endpoint or "blog.index", **args, q=search)
    page = paging.make_page(found, number, per_page, first_url)
    # Made here once (the page shows its title twice), and only the one shown.
    if search is not None:
        title = gettext("Search: %(search)s", search=search)
    elif tag is not None:
        title = gettext("Tagged %(tag)s", tag=quoted(tag))
    else:
        title = gettext("Posts")
    return await render_page(
        "blog/index.html", title=title, page=page, posts=page.items, search=search
    )


@bp.route("/")
@cached_page
async def index() -> ResponseReturnValue:
    """Show the posts, most recent first, a page at a time; ``?q=`` searches them."""
    return await _listing()


@bp.route("/tag/<name>")
@cached_page
async def tag(name: str) -> ResponseReturnValue:
    """Show the posts with a tag, most recent first."""
    return await _listing(name)


async def render_post_page(id: int, comment: str = "") -> str:
    """The page of one post with a page of its comments (``?page=``, oldest first);
    ``comment`` refills the comment form.

    :raise 404: if a post with the given id doesn't exist, or the page of comments
    """
    db = get_db()
    post = await posts.select_post(db, id, _viewer_id())
    if post is None:
        abort(404, gettext(POST_MISSING, id=id))
    number = paging.page_number()
    per_page = current_app.config["COMMENTS_PER_PAGE"]
    found = await comments.select_comments(
        db, id, limit=per_page + 1, offset=paging.offset(number, per_page)
    )
    page = paging.make_page(found, number, per_page, url_for("blog.detail", id=id))
    return await render_template(
        "blog/detail.html", post=post, page=page, comment=comment, here=page.url
    )


@bp.route("/<id:id>")
@cached_page
async def detail(id: int) -> ResponseReturnValue:
    """Show one post, its comments, and a form to comment."""
    return await render_post_page(id)


async def get_post(id: int, check_author: bool = True) -> Post:
    """Get a post and its author by id.

    :param id: id of post to get
    :param check_author: require the current user to be the author
    :raise 404: if a post with the given id doesn't exist
    :raise 403: if the current user isn't the author
    """
    post = await posts.select_post(get_db(), id)
    if post is None:
        abort(404, gettext(POST_MISSING, id=id))
    if check_author and post.author_id != logged_in_user().id:
        abort(403)
    return post


async def _optional_field(name: str) -> str:
    """A field the form may lack (Flaskr's own form had only title and body)."""
    if name not in await request.form:
        return ""
    return (await read_form(name))[name]


async def _read_post_form() -> tuple[PostForm, list[str], str | None]:
    """The submitted post, its tags, and what is wrong with it, if anything."""
    fields = await read_form("title", "body")
    form = PostForm(
        one_line(fields["title"]),
        typed_lines(fields["body"]),
        await _optional_field("tags"),
        one_line(await _optional_field("image_alt")),
        "remove_image" in await request.form,
    )
    names, error = parse_tags(form.tags)
    if shows_nothing(form.title):
        error = gettext("Title is required.")
    elif len(form.title) > TITLE_MAX:
        error = ngettext(
            "Title must be at most %(num)d character.",
            "Title must be at most %(num)d characters.",
            TITLE_MAX,
        )
    elif len(form.body) > BODY_MAX:
        error = ngettext(
            "Body must be at most %(num)d character.",
            "Body must be at most %(num)d characters.",
            BODY_MAX,
        )
    elif len(form.image_alt) > IMAGE_ALT_MAX:
        error = ngettext(
            "The image description must be at most %(num)d character.",
            "The image description must be at most %(num)d characters.",
            IMAGE_ALT_MAX,
        )
    return form, names, error


@dataclass(frozen=True, slots=True)
class Submission:
    """A submitted post form: its fields, tags and image, or what is wrong with them.

    ``status``: that of the form shown again with ``error``.
    """

    form: PostForm
    tags: list[str]
    image: image_queries.Image | None = None
    error: str | None = None
    status: int = 200


async def _read_submission() -> Submission:
    """The post form, its tags and its image as stored, or what is wrong with them.

    The image is decoded (off the event loop) only once the rest of the form is right.
    """
    form, names, error = await _read_post_form()
    if error is not None:
        return Submission(form, names, error=error)
    try:
        upload = images.read_upload((await request.files).get("image"))
        image = None if upload is None else await images.stored_image(upload)
    except images.ImageError as refused:
        return Submission(form, names, error=str(refused), status=refused.status)
    return Submission(form, names, image)


@bp.route("/create", methods=("GET", "POST"))
@images.accepts_upload
@login_required
@limit_writes("posts")
async def create() -> ResponseReturnValue:
    """Create a new post for the current user."""
    if request.method == "POST":
        sent = await _read_submission()
        if sent.error is None:
            html = await markdown.render_async(sent.form.body)
            # The image is stored in the post's own transaction.
            author = logged_in_user()
            await posts.insert_post(
                get_db(),
                author.id,
                sent.form.title,
                sent.form.body,
                html=html,
                tags=sent.tags,
                image=sent.image,
                image_alt=sent.form.image_alt,
                author_name=author.username,
            )
            return redirect(url_for("blog.index"))
        # As in Flaskr: the form again, with the message, what was typed, and
        # 200 (400 for a picture that cannot be decoded or is too large).
        await flash(sent.error)
        return await render_template("blog/create.html", form=sent.form), sent.status
    return await render_template("blog/create.html", form=PostForm())


@bp.route("/<id:id>/update", methods=("GET", "POST"))
@images.accepts_upload
@login_required
@limit_writes("edits")
async def update(id: int) -> ResponseReturnValue:
    """Update a post if the current user is the author; its image can be replaced or removed."""
    post = await get_post(id)
    if request.method == "POST":
        sent = await _read_submission()
        if sent.error is None:
            html = await markdown.render_async(sent.form.body)
            # The new image is stored, and the one it replaces deleted, in the
            # post's own transaction; nothing is, if the post was deleted meanwhile.
            updated = await posts.update_post(
                get_db(),
                id,
                sent.form.title,
                sent.form.body,
                html=html,
                tags=sent.tags,
                image_alt=sent.form.image_alt,
                replace_image=sent.image is not None or sent.form.remove_image,
                image=sent.image,
            )
            if not updated:
                abort(404, gettext(POST_MISSING, id=id))
            return redirect(url_for("blog.index"))
        await flash(sent.error)
        return (
            await render_template("blog/update.html", post=post, form=sent.form),
            sent.status,
        )
    return await render_template("blog/update.html", post=post, form=PostForm.from_post(post))


@bp.route("/<id:id>/delete", methods=("POST",))
@login_required
@limit_writes("deletes")
async def delete(id: int) -> ResponseReturnValue:
    """Delete a post, its image and comments, if the current user is its author."""
    await get_post(id)
    await posts.delete_post(get_db(), id)
    return redirect(url_for("blog.index"))


async def _back(id: int) -> ResponseReturnValue:
    """Back to the page a like form was on (a path on this site), at the post.

    The form's ``next`` field is a URL this site built; anything that could
    lead elsewhere (see ``security.local_path``) sends the user to the post instead.
    """
    target = (await request.form).get("next", "")
    if not local_path(target):
        return redirect(url_for("blog.detail", id=id))
    return redirect(f"{target}#post-{id}")


@bp.route("/<id:id>/like", methods=("POST",))
@login_required
@limit_writes("likes")
async def like(id: int) -> ResponseReturnValue:
    """Like a post; liking it again changes nothing."""
    if not await likes.like_post(get_db(), id, logged_in_user().id):
        abort(404, gettext(POST_MISSING, id=id))
    return await _back(id)


@bp.route("/<id:id>/unlike", methods=("POST",))
@login_required
@limit_writes("likes")
async def unlike(id: int) -> ResponseReturnValue:
    """Take back a like of a post."""
    await get_post(id, check_author=False)
    await likes.unlike_post(get_db(), id, logged_in_user().id)
    return await _back(id)
