"""A TCP relay in front of the PostgreSQL server that can go silent.

As a frozen server, or a network that drops everything, does: what the client
sends is taken and dropped, nothing comes back, and no connection is refused or
closed, so the client learns nothing but that no answer comes.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

from psycopg.conninfo import conninfo_to_dict
from psycopg.conninfo import make_conninfo


class Relay:
    """Relays connections to the server a database URL names (over TCP, as the tests' servers
    are reached), until told to go silent."""

    def __init__(self, database_url: str) -> None:
        settings = conninfo_to_dict(database_url)
        self._database_url = database_url
        self._host = str(settings.get("host") or "localhost")
        self._port = int(settings.get("port") or 5432)
        self._silent = False
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._pumps: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Relay:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        for pump in self._pumps:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        """The database's connection string, through the relay."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return make_conninfo(self._database_url, host="127.0.0.1", port=str(port))

    def go_silent(self) -> None:
        """From now on relay nothing, either way, on any connection, old or new."""
        self._silent = True

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        self._writers.append(client_out)
        if self._silent:
            await self._pump(client_in, None)
            return
        server_in, server_out = await asyncio.open_connection(self._host, self._port)
        self._writers.append(server_out)
        for reader, writer in ((client_in, server_out), (server_in, client_out)):
            pump = asyncio.ensure_future(self._pump(reader, writer))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                if writer is not None and not self._silent:
                    writer.write(data)
                    await writer.drain()
