"""The PostgreSQL limit: the index's own SQL on a plain asyncpg connection, same process.

The SQL text and parameters come from `kaiku_tui.index.sql` with PostgresIndex's
dialect, so any difference between this and `PostgresIndex` is the pool, the row
conversion and the register's checks, never a different query. The audit append
is the index's own statements (advisory lock, head, INSERT, COMMIT).
"""

from __future__ import annotations

from typing import cast

import asyncpg
from auditbench import search_event
from matrix import Rows

from kaiku_tui.audit.chain import GENESIS, canonical_body, seal
from kaiku_tui.domain.browse import Cursor, RecordingFilter, Sort
from kaiku_tui.index import sql
from kaiku_tui.index.browsing import SqlBrowse
from kaiku_tui.index.postgres import PostgresIndex
from kaiku_tui.index.postgres_core import AUDIT_LOCK, DIALECT

HEAD = "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"
INSERT = "INSERT INTO audit_event (seq, body, prev_hash, hash, mac) VALUES ($1, $2, $3, $4, $5)"


class RawAsyncpg:
    """One plain asyncpg connection on the register's database."""

    dialect = DIALECT

    def __init__(self, conn: asyncpg.Connection, mac_key: bytes, login: str) -> None:
        self.conn = conn
        self._mac_key = mac_key
        self._login = login

    @classmethod
    async def connect(cls, url: str, mac_key: bytes, login: str) -> RawAsyncpg:
        return cls(await asyncpg.connect(url), mac_key, login)

    async def close(self) -> None:
        await self.conn.close()

    async def run(self, query: sql.Query | None) -> Rows:
        if query is None:
            return []
        return cast(Rows, await self.conn.fetch(query.sql, *query.params))

    async def page(
        self, where: RecordingFilter, sort: Sort, after: Cursor | None, limit: int
    ) -> Rows:
        """The rows `PostgresIndex.page` would fetch (it asks for one more, to know if more)."""
        return await self.run(sql.page_query(DIALECT, where, sort, after, limit + 1, None))

    async def seek(self, where: RecordingFilter, sort: Sort, fraction: float) -> Cursor | None:
        """`PostgresIndex.seek`'s own code, with this plain connection under its `_rows`."""
        stand_in = cast(PostgresIndex, _PlainSeek(self.conn))
        return await SqlBrowse.seek(stand_in, where, sort, fraction)

    async def audit(self, rows: Rows, limit: int) -> int:
        """The durable append a search makes, revealing the ids of the page's rows."""
        event = search_event(self._login, [r[0] for r in rows[:limit]])
        return await append_raw_pg(self.conn, event, self._mac_key)

    async def explain(self, query: sql.Query) -> list[str]:
        plan = await self.conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + query.sql, *query.params)
        return [row[0] for row in plan]

    async def count(self, where: RecordingFilter) -> int:
        return int((await self.run(sql.count_query(DIALECT, where, None, None)))[0][0])

    async def newest(self) -> int:
        return int(await self.conn.fetchval("SELECT max(started_at) FROM recording"))


async def append_raw_pg(conn: asyncpg.Connection, event: object, mac_key: bytes) -> int:
    """What PostgresIndex does for one event, with nothing around it: the limit."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_LOCK)
        head = await conn.fetchrow(HEAD)
        seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
        row = seal(seq, prev, canonical_body(seq, event), mac_key)  # type: ignore[arg-type]
        await conn.execute(INSERT, seq, row.body.decode("utf-8"), row.prev_hash, row.hash, row.mac)
    return seq


class _PlainSeek:
    """Stands in for a PostgresIndex in its seek (which reads only through `_rows` and
    `_ends`), so the raw jump runs whatever seek logic the index has today."""

    dialect = DIALECT
    _ends = SqlBrowse._ends

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def _rows(self, query: sql.Query) -> Rows:
        return cast(Rows, await self._conn.fetch(query.sql, *query.params))
