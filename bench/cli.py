"""The command: parse the settings, run the measurements asked for, write the JSON file."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from bench.chart import write_chart
from bench.context import BenchContext
from bench.cpus import cpu_count
from bench.cpus import Cpus
from bench.errors import BenchError
from bench.errors import WrkMissingError
from bench.measurements import big_blog
from bench.measurements import extras
from bench.measurements import listings
from bench.measurements import main_table
from bench.measurements import postgres
from bench.ours import app_source
from bench.report import log
from bench.settings import parse_args
from bench.wrk import ensure_wrk
from bench.wrk import Wrk
from tests.harness.errors import HarnessError
from tests.harness.processes import stop_all

#: Exit status when wrk is missing and cannot be installed (tests skip on it).
EXIT_NO_WRK = 3
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def raise_open_file_limit() -> None:
    """wrk -c 1000 and the server each need a descriptor per connection; children inherit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError) as error:
        log(f"could not raise the open-file limit from {soft}: {error}")


@contextlib.contextmanager
def work_directory(keep: bool) -> Iterator[Path]:
    """A temporary directory for the run, removed at the end unless ``keep``."""
    path = Path(tempfile.mkdtemp(prefix="quart-flaskr-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def _print_load_average(when: str, tail: str = "") -> None:
    one, five, fifteen = os.getloadavg()
    print(f"{when} {one:.2f} {five:.2f} {fifteen:.2f}{tail}", flush=True)


def run(argv: Sequence[str] | None) -> None:
    """Measure what the settings ask for; write the results as JSON."""
    settings = parse_args(argv)
    executable = ensure_wrk()
    with work_directory(settings.keep) as workdir:
        context = BenchContext(
            settings,
            Wrk(executable, workdir),
            workdir,
            Cpus.pinned(),
            {
                "settings": {
                    name: str(value) if isinstance(value, Path) else value
                    for name, value in dataclasses.asdict(settings).items()
                },
                "cpus": cpu_count(),
                "app": app_source(),
                "load_average_before": os.getloadavg(),
            },
        )
        print(f"Benchmarking {context.results['app']}", flush=True)
        _print_load_average(
            "Load average before:", " (other work on the machine skews the figures)"
        )
        started = time.monotonic()
        try:
            if not settings.skip_main:
                main_table.run(context)
            if settings.listings:
                listings.run(context)
            extras.run(context)
            big_blog.run(context)
            if settings.postgres:
                postgres.run(context)
        finally:
            stop_all()
        context.results["seconds"] = round(time.monotonic() - started, 1)
        context.results["load_average_after"] = os.getloadavg()
        print()
        _print_load_average("Load average after:")
        settings.json_path.parent.mkdir(parents=True, exist_ok=True)
        settings.json_path.write_text(json.dumps(context.results, indent=2, default=str))
        print(f"\nResults written to {settings.json_path}")
        if "main" in context.results:
            chart = settings.json_path.with_suffix(".png")
            app = str(context.results["app"]).rsplit("/", 1)[-1]
            write_chart(context.results["main"], chart, f"Main table: {app}")
            print(f"Chart drawn in {chart}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; every server it started is stopped, whatever happens."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Even when started with SIGINT ignored (in the background), Ctrl+C stops the run.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    raise_open_file_limit()
    try:
        run(argv)
    except WrkMissingError as error:
        print(f"bench: {error}", file=sys.stderr)
        return EXIT_NO_WRK
    except (BenchError, HarnessError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        stop_all()
    return 0
