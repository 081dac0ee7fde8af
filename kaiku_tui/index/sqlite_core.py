"""The base of the SQLite mixins: connections, the writer thread, audited transactions.

Reads go through aiosqlite, one `execute_fetchall` per page. Writes run as one plain
function per transaction on a dedicated writer thread (`Writer`): BEGIN IMMEDIATE,
the audit event, the change, COMMIT — a single hop, and no `await` while SQLite's
write lock is held (sqlite.py says why).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from kaiku_tui.audit.chain import GENESIS, AuditEvent, canonical_body, seal
from kaiku_tui.errors import AuditFailure, StoreError
from kaiku_tui.index import sql

T = TypeVar("T")
DIALECT = sql.Dialect(indexed_by=True)

# The last row of the table's own b-tree. NOT INDEXED: with statistics taken when
# the log was small, SQLite walked audit_by_actor and sorted (378 ms at 1 M rows).
AUDIT_HEAD = "SELECT seq, hash FROM audit_event NOT INDEXED ORDER BY seq DESC LIMIT 1"


class SqliteCore:
    """What every SQLite mixin stands on: the two read connections and the writer thread.

    Reads: `fetch` (or `_rows` for a built query) on the first reader, `_slow_rows` on
    the second. Writes: `audited` / `audited_all`, one transaction with its events.
    """

    dialect = DIALECT

    def __init__(
        self,
        path: Path,
        readers: tuple[aiosqlite.Connection, aiosqlite.Connection],
        writer: Writer,
    ) -> None:
        self.location = str(path)
        self._reader, self._slow_reader = readers
        self._writer = writer

    async def close(self) -> None:
        try:
            await self._reader.close()
            await self._slow_reader.close()
        finally:
            await self._writer.close()

    async def on_writer(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` with the write connection, on the writer's thread, outside any
        transaction: for upkeep (index/upkeep.py) and for a copy's unaudited batches.
        It queues behind writes, never beside them."""
        return await self._writer.run(fn)

    async def audited(
        self, event: AuditEvent, change: Callable[[sqlite3.Connection], T] | None
    ) -> T:
        """One transaction: the audit event, then the change; both commit or neither."""
        return await self._writer.audited(event, change)

    async def audited_all(
        self, events: Sequence[AuditEvent], change: Callable[[sqlite3.Connection], T]
    ) -> T:
        """One transaction: several events (one per recording of a purge), then the change."""
        return await self._writer.audited_all(events, change)

    async def fetch(self, query: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        try:
            return list(await self._reader.execute_fetchall(query, params))
        except sqlite3.Error as exc:
            raise StoreError(f"index {self.location}: {exc}") from None

    async def _rows(self, query: sql.Query) -> list[sqlite3.Row]:
        return await self.fetch(query.sql, query.params)

    async def _slow_rows(self, query: sql.Query) -> list[sqlite3.Row]:
        """On the second reader; a caller that gives up (a cancelled worker) interrupts
        the query, so the next one does not wait for a count nobody reads."""
        try:
            return list(await self._slow_reader.execute_fetchall(query.sql, query.params))
        except asyncio.CancelledError:
            await self._slow_reader.interrupt()
            raise
        except sqlite3.Error as exc:
            raise StoreError(f"index {self.location}: {exc}") from None


class Writer:
    """The write connection, on its own thread; each transaction is one function call."""

    def __init__(self, path: Path, mac_key: bytes, busy_timeout_ms: int) -> None:
        self._path = path
        self._mac_key = mac_key
        self._busy_timeout_ms = busy_timeout_ms
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="kaiku-sqlite-writer")
        self._db: sqlite3.Connection | None = None

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._db is None:
            self._db = _connect(self._path, self._busy_timeout_ms)
        return fn(self._db)

    async def close(self) -> None:
        def shut(db: sqlite3.Connection) -> None:
            db.close()

        if self._db is not None:
            await self.run(shut)
            self._db = None
        self._pool.shutdown(wait=True)

    async def audited(
        self, event: AuditEvent, change: Callable[[sqlite3.Connection], T] | None
    ) -> T:
        """One transaction: the audit event, then the change; both commit or neither."""
        return await self.run(lambda db: self._transaction(db, (event,), change))

    async def audited_all(
        self, events: Sequence[AuditEvent], change: Callable[[sqlite3.Connection], T]
    ) -> T:
        """One transaction: several events (one per recording of a purge), then the change."""
        return await self.run(lambda db: self._transaction(db, events, change))

    def _transaction(
        self,
        db: sqlite3.Connection,
        events: Sequence[AuditEvent],
        change: Callable[[sqlite3.Connection], T] | None,
    ) -> Any:
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise AuditFailure(f"audit log {self._path}: cannot start a write ({exc})") from None
        try:
            seq = 0
            for event in events:
                seq = self._append(db, event)
            result = change(db) if change is not None else seq
            db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"index {self._path}: the change was refused ({exc})") from None
            raise
        return result

    def _append(self, db: sqlite3.Connection, event: AuditEvent) -> int:
        try:
            head = db.execute(AUDIT_HEAD)
            last = head.fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            row = seal(seq, prev, canonical_body(seq, event), self._mac_key)
            db.execute(
                "INSERT INTO audit_event (seq, body, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?)",
                (seq, row.body.decode("utf-8"), row.prev_hash, row.hash, row.mac),
            )
        except sqlite3.Error as exc:
            raise AuditFailure(
                f"audit log {self._path}: the event could not be written ({exc}); "
                "nothing was changed or shown"
            ) from None
        return seq


async def open_reader(path: Path, busy_timeout_ms: int) -> aiosqlite.Connection:
    reader = await aiosqlite.connect(path, isolation_level=None)
    await reader.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    await reader.execute("PRAGMA query_only = 1")
    return reader


def _connect(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    if db.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
        raise StoreError(f"index {path}: cannot switch to WAL mode")
    db.execute("PRAGMA synchronous = FULL")  # an audit event is durable before it is acted on
    db.execute("PRAGMA foreign_keys = ON")
    # Deleted content is overwritten with zeros, not left in free pages: a purged
    # recording's ciphertext and wrapped key must not survive in the file.
    db.execute("PRAGMA secure_delete = ON")
    return db


def date_text(day: date | None) -> str | None:
    return day.isoformat() if day else None
