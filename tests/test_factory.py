from __future__ import annotations

from pathlib import Path

from quart_flaskr import create_app
from tests.conftest import make_config


def test_config_defaults_and_override(tmp_path: Path) -> None:
    assert not create_app().testing
    assert create_app(make_config(tmp_path)).testing


def test_instance_config_is_read(tmp_path: Path, monkeypatch: object) -> None:
    app = create_app()
    config = Path(app.instance_path) / "config.py"
    assert app.config["DATABASE"] == str(Path(app.instance_path) / "quart_flaskr.sqlite")
    assert app.config["SECRET_KEY"] == "dev" or config.exists()


async def test_hello(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path))
    response = await app.test_client().get("/hello")
    assert await response.get_data() == b"Hello, World!"


async def test_index_url(tmp_path: Path) -> None:
    from quart import url_for

    app = create_app(make_config(tmp_path))
    async with app.test_request_context("/"):
        assert url_for("index") == "/"
