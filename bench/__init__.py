"""The benchmark: the blog under Hypercorn, loaded with wrk beside a bare ASGI app and Flaskr.

``bench/run.py`` is the command; ``cli`` runs what the command line asks for.
Settings and paths are in ``settings``; the servers in ``servers`` and the
apps under test in ``ours``, ``bare_server`` and ``flaskr_tutorial``; the load
in ``load``, ``lua`` and ``wrk``; what the load needs in ``scenarios`` and
``seeding``; each table in ``measurements``; the printing in ``report``.
See bench/README.md for what each figure means.
"""
