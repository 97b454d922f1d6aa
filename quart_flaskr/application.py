"""The blog's Quart application class: Quart, with its calls of the hooks made cheaper."""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from inspect import CO_COROUTINE
from types import FunctionType
from types import MethodType
from typing import Any

from quart import Quart

from quart_flaskr.templating import SyncEnvironment


class Blog(Quart):
    """Quart rendering without Jinja's async mode, and calling async hooks as they are."""

    # Templates compile as plain Python (see templating.py).
    jinja_environment = SyncEnvironment

    def ensure_async(self, func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        """``func`` itself when it is an ``async def`` function or method, else Quart's answer.

        Quart asks this of every hook and view at every request, and its test
        (``inspect.iscoroutinefunction``, which unwraps partials and looks for
        markers first) was a sixth of what the blog's hooks cost a request.
        Every function the blog registers is an ``async def``, as are its
        session interface's methods: one look at the code's flags tells.
        """
        function = func.__func__ if type(func) is MethodType else func
        if type(function) is FunctionType and function.__code__.co_flags & CO_COROUTINE:
            return func
        return super().ensure_async(func)
