"""The tools the tests and the bench share: one HTTP client, one process helper, one PNG maker.

Each module has one job: ``http`` talks to a server as a browser would,
``forms`` reads a page's CSRF token, ``processes`` starts, inspects and stops
server processes, ``hypercorn`` builds the commands that serve the app,
``images`` makes PNG files, ``asgi`` makes the scope a server would send an app,
and ``databases`` writes a database as an older release left it (for the migration
tests; the bench needs none).
"""
