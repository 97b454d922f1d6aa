"""The fixtures come from plugin modules, one per concern; the helpers tests call, from modules.

- ``tests/fixtures/app.py``: the app in-process (``app``, ``client``, ``db``,
  ``auth``, ``runner`` ...), with ``tests/helpers.py``;
- ``tests/fixtures/live.py``: the installed wheel served by Hypercorn
  (``deployment``, ``live_server`` ...), with ``tests/live.py``;
- ``tests/harness/``: the HTTP client, processes, forms and images the live
  tests share with the bench.
"""

from __future__ import annotations

import pytest

# Before the plugins import them, so that their assertions explain themselves as tests' do.
pytest.register_assert_rewrite("tests.helpers", "tests.live")

pytest_plugins = ("tests.fixtures.app", "tests.fixtures.live", "tests.fixtures.postgres")
