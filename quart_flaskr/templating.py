"""Templates rendered without Jinja's async mode.

Every view loads what its page shows before rendering it, and nothing a
template calls awaits (the globals, filters and macros are plain functions),
so rendering never waits. Quart turns Jinja's async mode on, which compiles
each call, loop and macro of a template into coroutines awaited one by one:
on a listing of 50 posts that machinery cost more than the page's own work.
Here templates compile as plain Python; Quart's ``render_template`` still
awaits ``render_async``, which renders at once.
"""

from __future__ import annotations

from typing import Any

from flask.templating import _default_template_ctx_processor as flask_default_processor
from jinja2 import Template
from jinja2.bccache import Bucket
from jinja2.bccache import BytecodeCache
from markupsafe import Markup
from quart import Quart
from quart.templating import Environment


class SyncTemplate(Template):
    async def render_async(self, *args: Any, **kwargs: Any) -> str:
        """The page, rendered now: nothing in it awaits."""
        return self.render(*args, **kwargs)


class ProcessBytecode(BytecodeCache):
    """Templates' compiled code, kept for the whole process in memory.

    Each app compiles every template as it starts (``compile_all``); an app made
    again in the same process (a test run makes thousands) loads the code
    instead of compiling it again. Jinja keys the code by the template's name and
    file, and checks it against the source's checksum: an edited template compiles.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = ProcessBytecode()


class SyncEnvironment(Environment):
    """Quart's environment (its loader, its globals), compiling templates without async mode."""

    template_class = SyncTemplate

    def __init__(self, app: Quart, **options: Any) -> None:
        super().__init__(app, **options)
        self.is_async = False
        self.filters["attribute"] = attribute
        self.bytecode_cache = _BYTECODE


def attribute(text: Markup) -> Markup:
    """Rendered text (a block's) made fit for a double-quoted attribute, on one line.

    Autoescaping escaped every value in it, quotes too; the template's own text
    is as written, and a translated title holds double quotes (``Edit
    "%(title)s"``) that would end the attribute. Only those are escaped: the rest
    reads as it does in the page, an apostrophe escaped as ``&#39;`` with no
    unescaping and escaping again (``striptags``, which cost a tag page's title
    a third of what its request costs beyond the index's, in Python steps).
    Runs of spaces, tabs and line breaks (a post's title may hold them) become
    one space, as a link's preview shows a title.
    """
    one_line = " ".join(text.split())
    return Markup(one_line.replace('"', "&#34;"))  # noqa: S704 - quotes escaped in escaped text


def compile_all(app: Quart) -> None:
    """Compile every template now, rather than at the first request for each page in each
    worker (the index's first request took 58 ms more than the next; all 22, 0.1 s)."""
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)


def drop_flasks_context_processor(app: Quart) -> None:
    """Take Flask's own default context processor out of each blueprint's list.

    Quart's blueprints inherit it from Flask's base classes beside Quart's
    own, the app's: a plain function, which Quart runs in a worker thread on
    every render of a blueprint's template, a trip through the thread pool
    for nothing (it reads Flask's request context, never set under Quart;
    the app's processor provides ``g`` and ``request``).
    """
    for processors in app.template_context_processors.values():
        processors[:] = [found for found in processors if found is not flask_default_processor]
