"""Lighthouse's four scores for the blog's pages, mobile and desktop.

Serves the blog under Hypercorn with the project's hypercorn.toml on a fresh
database, writes a few posts through its forms (one with a photo), then runs
Lighthouse (node_modules/.bin/lighthouse, which ``npm ci`` installs: ``python3
tasks.py test`` runs it) in Debian's Chromium against the index, the post with
the photo and the login page, with the mobile preset (a throttled phone) and
the desktop one, and prints the performance, accessibility, best-practices and
SEO scores of each, with the Cumulative Layout Shift. Audits that Lighthouse
itself could not run (on this Chromium some crash while reading the trace) are
named under the table rather than hidden: they count for nothing in the
scores.

    .venv/bin/python bench/lighthouse.py [--keep]
"""

from __future__ import annotations

import argparse
import json
import math
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ours import OursInstance  # noqa: E402
from tests.harness.http import Client  # noqa: E402
from tests.harness.images import png  # noqa: E402

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PRESETS = ("mobile", "desktop")
USER = {"username": "lighthouse", "password": "a long password, typed once"}


def photo(width: int = 1600, height: int = 1000) -> bytes:
    """A PNG of a sunset over the sea, drawn here: bands of colour with a sun."""

    def row(y: int) -> bytes:
        pixels = bytearray()
        for x in range(width):
            if math.hypot(x - width * 0.7, y - height * 0.45) < height * 0.08:
                pixels += bytes((255, 226, 160))
            elif y < height * 0.55:
                t = y / (height * 0.55)
                pixels += bytes((int(60 + 190 * t), int(80 + 90 * t), int(160 - 40 * t)))
            else:
                wave = int(12 * math.sin(x / 23 + y / 7))
                pixels += bytes((30 + wave, 70 + wave, 110 + wave))
        return bytes(pixels)

    return png(width, height, row)


def seed(url: str) -> dict[str, str]:
    """Write the posts the pages show; the paths to score, by name."""
    with Client(url) as user:
        user.register(USER["username"], USER["password"])
        user.login(USER["username"], USER["password"])
        for number in range(1, 5):
            user.submit(
                "/create",
                {
                    "title": f"Notes, part {number}",
                    "body": f"Part {number} of my notes: **async** Python, served by Hypercorn.\n\n"
                    + "A paragraph of text, long enough to read as a real post. " * 8,
                    "tags": "notes, python",
                    "image_alt": "",
                },
            )
        created = user.request(
            "POST",
            "/create",
            form={
                "title": "Sunset at sea",
                "body": "The evening from the ferry, on the way home.\n\n" + "Calm water. " * 30,
                "tags": "travel",
                "image_alt": "The sun low over a calm sea",
                "csrf_token": user.csrf_token("/create"),
            },
            files={"image": ("sunset.png", photo(), "image/png")},
        )
        if created.status != 302:
            raise SystemExit(f"writing the post with a photo failed: {created.summary()}")
        newest = user.get("/").text
        post_id = newest.split('id="post-', 1)[1].split('"', 1)[0]
    return {"index": "/", f"post /{post_id} (photo)": f"/{post_id}", "login": "/auth/login"}


def score(url: str, preset: str, report: Path) -> dict[str, object]:
    """Run Lighthouse once; its scores (0-100), CLS, and the audits it could not run."""
    command = [
        str(LIGHTHOUSE),
        url,
        f"--chrome-path={CHROMIUM}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        "--output=json",
        f"--output-path={report}",
        "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
    ]
    if preset == "desktop":
        command.append("--preset=desktop")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not report.exists():
        raise SystemExit(f"lighthouse failed on {url} ({preset}):\n{result.stderr[-2000:]}")
    data = json.loads(report.read_text("utf-8"))
    scores = {
        name: round(100 * data["categories"][name]["score"])
        if data["categories"][name]["score"] is not None
        else None
        for name in CATEGORIES
    }
    crashed = sorted(
        audit_id
        for audit_id, audit in data["audits"].items()
        if audit.get("scoreDisplayMode") == "error"
    )
    failing = sorted(
        f"{audit_id} ({audit['score']})"
        for audit_id, audit in data["audits"].items()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
    )
    cls = data["audits"]["cumulative-layout-shift"].get("numericValue")
    return {"scores": scores, "cls": cls, "crashed": crashed, "failing": failing}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the work folder and reports")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit(f"{LIGHTHOUSE} is missing: run 'npm ci' (python3 tasks.py test does)")
    workdir = Path(tempfile.mkdtemp(prefix="lighthouse-"))
    instance = OursInstance(
        workdir,
        "blog",
        rate_limits=False,
        extra_config={"POSTS_PER_PAGE": None, "SECRET_KEY": secrets.token_hex(32)},
    )
    server = instance.serve(cpus=None)
    crashed: set[str] = set()
    try:
        pages = seed(server.url)
        print(f"{'page':<24} {'preset':<8} {'perf':>5} {'a11y':>5} {'best':>5} {'seo':>5}  CLS")
        for name, path in pages.items():
            for preset in PRESETS:
                report = workdir / f"{name.split()[0]}-{preset}.json"
                result = score(server.url + path, preset, report)
                values = result["scores"]
                assert isinstance(values, dict)
                shown = [
                    "-" if values[category] is None else str(values[category])
                    for category in CATEGORIES
                ]
                cls = result["cls"]
                cls_text = "-" if cls is None else f"{cls:.3f}"
                print(f"{name:<24} {preset:<8} " + " ".join(f"{s:>5}" for s in shown), cls_text)
                failing = result["failing"]
                assert isinstance(failing, list)
                if failing:
                    print(f"{'':<24} below 1: {', '.join(failing)}")
                crashed.update(result["crashed"])  # type: ignore[arg-type]
        if crashed:
            print(
                "\nAudits Lighthouse could not run (they crashed; they count for nothing):",
                ", ".join(sorted(crashed)),
            )
    finally:
        server.stop()
        if args.keep:
            print(f"\nReports and server logs: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
