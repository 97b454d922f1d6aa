"""Users and their login sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from quart_flaskr.db import Database
from quart_flaskr.db import Row
from quart_flaskr.db import Transaction
from quart_flaskr.models import format_timestamp
from quart_flaskr.models import parse_timestamp
from quart_flaskr.usernames import username_key


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    password: str
    #: When the account was made; None for accounts from before schema 10.
    joined: datetime | None = None
    #: Whether an operator made the user a moderator (see ``moderation.py``).
    moderator: bool = False


@dataclass(frozen=True, slots=True)
class Login:
    """A live login session's user, when the session was last recorded in use, and its end."""

    user: User
    last_seen: datetime | None
    expires: datetime


#: The columns :func:`_user` reads, for queries that join other tables.
USER_COLUMNS = '"user".id, "user".username, "user".password, "user".joined, "user".moderator'


def user_from_row(row: Row) -> User:
    joined = row["joined"]
    return User(
        id=row["id"],
        username=row["username"],
        password=row["password"],
        joined=None if joined is None else parse_timestamp(joined),
        moderator=bool(row["moderator"]),
    )


async def select_user_by_name(db: Database, username: str) -> User | None:
    """The user a name means (see :func:`select_account_by_name`), suspended or not."""
    found = await select_account_by_name(db, username)
    return None if found is None else found[0]


async def select_password_hash(db: Database, user_id: int) -> str | None:
    """The password hash stored now for a user whose account is not suspended, or None."""
    row = await db.fetch_one(
        'SELECT password FROM "user" WHERE id = ? AND suspended IS NULL', (user_id,)
    )
    return None if row is None else str(row[0])


async def select_account_by_name(db: Database, username: str) -> tuple[User, bool] | None:
    """The user a login name means, compared as RFC 8265 asks: by its username key.

    The user stored with exactly that name first; else the only one with the
    same key (``Пётр`` typed decomposed, ``VICTIM`` for ``victim``). Accounts
    from before the key may share one: then only each exact name finds its user.

    :return: the user and whether a moderator suspended the account, or None
    """
    rows = await db.fetch_all(
        f'SELECT {USER_COLUMNS}, suspended IS NOT NULL AS is_suspended FROM "user"'  # noqa: S608
        " WHERE username = ? OR username_key = ? ORDER BY username = ? DESC LIMIT 2",
        (username, username_key(username), username),
    )
    if rows and (rows[0]["username"] == username or len(rows) == 1):
        return user_from_row(rows[0]), bool(rows[0]["is_suspended"])
    return None


def _keys_for(rows: list[Row]) -> list[tuple[str, int, str]]:
    """UPDATE parameters storing each row's username key, unless set meanwhile."""
    return [(username_key(row["username"]), row["id"], row["username"]) for row in rows]


_STORE_KEY = (
    'UPDATE "user" SET username_key = ? WHERE id = ? AND username = ? AND username_key IS NULL'
)


async def _store_missing_keys(tx: Transaction) -> None:
    rows = await tx.fetch_all('SELECT id, username FROM "user" WHERE username_key IS NULL')
    await tx.execute_many(_STORE_KEY, _keys_for(rows))


async def store_missing_username_keys(db: Database, batch: int = 500) -> int:
    """Store the key of every user stored without one: the data step of schema 6.

    In batches, each its own short transaction, so that serving workers wait
    for none of them long.

    :return: how many users got their key
    """
    done = last_id = 0
    while rows := await db.fetch_all(
        'SELECT id, username FROM "user" WHERE username_key IS NULL AND id > ? ORDER BY id LIMIT ?',
        (last_id, batch),
    ):
        async with db.transaction() as tx:
            await tx.execute_many(_STORE_KEY, _keys_for(rows))
        done += len(rows)
        last_id = rows[-1]["id"]
    return done


async def insert_user(db: Database, username: str, password_hash: str) -> int | None:
    """Create a user; return its id, or None when the name is taken.

    Taken means any user's name has the same :func:`username_key`. The check
    runs inside the write transaction, which SQLite gives one writer at a time
    across all processes, so two registrations of one name cannot both pass it.

    :param username: as :func:`quart_flaskr.usernames.prepare_username` returned it
    """
    key = username_key(username)
    async with db.transaction() as tx:
        # Users stored without a key (before the data step ran, or by an older
        # release still serving during an upgrade) are compared too.
        await _store_missing_keys(tx)
        if await tx.fetch_one('SELECT 1 FROM "user" WHERE username_key = ?', (key,)):
            return None
        return await tx.insert(
            'INSERT INTO "user" (username, username_key, password, joined)'
            " VALUES (?, ?, ?, CURRENT_TIMESTAMP)",
            (username, key, password_hash),
        )


async def insert_login_session(
    db: Database,
    session_id: str,
    user_id: int,
    expires: datetime,
    user_agent: str,
    *,
    checked_hash: str,
    new_hash: str | None = None,
) -> bool:
    """Record a login, made in the browser ``user_agent`` names; expired sessions are swept out.

    Only while the user's password hash is still ``checked_hash``, the one the
    password was checked against, and replaced by ``new_hash`` when given (a
    stronger method's), and the user is not suspended. False, and nothing
    written, when either changed since: a reset, a change of password or a
    suspension in between ended every session, and a login checked before it
    must not start one after it, nor put its hash back.
    """
    async with db.transaction() as tx:
        # The user's row is written first: a change of password or a suspension
        # (each ends the sessions in its own transaction) commits wholly before
        # or after.
        still = await tx.execute(
            'UPDATE "user" SET password = ? WHERE id = ? AND password = ? AND suspended IS NULL',
            (new_hash or checked_hash, user_id, checked_hash),
        )
        if not still:
            return False
        await tx.execute("DELETE FROM login_session WHERE expires <= CURRENT_TIMESTAMP")
        await tx.execute(
            "INSERT INTO login_session (id, user_id, expires, user_agent, last_seen)"
            " VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP)",
            (session_id, user_id, format_timestamp(expires), user_agent),
        )
    return True


async def select_login(db: Database, session_id: str) -> Login | None:
    """A live (not logged out, not expired, account not suspended) session's user and last use."""
    row = await db.fetch_one(
        f"SELECT {USER_COLUMNS}, login_session.last_seen, login_session.expires"  # noqa: S608
        ' FROM login_session JOIN "user" ON "user".id = login_session.user_id'
        " WHERE login_session.id = ? AND login_session.expires > CURRENT_TIMESTAMP"
        ' AND "user".suspended IS NULL',
        (session_id,),
    )
    if row is None:
        return None
    last_seen = row["last_seen"]
    return Login(
        user_from_row(row),
        None if last_seen is None else parse_timestamp(last_seen),
        parse_timestamp(row["expires"]),
    )


async def delete_login_session(db: Database, session_id: str) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM login_session WHERE id = ?", (session_id,))
