"""Millions of synthetic recordings into a new SQLite register, fast: for performance work.

Ten million recordings through `Register.add_recordings` would spend an hour
encrypting content that browsing never decrypts, so these rows go in with
plain `executemany`: the recording indexes are dropped first and re-created
afterwards from the very statements the migration stored, then ANALYZE runs.
The rows carry metadata only.

Only for a register nobody else is using (`kaiku-tui demo`, bench/filldb.py):
synchronous writes are off while it runs. This module only loads rows; what
they hold is made elsewhere (`ingest/demo_bulk.py`, the demo's distributions):
the index never imports ingest.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from kaiku_tui.index.sqlite_schema import MIGRATIONS

# The columns of one bulk recording row, in order (`BulkRecording`): its id first,
# then the metadata; flags as 0/1, ciphertexts as bytes or None.
BULK_COLUMNS = (
    "id, org, channel, direction, started_at, duration_s, agent, queue, "
    "source_id, phone_masked, phone_enc, phone_bidx, transcript_enc, blob_ref, wrapped_key, "
    "notice_played, legal_hold, retention_until"
)
_INSERT = (
    f"INSERT INTO recording ({BULK_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_TAG = "INSERT INTO recording_tag (tag, recording_id) VALUES (?, ?)"

BulkRecording = tuple[object, ...]
"""One recording row in the order of `BULK_COLUMNS`."""
BulkTag = tuple[str, int]
"""(tag, recording id)."""


class BulkBatch(NamedTuple):
    """Recordings and their tags, written in one transaction."""

    recordings: Sequence[BulkRecording]
    tags: Sequence[BulkTag]


# The batches to write, given the first free recording id (ids rise from it).
BatchSource = Callable[[int], Iterable[BulkBatch]]


@dataclass(frozen=True)
class BulkTimes:
    insert_s: float
    index_s: float


def bulk_pragmas(db: sqlite3.Connection, *, journal: bool) -> None:
    """No fsync, a big cache; `journal=False` also drops the journal (a folder that is
    thrown away if the fill is interrupted)."""
    if not journal:
        db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1048576")  # 1 GiB: index builds sort in memory
    db.execute("PRAGMA temp_store = MEMORY")
    db.execute("PRAGMA threads = 2")


def drop_recording_indexes(db: sqlite3.Connection) -> list[str]:
    """Drop the recording indexes; return their CREATE statements, checked to be the
    migration's own, so the rebuilt database has exactly the schema the app creates."""
    found = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'recording' "
        "AND sql IS NOT NULL ORDER BY rowid"
    ).fetchall()
    schema = " ".join(" ".join(MIGRATIONS).split())
    for name, statement in found:
        if " ".join(statement.split()) not in schema:
            raise RuntimeError(f"index {name} is not the one in sqlite_schema.py: {statement}")
        db.execute(f"DROP INDEX {name}")
    return [statement for _, statement in found]


def next_recording_id(db: sqlite3.Connection) -> int:
    """The id after the highest there is: where a bulk load's ids begin."""
    return int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM recording").fetchone()[0])


def insert_batches(db: sqlite3.Connection, batches: Iterable[BulkBatch]) -> None:
    """The rows, one transaction per batch (a generator keeps only one batch in memory)."""
    for rows, tags in batches:
        db.execute("BEGIN")
        db.executemany(_INSERT, rows)
        db.executemany(_INSERT_TAG, tags)
        db.execute("COMMIT")


def fill(path: Path, batches: BatchSource) -> BulkTimes:
    """Drop the recording indexes, insert, re-create them and ANALYZE, on a register whose
    other connections are idle (journal kept: the register stays in WAL mode)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        bulk_pragmas(db, journal=True)
        create = drop_recording_indexes(db)
        began = time.perf_counter()
        insert_batches(db, batches(next_recording_id(db)))
        inserted = time.perf_counter()
        for statement in create:
            db.execute(statement)
        db.execute("ANALYZE")
        indexed = time.perf_counter()
    finally:
        db.close()
    return BulkTimes(inserted - began, indexed - inserted)
