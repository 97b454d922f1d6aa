"""Registering, logging in and out, and the logged-in user of each request."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from typing import ParamSpec
from typing import TypeVar

from quart import Blueprint
from quart import current_app
from quart import flash
from quart import g
from quart import redirect
from quart import render_template
from quart import request
from quart import ResponseReturnValue
from quart import session
from quart import url_for

from quart_flaskr import passwords
from quart_flaskr import usernames
from quart_flaskr.db import get_db
from quart_flaskr.forms import read_form
from quart_flaskr.models import users
from quart_flaskr.ratelimit import limit
from quart_flaskr.security import is_public_view

bp = Blueprint("auth", __name__, url_prefix="/auth")

P = ParamSpec("P")
T = TypeVar("T")

USERNAME_MAX = usernames.MAX_LENGTH
PASSWORD_MIN = 8
PASSWORD_MAX = 256


def login_required(
    view: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[T | ResponseReturnValue]]:
    """Redirect anonymous users to the login page."""

    @functools.wraps(view)
    async def wrapped_view(*args: P.args, **kwargs: P.kwargs) -> T | ResponseReturnValue:
        if g.user is None:
            return redirect(url_for("auth.login"))
        return await view(*args, **kwargs)

    return wrapped_view


@bp.before_app_request
async def load_logged_in_user() -> None:
    """Put the user of a live login session in ``g.user``, else None."""
    if is_public_view():
        # A file served alike to everyone: no query, and the session untouched.
        g.user = None
        return
    session_id = session.get("login_id")
    g.user = None if session_id is None else await users.select_session_user(get_db(), session_id)


def _check_credentials(username: str, password: str) -> str | None:
    if not username:
        return "Username is required."
    if not password:
        return "Password is required."
    if len(username) > USERNAME_MAX:
        return f"Username must be at most {USERNAME_MAX} characters."
    if len(password) > PASSWORD_MAX:
        return f"Password must be at most {PASSWORD_MAX} characters."
    return None


@bp.route("/register", methods=("GET", "POST"))
@limit(10, timedelta(hours=1))
async def register() -> ResponseReturnValue:
    """Register a new user under a name no other can pass for; the password is stored hashed."""
    if request.method == "POST":
        form = await read_form("username", "password")
        username, password = form["username"], form["password"]
        error = _check_credentials(username, password)
        if error is None and username != username.strip():
            error = "Username cannot start or end with spaces."
        name = username
        if error is None:
            try:
                name = usernames.prepare_username(username)
            except usernames.UsernameError as refused:
                error = str(refused)
        if error is None and len(password) < PASSWORD_MIN:
            error = f"Password must be at least {PASSWORD_MIN} characters."
        if error is None:
            password_hash = await passwords.hash_password(
                password, current_app.config["PASSWORD_HASH_METHOD"]
            )
            if await users.insert_user(get_db(), name, password_hash) is None:
                error = f"User {name} is already registered."
            else:
                return redirect(url_for("auth.login"))
        await flash(error)
        return await render_template("auth/register.html", username=username)
    return await render_template("auth/register.html", username="")


async def _start_login_session(user_id: int) -> None:
    """Record a login server-side and give the browser a fresh session for it."""
    login_id = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + current_app.permanent_session_lifetime
    await users.insert_login_session(get_db(), login_id, user_id, expires)
    # Nothing set before login (including a session planted by someone
    # else) carries over into the logged-in session.
    session.clear()
    session.permanent = True
    session["login_id"] = login_id


@bp.route("/login", methods=("GET", "POST"))
@limit(10, timedelta(minutes=1))
async def login() -> ResponseReturnValue:
    """Log a user in with a fresh session; the name is compared by its username key."""
    if request.method == "POST":
        form = await read_form("username", "password")
        username, password = form["username"], form["password"]
        db = get_db()
        method = current_app.config["PASSWORD_HASH_METHOD"]
        error = _check_credentials(username, password)
        if error is None:
            user = await users.select_user_by_name(db, username)
            # Check even for an unknown user, so both failures take as long.
            matches = await passwords.check_password(
                None if user is None else user.password, password, method
            )
            if user is not None and matches:
                if passwords.needs_rehash(user.password, method):
                    new_hash = await passwords.hash_password(password, method)
                    await users.update_password(db, user.id, new_hash)
                await _start_login_session(user.id)
                return redirect(url_for("index"))
            error = "Incorrect username." if user is None else "Incorrect password."
        await flash(error)
        return await render_template("auth/login.html", username=username)
    return await render_template("auth/login.html", username="")


@bp.route("/logout", methods=("POST",))
async def logout() -> ResponseReturnValue:
    """End the login session, server-side too, so a copied cookie stops working."""
    login_id = session.get("login_id")
    if login_id is not None:
        await users.delete_login_session(get_db(), login_id)
    session.clear()
    return redirect(url_for("index"))
