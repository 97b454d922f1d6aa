"""Usernames that cannot pass for another: the rules, the key, and how the database keeps them."""

from __future__ import annotations

import asyncio
import sqlite3
import unicodedata
from collections.abc import AsyncGenerator
from pathlib import Path

import pytest
from quart.testing import QuartCliRunner
from werkzeug.security import generate_password_hash

from quart_flaskr import create_app
from quart_flaskr.db import Database
from quart_flaskr.db import get_db
from quart_flaskr.db import SQLiteDatabase
from quart_flaskr.deploy import deployment_problems
from quart_flaskr.models import users
from quart_flaskr.usernames import misleading
from quart_flaskr.usernames import prepare_username
from quart_flaskr.usernames import username_key
from quart_flaskr.usernames import UsernameError
from tests.harness.databases import old_database
from tests.helpers import AuthActions
from tests.helpers import FAST_HASH
from tests.helpers import make_config

PYOTR = "\u041f\u0451\u0442\u0440"  # Пётр, as keyboards type it (NFC).
PYOTR_DECOMPOSED = unicodedata.normalize("NFD", PYOTR)
#: The schema version that added user.username_key.
KEY_VERSION = 6


# The rules


@pytest.mark.parametrize(
    ("username", "stored"),
    (
        ("victim", "victim"),
        ("Victim", "Victim"),
        (PYOTR, PYOTR),
        (PYOTR_DECOMPOSED, PYOTR),
        ("\ube14\ub85c\uadf8", "\ube14\ub85c\uadf8"),  # 블로그, Hangul
        ("\ud64d\uae38\ub3d9\u6d2a", "\ud64d\uae38\ub3d9\u6d2a"),  # Hangul with Hanja
        ("kim\ube14\ub85c\uadf8", "kim\ube14\ub85c\uadf8"),  # Latin with Hangul: Korean
        ("\u305f\u306a\u304b\u592a\u90ce", "\u305f\u306a\u304b\u592a\u90ce"),  # Kana with kanji
        ("\u738b\u5c0f\u660e", "\u738b\u5c0f\u660e"),  # Han
        (
            "\u03a3\u03bf\u03c6\u03bf\u03ba\u03bb\u03ae\u03c2",
            "\u03a3\u03bf\u03c6\u03bf\u03ba\u03bb\u03ae\u03c2",
        ),
        ("\u0645\u062d\u0645\u062f", "\u0645\u062d\u0645\u062f"),  # Arabic
        ("\u0930\u093e\u092e", "\u0930\u093e\u092e"),  # Devanagari
        ("J\u00fcrgen", "J\u00fcrgen"),
        ("jean-luc_2.0", "jean-luc_2.0"),
        ("...", "..."),
        (".ann", ".ann"),
        (f"{PYOTR}_1990.{PYOTR}-2", f"{PYOTR}_1990.{PYOTR}-2"),
        ("\u09e7\u09e8\u09e9", "\u09e7\u09e8\u09e9"),  # Bengali digits, one system
        # Arabic letters with Arabic-Indic digits: one script.
        ("\u0639\u0644\u064a\u0661\u0662", "\u0639\u0644\u064a\u0661\u0662"),
        # Compatibility forms become the characters they show as.
        ("\uff56\uff49\uff43\uff54\uff49\uff4d", "victim"),
        ("\ufb01sh", "fish"),
        ("\u2168", "IX"),
    ),
)
def test_names_accepted(username: str, stored: str) -> None:
    assert prepare_username(username) == stored


INVISIBLE = "Username cannot contain invisible or formatting characters"
SLASH_OR_DOTS = (
    "Username cannot contain a slash (/), nor be . or ..:"
    " it is the last part of your profile page's address."
)
MIXED = "Username cannot mix letters of different scripts"
MIXED_DIGITS = "Username cannot mix letters and digits of different scripts"
BIDI = (
    "Username with right-to-left characters must begin with a right-to-left letter,"
    " end with a letter or digit, and hold no left-to-right letters."
)


@pytest.mark.parametrize(
    ("username", "message"),
    (
        ("victim\u200b", f"{INVISIBLE} (U+200B ZERO WIDTH SPACE)."),
        ("\ufeffvictim", f"{INVISIBLE} (U+FEFF ZERO WIDTH NO-BREAK SPACE)."),
        ("\u202emitciv", f"{INVISIBLE} (U+202E RIGHT-TO-LEFT OVERRIDE)."),
        ("vic\u00adtim", f"{INVISIBLE} (U+00AD SOFT HYPHEN)."),
        ("vic\u200dtim", f"{INVISIBLE} (U+200D ZERO WIDTH JOINER)."),
        ("victim\ufe0f", f"{INVISIBLE} (U+FE0F VARIATION SELECTOR-16)."),
        ("\u3164victim", f"{INVISIBLE} (U+1160 HANGUL JUNGSEONG FILLER)."),
        ("\U000e0076victim", f"{INVISIBLE} (U+E0076 TAG LATIN SMALL LETTER V)."),
        ("victim\x07", "Username cannot contain control characters (U+0007)."),
        ("victim\x85", "Username cannot contain control characters (U+0085)."),
        ("v\u0456\u0441tim", f"{MIXED} (Latin, Cyrillic)."),
        ("vict\u0456m", f"{MIXED} (Latin, Cyrillic)."),
        ("\u0440\u0430ypal", f"{MIXED} (Cyrillic, Latin)."),
        ("\u03bdictim", f"{MIXED} (Greek, Latin)."),
        (f"{PYOTR}\u03b1", f"{MIXED} (Cyrillic, Greek)."),
        ("g\u0585\u0585gle", f"{MIXED} (Latin, Armenian)."),
        ("\ube14\ub85c\uadf8\u305f", f"{MIXED} (Hangul, Hiragana)."),
        ("victim\u0663", f"{MIXED_DIGITS} (Latin, Arabic)."),
        ("abc\u0661", f"{MIXED_DIGITS} (Latin, Arabic)."),
        ("v\u0456ctim\u0661", f"{MIXED_DIGITS} (Latin, Cyrillic, Arabic)."),
        ("\u0661\u0662\u0663\u0431", f"{MIXED_DIGITS} (Arabic, Cyrillic)."),
        ("\u09e6" + "0", "Username cannot mix digits of different number systems."),
        (
            "vi\u0307ctim",
            "Username cannot contain a combining mark that does not show"
            " (U+0307 COMBINING DOT ABOVE).",
        ),
        (
            "v\u0131\u0307ctim",
            "Username cannot contain a combining mark that does not show"
            " (U+0307 COMBINING DOT ABOVE).",
        ),
        (
            "vi\u0301\u0301ctim",
            "Username cannot contain a combining mark that does not show"
            " (U+0301 COMBINING ACUTE ACCENT).",
        ),
        (
            "\u0301victim",
            "Username cannot begin with a combining mark (U+0301 COMBINING ACUTE ACCENT).",
        ),
        (
            "\u093e\u0915",
            "Username cannot begin with a combining mark (U+093E DEVANAGARI VOWEL SIGN AA).",
        ),
        ("vic tim", "Username cannot contain spaces."),
        ("vic\u3000tim", "Username cannot contain spaces."),
        (
            "victim\u2603",
            "Username cannot contain \u2603 (U+2603 SNOWMAN): use letters, digits and ASCII"
            " punctuation.",
        ),
        (
            "victim\ue000",
            "Username cannot contain (U+E000): use letters, digits and ASCII punctuation.",
        ),
        ("\u05e9\u05dc\u05d5\u05dd-", BIDI),
        # Arabic-Indic digits alone: no letter to begin with (RFC 5893's first rule).
        ("\u0661\u0662\u0663", BIDI),
        ("1\u05d0", BIDI),
        ("\ufb03" * 11, "Username must be at most 32 characters."),
        ("", "Username is required."),
        ("ann/lee", SLASH_OR_DOTS),
        ("\uff0fann", SLASH_OR_DOTS),  # A full-width slash is one after NFKC.
        (".", SLASH_OR_DOTS),
        ("..", SLASH_OR_DOTS),
    ),
)
def test_names_refused(username: str, message: str) -> None:
    with pytest.raises(UsernameError) as refused:
        prepare_username(username)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("username", "other"),
    (
        ("victim", "Victim"),
        ("victim", "VICTIM"),
        ("victim", "\uff56\uff49\uff43\uff54\uff49\uff4d"),
        ("victim", "victim\u200b"),
        ("victim", "\ufeffvictim"),
        ("victim", "vic\u00adtim"),
        (PYOTR, PYOTR_DECOMPOSED),
        (PYOTR, PYOTR.upper()),
        ("Stra\u00dfe", "strasse"),
        ("\u03c3\u03bf\u03c6\u03bf\u03c2", "\u03a3\u039f\u03a6\u039f\u03a3"),
    ),
)
def test_names_that_are_one(username: str, other: str) -> None:
    assert username_key(username) == username_key(other)


@pytest.mark.parametrize(
    ("username", "other"),
    (
        ("victim", "v\u0456\u0441tim"),
        ("victim", "vict1m"),
        ("victim", "victim."),
        (PYOTR, "\u041f\u0435\u0442\u0440"),
    ),
)
def test_names_that_are_not(username: str, other: str) -> None:
    assert username_key(username) != username_key(other)


@pytest.mark.parametrize(
    ("username", "message"),
    (
        ("old timer", None),
        ("bob!\u2603", None),
        ("victim\u200b", f"{INVISIBLE} (U+200B ZERO WIDTH SPACE)."),
        ("v\u0456c tim", f"{MIXED} (Latin, Cyrillic)."),
        (
            "\u0301ann",
            "Username cannot begin with a combining mark (U+0301 COMBINING ACUTE ACCENT).",
        ),
        # A name stored empty (an old database's) is no look-alike of another.
        ("", None),
    ),
)
def test_only_look_alikes_are_misleading(username: str, message: str | None) -> None:
    """What check-deploy reports of names stored before the rules: not mere style."""
    assert misleading(username) == message


# The database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncGenerator[Database]:
    """A database as init-db makes it."""
    database = SQLiteDatabase(str(tmp_path / "users.sqlite"))
    await database.reset()
    yield database
    await database.close()


async def insert_without_key(database: Database, *names: str) -> None:
    """Users as a release before keys (or raw SQL) stored them."""
    async with database.transaction() as tx:
        for name in names:
            await tx.execute("INSERT INTO \"user\" (username, password) VALUES (?, 'x')", (name,))


async def stored(database: Database) -> list[tuple[str, str | None]]:
    rows = await database.fetch_all('SELECT username, username_key FROM "user" ORDER BY id')
    return [(row[0], row[1]) for row in rows]


async def test_a_name_with_a_taken_key_is_refused(database: Database) -> None:
    assert await users.insert_user(database, "victim", "x") == 1
    for name in ("Victim", "VICTIM"):
        assert await users.insert_user(database, name, "x") is None
    assert await users.insert_user(database, PYOTR, "x") == 2
    assert await users.insert_user(database, PYOTR.lower(), "x") is None
    assert await stored(database) == [("victim", "victim"), (PYOTR, PYOTR.lower())]


async def test_users_stored_without_a_key_are_compared(database: Database) -> None:
    await insert_without_key(database, "Victim", "other")
    assert await users.insert_user(database, "victim", "x") is None
    assert await stored(database) == [("Victim", "victim"), ("other", "other")]


async def test_the_database_itself_refuses_a_taken_key(database: Database) -> None:
    assert await users.insert_user(database, "victim", "x") is not None
    with pytest.raises(sqlite3.IntegrityError, match="username_key"):
        async with database.transaction() as tx:
            await tx.execute(
                'INSERT INTO "user" (username, username_key, password)'
                " VALUES ('Victim', 'victim', 'x')"
            )
    # A release before keys stores none: its users are compared when the next
    # registration fills their key in.
    await insert_without_key(database, "VICTIM")
    assert await stored(database) == [("victim", "victim"), ("VICTIM", None)]


async def test_registrations_racing_for_one_name_register_one(
    database: Database, tmp_path: Path
) -> None:
    # Two connections to one file, as two worker processes have.
    other = SQLiteDatabase(database.location)
    try:
        for number in range(5):
            results = await asyncio.gather(
                users.insert_user(database, f"racer{number}", "x"),
                users.insert_user(other, f"RACER{number}", "x"),
            )
            assert sum(result is not None for result in results) == 1, results
    finally:
        await other.close()
    assert len(await stored(database)) == 5


async def test_login_names_are_compared_by_key(database: Database) -> None:
    await users.insert_user(database, PYOTR, "x")
    await users.insert_user(database, "victim", "x")
    for typed, expected in (
        (PYOTR, PYOTR),
        (PYOTR_DECOMPOSED, PYOTR),
        (PYOTR.upper(), PYOTR),
        ("VICTIM", "victim"),
        ("\uff56\uff49\uff43\uff54\uff49\uff4d", "victim"),
    ):
        user = await users.select_user_by_name(database, typed)
        assert user is not None and user.username == expected, typed
    assert await users.select_user_by_name(database, "nobody") is None


async def test_accounts_sharing_a_key_each_keep_their_exact_name(database: Database) -> None:
    await insert_without_key(database, "Victim", "victim")
    assert await users.store_missing_username_keys(database) == 2
    for name in ("Victim", "victim"):
        user = await users.select_user_by_name(database, name)
        assert user is not None and user.username == name
    # Which one a third spelling means cannot be told.
    assert await users.select_user_by_name(database, "VICTIM") is None


async def test_missing_keys_are_stored_in_batches(database: Database) -> None:
    await insert_without_key(database, "a", "B", "c", "D", "e")
    async with database.transaction() as tx:
        # One key set meanwhile (by a registration): left as it is.
        await tx.execute("UPDATE \"user\" SET username_key = 'kept' WHERE username = 'c'")
    assert await users.store_missing_username_keys(database, batch=2) == 4
    assert await stored(database) == [
        ("a", "a"),
        ("B", "b"),
        ("c", "kept"),
        ("D", "d"),
        ("e", "e"),
    ]
    assert await users.store_missing_username_keys(database) == 0


@pytest.mark.sqlite_only
def test_init_db_makes_the_key_column_index_and_trigger(
    runner: QuartCliRunner, tmp_path: Path
) -> None:
    assert runner.invoke(args=["init-db"]).exit_code == 0
    with sqlite3.connect(tmp_path / "test.sqlite") as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(user)")]
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "username_key" in columns
    assert {"user_username_key", "user_username_key_taken"} <= names


# An old database: accounts that now pass for each other


def create_database_before_keys(path: Path) -> None:
    """A database of the release before usernames had keys, with look-alike accounts."""
    old_database(
        path,
        KEY_VERSION - 1,
        user=[
            {"username": name, "password": generate_password_hash(f"{name} password", FAST_HASH)}
            for name in ("victim", "Victim", "victim\u200b", PYOTR, "old timer")
        ],
    )


async def test_an_upgraded_blog_keeps_look_alike_accounts_working(tmp_path: Path) -> None:
    create_database_before_keys(tmp_path / "test.sqlite")
    app = create_app(make_config(tmp_path))
    async with app.test_app():
        database = get_db(app)
        # The data step, as start-up runs it.
        await users.store_missing_username_keys(database)
        assert await database.fetch_one('SELECT 1 FROM "user" WHERE username_key IS NULL') is None
        client = app.test_client()
        auth = AuthActions(client)
        for name in ("victim", "Victim", "victim\u200b", PYOTR):
            response = await auth.login(name, f"{name} password")
            assert response.headers.get("Location") == "/", name
            await auth.logout()
        # Typed decomposed, the one account of that name is found.
        response = await auth.login(PYOTR_DECOMPOSED, f"{PYOTR} password")
        assert response.headers.get("Location") == "/"
        await auth.logout()
        # No new account can join them.
        response = await auth.register("VICTIM", "long enough")
        assert response.status_code == 200
        assert "User VICTIM is already registered." in await response.get_data(as_text=True)
        count = await database.fetch_one('SELECT COUNT(*) FROM "user"')
        assert count is not None and count[0] == 5


def test_check_deploy_lists_accounts_that_pass_for_another(tmp_path: Path) -> None:
    create_database_before_keys(tmp_path / "test.sqlite")
    app = create_app(make_config(tmp_path))
    problems = deployment_problems(app)
    assert (
        "The username 'victim\\u200b' (id 3) could pass for another: Username cannot contain"
        " invisible or formatting characters (U+200B ZERO WIDTH SPACE)."
    ) in problems
    assert (
        "The usernames 'victim' (id 1), 'Victim' (id 2), 'victim\\u200b' (id 3) are one name"
        " once normalised and case-folded: each still logs in with its exact name;"
        " rename all but one."
    ) in problems
    # Names that are merely not allowed any more are not a problem.
    assert not [problem for problem in problems if "old timer" in problem or PYOTR in problem]


def test_check_deploy_on_a_database_without_tables(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "test.sqlite").close()
    app = create_app(make_config(tmp_path))
    problems = deployment_problems(app)
    assert any("schema is version 0" in problem for problem in problems)
    assert not [problem for problem in problems if "username" in problem]
