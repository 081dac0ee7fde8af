"""Recordings in PostgreSQL: added as column arrays, browsed by `SqlBrowse`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.index import rowformat
from kaiku_tui.index.browsing import SqlBrowse
from kaiku_tui.index.postgres_core import (
    DIALECT,
    PostgresCore,
)
from kaiku_tui.index.protocols import (
    Recordings,
)
from kaiku_tui.index.records import (
    AddResult,
    StoredRecording,
)

if TYPE_CHECKING:
    from kaiku_tui.index.postgres_core import Connection


class PostgresRecordings(PostgresCore, SqlBrowse, Recordings):
    """`Recordings` on PostgreSQL (`page`, `count`, `agents`, `seek`: browsing.py)."""

    async def add_recordings(self, rows: Sequence[StoredRecording], event: AuditEvent) -> AddResult:
        """All rows in one INSERT; a duplicate, in the index or earlier in the batch, is
        skipped (the first kept, as in SQLite), tags and all."""
        first: dict[tuple[str, str], StoredRecording] = {}
        for r in rows:
            first.setdefault((r.summary.org, r.summary.source_id), r)

        async def change(conn: Connection) -> AddResult:
            added = await _insert_recordings(conn, list(first.values())) if first else 0
            return AddResult(added, len(rows) - added)

        return (await self.audited(event, change))[1]

    async def get_recording(self, record_id: int) -> StoredRecording | None:
        rows = await self.fetch(
            f"SELECT {DIALECT.summary}, {rowformat.STORED_COLUMNS} FROM recording r "
            "WHERE r.id = $1",
            record_id,
        )
        return rowformat.stored_of(tuple(rows[0])) if rows else None

    async def recordings_kept(self, record_ids: Sequence[int], destroyed_since: int) -> set[int]:
        rows = await self.fetch(
            "SELECT id FROM recording WHERE id = ANY($1::bigint[]) UNION "
            "SELECT id FROM tombstone WHERE id = ANY($1::bigint[]) AND destroyed_at >= $2",
            list(record_ids),
            destroyed_since,
        )
        return {int(r[0]) for r in rows}

    async def known_sources(self, org: str, source_ids: Sequence[str]) -> set[str]:
        rows = await self.fetch(
            "SELECT source_id FROM recording WHERE org = $1 AND source_id = ANY($2::text[])",
            org,
            list(source_ids),
        )
        return {r[0] for r in rows}


async def _insert_recordings(conn: Connection, rows: Sequence[StoredRecording]) -> int:
    """Insert the rows (unique keys) as column arrays; tag those inserted; count them."""
    columns = [list(c) for c in zip(*map(rowformat.recording_values, rows), strict=True)]
    inserted = await conn.fetch(_INSERT_RECORDINGS, *columns)
    tags = {(r.summary.org, r.summary.source_id): set(r.summary.tags) for r in rows}
    pairs = [(tag, rec[0]) for rec in inserted for tag in tags[rec[1], rec[2]]]
    if pairs:
        await conn.execute(_INSERT_TAGS, [p[0] for p in pairs], [p[1] for p in pairs])
    return len(inserted)


# The types of rowformat.RECORDING_COLUMNS, for one array parameter each.
_RECORDING_TYPES = (
    "text", "smallint", "smallint", "bigint", "bigint", "text", "text", "text", "text", "bytea",
    "bytea", "bytea", "text", "bytea", "boolean", "boolean", "bigint",
)  # fmt: skip
_INSERT_RECORDINGS = (
    f"INSERT INTO recording ({rowformat.RECORDING_COLUMNS}) SELECT * FROM unnest("
    + ", ".join(f"${n}::{t}[]" for n, t in enumerate(_RECORDING_TYPES, start=1))
    + ") ON CONFLICT (org, source_id) DO NOTHING RETURNING id, org, source_id"
)
_INSERT_TAGS = (
    "INSERT INTO recording_tag (tag, recording_id) SELECT * FROM unnest($1::text[], $2::bigint[]) "
    "ON CONFLICT DO NOTHING"
)
