"""``/healthz``: whether this worker can answer, database included, for probes and proxies.

Anyone can ask it, so it says what is wrong but not where the database is:
why it could not be reached (its address, user and name among it) goes to the log.
"""

from __future__ import annotations

from quart import Blueprint
from quart import current_app
from quart import ResponseReturnValue

from quart_flaskr.db import DatabaseUnavailableError
from quart_flaskr.db import get_db
from quart_flaskr.db import SCHEMA_VERSION
from quart_flaskr.security import any_host

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@any_host
async def healthz() -> ResponseReturnValue:
    """200 when the database answers with the current schema, else 503."""
    try:
        version = await get_db().schema_version()
    except DatabaseUnavailableError as error:
        current_app.logger.warning("Health check: database unavailable: %s", error)
        return {"status": "error", "database": "unavailable"}, 503
    if version != SCHEMA_VERSION:
        return {"status": "error", "database": f"schema {version}, expected {SCHEMA_VERSION}"}, 503
    return {"status": "ok", "database": "ok"}
