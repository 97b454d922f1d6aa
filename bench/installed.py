"""The machine's own tools the bench runs (wrk, valgrind): found, or installed with apt-get."""

from __future__ import annotations

import os
import shutil
import subprocess

from bench.errors import BenchError
from bench.report import log


def ensure_installed(command: str, missing: type[BenchError] = BenchError) -> str:
    """The path of ``command``, installing Debian's package of that name when it is missing.

    :raise missing: it is not installed and cannot be
    """
    found = shutil.which(command)
    if found:
        return found
    if shutil.which("apt-get") is None:
        raise missing(f"{command} is not installed and there is no apt-get to install it with.")
    log(f"{command} is not installed: running apt-get update && apt-get install -y {command}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update"], ["apt-get", "install", "-y", command]):
        result = subprocess.run(step, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise missing(
                f"{command} is not installed and '{' '.join(step)}' failed"
                f" (exit {result.returncode}): {' / '.join(tail)}."
                f" Install {command} (apt-get install {command}) and run again."
            )
    found = shutil.which(command)
    if not found:
        raise missing(f"apt-get installed {command} but it is not on PATH.")
    return found
