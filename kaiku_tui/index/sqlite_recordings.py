"""Recordings in SQLite: added in one audited transaction, browsed by `SqlBrowse`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.index import rowformat, sql
from kaiku_tui.index.browsing import SqlBrowse
from kaiku_tui.index.protocols import (
    Recordings,
)
from kaiku_tui.index.records import (
    AddResult,
    StoredRecording,
)
from kaiku_tui.index.sqlite_core import SqliteCore


class SqliteRecordings(SqliteCore, SqlBrowse, Recordings):
    """`Recordings` on SQLite (`page`, `count`, `agents`, `seek`: browsing.py)."""

    async def add_recordings(self, rows: Sequence[StoredRecording], event: AuditEvent) -> AddResult:
        values = [(rowformat.recording_values(r), r.summary.tags) for r in rows]

        def change(db: sqlite3.Connection) -> AddResult:
            added = 0
            floor = _tombstone_floor(db)
            for row, tags in values:
                if floor is None:
                    inserted = db.execute(_INSERT_RECORDING, row)
                else:  # past every destroyed id: an id names one recording, ever
                    inserted = db.execute(_INSERT_RECORDING_WITH_ID, (floor + 1, *row))
                if inserted.rowcount == 1:  # a duplicate is skipped, tags and all
                    added += 1
                    floor = None
                    db.executemany(_INSERT_TAG, [(t, inserted.lastrowid) for t in tags])
            return AddResult(added, len(values) - added)

        return await self.audited(event, change)

    async def get_recording(self, record_id: int) -> StoredRecording | None:
        rows = await self.fetch(
            f"SELECT {sql.SUMMARY_COLUMNS}, {rowformat.STORED_COLUMNS} FROM recording r "
            "WHERE r.id = ?",
            (record_id,),
        )
        return rowformat.stored_of(rows[0]) if rows else None

    async def recordings_kept(self, record_ids: Sequence[int], destroyed_since: int) -> set[int]:
        ids = json.dumps(list(record_ids))
        rows = await self.fetch(
            "SELECT id FROM recording WHERE id IN (SELECT value FROM json_each(?)) UNION "
            "SELECT id FROM tombstone WHERE id IN (SELECT value FROM json_each(?)) "
            "AND destroyed_at >= ?",
            (ids, ids, destroyed_since),
        )
        return {int(r[0]) for r in rows}

    async def known_sources(self, org: str, source_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        ids = list(dict.fromkeys(source_ids))
        for start in range(0, len(ids), _IN_CHUNK):  # SQLite limits bound parameters
            chunk = ids[start : start + _IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = await self.fetch(
                f"SELECT source_id FROM recording WHERE org = ? AND source_id IN ({marks})",
                (org, *chunk),
            )
            found.update(r[0] for r in rows)
        return found


_INSERT_RECORDING = (
    f"INSERT OR IGNORE INTO recording ({rowformat.RECORDING_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_RECORDING_WITH_ID = (
    f"INSERT OR IGNORE INTO recording (id, {rowformat.RECORDING_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_IN_CHUNK = 500  # bound parameters per IN (...) list
_INSERT_TAG = "INSERT OR IGNORE INTO recording_tag (tag, recording_id) VALUES (?, ?)"


def _tombstone_floor(db: sqlite3.Connection) -> int | None:
    """The largest destroyed id, if no recording is above it. SQLite gives a new row the
    largest rowid + 1, so without this a purge of the newest recordings would let the
    next import reuse their ids (the audit log names recordings by id)."""
    row = db.execute(
        "SELECT (SELECT max(id) FROM tombstone), (SELECT max(id) FROM recording)"
    ).fetchone()
    tomb, rec = row
    return tomb if tomb is not None and (rec is None or tomb > rec) else None
