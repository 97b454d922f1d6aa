"""Commands for operators: a random secret key, and a check of the deployment's safety."""

from __future__ import annotations

import ast
import asyncio
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from typing import cast

import aiosqlite
import click
from quart import Quart
from quart.cli import pass_script_info
from quart.cli import ScriptInfo

from quart_flaskr import imaging
from quart_flaskr.db import DatabaseUnavailableError
from quart_flaskr.db import SCHEMA_VERSION
from quart_flaskr.db.extension import database_from_config
from quart_flaskr.security import fallback_key_problems
from quart_flaskr.security import secret_key_problem
from quart_flaskr.usernames import misleading
from quart_flaskr.usernames import username_key

_KEY_SETTINGS = ("SECRET_KEY", "SECRET_KEY_FALLBACKS")


class KeyInPlaceError(click.ClickException):
    """config.py holds a key fit to serve with, and neither rotating nor replacing it was asked."""


#: A SECRET_KEY that config.py computes (from the environment, say) rather than writes out.
_COMPUTED = object()


def write_secret_key(config_path: Path, rotate: bool, force: bool = False) -> str | None:
    """Set a fresh random SECRET_KEY in ``config_path``, keeping its other settings.

    With ``rotate`` the old key becomes the only SECRET_KEY_FALLBACKS entry, so
    sessions and forms signed with it keep working until the next rotation;
    unless it is unfit (``secret_key_problem``): a guessable key kept as a
    fallback would still let anyone sign a session of their own.

    A key fit to serve with is replaced only when rotating or with ``force``: a
    new key logs every reader out, and each host of the blog needs the same one.
    ``force`` drops SECRET_KEY_FALLBACKS too (a leaked config.py leaked them).

    :raise KeyInPlaceError: when it would replace such a key otherwise
    :return: why the old key was not kept, when rotating did not keep it
    """
    source = config_path.read_text("utf-8") if config_path.exists() else ""
    tree = ast.parse(source)
    old_key: object = None
    replaced: set[int] = set()
    plain: set[int] = set()
    for node in tree.body:
        assignment = _plain_assignment(node)
        if assignment is None:
            continue
        targets, value = assignment
        plain.update(id(target) for target in targets)
        names = {target.id for target in targets}
        if "SECRET_KEY" in names:
            old_key = _literal(value)
        if names & set(_KEY_SETTINGS) and (rotate or force or "SECRET_KEY" in names):
            replaced.update(range(node.lineno - 1, node.end_lineno or node.lineno))
    if any(_binds_key(node) and id(node) not in plain for node in ast.walk(tree)):
        # Set in a block, with others, or imported: left where it is, and the
        # new key written after it is the one that counts.
        old_key = _COMPUTED
    if old_key is _COMPUTED:
        # Perhaps fit to serve with: replaced only as one that is.
        problem: str | None = "config.py computes it rather than writing it out"
    else:
        problem = secret_key_problem(old_key)
    if (problem is None or old_key is _COMPUTED) and not (rotate or force):
        raise KeyInPlaceError(
            f"{config_path} already holds a SECRET_KEY. A new one logs everyone out, and"
            " every host serving the blog needs the same key: run 'gen-secret-key --rotate'"
            " to keep the old key valid until the next rotation, or 'gen-secret-key --force'"
            " to replace it outright."
        )
    lines = [line for number, line in enumerate(source.splitlines()) if number not in replaced]
    lines.append(f"SECRET_KEY = {secrets.token_hex(32)!r}")
    refused = None
    if rotate and old_key is not None:
        refused = problem
        if refused is None:
            lines.append(f"SECRET_KEY_FALLBACKS = [{old_key!r}]")
    config_path.parent.mkdir(parents=True, exist_ok=True)
    # Created readable by its owner only: it holds the key.
    fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")
    os.chmod(config_path, 0o600)
    return refused


@click.command("gen-secret-key")
@click.option(
    "--rotate",
    is_flag=True,
    help="Keep the current key in SECRET_KEY_FALLBACKS so existing sessions stay valid.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace a key already set without keeping it: everyone is logged out.",
)
@pass_script_info
def gen_secret_key_command(info: ScriptInfo, rotate: bool, force: bool) -> None:
    """Write a random SECRET_KEY into the instance folder's config.py."""
    app = info.load_app()
    config_path = Path(app.instance_path) / "config.py"
    refused = write_secret_key(config_path, rotate, force)
    click.echo(f"Wrote a new SECRET_KEY to {config_path}.")
    if refused:
        click.echo(f"The old key is not kept as a fallback: {refused}.")


def _plain_assignment(node: ast.stmt) -> tuple[list[ast.Name], ast.expr] | None:
    """The names a top-level ``NAME = value`` (or ``NAME: type = value``) sets, and its value."""
    if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
        return cast(list[ast.Name], node.targets), node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
        return [node.target], node.value
    return None


def _binds_key(node: ast.AST) -> bool:
    """Whether ``node`` sets SECRET_KEY: assigned, or imported under that name."""
    if isinstance(node, ast.Name):
        return node.id == "SECRET_KEY" and isinstance(node.ctx, ast.Store)
    return isinstance(node, ast.alias) and (node.asname or node.name) == "SECRET_KEY"


def _literal(value: ast.expr) -> object:
    """A setting's value as config.py writes it, or ``_COMPUTED`` when code computes it."""
    try:
        return ast.literal_eval(value)
    except (ValueError, TypeError):
        return _COMPUTED


async def _accounts(conn: aiosqlite.Connection) -> list[tuple[int, str]]:
    """Every (id, username), in id order; none in a database without tables yet."""
    if not await conn.execute_fetchall(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'user'"
    ):
        return []
    rows = await conn.execute_fetchall('SELECT id, username FROM "user" ORDER BY id')
    return [(int(row[0]), str(row[1])) for row in rows]


async def _database_problems(path: str) -> list[str]:
    # Read-only, so that the check itself changes nothing (not even the journal mode).
    async with aiosqlite.connect(f"file:{path}?mode=ro", uri=True) as conn:
        journal = next(iter(await conn.execute_fetchall("PRAGMA journal_mode")))[0]
        version = next(iter(await conn.execute_fetchall("PRAGMA user_version")))[0]
        accounts = await _accounts(conn)
    problems = []
    if journal != "wal":
        problems.append(
            f"The database is in {journal} journal mode, not WAL: readers block writers."
            " Keep it on a local file system that supports WAL."
        )
    if version != SCHEMA_VERSION:
        problems.append(
            f"The database schema is version {version}, not {SCHEMA_VERSION}: run 'migrate'."
        )
    problems.extend(username_problems(accounts))
    return problems


async def _postgres_problems(config: Mapping[str, Any]) -> list[str]:
    """What is wrong with the PostgreSQL database DATABASE_URL names, read without writing."""
    database = database_from_config(config)
    try:
        version = await database.schema_version()
        rows = (
            await database.fetch_all('SELECT id, username FROM "user" ORDER BY id')
            if version
            else []
        )
    except DatabaseUnavailableError as error:
        return [f"The database cannot be reached: {error}"]
    finally:
        await database.close()
    problems = []
    if version == 0:
        problems.append(f"The database {database.location} has no tables: run 'init-db'.")
    elif version != SCHEMA_VERSION:
        problems.append(
            f"The database schema is version {version}, not {SCHEMA_VERSION}: run 'migrate'."
        )
    problems.extend(username_problems([(int(row[0]), str(row[1])) for row in rows]))
    return problems


def username_problems(accounts: list[tuple[int, str]]) -> list[str]:
    """Accounts, (id, username) in id order, whose names pass for another's.

    Registered before usernames were checked and compared by key, they keep
    working (each logs in with its exact name), but an operator should look at
    them: rename all but one of each clash, and any name made to mislead.
    """
    by_key: dict[str, list[str]] = {}
    problems = []
    for user_id, username in accounts:
        # repr() shows invisible and control characters as escapes.
        shown = f"{username!r} (id {user_id})"
        by_key.setdefault(username_key(username), []).append(shown)
        reason = misleading(username)
        if reason is not None:
            problems.append(f"The username {shown} could pass for another: {reason}")
    problems.extend(
        f"The usernames {', '.join(names)} are one name once normalised and case-folded:"
        " each still logs in with its exact name; rename all but one."
        for names in by_key.values()
        if len(names) > 1
    )
    return problems


def _open_to_others(path: Path) -> list[str]:
    """The problem with ``path`` if users other than its owner may read or write it."""
    if not path.exists() or not path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return []
    mode = stat.filemode(path.stat().st_mode)
    return [f"{path} is open to other users (mode {mode}): chmod go-rwx {path}"]


def deployment_problems(app: Quart) -> list[str]:
    """What is unsafe in the app's current configuration and files, and what would fail."""
    config = app.config
    problems = []
    key_problem = secret_key_problem(config["SECRET_KEY"])
    if key_problem:
        problems.append(f"{key_problem}: run 'gen-secret-key'.")
    problems.extend(
        f"{problem}: anyone who guesses it can sign a session of their own."
        " Take it out of config.py."
        for problem in fallback_key_problems(config["SECRET_KEY_FALLBACKS"])
    )
    if app.debug:
        problems.append("DEBUG is on: it shows tracebacks and reloads code.")
    if app.testing:
        problems.append("TESTING is on: it lets errors through to clients.")
    if not config["SESSION_COOKIE_SECURE"]:
        problems.append(
            "SESSION_COOKIE_SECURE is off: session cookies would be sent over plain HTTP."
            " Serve over HTTPS and set it to True."
        )
    if not config["HSTS_SECONDS"]:
        problems.append(
            "HSTS_SECONDS is 0: browsers may reach the site over plain HTTP."
            " Set it (e.g. 31536000) once HTTPS works."
        )
    if not config["ALLOWED_HOSTS"]:
        problems.append(
            "ALLOWED_HOSTS is empty: any Host header is answered, and links built from it."
            " List the site's host names."
        )
    picture_problem = imaging.problem()
    if picture_problem:
        problems.append(
            f"{picture_problem}: picture uploads would fail."
            " Reinstall Pillow in the app's environment, built with JPEG, PNG and WebP."
        )
    instance = Path(app.instance_path)
    if config["DATABASE_URL"]:
        for path in (instance, instance / "config.py"):
            problems.extend(_open_to_others(path))
        problems.extend(asyncio.run(_postgres_problems(config)))
        return problems
    for path in (instance, instance / "config.py", Path(config["DATABASE"])):
        problems.extend(_open_to_others(path))
    if os.path.exists(config["DATABASE"]):
        problems.extend(asyncio.run(_database_problems(config["DATABASE"])))
    else:
        problems.append(f"The database {config['DATABASE']} does not exist: run 'init-db'.")
    return problems


@click.command("check-deploy")
@pass_script_info
def check_deploy_command(info: ScriptInfo) -> None:
    """List what is unsafe in this deployment; exit non-zero if anything is."""
    problems = deployment_problems(info.load_app())
    for problem in problems:
        click.echo(f"- {problem}")
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found.")
    click.echo("No problems found.")


def init_app(app: Quart) -> None:
    app.cli.add_command(gen_secret_key_command)
    app.cli.add_command(check_deploy_command)
