"""The installed wheel, served by Hypercorn as ops run it, used over real HTTP."""

from __future__ import annotations

import re
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Callable
from collections.abc import Iterator
from datetime import datetime
from datetime import UTC
from pathlib import Path

import pytest

from quart_flaskr.db import SCHEMA_VERSION
from tests.harness.databases import old_database
from tests.harness.http import Client
from tests.harness.hypercorn import ROOT
from tests.live import Deployment
from tests.live import serve
from tests.live import Server
from tests.live import START_TIMEOUT
from tests.live import StillRunningError
from tests.live import STOP_TIMEOUT
from tests.test_upgrade import PASSWORD
from tests.test_upgrade import PREVIOUS_VERSION

pytestmark = pytest.mark.slow

#: How soon a server that refuses to start must have exited.
REFUSAL_TIMEOUT = 5.0


def utc_today() -> str:
    return datetime.now(UTC).date().isoformat()


def test_installed_from_the_wheel(deployment: Deployment) -> None:
    output = deployment.run(
        "python", "-c", "import quart_flaskr, sys; print(quart_flaskr.__file__); print(sys.prefix)"
    )
    package_file, prefix = (Path(line) for line in output.split())
    assert package_file.is_relative_to(deployment.venv / "lib")
    assert not package_file.is_relative_to(ROOT)
    assert prefix == deployment.venv
    # The instance folder of an installed app is in the venv, not the checkout.
    assert deployment.database.is_file()
    assert stat.S_IMODE(deployment.config.stat().st_mode) == 0o600
    assert "SECRET_KEY" in deployment.config.read_text("utf-8")


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


def test_the_wheel_is_versioned_by_its_commit(deployment: Deployment) -> None:
    """Each commit's wheel has a version of its own, so that installing it replaces the last."""
    if _git("rev-parse", "--show-toplevel").stdout.strip() != str(ROOT):
        pytest.skip("not a git checkout: the version is its archive's or its sdist's")
    version = deployment.run(
        "python", "-c", "from importlib.metadata import version; print(version('quart_flaskr'))"
    ).strip()
    tag = _git("describe", "--tags", "--exact-match", "--match", "v[0-9]*")
    edited = _git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    if tag.returncode == 0 and not edited:
        assert version == tag.stdout.strip().removeprefix("v")
    else:
        # After the release, the commits since it: 1.0.1.dev3+g1a2b3c4 (.d<date> when edited;
        # 0.0.1.dev<commits> in a clone without the release's tag).
        commit = re.fullmatch(r"\d+(\.\d+)+\.dev\d+\+g([0-9a-f]{7,})(\.d\d{8})?", version)
        assert commit is not None, version
        assert _git("rev-parse", "HEAD").stdout.startswith(commit.group(2))


def test_blog_over_http(live_server: Server, fresh_deployment: Deployment) -> None:
    alice = Client(live_server.url)
    bob = Client(live_server.url)

    page = alice.register("alice", "alice-password")
    assert (page.status, page.location) == (302, "/auth/login")
    assert bob.register("bob", "bob-password").location == "/auth/login"

    page = alice.login("nobody", "alice-password")
    assert page.status == 200
    assert "Incorrect username." in page.text
    page = alice.login("alice", "bob-password")
    assert page.status == 200
    assert "Incorrect password." in page.text
    page = alice.login("alice", "alice-password")
    assert (page.status, page.location) == (302, "/")
    assert bob.login("bob", "bob-password").location == "/"

    day_before = utc_today()
    form = {"title": "<script>alert(1)</script>", "body": "<script>alert(2)</script> a < b & c"}
    page = alice.submit("/create", form)
    assert (page.status, page.location) == (302, "/")
    index = alice.get("/")
    days = {day_before, utc_today()}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index.text
    assert "a &lt; b &amp; c" in index.text
    assert "<script>alert(" not in index.text
    about = re.search(r"by <a href=\"/u/alice\">alice</a> on (\d{4}-\d{2}-\d{2})", index.text)
    assert about is not None and about.group(1) in days
    edit_links = re.findall(r'href="/(\d+)/update"', index.text)
    assert len(edit_links) == 1
    post_id = int(edit_links[0])

    # Bob sees the post but cannot change it.
    index = bob.get("/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index.text
    assert f"/{post_id}/update" not in index.text
    for action in ("update", "delete"):
        page = bob.submit(f"/{post_id}/{action}", {"title": "mine", "body": ""}, token_from="/")
        assert page.status == 403, action

    missing = post_id + 1
    page = alice.get(f"/{missing}/update")
    assert page.status == 404
    assert f"Post id {missing} doesn&#39;t exist." in page.text

    # Forms without the CSRF token are refused and change nothing.
    titles = ["<script>alert(1)</script>"]
    assert fresh_deployment.post_titles() == titles
    assert alice.post("/create", {"title": "forged", "body": ""}).status == 400
    assert alice.post(f"/{post_id}/delete", {}).status == 400
    assert alice.post(f"/{post_id}/update", {"title": "forged", "body": ""}).status == 400
    assert alice.post("/auth/logout", {}).status == 400
    assert fresh_deployment.post_titles() == titles
    assert f'href="/{post_id}/update"' in alice.get("/").text

    page = alice.logout()
    assert (page.status, page.location) == (302, "/")
    assert alice.get("/create").location == "/auth/login"
    assert bob.get("/create").status == 200

    seconds = live_server.shut_down(timeout=5)
    assert live_server.process.returncode == 0, live_server.stderr
    assert seconds < 5


@pytest.fixture
def spoilt_instance(deployment: Deployment, tmp_path: Path) -> Iterator[Deployment]:
    """The deployment, for a test to spoil its instance folder; restored afterwards."""
    saved = tmp_path / "config.py.saved"
    shutil.copy2(deployment.config, saved)
    try:
        yield deployment
    finally:
        shutil.copy2(saved, deployment.config)
        deployment.init_db(force=True)


def _no_config(deployment: Deployment) -> None:
    deployment.config.unlink()


def _dev_key(deployment: Deployment) -> None:
    deployment.config.write_text('SECRET_KEY = "dev"\n', "utf-8")


def _no_database(deployment: Deployment) -> None:
    for path in deployment.instance.glob("quart_flaskr.sqlite*"):
        path.unlink()


@pytest.mark.parametrize(
    ("spoil", "message"),
    (
        pytest.param(_no_config, "SECRET_KEY is the development default", id="no-config"),
        pytest.param(_dev_key, "SECRET_KEY is the development default", id="dev-key"),
        pytest.param(_no_database, "init-db", id="no-database"),
    ),
)
def test_refuses_to_start(
    spoilt_instance: Deployment,
    tmp_path: Path,
    spoil: Callable[[Deployment], None],
    message: str,
) -> None:
    spoil(spoilt_instance)
    server = Server(spoilt_instance, tmp_path)
    try:
        deadline = time.monotonic() + REFUSAL_TIMEOUT
        while server.process.poll() is None and time.monotonic() < deadline:
            assert not server.answers(timeout=0.5), "served without a usable configuration"
            time.sleep(0.05)
        if server.process.poll() is None:
            raise StillRunningError(
                f"Hypercorn still runs {REFUSAL_TIMEOUT} s after refusing to start:\n"
                + server.stderr
            )
        # Serving in-process (workers = 0), a failed start is a non-zero exit;
        # with worker processes, Hypercorn 0.18 would report 0.
        assert server.process.returncode != 0
        assert message in server.stderr
    finally:
        server.kill()


#: Posts of the previous release whose HTML and search terms a start makes: some
#: seconds of work, so that a SIGTERM finds it under way.
OLD_POSTS = 50_000
#: What the data step makes of an old post: its HTML first, then its search terms.
_NO_HTML = "body_html IS NULL"
_NOT_DONE = "body_html IS NULL OR search_body IS NULL"


def _posts_left(deployment: Deployment, condition: str) -> int:
    """The posts still matching ``condition`` (all, before the schema step)."""
    with deployment.read_only() as conn:
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            return OLD_POSTS
        # The conditions are the test's own.
        count = f"SELECT count(*) FROM post WHERE {condition}"  # noqa: S608
        return int(conn.execute(count).fetchone()[0])


def test_sigterm_stops_a_start_that_brings_a_big_blog_up_to_date(
    spoilt_instance: Deployment, tmp_path: Path
) -> None:
    _no_database(spoilt_instance)
    old_database(
        spoilt_instance.database,
        PREVIOUS_VERSION,
        user=[{"username": "writer", "password": PASSWORD}],
        post=[
            {"title": f"Old post {n}", "body": f"Number *{n}*.", "author_id": 1}
            for n in range(1, OLD_POSTS + 1)
        ],
    )
    # Private, as init-db makes it: the tests after this one check the deployment's safety.
    spoilt_instance.database.chmod(0o600)
    server = Server(spoilt_instance, tmp_path)
    try:
        # SIGTERM once the first rows have their HTML: the data step is under way.
        server.wait_until(
            lambda: _posts_left(spoilt_instance, _NO_HTML) < OLD_POSTS,
            START_TIMEOUT,
            "upgrading rows",
        )
        server.send_signal(signal.SIGTERM)
        seconds = server.wait_for_exit(STOP_TIMEOUT)
        assert seconds is not None, f"still starting {STOP_TIMEOUT} s after SIGTERM"
    finally:
        server.kill()
    assert server.process.returncode != 0
    assert "Stopped by SIGTERM while bringing the database up to date" in server.stderr
    # Stopped part way: what was done is kept, the rest is left for the next start.
    assert 0 < _posts_left(spoilt_instance, _NO_HTML) < OLD_POSTS

    with serve(spoilt_instance, tmp_path) as again:
        assert _posts_left(spoilt_instance, _NOT_DONE) == 0
        page = Client(again.url).get(f"/{OLD_POSTS}")
        assert page.status == 200
        assert f"Number <em>{OLD_POSTS}</em>." in page.text
        assert f'href="/{OLD_POSTS}"' in Client(again.url).get(f"/?q={OLD_POSTS}").text
