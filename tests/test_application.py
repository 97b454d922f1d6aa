"""The blog's Quart class: coroutine hooks called as they are, sync ones still run."""

from __future__ import annotations

import functools
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import quart.app

from quart_flaskr import create_app
from quart_flaskr.application import Blog
from tests.helpers import make_config


async def coroutine_function() -> str:
    return "awaited"


class Interface:
    async def method(self) -> str:
        return "awaited method"

    def sync_method(self) -> str:
        return threading.current_thread().name


def sync_function() -> str:
    return threading.current_thread().name


async def generator() -> AsyncIterator[str]:
    yield "generated"


async def test_coroutine_functions_and_methods_are_called_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Told without Quart's own test, which is not called for them."""

    def not_asked(func: object) -> bool:
        raise AssertionError(f"Quart's test called for {func!r}")

    monkeypatch.setattr(quart.app, "iscoroutinefunction", not_asked)
    app = create_app(make_config(tmp_path))
    assert isinstance(app, Blog)
    interface = Interface()
    assert app.ensure_async(coroutine_function) is coroutine_function
    assert await app.ensure_async(coroutine_function)() == "awaited"
    method = interface.method
    assert app.ensure_async(method) is method
    assert await app.ensure_async(method)() == "awaited method"


async def test_anything_else_is_left_to_quart(tmp_path: Path) -> None:
    """Plain functions and methods run in a worker thread; a partial of a coroutine is awaited."""
    app = create_app(make_config(tmp_path))
    main = threading.current_thread().name
    for function in (sync_function, Interface().sync_method):
        wrapped: object = app.ensure_async(function)
        assert wrapped is not function
        assert await app.ensure_async(function)() != main
    partial = functools.partial(coroutine_function)
    assert await app.ensure_async(partial)() == "awaited"
    # An async generator function is no coroutine function: Quart wraps it, as it did.
    wrapped_generator: object = app.ensure_async(generator)
    assert wrapped_generator is not generator


async def test_a_sync_hook_still_runs(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path))
    seen: list[str] = []

    @app.before_request
    def sync_hook() -> None:
        seen.append(threading.current_thread().name)

    response = await app.test_client().get("/hello")
    assert response.status_code == 200
    assert len(seen) == 1 and seen[0] != threading.current_thread().name
