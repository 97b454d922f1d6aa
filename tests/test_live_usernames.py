"""Usernames that cannot pass for another, over real HTTP against the installed wheel."""

from __future__ import annotations

import sqlite3
import unicodedata
from contextlib import closing

import pytest
from werkzeug.security import generate_password_hash

from tests.harness.http import Client
from tests.helpers import FAST_HASH
from tests.live import Deployment
from tests.live import Server

pytestmark = pytest.mark.slow

PASSWORD = "victim-password"
PYOTR = "\u041f\u0451\u0442\u0440"  # Пётр
INVISIBLE = "Username cannot contain invisible or formatting characters"
#: What an attacker tried, found by the outside scan, and what the form answers.
LOOK_ALIKES = (
    ("victim\u200b", f"{INVISIBLE} (U+200B ZERO WIDTH SPACE)."),
    ("\ufeffvictim", f"{INVISIBLE} (U+FEFF ZERO WIDTH NO-BREAK SPACE)."),
    ("\u202emitciv", f"{INVISIBLE} (U+202E RIGHT-TO-LEFT OVERRIDE)."),
    ("Victim", "User Victim is already registered."),
    ("v\u0456\u0441tim", "Username cannot mix letters of different scripts (Latin, Cyrillic)."),
)


def stored_users(deployment: Deployment) -> list[tuple[str, str | None]]:
    """(username, username_key) of every user."""
    with deployment.read_only() as conn:
        return list(conn.execute('SELECT username, username_key FROM "user" ORDER BY id'))


def test_look_alikes_cannot_register_beside_victim(
    live_server: Server, fresh_deployment: Deployment
) -> None:
    victim = Client(live_server.url)
    assert victim.register("victim", PASSWORD).location == "/auth/login"

    attacker = Client(live_server.url)
    for username, message in LOOK_ALIKES:
        page = attacker.register(username, "attacker-password")
        assert page.status == 200, username
        assert message in page.text, username
    assert stored_users(fresh_deployment) == [("victim", "victim")]

    # Whole Cyrillic and Hangul names register, and log in however typed.
    for name in (PYOTR, "\ube14\ub85c\uadf8"):
        assert Client(live_server.url).register(name, PASSWORD).location == "/auth/login"
    typed = unicodedata.normalize("NFD", PYOTR)
    assert Client(live_server.url).login(typed, PASSWORD).location == "/"
    assert victim.login("VICTIM", PASSWORD).location == "/"
    assert stored_users(fresh_deployment) == [
        ("victim", "victim"),
        (PYOTR, PYOTR.lower()),
        ("\ube14\ub85c\uadf8", "\ube14\ub85c\uadf8"),
    ]


def test_look_alike_accounts_from_before_keep_working_and_are_listed(
    live_server: Server, fresh_deployment: Deployment
) -> None:
    # As a release before usernames were compared by key left them.
    with closing(sqlite3.connect(fresh_deployment.database)) as conn, conn:
        conn.executemany(
            'INSERT INTO "user" (username, password) VALUES (?, ?)',
            [
                (name, generate_password_hash(f"{name} password", FAST_HASH))
                for name in ("victim", "Victim", "victim\u200b")
            ],
        )
    for name in ("victim", "Victim", "victim\u200b"):
        browser = Client(live_server.url)
        assert browser.login(name, f"{name} password").location == "/", name
    page = Client(live_server.url).register("VICTIM", PASSWORD)
    assert page.status == 200
    assert "User VICTIM is already registered." in page.text
    assert [name for name, _ in stored_users(fresh_deployment)] == [
        "victim",
        "Victim",
        "victim\u200b",
    ]

    result = fresh_deployment.try_quart("check-deploy")
    assert result.returncode != 0
    assert (
        "- The usernames 'victim' (id 1), 'Victim' (id 2), 'victim\\u200b' (id 3) are one name"
    ) in result.stdout
    assert "- The username 'victim\\u200b' (id 3) could pass for another" in result.stdout
