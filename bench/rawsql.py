"""The limit: the index's own SQL on plain `sqlite3` connections in the same process.

The SQL text and parameters come from `kaiku_tui.index.sql` with the SQLite
dialect, so any difference between this and `SqliteIndex` is the cost of
aiosqlite's thread hop, row conversion and the register's checks, never a
different query. The reader is set up as the index's reader is; the writer as
its writer (WAL, synchronous=FULL), for the audit append a search makes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from auditbench import append_raw, search_event

from kaiku_tui.domain.browse import Cursor, RecordingFilter, Sort
from kaiku_tui.index import sql
from kaiku_tui.index.sqlite import SqliteIndex
from kaiku_tui.index.sqlite_core import DIALECT

Rows = list[tuple[Any, ...]]


class RawSqlite:
    """A plain reader and a plain writer on the register's database file.

    Its methods are coroutines only so that the matrix drives SQLite and PostgreSQL
    (bench/rawpg.py) alike; none of them suspends, so awaiting one costs ~1 µs."""

    dialect = DIALECT

    def __init__(self, path: Path, mac_key: bytes, login: str) -> None:
        self.reader = sqlite3.connect(path, isolation_level=None)
        self.writer = sqlite3.connect(path, isolation_level=None)
        self._mac_key = mac_key
        self._login = login
        self.reader.execute("PRAGMA busy_timeout = 5000")
        self.reader.execute("PRAGMA query_only = 1")
        self.writer.execute("PRAGMA busy_timeout = 5000")
        self.writer.execute("PRAGMA journal_mode = WAL")
        self.writer.execute("PRAGMA synchronous = FULL")

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.writer.close()

    async def run(self, query: sql.Query | None) -> Rows:
        return [] if query is None else self.reader.execute(query.sql, query.params).fetchall()

    async def page(
        self, where: RecordingFilter, sort: Sort, after: Cursor | None, limit: int
    ) -> Rows:
        """The rows `SqliteIndex.page` would fetch (it asks for one more, to know if more)."""
        return await self.run(sql.page_query(DIALECT, where, sort, after, limit + 1, None))

    async def seek(self, where: RecordingFilter, sort: Sort, fraction: float) -> Cursor | None:
        """`SqliteIndex.seek`'s own code, with this plain connection under its `_fetch`."""
        stand_in = cast(SqliteIndex, _PlainSeek(self.reader))
        return await SqliteIndex.seek(stand_in, where, sort, fraction)

    async def audit(self, rows: Rows, limit: int) -> int:
        """The durable append a search makes, revealing the ids of the page's rows."""
        event = search_event(self._login, [r[0] for r in rows[:limit]])
        return append_raw(self.writer, event, self._mac_key)

    async def explain(self, query: sql.Query) -> list[str]:
        plan = self.reader.execute("EXPLAIN QUERY PLAN " + query.sql, query.params).fetchall()
        return [row[-1] for row in plan]

    async def count(self, where: RecordingFilter) -> int:
        return int((await self.run(sql.count_query(DIALECT, where, None, None)))[0][0])

    async def newest(self) -> int:
        return int(self.reader.execute("SELECT max(started_at) FROM recording").fetchone()[0])


class _PlainSeek:
    """Stands in for a SqliteIndex in its seek (which reads only through `dialect`,
    `_ends`, `_rows` and so `_fetch`), so the raw jump runs whatever seek logic the
    index has today, with a plain synchronous fetch instead of aiosqlite's thread hop."""

    dialect = DIALECT
    _ends = SqliteIndex._ends
    _rows = SqliteIndex._rows  # the shared seek (index/browsing.py) reads through these

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    async def _fetch(self, query: str, params: Sequence[object] = ()) -> Rows:
        return self._db.execute(query, params).fetchall()
