from __future__ import annotations

import pytest
from quart import Quart

from quart_flaskr.db import Database
from quart_flaskr.db import SQLiteDatabase
from tests.helpers import AppFactory
from tests.helpers import Client


async def test_healthy(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok", "database": "ok"}


async def test_outdated_schema(client: Client, db: Database) -> None:
    async with db.transaction() as tx:
        await tx.set_schema_version(2)
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert "schema 2" in (await response.get_json())["database"]


@pytest.mark.sqlite_only
async def test_unreadable_database(
    app: Quart, client: Client, db: SQLiteDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    """The answer does not say where the database is; the log does."""
    db.path = "/nonexistent-directory/blog.sqlite"
    await db.close()
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert await response.get_json() == {"status": "error", "database": "unavailable"}
    assert "Health check: database unavailable: " in caplog.text
    assert "/nonexistent-directory/blog.sqlite" in caplog.text


async def test_load_balancers_may_ask_by_address(make_app: AppFactory) -> None:
    """ALLOWED_HOSTS guards the pages, whose links name the host; /healthz names none."""
    client = (await make_app(ALLOWED_HOSTS=["blog.example.org"])).test_client()
    for host in ("127.0.0.1:8000", "10.0.0.5", "blog.example.org"):
        response = await client.get("/healthz", headers={"Host": host})
        assert response.status_code == 200, host
    assert (await client.get("/", headers={"Host": "10.0.0.5"})).status_code == 400
