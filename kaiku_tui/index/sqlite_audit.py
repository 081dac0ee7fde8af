"""The audit log in SQLite: appended on the writer thread, scanned on a connection of its own."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.audit.cut import CUT_INFO, Cut
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.errors import StoreError
from kaiku_tui.index import rowformat
from kaiku_tui.index.protocols import (
    AuditStore,
)
from kaiku_tui.index.records import (
    AuditRow,
)
from kaiku_tui.index.sqlite_core import AUDIT_HEAD, SqliteCore


class SqliteAudit(SqliteCore, AuditStore):
    """`AuditStore` on SQLite."""

    async def append_audit(self, event: AuditEvent) -> int:
        return await self.audited(event, None)

    async def audit_rows(self, after_seq: int, limit: int) -> list[AuditRow]:
        rows = await self.fetch(_AUDIT_ROWS, (after_seq, limit))
        return [AuditRow(*r) for r in rows]

    async def audit_scan(
        self, after_seq: int = 0, until_seq: int | None = None, batch: int = 20_000
    ) -> AsyncGenerator[Sequence[AuditRow], None]:
        """Rows as plain tuples from a connection of its own that reads text as bytes:
        no per-row conversion, about a million rows a second. (Reading the next batch
        ahead on a thread was measured slower: the two threads fight for the GIL.)"""
        last = HIGHEST_SEQ if until_seq is None else until_seq
        db = await asyncio.to_thread(_scan_connection, self.location)
        try:
            while rows := await asyncio.to_thread(_scan_batch, db, after_seq, last, batch):
                yield rows
                after_seq = rows[-1][0]
        finally:
            await asyncio.to_thread(db.close)

    async def audit_bodies(self, query: AuditQuery) -> list[bytes]:
        terms, params = [], []
        if query.since is not None:
            terms.append("at >= ?")
            params.append(rowformat.since_text(query.since))
        for column in ("actor", "action"):
            value = getattr(query, column)
            if value is not None:
                terms.append(f"{column} = ?")
                params.append(value)
        cond = " AND ".join(terms) or "1 = 1"
        rows = await self.fetch(
            f"SELECT CAST(body AS BLOB) FROM (SELECT seq, body FROM audit_event WHERE {cond} "
            "ORDER BY seq DESC LIMIT ?) ORDER BY seq",
            (*params, query.limit),
        )
        return [r[0] for r in rows]

    async def audit_head(self) -> tuple[int, bytes] | None:
        rows = await self.fetch(AUDIT_HEAD)
        return (rows[0][0], rows[0][1]) if rows else None

    async def cut_audit(self, upto: int, upto_hash: bytes, event: AuditEvent) -> int:
        marker = Cut(upto, upto_hash).marker

        def change(db: sqlite3.Connection) -> int:
            row = db.execute("SELECT hash FROM audit_event WHERE seq = ?", (upto,)).fetchone()
            if row is None or bytes(row[0]) != upto_hash:
                raise StoreError(f"audit seq {upto} with the verified hash is not in the log")
            db.execute(
                "INSERT INTO register_info (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (CUT_INFO, marker),
            )  # first: the trigger lets rows go only up to the recorded cut
            db.execute("DELETE FROM audit_revealed WHERE seq <= ?", (upto,))  # migration 9
            return db.execute("DELETE FROM audit_event WHERE seq <= ?", (upto,)).rowcount

        return await self.audited(event, change)


HIGHEST_SEQ = 2**63 - 1
_AUDIT_ROWS = (
    "SELECT seq, CAST(body AS BLOB), prev_hash, hash, mac FROM audit_event "
    "WHERE seq > ? ORDER BY seq LIMIT ?"
)


def _scan_connection(location: str) -> sqlite3.Connection:
    db = sqlite3.connect(f"file:{location}?mode=ro", uri=True, check_same_thread=False)
    db.text_factory = bytes  # the body as the bytes that were hashed
    return db


def _scan_batch(db: sqlite3.Connection, after_seq: int, last: int, batch: int) -> list[Any]:
    query = (
        "SELECT seq, body, prev_hash, hash, mac FROM audit_event "
        "WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"
    )
    try:
        return db.execute(query, (after_seq, last, batch)).fetchall()
    except sqlite3.Error as exc:
        raise StoreError(f"audit log: reading after seq {after_seq} failed ({exc})") from None
