"""The commands that serve an app with Hypercorn and the project's hypercorn.toml, as ops do."""

from __future__ import annotations

from pathlib import Path

#: The checkout: its hypercorn.toml configures every server the tests and the bench start.
ROOT = Path(__file__).resolve().parent.parent.parent
HYPERCORN_TOML = ROOT / "hypercorn.toml"
#: Opens one SO_REUSEPORT socket per Hypercorn, as systemd's socket units do in the README.
REUSEPORT = ROOT / "bench" / "reuseport.py"


def hypercorn_command(bin_dir: Path, port: int, app: str, workers: int | None = None) -> list[str]:
    """Hypercorn from ``bin_dir`` on a loopback port; ``workers`` overrides hypercorn.toml's."""
    workers_option = [] if workers is None else ["--workers", str(workers)]
    return [
        str(bin_dir / "hypercorn"),
        "--config",
        str(HYPERCORN_TOML),
        "--bind",
        f"127.0.0.1:{port}",
        *workers_option,
        app,
    ]


def reuseport_command(
    bin_dir: Path, port: int, processes: int, app: str, pin: bool = False
) -> list[str]:
    """``processes`` single-process Hypercorns sharing one loopback port, each on its own socket.

    :param pin: run each on a CPU of its own (systemd's ``CPUAffinity=``).
    """
    return [
        str(bin_dir / "python"),
        str(REUSEPORT),
        *(["--pin"] if pin else []),
        str(processes),
        f"127.0.0.1:{port}",
        str(bin_dir / "hypercorn"),
        "--config",
        str(HYPERCORN_TOML),
        app,
    ]
