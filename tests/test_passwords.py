from __future__ import annotations

import asyncio
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from quart import Quart
from werkzeug.security import check_password_hash

from quart_flaskr import passwords
from quart_flaskr.db import Database
from quart_flaskr.db import get_db
from quart_flaskr.models import accounts
from tests.helpers import AppFactory
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import FAST_HASH
from tests.helpers import page_text


async def test_new_hashes_meet_owasp_minimum() -> None:
    stored = await passwords.hash_password("correct horse", passwords.METHOD)
    assert stored.startswith("scrypt:131072:8:1$")
    assert await passwords.check_password(stored, "correct horse", passwords.METHOD)
    assert not await passwords.check_password(stored, "wrong horse", passwords.METHOD)
    assert not passwords.needs_rehash(stored, passwords.METHOD)


def test_the_app_uses_the_owasp_method_by_default(tmp_path: object) -> None:
    from quart_flaskr import create_app

    assert create_app().config["PASSWORD_HASH_METHOD"] == "scrypt:131072:8:1"


async def test_register_stores_a_hash(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.register("newuser", "a long password")
    row = await db.fetch_one("SELECT password FROM \"user\" WHERE username = 'newuser'")
    assert row is not None and row[0].startswith("pbkdf2:sha256:1000$")
    assert "a long password" not in row[0]


async def test_old_hashes_are_upgraded_at_login(make_app: AppFactory) -> None:
    app = await make_app(PASSWORD_HASH_METHOD="scrypt:1024:8:1")
    db = get_db(app)
    auth = AuthActions(app.test_client())
    assert (await auth.login()).headers["Location"] == "/"
    row = await db.fetch_one("SELECT password FROM \"user\" WHERE username = 'test'")
    assert row is not None and row[0].startswith("scrypt:1024:8:1$")
    # The upgraded hash still logs the user in, and is not upgraded again.
    assert (await AuthActions(app.test_client()).login()).headers["Location"] == "/"
    again = await db.fetch_one("SELECT password FROM \"user\" WHERE username = 'test'")
    assert again is not None and again[0] == row[0]


@pytest.mark.parametrize("method", (FAST_HASH, "scrypt:1024:8:1"))
async def test_a_password_changed_while_a_login_checks_the_old_one_stays(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """A reset or change that commits while the old password is checked ends that login too,
    and an upgrade of the old hash (``method`` other than the stored one's) does not undo it."""
    app = await make_app(PASSWORD_HASH_METHOD=method)
    db = get_db(app)
    owner = AuthActions(app.test_client())
    assert (await owner.login()).status_code == 302
    check = passwords.check_password

    async def changed_meanwhile(stored: str | None, password: str, method: str) -> bool:
        matches = await check(stored, password, method)
        new_hash = await passwords.hash_password("the new password", method)
        await accounts.change_password(db, 1, new_hash, renew=None)
        return matches

    monkeypatch.setattr(passwords, "check_password", changed_meanwhile)
    other = app.test_client()
    response = await AuthActions(other).login("test", "test")
    monkeypatch.undo()
    # Refused as a wrong password: the old one no longer is the account's.
    assert response.status_code == 200
    assert "Incorrect password." in await response.get_data(as_text=True)
    assert "Log Out" not in await page_text(other, "/auth/login")
    assert await db.fetch_all("SELECT id FROM login_session") == []
    # The new password is the account's, the old one is not.
    assert (await AuthActions(app.test_client()).login("test", "test")).status_code == 200
    fresh = AuthActions(app.test_client())
    assert (await fresh.login("test", "the new password")).status_code == 302


async def test_a_login_sent_twice_while_its_hash_is_upgraded_logs_in_both(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests check the old hash, then each upgrades it (with a salt of its own): the
    second finds the first's hash stored, which the password still matches."""
    app = await make_app(PASSWORD_HASH_METHOD="scrypt:1024:8:1")
    db = get_db(app)
    check = passwords.check_password
    checks: list[str | None] = []
    both_checked = asyncio.Event()

    async def together(stored: str | None, password: str, method: str) -> bool:
        matches = await check(stored, password, method)
        checks.append(stored)
        if len(checks) == 2:
            both_checked.set()
        await asyncio.wait_for(both_checked.wait(), 5)
        return matches

    monkeypatch.setattr(passwords, "check_password", together)
    first, second = app.test_client(), app.test_client()
    answers = await asyncio.gather(
        AuthActions(first).login("test", "test"), AuthActions(second).login("test", "test")
    )
    assert [answer.status_code for answer in answers] == [302, 302]
    # Both checked the old hash; one of them then checked the other's upgrade.
    assert checks[0] == checks[1] and len(checks) == 3 and checks[2] != checks[0]
    stored = await db.fetch_one('SELECT password FROM "user" WHERE id = 1')
    assert stored is not None and stored[0].startswith("scrypt:1024:8:1$")
    for client in (first, second):
        assert "Log Out" in await page_text(client, "/auth/login")


async def test_failed_login_does_not_upgrade(
    client: Client, auth: AuthActions, db: Database
) -> None:
    before = await db.fetch_one("SELECT password FROM \"user\" WHERE username = 'test'")
    await auth.login("test", "wrong")
    after = await db.fetch_one("SELECT password FROM \"user\" WHERE username = 'test'")
    assert before is not None and after is not None and before[0] == after[0]


async def test_unknown_user_costs_a_full_check(
    auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []

    def counting_check(stored: str, password: str) -> bool:
        checked.append(stored)
        return check_password_hash(stored, password)

    monkeypatch.setattr("quart_flaskr.passwords.check_password_hash", counting_check)
    await auth.login("nobody", "whatever")
    await auth.login("test", "wrong")
    # One real hash check each, the unknown user's against a hash made with
    # the configured method, so both take as long.
    assert len(checked) == 2
    assert checked[0].startswith("pbkdf2:sha256:1000$")
    assert checked[1].startswith("pbkdf2:sha256:1000$")


async def test_hashing_does_not_block_other_requests(
    app: Quart, client: Client, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    hashing = asyncio.Event()
    hashing_threads: list[str] = []
    loop = asyncio.get_running_loop()

    def slow_check(stored: str, password: str) -> bool:
        hashing_threads.append(threading.current_thread().name)
        loop.call_soon_threadsafe(hashing.set)
        release.wait(timeout=10)
        return check_password_hash(stored, password)

    monkeypatch.setattr("quart_flaskr.passwords.check_password_hash", slow_check)
    login = asyncio.create_task(auth.login())
    await asyncio.wait_for(hashing.wait(), timeout=10)
    # The login is stuck hashing; other users are still served meanwhile.
    other = app.test_client()
    assert await (await other.get("/hello")).get_data() == b"Hello, World!"
    assert not login.done()
    release.set()
    assert (await login).headers["Location"] == "/"
    assert hashing_threads[0].startswith("password-hash")


def _own_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


async def test_hashing_threads_give_way_to_the_event_loop() -> None:
    loop_niceness = _own_niceness()
    # The pool's own threads, as they run a hash.
    niceness = await passwords._pool.run(_own_niceness)
    assert niceness == min(19, loop_niceness + passwords.NICENESS)
    # The event loop's thread keeps its priority.
    assert _own_niceness() == loop_niceness


def test_priority_left_alone_where_threads_have_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")

    def run() -> int:
        passwords._lower_priority()
        return _own_niceness()

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(run).result() == _own_niceness()
