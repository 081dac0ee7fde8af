"""Retention and legal holds in PostgreSQL (the SQL is retention_sql.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.domain.retention import Hold, Tombstone
from kaiku_tui.errors import NotFound, StoreError, UsageError
from kaiku_tui.index import annotation_sql as asql
from kaiku_tui.index import retention_sql as rsql
from kaiku_tui.index.postgres_core import (
    PostgresCore,
    affected,
)
from kaiku_tui.index.protocols import (
    RetentionStore,
)
from kaiku_tui.index.records import (
    DueRecording,
    StoredTombstone,
)

if TYPE_CHECKING:
    from kaiku_tui.index.postgres_core import Connection


class PostgresRetention(PostgresCore, RetentionStore):
    """`RetentionStore` on PostgreSQL."""

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
        async def change(conn: Connection) -> None:
            done = await conn.execute(_SET_ORG_RULE, contract_end, retention_days, mac, code, was)
            if affected(done) == 1:
                return
            if await conn.fetchval(_ORG_EXISTS, code) is None:
                raise NotFound(f"organisation {code!r} does not exist")
            raise StoreError(f"organisation {code} was changed meanwhile; try again")

        await self.audited(event, change)

    async def retention_count(self, org: str, started_from: int, started_before: int) -> int:
        rows = await self.fetch(_COUNT_RANGE, org, started_from, started_before)
        return int(rows[0][0])

    async def retention_rows(
        self, org: str, started_before: int, after: tuple[int, int] | None, limit: int
    ) -> list[DueRecording]:
        if after is None:
            rows = await self.fetch(_DUE_FIRST, org, started_before, limit)
        else:
            ts, last = after
            rows = await self.fetch(_DUE_AFTER, org, started_before, ts, ts, last, limit)
        return [rsql.due_of(tuple(r)) for r in rows]

    async def held(self, org: str) -> list[tuple[int, Hold]]:
        rows = await self.fetch(_HELD_IN_ORG, org, org)
        return [(r[0], rsql.hold_of(tuple(r)[1:])) for r in rows]

    async def holds_on(self, record_id: int) -> list[Hold]:
        return [rsql.hold_of(tuple(r)) for r in await self.fetch(_HOLDS_ON, record_id, record_id)]

    async def add_hold(self, hold: Hold, event: AuditEvent) -> int:
        async def change(conn: Connection) -> int:
            return int(await conn.fetchval(_INSERT_HOLD, *rsql.hold_values(hold)))

        return (await self.audited(event, change))[1]

    async def get_hold(self, hold_id: int) -> Hold | None:
        rows = await self.fetch(_GET_HOLD, hold_id)
        return rsql.hold_of(tuple(rows[0])) if rows else None

    async def release_hold(self, hold_id: int, by: str, at: int, event: AuditEvent) -> None:
        async def change(conn: Connection) -> None:
            if affected(await conn.execute(_RELEASE_HOLD, by, at, hold_id)) == 0:
                raise UsageError(f"hold {hold_id} does not exist or is released already")

        await self.audited(event, change)

    async def list_holds(self, *, active_only: bool) -> list[Hold]:
        query = rsql.ACTIVE_HOLDS if active_only else rsql.ALL_HOLDS
        return [rsql.hold_of(tuple(r)) for r in await self.fetch(query)]

    async def purge(
        self,
        tombstones: Sequence[StoredTombstone],
        events: Sequence[AuditEvent],
        blobs_gone: Sequence[int],
    ) -> None:
        ids = [t.tombstone.id for t in tombstones]
        values = [rsql.tombstone_values(t) for t in tombstones]

        async def change(conn: Connection) -> None:
            if blobs_gone:
                await conn.execute(_CLEAR_BLOB_REFS, list(blobs_gone))
            if not ids:
                return
            held = await conn.fetch(_HELD_AMONG, ids)
            if held:
                raise StoreError(f"recording {held[0][0]} was put on hold meanwhile")
            await conn.executemany(_INSERT_TOMBSTONE, values)
            for statement in _PURGE_STATEMENTS:
                await conn.execute(statement, ids)
            if affected(await conn.execute(_DELETE_RECORDINGS, ids)) != len(ids):
                raise StoreError("a recording of the batch is gone already (another purge?)")

        await self.audited_all(events, change)

    async def blobs_gone(self, record_ids: Sequence[int], event: AuditEvent) -> None:
        async def change(conn: Connection) -> None:
            await conn.execute(_CLEAR_BLOB_REFS, list(record_ids))

        await self.audited(event, change)

    async def pending_blobs(self, limit: int) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in await self.fetch(_PENDING_BLOBS, limit)]

    async def tombstone(self, record_id: int) -> Tombstone | None:
        rows = await self.fetch(_TOMBSTONE, record_id)
        return rsql.tombstone_of(tuple(rows[0])) if rows else None

    async def shred_org(
        self, code: str, event: AuditEvent, *, mac: bytes, was: bytes | None
    ) -> None:
        async def change(conn: Connection) -> None:
            if await conn.fetchval(_ANY_LEFT, code) is not None:
                raise StoreError(f"organisation {code} still has recordings: its key stays")
            if affected(await conn.execute(_SHRED_ORG, mac, code, was)) == 0:
                raise StoreError(f"organisation {code}: no key to destroy")
            await conn.execute(_SHRED_CASES, code)
            await conn.execute(_UPSERT_REKEY, rsql.REKEY)

        await self.audited(event, change)


_SET_ORG_RULE = asql.numbered(rsql.SET_ORG_RULE)
_ORG_EXISTS = asql.numbered(rsql.ORG_EXISTS)
_COUNT_RANGE = asql.numbered(rsql.COUNT_RANGE)
_DUE_FIRST = asql.numbered(rsql.DUE_FIRST)
_DUE_AFTER = asql.numbered(rsql.DUE_AFTER)
_HELD_IN_ORG = asql.numbered(rsql.HELD_IN_ORG)
_HOLDS_ON = asql.numbered(rsql.HOLDS_ON)
_INSERT_HOLD = asql.numbered(rsql.INSERT_HOLD)
_GET_HOLD = asql.numbered(rsql.GET_HOLD)
_RELEASE_HOLD = asql.numbered(rsql.RELEASE_HOLD)
_INSERT_TOMBSTONE = asql.numbered(rsql.INSERT_TOMBSTONE)
_TOMBSTONE = asql.numbered(rsql.TOMBSTONE)
_PENDING_BLOBS = asql.numbered(rsql.PENDING_BLOBS)
_SHRED_ORG = asql.numbered(rsql.SHRED_ORG)
_SHRED_CASES = asql.numbered(rsql.SHRED_CASES)
_ANY_LEFT = asql.numbered(rsql.ANY_LEFT)
_UPSERT_REKEY = asql.numbered(rsql.UPSERT_REKEY)
_IDS = "= ANY($1::bigint[])"
_HELD_AMONG = rsql.held_among(_IDS)
_PURGE_STATEMENTS = rsql.purge_statements(_IDS)
_DELETE_RECORDINGS = rsql.delete_recordings(_IDS)
_CLEAR_BLOB_REFS = rsql.clear_blob_refs(_IDS)
