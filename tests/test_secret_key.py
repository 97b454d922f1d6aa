"""SECRET_KEY: what makes one unfit for production, and the start-up that refuses one."""

from __future__ import annotations

import logging

import pytest
from quart.testing.app import LifespanError

from quart_flaskr.security import fallback_key_problems
from quart_flaskr.security import secret_key_problem
from tests.helpers import AppFactory

FIX = "'quart --app quart_flaskr gen-secret-key'"


@pytest.mark.parametrize(
    ("key", "problem"),
    (
        (None, "SECRET_KEY is not set"),
        ("", "SECRET_KEY is not set"),
        (b"", "SECRET_KEY is not set"),
        ("dev", "SECRET_KEY is the development default 'dev'"),
        ("short", "SECRET_KEY is 5 bytes long, shorter than 32"),
        # Counted in bytes, as the signatures use it: 16 characters, 32 bytes.
        ("é" * 16, None),
        ("é" * 15 + "x", "SECRET_KEY is 31 bytes long, shorter than 32"),
        (b"x" * 31, "SECRET_KEY is 31 bytes long, shorter than 32"),
        ("x" * 32, None),
        # A number typed without its quotes: said, not a TypeError.
        (12345678901234567890, "SECRET_KEY is int, not text ('gen-secret-key' writes one)"),
    ),
)
def test_secret_key_problem_says_what_is_wrong(key: object, problem: str | None) -> None:
    assert secret_key_problem(key) == problem


@pytest.mark.parametrize(
    ("keys", "problem", "fix"),
    (
        (
            {"SECRET_KEY": "x" * 31},
            "SECRET_KEY is 31 bytes long, shorter than 32",
            f"Write a random key into {{config}} with {FIX}.",
        ),
        # What an old key signed is accepted: a guessable one lets anyone sign a session.
        (
            {"SECRET_KEY": "x" * 32, "SECRET_KEY_FALLBACKS": ["dev"]},
            "SECRET_KEY_FALLBACKS[0] is the development default 'dev'",
            "Take it out of {config}: anyone who guesses it could sign a session.",
        ),
    ),
    ids=("key", "fallback"),
)
async def test_an_unfit_key_stops_the_start_with_the_fix(
    make_app: AppFactory,
    caplog: pytest.LogCaptureFixture,
    keys: dict[str, object],
    problem: str,
    fix: str,
) -> None:
    app = await make_app(TESTING=False, **keys)
    config = f"{app.instance_path}/config.py"
    message = f"Refusing to start: {problem}. {fix.format(config=config)}"
    with pytest.raises(LifespanError) as raised:
        async with app.test_app():
            pass  # pragma: no cover - start-up fails
    assert message in str(raised.value)
    critical = [record for record in caplog.records if record.levelno == logging.CRITICAL]
    assert [record.getMessage() for record in critical] == [message]


def test_each_unfit_fallback_is_named() -> None:
    assert fallback_key_problems(None) == fallback_key_problems([]) == []
    # One key written without its list: each character would be a key.
    assert (
        fallback_key_problems("x" * 64)
        == fallback_key_problems(b"x" * 64)
        == ["SECRET_KEY_FALLBACKS is one text, not a list of keys"]
    )
    assert fallback_key_problems(["x" * 32, "dev", b"", "y" * 40]) == [
        "SECRET_KEY_FALLBACKS[1] is the development default 'dev'",
        "SECRET_KEY_FALLBACKS[2] is not set",
    ]


@pytest.mark.parametrize(("debug", "testing"), ((True, False), (False, True), (True, True)))
async def test_development_and_tests_start_with_any_key(
    make_app: AppFactory, debug: bool, testing: bool
) -> None:
    app = await make_app(DEBUG=debug, TESTING=testing, SECRET_KEY="dev")
    async with app.test_app():
        assert (await app.test_client().get("/hello")).status_code == 200
