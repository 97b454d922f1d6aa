"""Set-up commands for a fresh checkout; needs nothing but Python 3.11 or newer.

    python3 tasks.py serve        # install into .venv, create the database, serve the blog
    python3 tasks.py test         # install into .venv, lint, type-check, run every test
    python3 tasks.py screenshots  # run the browser tests, saving docs/screenshots/*.png
    python3 tasks.py mutate [module ...]  # mutation testing: what would the fast tests miss?

Each creates the virtual environment ``.venv`` beside this file on first use.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
#: Debian's Chromium, which the browser tests drive.
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
TRANSLATIONS = ROOT / "quart_flaskr" / "translations"


def run(*command: str | Path, check: bool = True, **env: str) -> bool:
    """Run a command from the checkout's root; stop here if it fails, unless not ``check``."""
    print("+", " ".join(str(part) for part in command), flush=True)
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, check=False)
    if check and result.returncode != 0:
        sys.exit(result.returncode)
    return result.returncode == 0


def install(group: str = "") -> None:
    """Create .venv if needed; install the project (editable) and a dependency group into it."""
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True, symlinks=os.name != "nt").create(VENV)
    # Dependency groups (PEP 735) need pip 25.1 or newer.
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip>=25.1")
    groups = ["--group", group] if group else []
    run(BIN / "python", "-m", "pip", "install", "--quiet", *groups, "--editable", ".")


def apt_install(package: str, what: str, without: str) -> None:
    """Install a Debian package with apt-get, as root; else say what ``what`` does without it."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        print(f"No {what}, and not root: {without}.", flush=True)
        return
    quiet = {"DEBIAN_FRONTEND": "noninteractive"}
    if not (
        run("apt-get", "update", "-q", check=False, **quiet)
        and run("apt-get", "install", "-y", "-q", package, check=False, **quiet)
    ):
        print(f"{what} could not be installed: {without}.", flush=True)


def install_chromium() -> None:
    """Install Debian's Chromium and a Korean font for the browser tests, if missing.

    Only as root on a system with apt-get; elsewhere, or if the install fails,
    the browser tests skip.
    """
    if shutil.which("apt-get") is None:
        return
    if not CHROMIUM.exists():
        apt_install("chromium", "Chromium", "the browser tests will skip")
    # Korean pages are laid out and pictured with real Hangul glyphs, not boxes.
    if not Path("/usr/share/fonts/truetype/nanum").exists():
        apt_install("fonts-nanum", "a Korean font", "Korean text shows as boxes")


def install_node_tools() -> None:
    """Install the browser-side tools package.json names (axe-core, Lighthouse) with npm ci.

    Node.js and npm come from Debian when missing (as root with apt-get).
    """
    if shutil.which("npm") is None and shutil.which("apt-get") is not None:
        apt_install("npm", "npm", "the accessibility tests will fail")
    lock = ROOT / "package-lock.json"
    installed = ROOT / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")


def install_postgresql() -> None:
    """Install Debian's PostgreSQL for its tests, unless one is installed or a server answers.

    The tests use the server at 127.0.0.1:5432 (or $QUART_FLASKR_TEST_POSTGRES)
    when one answers, and otherwise start a throwaway cluster of their own
    from Debian's programs. Only as root on a system with apt-get; elsewhere
    the tests say what is missing.
    """
    if Path("/usr/lib/postgresql").is_dir() or shutil.which("apt-get") is None:
        return
    if not _postgres_answers():
        apt_install("postgresql", "PostgreSQL", "its tests will fail")


def _postgres_answers() -> bool:
    """Whether the tests' PostgreSQL server answers (see tests/harness/postgres.py)."""
    url = os.environ.get(
        "QUART_FLASKR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    code = f"import psycopg; psycopg.connect({url!r}, connect_timeout=3).close()"
    return (
        subprocess.run([BIN / "python", "-c", code], capture_output=True, check=False).returncode
        == 0
    )


def serve(args: argparse.Namespace) -> None:
    install()
    quart: list[str | Path] = [BIN / "quart", "--app", "quart_flaskr"]
    instance = ROOT / "instance"
    if not (instance / "quart_flaskr.sqlite").exists():
        run(*quart, "init-db")
    if not (instance / "config.py").exists():
        run(*quart, "gen-secret-key")
    print(
        f"Serving the blog on http://127.0.0.1:{args.port}/ (Ctrl+C stops it)",
        flush=True,
    )
    command = [
        str(BIN / "hypercorn"),
        "--config",
        "hypercorn.toml",
        "--bind",
        f"127.0.0.1:{args.port}",
        "quart_flaskr:create_app()",
    ]
    # Hypercorn takes this process's place, so Ctrl+C and SIGTERM reach it
    # directly and it stops cleanly.
    os.chdir(ROOT)
    os.execv(command[0], command)  # noqa: S606 - our own virtual environment's Hypercorn


def test(args: argparse.Namespace) -> None:
    install("dev")
    install_chromium()
    install_node_tools()
    install_postgresql()
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy")
    run(BIN / "coverage", "erase")
    run(BIN / "coverage", "run", "-m", "pytest", *args.pytest_args)
    # A part of the suite (any pytest argument: -m "not slow", a file) covers a part of
    # the package: its coverage is shown, the 100% gate is the whole suite's.
    run(BIN / "coverage", "report", *(["--fail-under=0"] if args.pytest_args else []))


def screenshots(args: argparse.Namespace) -> None:
    """The browser tests, told to save the README's screenshots in docs/screenshots/."""
    install("dev")
    install_chromium()
    install_node_tools()
    run(
        BIN / "python",
        "-m",
        "pytest",
        "tests/test_browser.py",
        *args.pytest_args,
        FLASKR_SCREENSHOTS=str(SCREENSHOTS),
    )
    print(f"Screenshots saved in {SCREENSHOTS.relative_to(ROOT)}/", flush=True)


def translations(args: argparse.Namespace) -> None:
    """Bring the message catalogs up to date with the code, then compile them.

    Extracts every message of the code and templates into messages.pot, adds
    a catalog for each language named with --add, updates every catalog's
    .po from messages.pot (new messages come in untranslated; the tests fail
    until each has its translation), and compiles each .po to the .mo the
    app reads.
    """
    install()
    pybabel = BIN / "pybabel"
    pot = TRANSLATIONS / "messages.pot"
    before = pot.read_text("utf-8") if pot.exists() else ""
    run(
        pybabel, "extract", "--mapping-file=babel.cfg", "--keyword=N_", "--no-location",
        "--sort-output", "--project=quart_flaskr", f"--output-file={pot}", "quart_flaskr",
    )  # fmt: skip
    if _messages(pot.read_text("utf-8")) == _messages(before):
        # No message changed, only the header: kept as it was, so that neither the
        # catalogs nor the compiled files change either.
        pot.write_text(before, "utf-8")
    for language in args.add:
        run(pybabel, "init", f"--input-file={pot}", f"--output-dir={TRANSLATIONS}", "-l", language)
    run(
        pybabel, "update", f"--input-file={pot}", f"--output-dir={TRANSLATIONS}",
        "--no-fuzzy-matching", "--ignore-obsolete", "--width=100",
    )  # fmt: skip
    run(pybabel, "compile", f"--directory={TRANSLATIONS}", "--statistics")


def _messages(catalog: str) -> str:
    """A catalog's messages: its text after the header (whose dates, year and Babel version
    change with every extraction)."""
    return catalog.partition("\n\n")[2]


def mutate(args: argparse.Namespace) -> None:
    """Mutation testing with mutmut, as [tool.mutmut] in pyproject.toml sets it up.

    mutmut changes the code one small step at a time (``>`` to ``>=``, ``and``
    to ``or``, a string to another) and runs the fast tests on each change; a
    change no test notices, a survivor, is printed at the end. ``mutmut show
    <name>`` shows one; ``mutmut browse`` all. Modules are named under
    quart_flaskr, dotted or by path (``paging``, ``models.posts``, ``db``);
    none means every one the configuration lists. mutmut keeps its copy of
    the code and its results in mutants/ (delete it to start afresh).
    """
    if os.name == "nt":
        sys.exit("mutmut needs fork(): run 'python3 tasks.py mutate' under WSL.")
    install("dev")
    patterns = [
        "quart_flaskr." + name.removesuffix(".py").replace("/", ".") + ".*" for name in args.modules
    ]
    run(BIN / "mutmut", "run", *patterns)
    results = subprocess.run(
        [BIN / "mutmut", "results"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    survivors = [
        line.strip()
        for line in results.stdout.splitlines()
        if not patterns or any(fnmatch.fnmatch(line.strip(), f"{p}:*") for p in patterns)
    ]
    print("\n".join(survivors) or "Every mutant was killed.")
    print(f"{len(survivors)} mutant(s) not killed; 'mutmut show <name>' shows one.")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(required=True)
    serve_parser = commands.add_parser("serve", help="serve the blog on localhost")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.set_defaults(func=serve)
    test_parser = commands.add_parser(
        "test", help="lint, type-check and run the tests (other arguments go to pytest)"
    )
    test_parser.set_defaults(func=test)
    screenshots_parser = commands.add_parser(
        "screenshots", help="run the browser tests, saving the README's screenshots"
    )
    screenshots_parser.set_defaults(func=screenshots)
    translations_parser = commands.add_parser(
        "translations", help="extract the messages, update each language's catalog, compile them"
    )
    translations_parser.add_argument(
        "--add", action="append", default=[], metavar="LANGUAGE", help="start a catalog (e.g. de)"
    )
    translations_parser.set_defaults(func=translations)
    mutate_parser = commands.add_parser(
        "mutate", help="mutation testing of the modules named, or of all that pyproject.toml lists"
    )
    mutate_parser.add_argument("modules", nargs="*", help="e.g. paging, models.posts, db")
    mutate_parser.set_defaults(func=mutate)
    # Whatever follows "test" or "screenshots", options included, goes to pytest.
    args, pytest_args = parser.parse_known_args()
    if args.func in (serve, mutate, translations) and pytest_args:
        parser.error(f"unrecognized arguments: {' '.join(pytest_args)}")
    args.pytest_args = pytest_args
    args.func(args)


if __name__ == "__main__":
    main()
