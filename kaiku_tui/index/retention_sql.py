"""The SQL of retention and legal holds, shared by both backends.

Written with `?` placeholders (`annotation_sql.numbered` spells them for
PostgreSQL); an id list is spelled per backend (`IN (?, …)` or `= ANY($n)`),
so the statements that take one are functions of that spelling.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kaiku_tui.domain.access import Purpose
from kaiku_tui.domain.retention import Hold, Tombstone
from kaiku_tui.index import sql
from kaiku_tui.index.records import DueRecording, StoredTombstone

# A row MAC'd organisation changes only while its MAC is the one it was read with (`was`).
SET_ORG_RULE = (
    "UPDATE organisation SET contract_end = ?, retention_days = ?, mac = ? "
    "WHERE code = ? AND mac IS NOT DISTINCT FROM ?"
)
ORG_EXISTS = "SELECT 1 FROM organisation WHERE code = ?"
COUNT_RANGE = "SELECT count(*) FROM recording WHERE org = ? AND started_at >= ? AND started_at < ?"
_DUE_COLUMNS = "id, started_at, duration_s, channel, phone_bidx, blob_ref"
DUE_FIRST = (
    f"SELECT {_DUE_COLUMNS} FROM recording WHERE org = ? AND started_at < ? "
    "ORDER BY started_at, id LIMIT ?"
)
# The keyset bound spelled out (docs/ARCHITECTURE.md: SQLite does not narrow a range
# from a row value).
DUE_AFTER = (
    f"SELECT {_DUE_COLUMNS} FROM recording WHERE org = ? AND started_at < ? "
    "AND started_at >= ? AND (started_at > ? OR id > ?) ORDER BY started_at, id LIMIT ?"
)

HOLD_COLUMNS = (
    "h.id, h.recording_id, h.case_id, h.reason, h.ref, h.purpose, h.set_by, h.set_at, "
    "h.released_by, h.released_at"
)
# Active holds of an organisation's recordings: on the recording, or on a case it is
# linked to (also a link made after the hold). CROSS JOIN keeps SQLite's join order:
# the few active holds first; left to itself it walked the organisation's recordings
# (6 ms at 100,000, linear).
HELD_IN_ORG = (
    f"SELECT r.id, {HOLD_COLUMNS} FROM legal_hold h CROSS JOIN recording r "
    "WHERE r.id = h.recording_id AND h.released_at IS NULL AND h.recording_id IS NOT NULL "
    "AND r.org = ? "
    f"UNION ALL SELECT l.recording_id, {HOLD_COLUMNS} FROM legal_hold h "
    "CROSS JOIN case_link l CROSS JOIN recording r "
    "WHERE l.case_id = h.case_id AND r.id = l.recording_id AND h.released_at IS NULL "
    "AND h.case_id IS NOT NULL AND r.org = ? ORDER BY 1, 2"
)
HOLDS_ON = (
    f"SELECT {HOLD_COLUMNS} FROM legal_hold h WHERE h.released_at IS NULL AND "
    "(h.recording_id = ? OR h.case_id IN (SELECT case_id FROM case_link WHERE recording_id = ?)) "
    "ORDER BY h.id"
)
INSERT_HOLD = (
    "INSERT INTO legal_hold (recording_id, case_id, reason, ref, purpose, set_by, set_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id"
)
GET_HOLD = f"SELECT {HOLD_COLUMNS} FROM legal_hold h WHERE h.id = ?"
RELEASE_HOLD = (
    "UPDATE legal_hold SET released_by = ?, released_at = ? WHERE id = ? AND released_at IS NULL"
)
ACTIVE_HOLDS = f"SELECT {HOLD_COLUMNS} FROM legal_hold h WHERE h.released_at IS NULL ORDER BY h.id"
ALL_HOLDS = f"SELECT {HOLD_COLUMNS} FROM legal_hold h ORDER BY h.id"

INSERT_TOMBSTONE = (
    "INSERT INTO tombstone (id, org, channel, started_at, duration_s, destroyed_at, reason, "
    "blob_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
TOMBSTONE = (
    "SELECT id, org, channel, started_at, duration_s, destroyed_at, reason FROM tombstone "
    "WHERE id = ?"
)
PENDING_BLOBS = "SELECT id, blob_ref FROM tombstone WHERE blob_ref IS NOT NULL ORDER BY id LIMIT ?"
SHRED_ORG = (
    "UPDATE organisation SET wrapped_key = NULL, mac = ? "
    "WHERE code = ? AND wrapped_key IS NOT NULL AND mac IS NOT DISTINCT FROM ?"
)
# A case's findings and resolution were sealed under a key wrapped by the organisation's;
# its summary is clear text about a person, so it goes too.
SHRED_CASES = (
    "UPDATE feedback_case SET wrapped_key = NULL, findings_enc = NULL, resolution_enc = NULL, "
    "summary = '' WHERE org = ?"
)
ANY_LEFT = "SELECT id FROM recording WHERE org = ? LIMIT 1"
REKEY = "retention.rekey"  # register_info: 'pending' after a shred until the master key rotates
UPSERT_REKEY = (
    "INSERT INTO register_info (name, value) VALUES (?, 'pending') "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)


def held_among(ids: str) -> str:
    """Which of the ids (`ids`: the backend's spelling of a list) are held now."""
    return (
        f"SELECT recording_id FROM legal_hold WHERE released_at IS NULL AND recording_id {ids} "
        "UNION SELECT l.recording_id FROM legal_hold h JOIN case_link l ON l.case_id = h.case_id "
        f"WHERE h.released_at IS NULL AND l.recording_id {ids}"
    )


def purge_statements(ids: str) -> tuple[str, ...]:
    """What goes with a recording, children first; the recording row last."""
    return (
        f"DELETE FROM note WHERE recording_id {ids}",
        f"DELETE FROM sample_score WHERE recording_id {ids}",
        f"DELETE FROM recording_tag WHERE recording_id {ids}",
        f"DELETE FROM case_link WHERE recording_id {ids}",
    )


def delete_recordings(ids: str) -> str:
    return f"DELETE FROM recording WHERE id {ids}"


def clear_blob_refs(ids: str) -> str:
    return f"UPDATE tombstone SET blob_ref = NULL WHERE id {ids}"


def due_of(row: Sequence[Any]) -> DueRecording:
    bidx = None if row[4] is None else bytes(row[4])
    return DueRecording(row[0], row[1], row[2], sql.CHANNELS[row[3]], bidx, row[5])


def hold_of(row: Sequence[Any]) -> Hold:
    r = row
    return Hold(r[0], r[1], r[2], r[3], r[4], Purpose(r[5]), r[6], r[7], r[8], r[9])


def hold_values(hold: Hold) -> tuple[object, ...]:
    h = hold
    return (h.record_id, h.case_id, h.reason, h.ref, h.purpose.value, h.set_by, h.set_at)


def tombstone_values(stored: StoredTombstone) -> tuple[object, ...]:
    t = stored.tombstone
    return (
        t.id, t.org, sql.CHANNEL_CODE[t.channel], t.started_at, t.duration_s, t.destroyed_at,
        t.reason, stored.blob_ref,
    )  # fmt: skip


def tombstone_of(row: Sequence[Any]) -> Tombstone:
    r = row
    return Tombstone(r[0], r[1], sql.CHANNELS[r[2]], r[3], r[4], r[5], r[6])
