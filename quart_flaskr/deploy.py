"""Commands for operators: writing a secret key into the instance config."""

from __future__ import annotations

import ast
import os
import secrets
from pathlib import Path

import click
from quart import Quart
from quart.cli import pass_script_info
from quart.cli import ScriptInfo


def write_secret_key(config_path: Path, rotate: bool) -> None:
    """Set a fresh random SECRET_KEY in ``config_path``, keeping its other settings.

    With ``rotate`` the old key moves to SECRET_KEY_FALLBACKS, so sessions and
    forms signed with it keep working until the next rotation.
    """
    source = config_path.read_text("utf-8") if config_path.exists() else ""
    lines = source.splitlines()
    old_key = None
    drop: set[int] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id in ("SECRET_KEY", "SECRET_KEY_FALLBACKS")
            for target in node.targets
        ):
            name = node.targets[0]
            if isinstance(name, ast.Name) and name.id == "SECRET_KEY":
                old_key = ast.literal_eval(node.value)
            if isinstance(name, ast.Name) and name.id == "SECRET_KEY_FALLBACKS" and not rotate:
                continue
            drop.update(range(node.lineno - 1, (node.end_lineno or node.lineno)))
    kept = [line for number, line in enumerate(lines) if number not in drop]
    kept.append(f"SECRET_KEY = {secrets.token_hex(32)!r}")
    if rotate and old_key:
        kept.append(f"SECRET_KEY_FALLBACKS = [{old_key!r}]")
    config_path.parent.mkdir(parents=True, exist_ok=True)
    # Only the owner may read the file that holds the key.
    fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write("\n".join(kept) + "\n")
    os.chmod(config_path, 0o600)


@click.command("gen-secret-key")
@click.option(
    "--rotate",
    is_flag=True,
    help="Keep the current key as SECRET_KEY_FALLBACKS so existing sessions stay valid.",
)
@pass_script_info
def gen_secret_key_command(info: ScriptInfo, rotate: bool) -> None:
    """Write a random SECRET_KEY into the instance folder's config.py."""
    app = info.load_app()
    config_path = Path(app.instance_path) / "config.py"
    write_secret_key(config_path, rotate)
    click.echo(f"Wrote a new SECRET_KEY to {config_path}.")


def init_app(app: Quart) -> None:
    app.cli.add_command(gen_secret_key_command)
