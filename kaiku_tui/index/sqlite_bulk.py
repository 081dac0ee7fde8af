"""Millions of synthetic recordings into a new SQLite register, fast: for performance work.

Ten million recordings through `Register.add_recordings` would spend an hour
encrypting content that browsing never decrypts, so these rows go in with
plain `executemany`: the recording indexes are dropped first and re-created
afterwards from the very statements the migration stored, then ANALYZE runs.
The rows carry metadata only. Their content is either stand-ins sized like
real ciphertexts (the benchmarks, which measure row sizes) or nothing at all
(the demo: opening one says its key is destroyed, which is what it is).

Only for a register nobody else is using (`kaiku-tui demo`, bench/filldb.py):
synchronous writes are off while it runs. Used by `Register.fill_synthetic`
and by bench/filldb.py; the distributions are those of `ingest/demo.py`
(7–20 o'clock, 30 % chat, 15 % outbound, lognormal durations with the demo's
medians and σ, 3 organisations, 8 agents, 5 % tagged) from a generator that is
several times faster than the demo's per-row objects.
"""

from __future__ import annotations

import hashlib
import math
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from kaiku_tui.domain.dates import day_start
from kaiku_tui.index.sqlite_schema import MIGRATIONS
from kaiku_tui.ingest.demo import AGENTS, DEMO_ORGS, QUEUES, TAGS

BATCH = 100_000
# Stand-ins for ciphertexts, sized like the real ones (sealed format: 1 + 12 + n + 16).
PHONE_ENC = bytes(42)
WRAPPED_KEY = bytes(61)
TRANSCRIPT_ENC = bytes(64)  # real transcripts are ~0.5 KiB; browse only tests IS NOT NULL
_BIDX_POOL = [hashlib.blake2b(i.to_bytes(4, "big"), digest_size=16).digest() for i in range(4096)]
_INSERT = (
    "INSERT INTO recording (id, org, channel, direction, started_at, duration_s, agent, queue, "
    "source_id, phone_masked, phone_enc, phone_bidx, transcript_enc, blob_ref, wrapped_key, "
    "notice_played, legal_hold, retention_until) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

Row = tuple[object, ...]


@dataclass(frozen=True)
class BulkSpec:
    records: int
    seed: int
    end: date
    days: int
    max_duration_s: int = 4 * 3600
    stand_ins: bool = True  # ciphertext-sized placeholders; False: no content at all
    source_prefix: str = "bench-"


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


def insert_recordings(db: sqlite3.Connection, spec: BulkSpec) -> None:
    """The rows, ~BATCH to a transaction, ids following the highest there is."""
    first_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM recording").fetchone()[0]
    for rows, tags in recording_batches(spec, first_id):
        db.execute("BEGIN")
        db.executemany(_INSERT, rows)
        db.executemany("INSERT INTO recording_tag (tag, recording_id) VALUES (?, ?)", tags)
        db.execute("COMMIT")


def fill(path: Path, spec: BulkSpec) -> BulkTimes:
    """Drop the recording indexes, insert, re-create them and ANALYZE, on a register whose
    other connections are idle (journal kept: the register stays in WAL mode)."""
    import time

    db = sqlite3.connect(path, isolation_level=None)
    try:
        bulk_pragmas(db, journal=True)
        create = drop_recording_indexes(db)
        began = time.perf_counter()
        insert_recordings(db, spec)
        inserted = time.perf_counter()
        for statement in create:
            db.execute(statement)
        db.execute("ANALYZE")
        indexed = time.perf_counter()
    finally:
        db.close()
    return BulkTimes(inserted - began, indexed - inserted)


def recording_batches(spec: BulkSpec, first_id: int = 1) -> Iterator[tuple[list[Row], list[Row]]]:
    """Rows oldest first (so ids rise with time, as with real ingest), ~BATCH at a time:
    never all ten million in memory. Days and times of day as in demo.generate."""
    rng = random.Random(spec.seed)
    first = spec.end - timedelta(days=spec.days - 1)
    per_day = spec.records / spec.days
    made = 0
    rows: list[Row] = []
    tags: list[Row] = []
    for n in range(spec.days):
        due = round(per_day * (n + 1)) - made
        start = day_start(first + timedelta(days=n)) + 7 * 3600
        for t in sorted(start + int(rng.random() * 46801) for _ in range(due)):
            made += 1
            rows.append(_row(rng, spec, first_id + made - 1, t, tags))
        if len(rows) >= BATCH:
            yield rows, tags
            rows, tags = [], []
    if rows:
        yield rows, tags


def _row(rng: random.Random, spec: BulkSpec, n: int, started_at: int, tags: list[Row]) -> Row:
    """One recording as demo._one draws it: chat 30 %, outbound 15 %, duration
    lognormal(0, 0.9) × median (240 s call, 600 s chat), at least 5 s."""
    r = rng.random
    chat = r() < 0.3
    outbound = r() < 0.15
    median = 600 if chat else 240
    duration = max(5, min(int(math.exp(rng.gauss(0.0, 0.9)) * median), spec.max_duration_s))
    org = DEMO_ORGS[int(r() * 3)].code
    agent = AGENTS[int(r() * 8)]
    queue = QUEUES[int(r() * 5)]
    no_phone = r() < 0.03
    p = int(r() * 1_000_000)
    if r() < 0.05:
        tags.append((TAGS[int(r() * 4)], n))
    content = spec.stand_ins
    return (
        n, org, int(chat), int(outbound), started_at, duration, agent, queue,
        f"{spec.source_prefix}{n:09d}", "" if no_phone else f"+358 50 ••• ••{p % 100:02d}",
        None if no_phone or not content else PHONE_ENC,
        None if no_phone else _BIDX_POOL[p % 4096],
        TRANSCRIPT_ENC if content else None, None, WRAPPED_KEY if content else None,
        int(not chat), 0, None,
    )  # fmt: skip
