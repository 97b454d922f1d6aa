"""Benchmark the blog under Hypercorn with wrk, beside a bare ASGI app and, optionally, Flaskr.

    .venv/bin/python bench/run.py                      # the main table, about 3 minutes
    .venv/bin/python bench/run.py --full --flaskr DIR  # everything, about 10 minutes
    .venv/bin/python bench/run.py --quick              # a smoke run, under a minute

The command only; the benchmark is the ``bench`` package (see bench/README.md).
"""

import os
import sys

if __name__ == "__main__":
    # Run as a script, Python puts bench/ first on sys.path; the package's
    # imports (bench.*, tests.harness.*) need the repository root there instead.
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    from bench.cli import main

    sys.exit(main())
