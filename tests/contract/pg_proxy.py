"""A TCP relay in front of the test server, to make the server vanish and come back.

The server is shared by other tests (and other people's runs), so it cannot be
restarted; to its clients, a relay that drops every connection and refuses new
ones until it starts again looks just like a server that went down and came up.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


class Relay:
    """`await start()` on 127.0.0.1 (the same port each time); `await stop()` drops all."""

    def __init__(self, target_dsn: str) -> None:
        parts = urlsplit(target_dsn)
        host = dict(parse_qsl(parts.query)).get("host") or parts.hostname or "localhost"
        self._unix = f"{host}/.s.PGSQL.{parts.port or 5432}" if host.startswith("/") else None
        self._tcp = (host, parts.port or 5432)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    def dsn(self, dsn: str) -> str:
        """`dsn` (user, database, settings) through the relay instead of to the server."""
        parts = urlsplit(dsn)
        user = parts.netloc.rpartition("@")[0]
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "host"])
        netloc = f"{user}@127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc, query=query))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()  # a reset, as when a server's host goes away
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._unix:
            up_reader, up_writer = await asyncio.open_unix_connection(self._unix)
        else:
            up_reader, up_writer = await asyncio.open_connection(*self._tcp)
        self._writers |= {writer, up_writer}
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()
