"""Progress of long operator commands: the estimate, the lines, and each command printing them."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import pytest
from quart import Quart
from quart.testing import QuartCliRunner

from quart_flaskr import progress
from quart_flaskr.db import cli as db_cli
from quart_flaskr.db import Database
from quart_flaskr.db.extension import get_db
from quart_flaskr.db.sqlite import SQLiteDatabase
from quart_flaskr.migrations import data
from quart_flaskr.models import posts
from quart_flaskr.models import users
from quart_flaskr.models.images import Image
from tests import pictures


@pytest.fixture
def every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A line at every step, not every few seconds."""
    monkeypatch.setattr(progress, "EVERY", 0.0)


@pytest.mark.parametrize(
    ("done", "total", "elapsed", "left"),
    (
        (0, 10, 5.0, None),
        (5, 10, 5.0, 5.0),
        (120_000, 1_000_000, 60.0, 440.0),
        (10, 10, 3.0, 0.0),
        # More than counted at first (rows written meanwhile): nothing left, not less.
        (12, 10, 3.0, 0.0),
    ),
)
def test_seconds_left(done: int, total: int, elapsed: float, left: float | None) -> None:
    assert progress.seconds_left(done, total, elapsed) == left


@pytest.mark.parametrize(
    ("seconds", "described"),
    (
        (0.2, "about 1 s left"),
        (40.4, "about 40 s left"),
        (59.4, "about 59 s left"),
        (89, "about 1 min left"),
        (119, "about 2 min left"),
        (3_599, "about 1 h left"),
        (2 * 3_600 + 5 * 60, "about 2 h 5 min left"),
    ),
)
def test_describe_left(seconds: float, described: str) -> None:
    assert progress.describe_left(seconds) == described


@pytest.mark.parametrize(
    ("what", "done", "total", "elapsed", "unit", "line"),
    (
        ("post", 120_000, 1_000_000, 60.0, "", "post 120,000 of 1,000,000 (12%), about 7 min left"),
        ("post", 0, 1_000_000, 1.0, "", "post 0 of 1,000,000 (0%)"),
        ("post", 7, None, 1.0, "", "post 7"),
        ("", 1_200, 3_100, 50.0, "MiB", "1,200 of 3,100 MiB (38%), about 1 min left"),
        ("", 12, None, 50.0, "MiB", "12 MiB"),
        ("", 0, 0, 1.0, "MiB", "0 of 0 MiB (100%)"),
        ("tag", 10, 10, 1.0, "", "tag 10 of 10 (100%)"),
        ("tag", 11, 10, 1.0, "", "tag 11 of 10 (100%)"),
    ),
)
def test_describe(
    what: str, done: int, total: int | None, elapsed: float, unit: str, line: str
) -> None:
    assert progress.describe(what, done, total, elapsed, unit) == line


async def test_a_line_every_few_seconds() -> None:
    now = [100.0]
    stream = io.StringIO()
    shown = progress.Progress("copy-db", "post", 400, stream=stream, clock=lambda: now[0])
    await shown.advance(100)
    assert stream.getvalue() == ""
    now[0] += progress.EVERY
    await shown.advance(100)
    now[0] += progress.EVERY - 0.1
    await shown.advance(100)
    now[0] += 0.1
    await shown.reach(400)
    assert stream.getvalue().splitlines() == [
        "copy-db: post 200 of 400 (50%), about 5 s left",
        "copy-db: post 400 of 400 (100%)",
    ]


async def test_lines_go_to_standard_error(
    every_time: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await progress.Progress("backup", "", unit="MiB").reach(3)
    assert capsys.readouterr() == ("", "backup: 3 MiB\n")


def _lines(text: str, command: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"{command}: ")]


async def test_the_data_step_shows_its_progress(
    every_time: None, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    async with db.transaction() as tx:
        for number in range(3):
            await tx.execute(
                "INSERT INTO post (title, body, author_id) VALUES (?, ?, 1)", (f"t{number}", "b")
            )
    assert await data.store_missing_html(db, "post", batch=2) == 3
    assert await data.store_missing_search_terms(db, batch=2) == 3
    for name in ("BBBBBBBBBBBBBBBBBBBBBB.png", "CCCCCCCCCCCCCCCCCCCCCC.png"):
        await posts.insert_post(db, 1, name, "b", image=Image(name, pictures.png(20, 10)))
    assert await data.store_missing_image_sizes(db, batch=1) == 2
    lines = _lines(capsys.readouterr().err, "migrate")
    assert lines == [
        "migrate: post HTML 2 of 3 (66%), about 1 s left",
        "migrate: post HTML 3 of 3 (100%)",
        "migrate: post search terms 2 of 3 (66%), about 1 s left",
        "migrate: post search terms 3 of 3 (100%)",
        "migrate: image sizes 1 of 2 (50%), about 1 s left",
        "migrate: image sizes 2 of 2 (100%)",
    ]


async def test_a_data_step_with_nothing_to_do_prints_nothing(
    every_time: None, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await data.upgrade_data(db)
    assert _lines(capsys.readouterr().err, "migrate") == []


def test_copy_db_shows_each_tables_progress(
    every_time: None, runner: QuartCliRunner, cli_app: Quart, tmp_path: Path
) -> None:
    assert runner.invoke(args=["init-db"]).exit_code == 0
    source = get_db(cli_app)

    async def fill() -> None:
        for name in ("alice", "bob"):
            await users.insert_user(source, name, "h")
        await posts.insert_post(source, 1, "title", "body", tags=["one", "two"])
        await source.close()

    asyncio.run(fill())
    result = runner.invoke(args=["copy-db", str(tmp_path / "copy.sqlite")])
    assert result.exit_code == 0, result.output
    lines = _lines(result.stderr, "copy-db")
    for line in (
        "copy-db: user 2 of 2 (100%)",
        "copy-db: post 1 of 1 (100%)",
        "copy-db: post_tag 2 of 2 (100%)",
    ):
        assert any(shown.startswith(line) for shown in lines), lines


def test_backup_shows_what_is_written(
    every_time: None, runner: QuartCliRunner, cli_app: Quart, tmp_path: Path
) -> None:
    assert runner.invoke(args=["init-db"]).exit_code == 0
    target = tmp_path / "backup.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    lines = _lines(result.stderr, "backup")
    assert len(lines) == 1 and re.fullmatch(r"backup: 0 (of 0 )?MiB( \(100%\))?", lines[0])
    assert f"Backed up the database to {target}." in result.stdout


async def test_backup_of_a_big_database_counts_its_mib(
    every_time: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = SQLiteDatabase(str(tmp_path / "blog.sqlite"))
    try:
        await database.migrate()
        async with database.transaction() as tx:
            await tx.execute("CREATE TABLE ballast (data BLOB)")
            await tx.execute_many("INSERT INTO ballast VALUES (?)", [(b"x" * 2**20,)] * 3)
        monkeypatch.setattr(db_cli, "BACKUP_POLL", 0.0)
        await db_cli.backup_with_progress(database, str(tmp_path / "copy.sqlite"))
    finally:
        await database.close()
    lines = _lines(capsys.readouterr().err, "backup")
    assert lines and all(re.fullmatch(r"backup: \d of 3 MiB \(\d+%\).*", line) for line in lines)
    assert lines[-1].startswith("backup: 3 of 3 MiB (100%)")


async def test_backup_shows_its_progress_while_it_is_written(
    every_time: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def write_a_mib(target: str) -> None:
        with open(target, "ab") as file:
            file.write(b"x" * db_cli.MIB)

    async def slow_backup(target: str) -> None:
        for _ in range(3):
            await asyncio.to_thread(write_a_mib, target)
            await asyncio.sleep(0.2)

    database = SQLiteDatabase(str(tmp_path / "blog.sqlite"))
    try:
        await database.migrate()
        monkeypatch.setattr(database, "backup", slow_backup)
        monkeypatch.setattr(db_cli, "BACKUP_POLL", 0.05)
        await db_cli.backup_with_progress(database, str(tmp_path / "copy.sqlite"))
    finally:
        await database.close()
    figures = [int(line.split()[1]) for line in _lines(capsys.readouterr().err, "backup")]
    # What is written so far, shown before the backup ends, then all of it.
    assert 1 in figures and figures == sorted(figures) and figures[-1] == 3


def test_the_size_of_a_file_not_written_yet_is_0(tmp_path: Path) -> None:
    assert db_cli._file_size(str(tmp_path / "none")) == 0
