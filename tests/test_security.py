from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from quart import Quart
from quart import request
from quart import session
from quart.testing import QuartCliRunner
from quart.testing.app import LifespanError
from werkzeug.datastructures import Headers

from quart_flaskr import create_app
from quart_flaskr import imaging
from quart_flaskr import proxies
from quart_flaskr.db import Database
from quart_flaskr.db import SCHEMA_VERSION
from quart_flaskr.db import SQLiteDatabase
from quart_flaskr.deploy import deployment_problems
from quart_flaskr.models import users
from quart_flaskr.security import CLOCK_SKEW_SECONDS
from quart_flaskr.security import CSRF_ERROR
from quart_flaskr.security import is_public
from quart_flaskr.security import PrivateSessionInterface
from quart_flaskr.security import same_origin_form
from quart_flaskr.security import secret_key_problem
from tests.helpers import AppFactory
from tests.helpers import AuthActions
from tests.helpers import Client
from tests.helpers import csrf_token
from tests.helpers import make_config
from tests.helpers import post_form
from tests.helpers import session_cookie

GOOD_KEY = "k" * 64


async def post_count(db: Database) -> int:
    row = await db.fetch_one("SELECT COUNT(*) FROM post")
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    ("path", "form"),
    (
        ("/create", {"title": "forged", "body": ""}),
        ("/1/update", {"title": "forged", "body": ""}),
        ("/1/delete", {}),
        ("/auth/logout", {}),
    ),
)
@pytest.mark.parametrize("token", (None, "", "forged", "bad.token.value"))
async def test_csrf_missing_or_wrong_token(
    client: Client,
    auth: AuthActions,
    db: Database,
    path: str,
    form: dict[str, str],
    token: str | None,
) -> None:
    await auth.login()
    if token is not None:
        form = {**form, "csrf_token": token}
    response = await client.post(path, form=form)
    assert response.status_code == 400
    assert "CSRF token" in await response.get_data(as_text=True)
    assert await post_count(db) == 1
    post = await db.fetch_one("SELECT title FROM post WHERE id = 1")
    assert post is not None and post[0] == "test title"
    # Still logged in: a forged logout did nothing.
    assert (await client.get("/create")).status_code == 200


async def test_csrf_on_login_and_register(client: Client, db: Database) -> None:
    for path in ("/auth/login", "/auth/register"):
        response = await client.post(path, form={"username": "new", "password": "long enough"})
        assert response.status_code == 400
    row = await db.fetch_one('SELECT COUNT(*) FROM "user"')
    assert row is not None and row[0] == 2


async def test_token_of_another_session_is_refused(
    app: Quart, client: Client, auth: AuthActions
) -> None:
    attacker = app.test_client()
    token = await csrf_token(attacker, "/auth/login")
    await auth.login()
    response = await client.post("/create", form={"title": "x", "body": "", "csrf_token": token})
    assert response.status_code == 400


async def test_token_in_header_is_accepted(client: Client, auth: AuthActions, db: Database) -> None:
    await auth.login()
    token = await csrf_token(client, "/create")
    response = await client.post(
        "/create", form={"title": "via header", "body": ""}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 302
    assert await post_count(db) == 2


async def test_expired_token_is_refused(make_app: AppFactory) -> None:
    app = await make_app(CSRF_TIME_LIMIT=-1)
    client = app.test_client()
    token = await csrf_token(client)
    response = await client.post(
        "/auth/login", form={"username": "a", "password": "b", "csrf_token": token}
    )
    assert response.status_code == 400
    assert CSRF_ERROR.split("(")[0] in await response.get_data(as_text=True)


async def test_tokens_without_a_time_limit(make_app: AppFactory) -> None:
    app = await make_app(CSRF_TIME_LIMIT=None)
    client = app.test_client()
    token = await csrf_token(client)
    response = await client.post(
        "/auth/login", form={"username": "a", "password": "b", "csrf_token": token}
    )
    assert response.status_code == 200
    assert "Incorrect username." in await response.get_data(as_text=True)


async def test_token_signed_with_a_fallback_key_is_accepted(make_app: AppFactory) -> None:
    old = await make_app(SECRET_KEY="old" * 12)
    new = await make_app(SECRET_KEY=GOOD_KEY, SECRET_KEY_FALLBACKS=["old" * 12])
    client = old.test_client()
    token = await csrf_token(client)
    client.app = new  # The same browser, after the key was rotated.
    response = await client.post(
        "/auth/login", form={"username": "x", "password": "y", "csrf_token": token}
    )
    assert response.status_code == 200
    assert "Incorrect username." in await response.get_data(as_text=True)


async def test_tokens_made_during_a_key_rotation_outlive_the_old_key(make_app: AppFactory) -> None:
    rotating = await make_app(SECRET_KEY=GOOD_KEY, SECRET_KEY_FALLBACKS=["old" * 12])
    rotated = await make_app(SECRET_KEY=GOOD_KEY)
    client = rotating.test_client()
    token = await csrf_token(client)
    client.app = rotated  # The old key dropped once the rotation is over.
    response = await client.post(
        "/auth/login", form={"username": "x", "password": "y", "csrf_token": token}
    )
    assert response.status_code == 200
    assert "Incorrect username." in await response.get_data(as_text=True)


async def test_no_fallback_keys_may_be_said_with_none(make_app: AppFactory) -> None:
    app = await make_app(SECRET_KEY=GOOD_KEY, SECRET_KEY_FALLBACKS=None)
    client = app.test_client()
    assert (await client.get("/")).status_code == 200
    assert (await AuthActions(client).login()).status_code == 302
    assert b"Log Out" in await (await client.get("/")).get_data()


async def test_security_headers(client: Client) -> None:
    for path in ("/", "/auth/login", "/hello", "/static/style.css", "/nothing-here"):
        response = await client.get(path)
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers


async def test_session_pages_vary_on_cookie_and_are_private(
    client: Client, auth: AuthActions
) -> None:
    for path in ("/", "/auth/login", "/hello"):
        response = await client.get(path)
        assert "Cookie" in response.headers["Vary"]
        assert "private" in response.headers["Cache-Control"]
    await auth.login()
    response = await client.get("/")
    assert "Cookie" in response.headers["Vary"]
    assert "private" in response.headers["Cache-Control"]
    static = await client.get("/static/style.css")
    assert "private" not in static.headers.get("Cache-Control", "")


async def test_hsts_when_configured(make_app: AppFactory) -> None:
    app = await make_app(HSTS_SECONDS=31536000)
    response = await app.test_client().get("/hello")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


async def test_session_cookie_flags(client: Client, auth: AuthActions) -> None:
    response = await auth.login()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # A lifetime, not a browser-session cookie.
    assert "Secure" not in cookie


async def test_secure_cookie_when_configured(make_app: AppFactory) -> None:
    secure = await make_app(SESSION_COOKIE_SECURE=True)
    response = await secure.test_client().get("/auth/login")
    assert "Secure" in response.headers["Set-Cookie"]


async def test_login_starts_a_fresh_session(app: Quart, client: Client, auth: AuthActions) -> None:
    async with client.session_transaction() as session:
        session["planted"] = "by someone else"
    await auth.login()
    async with client.session_transaction() as session:
        assert "planted" not in session
        assert "login_id" in session


@pytest.mark.parametrize(
    ("key", "problem"),
    (
        (None, "not set"),
        ("", "not set"),
        ("dev", "development default"),
        ("short", "5 bytes long"),
        (b"x" * 31, "31 bytes long"),
        (GOOD_KEY, None),
        (b"x" * 32, None),
    ),
)
def test_secret_key_problem(key: str | bytes | None, problem: str | None) -> None:
    found = secret_key_problem(key)
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize("key", ("dev", "too short"))
async def test_refuses_to_serve_with_an_unsafe_key(make_app: AppFactory, key: str) -> None:
    app = await make_app(TESTING=False, SECRET_KEY=key)
    with pytest.raises(LifespanError, match="Refusing to start: SECRET_KEY"):
        async with app.test_app():
            pass  # pragma: no cover - start-up fails


async def test_serves_with_a_random_key(make_app: AppFactory) -> None:
    app = await make_app(TESTING=False, SECRET_KEY=GOOD_KEY)
    async with app.test_app():
        assert (await app.test_client().get("/hello")).status_code == 200


def test_gen_secret_key_keeps_other_settings(runner: QuartCliRunner, cli_app: Quart) -> None:
    config = Path(cli_app.instance_path) / "config.py"
    config.write_text(
        "# Site settings\nimport os\nHSTS_SECONDS = 3600\nSECRET_KEY = (\n    'old'\n)\n"
    )
    result = runner.invoke(args=["gen-secret-key"])
    assert result.exit_code == 0, result.output
    settings = config_settings(config)
    assert settings["HSTS_SECONDS"] == 3600
    key = settings["SECRET_KEY"]
    assert isinstance(key, str) and secret_key_problem(key) is None
    assert "SECRET_KEY_FALLBACKS" not in settings
    assert stat.S_IMODE(config.stat().st_mode) == 0o600

    result = runner.invoke(args=["gen-secret-key", "--rotate"])
    assert result.exit_code == 0, result.output
    rotated = config_settings(config)
    assert rotated["SECRET_KEY_FALLBACKS"] == [key]
    assert rotated["SECRET_KEY"] != key
    assert rotated["HSTS_SECONDS"] == 3600
    assert config.read_text().count("SECRET_KEY =") == 1


#: A config.py that reads the key from the environment: perhaps fit, not known to be.
COMPUTED_KEY = "import os\nSECRET_KEY = os.environ.get('BLOG_KEY', '')\n"


def config_settings(config: Path) -> dict[str, object]:
    """What an instance's config.py sets, as the app reads it."""
    settings: dict[str, object] = {}
    exec(config.read_text(), settings)  # noqa: S102 - our own config file
    return settings


@pytest.mark.parametrize(
    ("source", "reason"),
    (
        ("SECRET_KEY = 'dev'\n", "SECRET_KEY is the development default 'dev'"),
        (COMPUTED_KEY, "config.py computes it rather than writing it out"),
    ),
)
def test_gen_secret_key_keeps_no_unfit_key_as_a_fallback(
    runner: QuartCliRunner, cli_app: Quart, source: str, reason: str
) -> None:
    config = Path(cli_app.instance_path) / "config.py"
    config.write_text(source)
    result = runner.invoke(args=["gen-secret-key", "--rotate"])
    assert result.exit_code == 0, result.output
    assert f"The old key is not kept as a fallback: {reason}." in result.output
    rotated = config_settings(config)
    assert "SECRET_KEY_FALLBACKS" not in rotated
    assert secret_key_problem(rotated["SECRET_KEY"]) is None


@pytest.mark.parametrize(
    "source",
    (
        f"SECRET_KEY = {GOOD_KEY!r}\n",
        f"SECRET_KEY: str = {GOOD_KEY!r}\n",
        f"if True:\n    SECRET_KEY = {GOOD_KEY!r}\n",
        f"SECRET_KEY, SITE = {GOOD_KEY!r}, 'blog'\n",
        COMPUTED_KEY,
    ),
)
def test_gen_secret_key_keeps_a_key_in_use_unless_told(
    runner: QuartCliRunner, cli_app: Quart, source: str
) -> None:
    config = Path(cli_app.instance_path) / "config.py"
    # An old key kept by a rotation: replaced outright (after a leak, say), the key
    # is no longer taken either.
    config.write_text(f"HSTS_SECONDS = 3600\nSECRET_KEY_FALLBACKS = [{'o' * 64!r}]\n{source}")
    before = config.read_bytes()
    result = runner.invoke(args=["gen-secret-key"])
    assert result.exit_code == 1
    assert f"{config} already holds a SECRET_KEY. A new one logs everyone out" in result.output
    assert "'gen-secret-key --rotate'" in result.output
    assert config.read_bytes() == before

    result = runner.invoke(args=["gen-secret-key", "--force"])
    assert result.exit_code == 0, result.output
    replaced = config_settings(config)
    assert replaced["SECRET_KEY"] != GOOD_KEY
    assert secret_key_problem(replaced["SECRET_KEY"]) is None
    assert "SECRET_KEY_FALLBACKS" not in replaced
    assert replaced["HSTS_SECONDS"] == 3600


def test_gen_secret_key_creates_the_config(tmp_path: Path) -> None:
    from quart_flaskr.deploy import write_secret_key

    config = tmp_path / "instance" / "config.py"
    write_secret_key(config, rotate=True)
    settings = config_settings(config)
    assert secret_key_problem(settings["SECRET_KEY"]) is None
    assert "SECRET_KEY_FALLBACKS" not in settings


def test_check_deploy_lists_every_problem(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    app = create_app(make_config(tmp_path, DEBUG=True, DATABASE=str(instance / "x.sqlite")))
    app.instance_path = str(instance)
    problems = "\n".join(deployment_problems(app))
    for words in (
        "development default",
        "DEBUG is on",
        "TESTING is on",
        "SESSION_COOKIE_SECURE",
        "HSTS_SECONDS",
        "ALLOWED_HOSTS is empty",
        "does not exist",
    ):
        assert words in problems


def test_check_deploy_names_an_unfit_fallback(tmp_path: Path) -> None:
    config = make_config(tmp_path, SECRET_KEY=GOOD_KEY, SECRET_KEY_FALLBACKS=[GOOD_KEY, "short"])
    problems = deployment_problems(create_app(config))
    assert (
        "SECRET_KEY_FALLBACKS[1] is 5 bytes long, shorter than 32: anyone who guesses it can"
        " sign a session of their own. Take it out of config.py."
    ) in problems
    assert not [problem for problem in problems if "[0]" in problem]


def test_check_deploy_reads_files_and_database(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    os.chmod(instance, 0o755)  # noqa: S103 - the unsafe mode being checked for
    database = instance / "blog.sqlite"
    db = SQLiteDatabase(str(database))
    asyncio.run(db.reset())
    asyncio.run(db.close())
    os.chmod(database, 0o644)
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    app = create_app(make_config(tmp_path, DATABASE=str(database), SECRET_KEY=GOOD_KEY))
    app.instance_path = str(instance)
    problems = "\n".join(deployment_problems(app))
    assert f"chmod go-rwx {instance}" in problems
    assert f"chmod go-rwx {database}" in problems
    assert "delete journal mode, not WAL" in problems
    assert "schema is version 1" in problems


def test_check_deploy_on_a_database_without_tables(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o700)
    database = instance / "empty.sqlite"
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    os.chmod(database, 0o600)
    app = create_app(make_config(tmp_path, DATABASE=str(database), SECRET_KEY=GOOD_KEY))
    app.instance_path = str(instance)
    problems = deployment_problems(app)
    assert [problem for problem in problems if "schema" in problem] == [
        f"The database schema is version 0, not {SCHEMA_VERSION}: run 'migrate'."
    ]
    assert not [problem for problem in problems if "username" in problem]


def test_check_deploy_command(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    database = instance / "blog.sqlite"
    config = make_config(
        tmp_path,
        TESTING=False,
        DATABASE=str(database),
        SECRET_KEY=GOOD_KEY,
        SESSION_COOKIE_SECURE=True,
        HSTS_SECONDS=31536000,
        ALLOWED_HOSTS=["blog.example.com"],
    )
    app = create_app(config)
    app.instance_path = str(instance)
    os.makedirs(instance, mode=0o700, exist_ok=True)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    result = runner.invoke(args=["check-deploy"])
    assert result.exit_code == 0, result.output
    assert "No problems found." in result.output

    app.config["SESSION_COOKIE_SECURE"] = False
    result = runner.invoke(args=["check-deploy"])
    assert result.exit_code == 1
    assert "- SESSION_COOKIE_SECURE is off" in result.output
    assert "1 problem(s) found." in result.output


def test_check_deploy_finds_what_the_first_picture_would_fail_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(make_config(tmp_path, SECRET_KEY=GOOD_KEY))
    assert not [problem for problem in deployment_problems(app) if "Pillow" in problem]
    monkeypatch.setattr(imaging, "problem", lambda: "Pillow was built without WebP")
    assert (
        "Pillow was built without WebP: picture uploads would fail."
        " Reinstall Pillow in the app's environment, built with JPEG, PNG and WebP."
    ) in deployment_problems(app)


async def test_proxy_hops_decide_the_client_address(make_app: AppFactory) -> None:
    seen: list[str | None] = []

    async def app_seeing_addresses(hops: int) -> Quart:
        app = await make_app(PROXY_TRUSTED_HOPS=hops)

        @app.route("/address")
        async def address() -> str:
            from quart import request

            seen.append(request.remote_addr)
            return ""

        return app

    forged = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
    await (await app_seeing_addresses(0)).test_client().get("/address", headers=forged)
    await (await app_seeing_addresses(1)).test_client().get("/address", headers=forged)
    await (await app_seeing_addresses(2)).test_client().get("/address", headers=forged)
    # Fewer values than trusted proxies: none was added by one.
    await (await app_seeing_addresses(3)).test_client().get("/address", headers=forged)
    # Without trusted hops the header is ignored: the address is the peer's own.
    assert seen == ["<local>", "198.51.100.7", "203.0.113.9", "<local>"]


@pytest.mark.parametrize(
    ("sent", "scheme"),
    (
        ({"X-Forwarded-Proto": "https"}, "https"),
        ({"X-Forwarded-Proto": "javascript"}, "http"),
        ({"X-Forwarded-Proto": "https", "X-Forwarded-For": ""}, "https"),
        ({"X-Forwarded-For": "192.0.2.1"}, "http"),
    ),
)
async def test_a_trusted_proxy_says_the_scheme_never_the_host(
    make_app: AppFactory, sent: dict[str, str], scheme: str
) -> None:
    """The host is Host alone: X-Forwarded-Host, which nginx passes on from the
    client unless told not to, would put another site in the public sitemap."""
    client = (await make_app(PROXY_TRUSTED_HOPS=1)).test_client()
    headers = {"Host": "blog.example.com", "X-Forwarded-Host": "evil.example", **sent}
    response = await client.get("/robots.txt", headers=headers)
    assert response.status_code == 200
    text = await response.get_data(as_text=True)
    assert f"Sitemap: {scheme}://blog.example.com/sitemap.xml" in text


async def test_every_state_changing_route_requires_a_token(app: Quart) -> None:
    unsafe = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.methods and rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
    }
    client = app.test_client()
    for path in unsafe:
        concrete = path.replace("<id:id>", "1")
        response = await client.post(concrete, form={})
        assert response.status_code == 400, path


async def test_a_view_marked_same_origin_takes_forms_without_a_token(app: Quart) -> None:
    @app.route("/same-origin", methods=["POST"])
    @same_origin_form
    async def same_origin() -> str:
        return "taken"

    client = app.test_client()
    response = await client.post("/same-origin", form={}, headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == "taken"
    response = await client.post("/same-origin", form={}, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 400
    assert CSRF_ERROR in await response.get_data(as_text=True)


async def test_post_form_helper_sends_a_valid_token(client: Client, auth: AuthActions) -> None:
    await auth.login()
    response = await post_form(client, "/create", {"title": "ok", "body": ""})
    assert response.status_code == 302


async def test_vary_set_by_a_view_is_kept(app: Quart) -> None:
    @app.route("/varies/<name>")
    async def varies(name: str) -> tuple[str, dict[str, str]]:
        return "", {"Vary": name}

    client = app.test_client()
    response = await client.get("/varies/Accept-Language")
    assert response.headers["Vary"] == "Accept-Language, Cookie"
    response = await client.get("/varies/cookie")
    assert response.headers["Vary"] == "cookie, Accept-Language"
    response = await client.get("/varies/Origin")
    assert response.headers["Vary"] == "Origin, Cookie, Accept-Language"
    response = await client.get("/varies/accept-language, cookie")
    assert response.headers["Vary"] == "accept-language, cookie"


@pytest.mark.parametrize(
    ("cache_control", "public"),
    (
        ("public, max-age=43200", True),
        ("max-age=60,PUBLIC", True),
        ("private, no-cache", False),
        ("no-store", False),
        ("", False),
    ),
)
def test_is_public(cache_control: str, public: bool) -> None:
    assert is_public(Headers({"Cache-Control": cache_control})) is public


def test_a_response_without_cache_control_is_not_public() -> None:
    assert is_public(Headers()) is False


async def test_keys_changed_on_a_running_app_sign_and_check_sessions_from_then_on(
    app: Quart,
) -> None:
    interface = app.session_interface
    assert isinstance(interface, PrivateSessionInterface)
    old = interface.get_signing_serializer(app)
    assert old is not None and interface.get_signing_serializer(app) is old
    signed = old.dumps({"login_id": "x"})
    app.config["SECRET_KEY"] = "n" * 64
    rotated = interface.get_signing_serializer(app)
    assert rotated is not None
    with pytest.raises(BadSignature):
        rotated.loads(signed)
    app.config["SECRET_KEY_FALLBACKS"] = [GOOD_KEY, old.secret_keys[-1]]
    with_fallbacks = interface.get_signing_serializer(app)
    assert with_fallbacks is not None
    assert with_fallbacks.loads(signed) == {"login_id": "x"}


async def test_login_cookie_is_refreshed_by_pages_not_by_static_files(
    client: Client, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    await auth.login()
    # A permanent session's expiry moves on with the pages read, its cookie
    # sent again once it is SESSION_REFRESH_SECONDS (an hour) old.
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 3600)
    page = await client.get("/")
    assert "Expires=" in page.headers["Set-Cookie"]
    static = await client.get("/static/style.css")
    assert "public" in static.headers["Cache-Control"]
    assert "Set-Cookie" not in static.headers
    # Served alike to everyone: not varying by the cookie either (only by
    # the encodings the browser takes).
    assert static.headers["Vary"] == "Accept-Encoding"
    # The login is as it was.
    assert "Log Out" in await (await client.get("/")).get_data(as_text=True)


async def test_a_login_cookie_never_refreshed_when_so_set(
    app: Quart, client: Client, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SESSION_REFRESH_SECONDS = None: the cookie is sent when it changes, never just to refresh."""
    app.config["SESSION_REFRESH_SECONDS"] = None
    assert (await auth.login()).status_code == 302
    assert "Set-Cookie" in (await client.get("/")).headers
    now = time.time()
    for later in (0, 3600, 86_400):
        monkeypatch.setattr(time, "time", lambda later=later: now + later)
        page = await client.get("/")
        assert "Log Out" in await page.get_data(as_text=True)
        assert "Set-Cookie" not in page.headers, later


async def test_an_unchanged_login_cookie_is_sent_again_only_once_an_hour_old(
    client: Client, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    await auth.login()
    # The first page after a login gives the session its form secret: a change, sent.
    assert "Set-Cookie" in (await client.get("/")).headers
    now = time.time()
    for later, sent in ((0, False), (3599, False), (3600, True), (3600 + 10, False)):
        monkeypatch.setattr(time, "time", lambda later=later: now + later)
        page = await client.get("/")
        assert "Log Out" in await page.get_data(as_text=True)
        assert ("Set-Cookie" in page.headers) is sent, later


async def test_a_cookie_that_is_not_ours_is_no_session(client: Client, auth: AuthActions) -> None:
    await auth.login()
    forged = PrivateSessionInterface().get_signing_serializer(
        create_app(make_config(Path("/nonexistent"), SECRET_KEY="another key " * 4))
    )
    assert forged is not None
    client.set_cookie("localhost", "session", forged.dumps({"_user_id": 1}))
    page = await (await client.get("/")).get_data(as_text=True)
    assert "Log In" in page and "Log Out" not in page


async def test_without_a_secret_key_there_are_no_sessions(app: Quart) -> None:
    app.secret_key = None
    async with app.test_request_context("/"):
        assert await PrivateSessionInterface().open_session(app, request) is None


async def test_public_files_do_not_load_the_user(
    client: Client, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    await auth.login()
    loaded: list[str] = []
    select_login = users.select_login

    async def counting(db: Database, login_id: str) -> object:
        loaded.append(login_id)
        return await select_login(db, login_id)

    monkeypatch.setattr(users, "select_login", counting)
    await client.get("/static/style.css")
    assert loaded == []
    await client.get("/hello")
    assert len(loaded) == 1


@pytest.mark.parametrize("change", ("set", "clear"))
async def test_a_session_change_makes_a_public_response_private(
    app: Quart, client: Client, auth: AuthActions, change: str
) -> None:
    @app.route("/public-change")
    async def public_change() -> tuple[str, dict[str, str]]:
        if change == "set":
            session["note"] = "kept"
        else:
            session.clear()
        return "", {"Cache-Control": "public, max-age=60"}

    await auth.login()
    response = await client.get("/public-change")
    # The browser gets the change, and no shared cache may keep it.
    assert "Set-Cookie" in response.headers
    assert response.headers["Cache-Control"] == "max-age=60, private"


@pytest.mark.parametrize("path", ("/tag/a%00b", "/%00"))
async def test_a_nul_character_in_the_path_is_refused(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 400
    message = '<p class="error">The address holds characters that are not valid text.</p>'
    assert message in await response.get_data(as_text=True)


def _counting_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The session cookies whose signature is checked from now on."""
    checked: list[str] = []
    loads = URLSafeTimedSerializer.loads

    def counting(self: URLSafeTimedSerializer, value: str, *args: Any, **kwargs: Any) -> Any:
        if self.salt == b"cookie-session":
            checked.append(value)
        return loads(self, value, *args, **kwargs)

    monkeypatch.setattr(URLSafeTimedSerializer, "loads", counting)
    return checked


async def test_a_cookie_sent_again_is_not_checked_again(
    client: Client, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    await auth.login()
    await client.get("/")  # The session gets its form secret: a new cookie.
    checked = _counting_loads(monkeypatch)
    for _ in range(3):
        assert "Log Out" in await (await client.get("/")).get_data(as_text=True)
    assert checked == [session_cookie(client)]
    # What it holds is copied for each request: one request's change stays its own.
    assert "csrf_token" in await (await client.get("/create")).get_data(as_text=True)
    assert checked == [session_cookie(client)]


async def test_a_kept_cookie_expires_as_a_checked_one_does(
    app: Quart, client: Client, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    await auth.login()
    await client.get("/")
    cookie = session_cookie(client)
    checked = _counting_loads(monkeypatch)
    lifetime = app.permanent_session_lifetime.total_seconds()
    now = time.time()
    # Kept at the first request, then only its age looked at: signed further in
    # the future than another host's clock may run ahead (a clock set back) or
    # too long ago, it is refused as when checked, and checked again the next
    # time it comes.
    for later, logged_in in (
        (0, True),
        (-CLOCK_SKEW_SECONDS + 5, True),
        (-CLOCK_SKEW_SECONDS - 5, False),
        (0, True),
        (lifetime - 5, True),
        (lifetime + 5, False),
    ):
        monkeypatch.setattr(time, "time", lambda later=later: now + later)
        client.set_cookie("localhost", "session", cookie)
        page = await (await client.get("/")).get_data(as_text=True)
        assert ("Log Out" in page) is logged_in, later
    assert checked == [cookie, cookie]


@pytest.mark.parametrize(("ahead", "taken"), ((30, True), (CLOCK_SKEW_SECONDS + 5, False)))
async def test_a_login_from_a_host_whose_clock_runs_ahead(
    client: Client, auth: AuthActions, monkeypatch: pytest.MonkeyPatch, ahead: int, taken: bool
) -> None:
    now = time.time()
    # Logged in on a host whose clock runs ``ahead``: its cookie is signed then.
    monkeypatch.setattr(time, "time", lambda: now + ahead)
    await auth.login()
    monkeypatch.setattr(time, "time", lambda: now)
    page = await (await client.get("/")).get_data(as_text=True)
    assert ("Log Out" in page) is taken


@pytest.mark.parametrize(("ahead", "status"), ((30, 302), (CLOCK_SKEW_SECONDS + 5, 400)))
async def test_a_form_from_a_host_whose_clock_runs_ahead(
    client: Client,
    auth: AuthActions,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    ahead: int,
    status: int,
) -> None:
    await auth.login()
    await client.get("/")  # The session's form secret, given now.
    now = time.time()
    # The form shown by a host whose clock runs ``ahead``, posted to this one.
    monkeypatch.setattr(time, "time", lambda: now + ahead)
    token = await csrf_token(client, "/create")
    monkeypatch.setattr(time, "time", lambda: now)
    before = await post_count(db)
    response = await client.post(
        "/create", form={"title": "ahead", "body": "", "csrf_token": token}
    )
    assert response.status_code == status
    assert await post_count(db) == before + (status == 302)


async def test_a_kept_cookie_is_refused_once_its_key_is_taken_out(
    app: Quart, client: Client, auth: AuthActions
) -> None:
    await auth.login()
    assert "Log Out" in await (await client.get("/")).get_data(as_text=True)
    app.config["SECRET_KEY"] = "n" * 64
    assert "Log In" in await (await client.get("/")).get_data(as_text=True)


async def test_a_session_holding_a_list_is_checked_each_time(
    app: Quart, client: Client, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    @app.route("/note")
    async def note() -> str:
        notes = session.setdefault("notes", [])
        notes.append(len(notes))
        session.modified = True
        return str(notes)

    @app.route("/notes")
    async def notes() -> str:
        return str(session.get("notes"))

    await auth.login()
    assert await (await client.get("/note")).get_data(as_text=True) == "[0]"
    checked = _counting_loads(monkeypatch)
    for _ in range(2):
        assert await (await client.get("/notes")).get_data(as_text=True) == "[0]"
    assert len(checked) == 2
    assert await (await client.get("/note")).get_data(as_text=True) == "[0, 1]"


async def test_trusted_proxies_pass_other_scopes_on_as_they_came() -> None:
    """The lifespan (and a websocket, which the blog has none of) reads no forwarded header."""
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)

    scope = {"type": "lifespan", "headers": [(b"x-forwarded-for", b"192.0.2.1")]}
    await proxies.TrustedProxies(app, 1)(scope, None, None)  # type: ignore[arg-type]
    assert seen == [scope] and seen[0] is scope
