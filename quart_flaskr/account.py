"""People's own accounts: profiles, the account page, a new password, login sessions, reset
links made by an operator, and deleting an account with everything in it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import click
from quart import abort
from quart import Blueprint
from quart import current_app
from quart import flash
from quart import Quart
from quart import redirect
from quart import render_template
from quart import request
from quart import ResponseReturnValue
from quart import url_for
from quart.cli import pass_script_info
from quart.cli import ScriptInfo

from quart_flaskr import paging
from quart_flaskr import passwords
from quart_flaskr.auth import new_password_problem
from quart_flaskr.db import Database
from quart_flaskr.db import get_db
from quart_flaskr.db import request_data_version
from quart_flaskr.db.cli import run_command
from quart_flaskr.db.cli import using_database
from quart_flaskr.forms import read_form
from quart_flaskr.fragments import render_page
from quart_flaskr.i18n import gettext
from quart_flaskr.i18n import ngettext
from quart_flaskr.limits import PASSWORD_MAX
from quart_flaskr.login import change_password
from quart_flaskr.login import current_user
from quart_flaskr.login import end_login_session
from quart_flaskr.login import end_other_login_sessions
from quart_flaskr.login import logged_in_user
from quart_flaskr.login import login_required
from quart_flaskr.login import stored_session_id
from quart_flaskr.models import accounts
from quart_flaskr.models import posts
from quart_flaskr.models import sessions
from quart_flaskr.models import users
from quart_flaskr.models.sessions import LoginSession
from quart_flaskr.pagecache import cached_page
from quart_flaskr.ratelimit import limit
from quart_flaskr.security import not_stored

bp = Blueprint("account", __name__)

#: Password checks a client address may submit a minute, as for logging in.
PASSWORD_CHECKS = (10, timedelta(minutes=1))


# A path: names made before slashes were refused may hold one.
@bp.route("/u/<path:username>")
@cached_page
async def profile(username: str) -> ResponseReturnValue:
    """A user's page: when they joined, how many posts they wrote, and their posts, newest first.

    :raise 404: for a name nobody has, or a suspended user's
    """
    db = get_db()
    found = await accounts.select_profile(db, username)
    if found is None:
        abort(404, gettext("There is no user %(name)s.", name=username))
    number = paging.page_number()
    per_page = current_app.config["POSTS_PER_PAGE"]
    viewer = current_user()
    listed = await posts.select_posts(
        db,
        limit=per_page + 1,
        offset=paging.offset(number, per_page),
        viewer_id=None if viewer is None else viewer.id,
        author_id=found.user.id,
        data_version=request_data_version,
    )
    first_url = url_for("account.profile", username=found.user.username)
    page = paging.make_page(listed, number, per_page, first_url)
    return await render_page("account/profile.html", profile=found, page=page, posts=page.items)


@bp.route("/account")
@not_stored
@login_required
async def index() -> ResponseReturnValue:
    """The account page: links to the profile, the password, the sessions, and deleting it."""
    return await render_template("account/index.html")


async def _check_current_password(password: str) -> str | None:
    """What is wrong with the current password typed, or None when it is the user's."""
    if not password:
        return gettext("Your current password is required.")
    if len(password) > PASSWORD_MAX or not await passwords.check_password(
        logged_in_user().password, password, current_app.config["PASSWORD_HASH_METHOD"]
    ):
        return gettext("Your current password is not right.")
    return None


@bp.route("/account/password", methods=("GET", "POST"))
@not_stored
@login_required
@limit(*PASSWORD_CHECKS)
async def password() -> ResponseReturnValue:
    """Change the password; every other login session of the user ends, this one stays."""
    if request.method == "POST":
        form = await read_form("current_password", "new_password")
        error = await _check_current_password(form["current_password"])
        if error is None:
            error = new_password_problem(form["new_password"])
        if error is None:
            new_hash = await passwords.hash_password(
                form["new_password"], current_app.config["PASSWORD_HASH_METHOD"]
            )
            if not await change_password(logged_in_user().id, new_hash):
                return redirect(url_for("auth.login"))
            await flash(gettext("Your password is changed. You are logged out everywhere else."))
            return redirect(url_for("account.index"))
        await flash(error)
        return await render_template("account/password.html"), 400
    return await render_template("account/password.html")


def session_ref(login: LoginSession) -> str:
    """What pages name a login session by: never its id, which is a bearer credential."""
    return hashlib.sha256(login.id.encode()).hexdigest()[:32]


#: Tokens of a User-Agent and the browser each names, the first found telling.
_BROWSERS = (
    ("edg/", "Edge"),
    ("opr/", "Opera"),
    ("firefox/", "Firefox"),
    ("chromium/", "Chromium"),
    ("chrome/", "Chrome"),
    ("safari/", "Safari"),
)
#: Likewise for the system it runs on.
_SYSTEMS = (
    ("android", "Android"),
    ("iphone", "iOS"),
    ("ipad", "iOS"),
    ("windows", "Windows"),
    ("mac os", "macOS"),
    ("linux", "Linux"),
)


def _first_named(agent: str, names: tuple[tuple[str, str], ...]) -> str | None:
    return next((name for token, name in names if token in agent), None)


def browser_name(user_agent: str) -> str:
    """The browser and system a User-Agent names, in a few words, as well as it tells."""
    agent = user_agent.lower()
    browser = _first_named(agent, _BROWSERS)
    system = _first_named(agent, _SYSTEMS)
    if browser is None:
        return gettext("An unknown browser")
    if system is None:
        return browser
    return gettext("%(browser)s on %(system)s", browser=browser, system=system)


@bp.route("/account/sessions")
@not_stored
@login_required
async def sessions_page() -> ResponseReturnValue:
    """The user's live login sessions, the current one marked; each can be ended."""
    listed = await sessions.select_login_sessions(get_db(), logged_in_user().id)
    current = stored_session_id()
    return await render_template(
        "account/sessions.html",
        sessions=[
            (login, session_ref(login), browser_name(login.user_agent), login.id == current)
            for login in listed
        ],
    )


@bp.route("/account/sessions/<ref>/end", methods=("POST",))
@login_required
async def end_session(ref: str) -> ResponseReturnValue:
    """End one login session of the user's; ending the current one logs out.

    :raise 404: for a session that is not the user's (or has ended)
    """
    user = logged_in_user()
    db = get_db()
    login = next(
        (
            login
            for login in await sessions.select_login_sessions(db, user.id)
            if session_ref(login) == ref
        ),
        None,
    )
    if login is None:
        abort(404, gettext("There is no such session of yours: it may have ended already."))
    if login.id == stored_session_id():
        await end_login_session()
        return redirect(url_for("index"))
    await sessions.delete_user_session(db, user.id, login.id)
    await flash(gettext("The session is ended."))
    return redirect(url_for("account.sessions_page"))


@bp.route("/account/sessions/end-others", methods=("POST",))
@login_required
async def end_other_sessions() -> ResponseReturnValue:
    """Log out everywhere but here."""
    ended = await end_other_login_sessions(logged_in_user().id)
    if ended is None:
        return redirect(url_for("auth.login"))
    await flash(
        ngettext("%(num)d other session is ended.", "%(num)d other sessions are ended.", ended)
    )
    return redirect(url_for("account.sessions_page"))


@bp.route("/account/delete", methods=("GET", "POST"))
@not_stored
@login_required
@limit(*PASSWORD_CHECKS)
async def delete() -> ResponseReturnValue:
    """Delete the account with all its posts, images, comments and likes; the name becomes free."""
    if request.method == "POST":
        form = await read_form("password")
        error = await _check_current_password(form["password"])
        if error is None:
            await accounts.delete_account(get_db(), logged_in_user().id)
            await end_login_session()
            await flash(gettext("Your account and everything in it are deleted."))
            return redirect(url_for("index"))
        await flash(error)
        return await render_template("account/delete.html"), 400
    return await render_template("account/delete.html")


@bp.route("/account/reset/<token>", methods=("GET", "POST"))
@not_stored
@limit(*PASSWORD_CHECKS)
async def reset(token: str) -> ResponseReturnValue:
    """Set a new password with a link from the reset-link command; it works once.

    :raise 404: for a link that is unknown, used or expired
    """
    db = get_db()
    user = await accounts.select_password_reset(db, token)
    if user is None:
        abort(
            404,
            gettext(
                "This link to set a password is not valid: it was used, or it expired."
                " Ask the blog's operator for a new one."
            ),
        )
    if request.method == "POST":
        form = await read_form("new_password")
        error = new_password_problem(form["new_password"])
        if error is None:
            new_hash = await passwords.hash_password(
                form["new_password"], current_app.config["PASSWORD_HASH_METHOD"]
            )
            if not await accounts.use_password_reset(db, token, new_hash):
                abort(404, gettext("This link was used meanwhile."))
            # Whoever was logged in on this browser is logged out, as everywhere.
            await end_login_session()
            await flash(gettext("Your password is set. Log in with it."))
            return redirect(url_for("auth.login"))
        await flash(error)
        return await render_template("account/reset.html", user=user), 400
    return await render_template("account/reset.html", user=user)


async def make_reset_link(app: Quart, username: str) -> tuple[str, int] | None:
    """A new reset link's path for the user, and its minutes; None for an unknown name."""
    seconds = app.config["PASSWORD_RESET_SECONDS"]
    token = secrets.token_urlsafe(32)

    async def store(database: Database) -> bool:
        user = await users.select_user_by_name(database, username)
        if user is None:
            return False
        expires = datetime.now(UTC) + timedelta(seconds=seconds)
        await accounts.insert_password_reset(database, user.id, token, expires)
        return True

    if not await using_database(app, store):
        return None
    async with app.test_request_context("/"):
        path = url_for("account.reset", token=token)
    return path, seconds // 60


@click.command("reset-link")
@click.argument("username")
@click.option(
    "--site",
    default="",
    help="The blog's address, such as https://blog.example.org, to print a whole link.",
)
@pass_script_info
def reset_link_command(info: ScriptInfo, username: str, site: str) -> None:
    """Print a one-time link with which USERNAME sets a new password (no email needed)."""
    app = info.load_app()
    made = run_command(make_reset_link(app, username))
    if made is None:
        raise click.ClickException(f"There is no user {username!r}.")
    path, minutes = made
    click.echo(site.rstrip("/") + path)
    click.echo(
        f"It works once, for {minutes} minutes, and ends every login session of the user."
        " Give it to them by a way only they read.",
        err=True,
    )


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(reset_link_command)
