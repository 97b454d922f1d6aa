"""The blog's Quart application class: Quart, with its calls of the hooks made cheaper and
its requests' paths matched once."""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from inspect import CO_COROUTINE
from types import FunctionType
from types import MethodType
from typing import Any
from typing import overload
from typing import ParamSpec
from typing import TypeVar

from quart import Quart
from quart import Request

from quart_flaskr.routing import BlogMap
from quart_flaskr.routing import BlogRequestContext
from quart_flaskr.templating import SyncEnvironment

P = ParamSpec("P")
T = TypeVar("T")


class Blog(Quart):
    """Quart rendering without Jinja's async mode, calling async hooks as they are, and
    remembering what each path matched."""

    # Templates compile as plain Python (see templating.py).
    jinja_environment = SyncEnvironment
    # Paths matched once (see routing.py).
    url_map_class = BlogMap

    def request_context(self, request: Request) -> BlogRequestContext:
        return BlogRequestContext(self, request)

    @overload
    def ensure_async(self, func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]: ...

    @overload
    def ensure_async(self, func: Callable[P, T]) -> Callable[P, Awaitable[T]]: ...

    def ensure_async(self, func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        """``func`` itself when it is an ``async def`` function or method, else Quart's answer.

        Quart asks this of every hook and view at every request, and its test
        (the standard library's ``iscoroutinefunction``, a few calls deep) was
        a sixth of what the blog's hooks cost a request. Every function the
        blog registers is an ``async def``, as are its session interface's
        methods: one look at the code's flags tells. Anything else (a plain
        function, a partial, an async generator) is Quart's to wrap.
        """
        function = func.__func__ if type(func) is MethodType else func
        if type(function) is FunctionType and function.__code__.co_flags & CO_COROUTINE:
            return func
        return super().ensure_async(func)
