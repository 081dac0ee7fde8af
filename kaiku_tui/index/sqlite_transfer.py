"""Copying a whole register into or out of SQLite (`kaiku-tui migrate`)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from kaiku_tui.errors import StoreError
from kaiku_tui.index import transfer
from kaiku_tui.index.protocols import (
    Transfer,
)
from kaiku_tui.index.records import (
    Export,
    Row,
)
from kaiku_tui.index.sqlite_core import SqliteCore


class SqliteTransfer(SqliteCore, Transfer):
    """`Transfer` on SQLite."""

    @asynccontextmanager
    async def export(self) -> AsyncIterator[Export]:
        """A read transaction on a connection of its own: WAL keeps its snapshot while
        other processes go on writing (the WAL grows until it ends)."""
        db = await asyncio.to_thread(_snapshot_connection, self.location)
        try:
            yield _SqliteExport(db, self.location)
        finally:
            await asyncio.to_thread(db.close)

    async def import_rows(self, table: str, rows: Sequence[Row]) -> None:
        t = transfer.table(table)
        if t is transfer.REGISTER_INFO:
            statement = transfer.upsert_info(_qmark)
        else:
            marks = ", ".join("?" * len(t.columns))
            statement = f"INSERT INTO {t.name} ({t.column_list}) VALUES ({marks})"
        values = [transfer.to_sqlite(t, r) for r in rows]
        await self._write(lambda db: db.executemany(statement, values))

    async def finish_import(self, drop_info: str, facts: Sequence[Row]) -> None:
        def finish(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM register_info WHERE name = ?", (drop_info,))
            db.executemany(transfer.upsert_info(_qmark), facts)

        await self._write(finish)  # an INTEGER PRIMARY KEY goes on from the largest id

    async def _write(self, change: Callable[[sqlite3.Connection], object]) -> None:
        """One unaudited transaction (a copy's batch) on the writer thread."""

        def run(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                change(db)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

        try:
            await self.on_writer(run)
        except sqlite3.Error as exc:
            raise StoreError(f"index {self.location}: the copy was refused ({exc})") from None


class _SqliteExport(Export):
    def __init__(self, db: sqlite3.Connection, location: str) -> None:
        self._db = db
        self._location = location

    async def rows(self, table: str, after: Row | None, limit: int) -> list[Row]:
        t = transfer.table(table)
        return await transfer.batch(self._fetch(t), t, _qmark, after, limit)

    async def last(self, table: str) -> Row | None:
        t = transfer.table(table)
        found = await self._fetch(t)(transfer.queries(t, _qmark)[3], ())
        return found[0] if found else None

    def _fetch(self, t: transfer.Table) -> transfer.Fetch:
        async def fetch(query: str, params: Sequence[object]) -> list[Row]:
            try:
                rows = await asyncio.to_thread(_fetchall, self._db, query, params)
            except sqlite3.Error as exc:
                raise StoreError(f"index {self._location}: reading {t.name} ({exc})") from None
            return [transfer.from_sqlite(t, r) for r in rows]

        return fetch


def _fetchall(db: sqlite3.Connection, query: str, params: Sequence[object]) -> list[Any]:
    return db.execute(query, params).fetchall()


def _qmark(n: int) -> str:
    return "?"


def _snapshot_connection(location: str) -> sqlite3.Connection:
    db = sqlite3.connect(
        f"file:{location}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    db.execute("BEGIN")
    db.execute("SELECT count(*) FROM register_info").fetchone()  # the snapshot starts here
    return db
