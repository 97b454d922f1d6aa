"""Registering, logging in and out (who is logged in is ``login.py``'s)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from quart import Blueprint
from quart import current_app
from quart import flash
from quart import redirect
from quart import render_template
from quart import request
from quart import ResponseReturnValue
from quart import url_for

from quart_flaskr import passwords
from quart_flaskr import usernames
from quart_flaskr.db import get_db
from quart_flaskr.forms import read_form
from quart_flaskr.i18n import gettext
from quart_flaskr.i18n import ngettext
from quart_flaskr.limits import PASSWORD_MAX
from quart_flaskr.limits import PASSWORD_MIN
from quart_flaskr.limits import USERNAME_MAX
from quart_flaskr.login import end_login_session
from quart_flaskr.login import start_login_session
from quart_flaskr.models import users
from quart_flaskr.models.users import User
from quart_flaskr.ratelimit import limit

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _check_credentials(username: str, password: str) -> str | None:
    if not username:
        return gettext("Username is required.")
    if not password:
        return gettext("Password is required.")
    if len(username) > USERNAME_MAX:
        return ngettext(
            "Username must be at most %(num)d character.",
            "Username must be at most %(num)d characters.",
            USERNAME_MAX,
        )
    if len(password) > PASSWORD_MAX:
        return ngettext(
            "Password must be at most %(num)d character.",
            "Password must be at most %(num)d characters.",
            PASSWORD_MAX,
        )
    return None


def new_password_problem(password: str) -> str | None:
    """What is wrong with a new password, as registering judges it, or None."""
    if not password:
        return gettext("Password is required.")
    if len(password) > PASSWORD_MAX:
        return ngettext(
            "Password must be at most %(num)d character.",
            "Password must be at most %(num)d characters.",
            PASSWORD_MAX,
        )
    if len(password) < PASSWORD_MIN:
        return ngettext(
            "Password must be at least %(num)d character.",
            "Password must be at least %(num)d characters.",
            PASSWORD_MIN,
        )
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
            error = gettext("Username cannot start or end with spaces.")
        name = username
        if error is None:
            try:
                name = usernames.prepare_username(username)
            except usernames.UsernameError as refused:
                error = str(refused)
        if error is None:
            error = new_password_problem(password)
        if error is None:
            password_hash = await passwords.hash_password(
                password, current_app.config["PASSWORD_HASH_METHOD"]
            )
            if await users.insert_user(get_db(), name, password_hash) is None:
                error = gettext("User %(name)s is already registered.", name=name)
            else:
                return redirect(url_for("auth.login"))
        await flash(error)
        return await render_template("auth/register.html", username=username)
    return await render_template("auth/register.html", username="")


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
            found = await users.select_account_by_name(db, username)
            user = None if found is None else found[0]
            # Check even for an unknown user: both failures take as long.
            matches = await passwords.check_password(
                None if user is None else user.password, password, method
            )
            if found is not None and matches and not found[1]:
                if await _log_in(found[0], password, method):
                    return redirect(url_for("index"))
                # Suspended, or the password changed, while it was checked.
                found = await users.select_account_by_name(db, username)
            # Only someone who knows the password learns of the suspension.
            if found is not None and matches and found[1]:
                await flash(gettext("This account is suspended by a moderator."))
                return await render_template("auth/login.html", username=username), 403
            error = (
                gettext("Incorrect username.") if user is None else gettext("Incorrect password.")
            )
        await flash(error)
        return await render_template("auth/login.html", username=username)
    return await render_template("auth/login.html", username="")


async def _log_in(user: User, password: str, method: str) -> bool:
    """Start a session for ``user``, whose stored hash ``password`` was just checked against;
    False when the password is no longer theirs.

    The session starts only while that hash is still the one stored (see
    ``start_login_session``), with it upgraded to ``method`` where it is
    older. When it changed meanwhile the password is checked once more,
    against the hash stored now: another login of the same user that
    upgraded it (a form sent twice) leaves it theirs, a reset or a change
    of password does not.
    """
    if await _start_session(user, password, method):
        return True
    stored = await users.select_password_hash(get_db(), user.id)
    return (
        stored is not None
        and stored != user.password
        and await passwords.check_password(stored, password, method)
        and await _start_session(dataclasses.replace(user, password=stored), password, method)
    )


async def _start_session(user: User, password: str, method: str) -> bool:
    new_hash = None
    if passwords.needs_rehash(user.password, method):
        new_hash = await passwords.hash_password(password, method)
    return await start_login_session(user, new_hash)


@bp.route("/logout", methods=("POST",))
async def logout() -> ResponseReturnValue:
    """End the login session, server-side too, so a copied cookie stops working."""
    await end_login_session()
    return redirect(url_for("index"))
