"""Flask's tutorial app, Flaskr, in a virtual environment of its own, served by Waitress."""

from __future__ import annotations

import hashlib
import secrets
import subprocess
import sys
from pathlib import Path

from bench.errors import BenchError
from bench.report import log
from bench.servers import Server
from bench.settings import CACHE
from tests.harness.processes import free_port


class FlaskrInstance:
    """Flaskr from ``source`` (Flask's examples/tutorial) with a database in ``workdir``."""

    def __init__(self, source: Path, workdir: Path) -> None:
        self.source = source
        self.workdir = workdir / "flaskr"
        self.workdir.mkdir(parents=True)
        # Kept between runs; the tutorial is reinstalled when its files change.
        self.venv = CACHE / "flaskr-venv"
        self.database = self.workdir / "flaskr.sqlite"
        self._install()
        self._configure()

    def _pip(self, *args: str) -> None:
        command = [str(self.venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *args]
        log("+ " + " ".join(command))
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BenchError(f"pip failed:\n{result.stdout}{result.stderr}")

    def _install(self) -> None:
        digest = source_digest(self.source)
        marker = self.venv / ".bench-flaskr-source"
        if not (self.venv / "bin" / "python").exists():
            log(f"creating {self.venv} for Flaskr")
            subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
            self._pip("flask", "waitress")
        if not marker.exists() or marker.read_text() != digest:
            self._pip("--force-reinstall", "--no-deps", str(self.source))
            marker.write_text(digest)

    def _configure(self) -> None:
        """Point the instance's config.py at our database and create it with Flaskr's command."""
        python = str(self.venv / "bin" / "python")
        result = subprocess.run(
            [python, "-c", "import flaskr; print(flaskr.create_app().instance_path)"],
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=True,
        )
        instance = Path(result.stdout.strip().splitlines()[-1])
        instance.mkdir(parents=True, exist_ok=True)
        (instance / "config.py").write_text(
            f"SECRET_KEY = {secrets.token_hex(32)!r}\nDATABASE = {str(self.database)!r}\n"
        )
        subprocess.run(
            [str(self.venv / "bin" / "flask"), "--app", "flaskr", "init-db"],
            cwd=self.workdir,
            capture_output=True,
            check=True,
        )

    def serve(self, cpus: str | None) -> Server:
        port = free_port()
        server = Server(
            "Flaskr (waitress, 4 threads)",
            [
                str(self.venv / "bin" / "waitress-serve"),
                "--threads",
                "4",
                "--listen",
                f"127.0.0.1:{port}",
                "--call",
                "flaskr:create_app",
            ],
            cwd=self.workdir,
            port=port,
            log_path=self.workdir / "server.log",
            cpus=cpus,
        )
        server.wait_ready()
        return server


def source_digest(source: Path) -> str:
    """A digest of the tutorial's files, to tell when it must be installed again."""
    digest = hashlib.sha256(str(source).encode())
    for path in sorted(source.rglob("*")):
        parts = set(path.relative_to(source).parts)
        if path.is_file() and not parts & {".venv", "instance", "__pycache__", ".git"}:
            digest.update(str(path.relative_to(source)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
