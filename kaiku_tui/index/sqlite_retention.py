"""Retention and legal holds in SQLite (the SQL is retention_sql.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.domain.retention import Hold, Tombstone
from kaiku_tui.errors import NotFound, StoreError, UsageError
from kaiku_tui.index import retention_sql as rsql
from kaiku_tui.index.protocols import (
    RetentionStore,
)
from kaiku_tui.index.records import (
    DueRecording,
    StoredTombstone,
)
from kaiku_tui.index.sqlite_core import SqliteCore, date_text


class SqliteRetention(SqliteCore, RetentionStore):
    """`RetentionStore` on SQLite."""

    async def set_org_rule(
        self,
        code: str,
        contract_end: date | None,
        retention_days: int | None,
        event: AuditEvent,
        *,
        mac: bytes,
        was: bytes | None,
    ) -> None:
        values = (date_text(contract_end), retention_days, mac, code, was)

        def change(db: sqlite3.Connection) -> None:
            if db.execute(rsql.SET_ORG_RULE, values).rowcount:
                return
            if db.execute(rsql.ORG_EXISTS, (code,)).fetchone() is None:
                raise NotFound(f"organisation {code!r} does not exist")
            raise StoreError(f"organisation {code} was changed meanwhile; try again")

        await self.audited(event, change)

    async def retention_count(self, org: str, started_from: int, started_before: int) -> int:
        rows = await self.fetch(rsql.COUNT_RANGE, (org, started_from, started_before))
        return int(rows[0][0])

    async def retention_rows(
        self, org: str, started_before: int, after: tuple[int, int] | None, limit: int
    ) -> list[DueRecording]:
        if after is None:
            rows = await self.fetch(rsql.DUE_FIRST, (org, started_before, limit))
        else:
            params = (org, started_before, after[0], after[0], after[1], limit)
            rows = await self.fetch(rsql.DUE_AFTER, params)
        return [rsql.due_of(r) for r in rows]

    async def held(self, org: str) -> list[tuple[int, Hold]]:
        rows = await self.fetch(rsql.HELD_IN_ORG, (org, org))
        return [(r[0], rsql.hold_of(r[1:])) for r in rows]

    async def holds_on(self, record_id: int) -> list[Hold]:
        return [rsql.hold_of(r) for r in await self.fetch(rsql.HOLDS_ON, (record_id, record_id))]

    async def add_hold(self, hold: Hold, event: AuditEvent) -> int:
        values = rsql.hold_values(hold)

        def change(db: sqlite3.Connection) -> int:
            return int(db.execute(rsql.INSERT_HOLD, values).fetchone()[0])

        return await self.audited(event, change)

    async def get_hold(self, hold_id: int) -> Hold | None:
        rows = await self.fetch(rsql.GET_HOLD, (hold_id,))
        return rsql.hold_of(rows[0]) if rows else None

    async def release_hold(self, hold_id: int, by: str, at: int, event: AuditEvent) -> None:
        def change(db: sqlite3.Connection) -> None:
            if not db.execute(rsql.RELEASE_HOLD, (by, at, hold_id)).rowcount:
                raise UsageError(f"hold {hold_id} does not exist or is released already")

        await self.audited(event, change)

    async def list_holds(self, *, active_only: bool) -> list[Hold]:
        query = rsql.ACTIVE_HOLDS if active_only else rsql.ALL_HOLDS
        return [rsql.hold_of(r) for r in await self.fetch(query)]

    async def purge(
        self,
        tombstones: Sequence[StoredTombstone],
        events: Sequence[AuditEvent],
        blobs_gone: Sequence[int],
    ) -> None:
        ids = [t.tombstone.id for t in tombstones]
        values = [rsql.tombstone_values(t) for t in tombstones]

        def change(db: sqlite3.Connection) -> None:
            _clear_blob_refs(db, blobs_gone)
            if not ids:
                return
            listed = _in_list(len(ids))
            held = db.execute(rsql.held_among(listed), (*ids, *ids)).fetchall()
            if held:
                raise StoreError(f"recording {held[0][0]} was put on hold meanwhile")
            db.executemany(rsql.INSERT_TOMBSTONE, values)
            for statement in rsql.purge_statements(listed):
                db.execute(statement, ids)
            if db.execute(rsql.delete_recordings(listed), ids).rowcount != len(ids):
                raise StoreError("a recording of the batch is gone already (another purge?)")

        await self.audited_all(events, change)

    async def blobs_gone(self, record_ids: Sequence[int], event: AuditEvent) -> None:
        await self.audited(event, lambda db: _clear_blob_refs(db, record_ids))

    async def pending_blobs(self, limit: int) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in await self.fetch(rsql.PENDING_BLOBS, (limit,))]

    async def tombstone(self, record_id: int) -> Tombstone | None:
        rows = await self.fetch(rsql.TOMBSTONE, (record_id,))
        return rsql.tombstone_of(rows[0]) if rows else None

    async def shred_org(
        self, code: str, event: AuditEvent, *, mac: bytes, was: bytes | None
    ) -> None:
        def change(db: sqlite3.Connection) -> None:
            if db.execute(rsql.ANY_LEFT, (code,)).fetchone() is not None:
                raise StoreError(f"organisation {code} still has recordings: its key stays")
            if not db.execute(rsql.SHRED_ORG, (mac, code, was)).rowcount:
                raise StoreError(f"organisation {code}: no key to destroy")
            db.execute(rsql.SHRED_CASES, (code,))
            db.execute(rsql.UPSERT_REKEY, (rsql.REKEY,))

        await self.audited(event, change)


def _in_list(n: int) -> str:
    return f"IN ({', '.join('?' * n)})"


def _clear_blob_refs(db: sqlite3.Connection, ids: Sequence[int]) -> None:
    if ids:
        db.execute(rsql.clear_blob_refs(_in_list(len(ids))), list(ids))
