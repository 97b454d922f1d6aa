"""Threads for work off the event loop: started when given work, ended when serving ends."""

from __future__ import annotations

import threading
from pathlib import Path

from quart_flaskr import create_app
from quart_flaskr import markdown
from quart_flaskr import workers
from tests.helpers import AuthActions
from tests.helpers import make_config
from tests.helpers import serving


def threads_named(prefix: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(prefix)]


async def test_a_pool_starts_on_first_use_and_again_after_it_is_shut_down() -> None:
    pool = workers.Pool("test-pool", 2)
    try:
        assert threads_named("test-pool") == []
        for _ in range(2):
            assert await pool.run(lambda: threading.current_thread().name) == "test-pool_0"
            assert len(threads_named("test-pool")) == 1
            pool.shut_down()
            assert threads_named("test-pool") == []
        # Shutting down a pool not started does nothing.
        pool.shut_down()
    finally:
        workers._POOLS.remove(pool)


async def test_the_apps_threads_end_when_serving_ends(tmp_path: Path) -> None:
    """A login hashes, a long comment renders in the Markdown thread: both end with the app."""
    app = create_app(make_config(tmp_path))
    async with serving(app):
        client = app.test_client()
        await AuthActions(client).login()
        assert threads_named("password-hash")
        # Longer than what is rendered on the event loop.
        assert "x" * 1000 in await markdown.render_async("x" * 1000)
        assert threads_named("markdown")
    assert threads_named("password-hash") == [] and threads_named("markdown") == []
