from __future__ import annotations

import asyncio
import gc
import inspect
import os
from pathlib import Path

import jinja2
import pytest
from quart import Quart
from quart.testing.app import LifespanError

from quart_flaskr import create_app
from quart_flaskr.templating import ProcessBytecode
from quart_flaskr.templating import SyncTemplate
from tests.helpers import AppFactory
from tests.helpers import make_config
from tests.helpers import serving


def test_config_defaults_and_override(tmp_path: Path) -> None:
    assert not create_app().testing
    assert create_app(make_config(tmp_path)).testing


def test_instance_folder_and_its_config(instance_path: Path) -> None:
    app = create_app()
    assert app.instance_path == str(instance_path)
    # Created, private to its owner.
    assert instance_path.stat().st_mode & 0o077 == 0
    assert app.config["DATABASE"] == str(instance_path / "quart_flaskr.sqlite")
    assert app.config["SECRET_KEY"] == "dev"
    (instance_path / "config.py").write_text("SECRET_KEY = 'from the instance folder'\n")
    assert create_app().config["SECRET_KEY"] == "from the instance folder"
    # Test settings replace the instance config.py.
    assert create_app({"TESTING": True}).config["SECRET_KEY"] == "dev"


async def test_hello(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path))
    response = await app.test_client().get("/hello")
    assert await response.get_data() == b"Hello, World!"


async def test_index_url(tmp_path: Path) -> None:
    from quart import url_for

    app = create_app(make_config(tmp_path))
    async with app.test_request_context("/"):
        assert url_for("index") == "/"


async def test_garbage_collector_tuned_while_serving(make_app: AppFactory) -> None:
    default = gc.get_threshold()
    assert create_app().config["GC_THRESHOLDS"] == (10_000, 50, 100)
    app = await make_app(GC_THRESHOLDS=(1234, 5, 6))
    async with app.test_app():
        assert gc.get_threshold() == (1234, 5, 6)
        # What start-up made is left out of the collector's walks while serving.
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == default
    assert gc.get_freeze_count() == 0


async def test_a_failed_start_closes_the_test_database(tmp_path: Path) -> None:
    # The secret key check fails before the database's own start-up hook runs,
    # after the seeding opened the connections: the app fixture closes them.
    app = create_app(make_config(tmp_path, TESTING=False, SECRET_KEY="dev"))
    with pytest.raises(LifespanError):
        async with serving(app):
            pass  # pragma: no cover - start-up fails
    # SQLite removes the write-ahead log and the shared memory file (-wal,
    # -shm) when the last connection to the database closes.
    assert sorted(await asyncio.to_thread(os.listdir, tmp_path)) == ["instance", "test.sqlite"]


async def test_every_template_is_compiled_before_the_first_request(app: Quart) -> None:
    """``app`` is serving: its start-up compiled them."""
    compiled = {name for _, name in app.jinja_env.cache.keys()}  # type: ignore[union-attr]
    assert compiled == set(app.jinja_env.list_templates())
    assert {"base.html", "blog/index.html", "blog/detail.html", "error.html"} <= compiled


def test_compiled_templates_are_shared_until_their_source_changes() -> None:
    shared = ProcessBytecode()
    for source in ("first", "first", "edited"):
        environment = jinja2.Environment(
            loader=jinja2.DictLoader({"page.html": source}), bytecode_cache=shared, autoescape=True
        )
        assert environment.get_template("page.html").render() == source


def test_templates_render_without_jinjas_async_mode(app: Quart) -> None:
    # Nothing a template calls awaits: compiled as plain Python (see templating.py).
    assert not app.jinja_env.is_async
    assert isinstance(app.jinja_env.get_template("base.html"), SyncTemplate)


def test_no_context_processor_runs_in_a_worker_thread(app: Quart) -> None:
    """Quart runs a plain function in its thread pool on every render: each one is a coroutine."""
    processors = [found for listed in app.template_context_processors.values() for found in listed]
    assert processors and all(inspect.iscoroutinefunction(found) for found in processors)
