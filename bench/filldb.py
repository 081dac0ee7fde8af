"""Build the benchmark register the real way, then fill it with recordings the fast way.

The small parts (keys, schema, the admin person, the organisations) go through
`Register`, so the database is exactly what `kaiku-tui init` makes. Ten million
recordings through `Register.add_recordings` would spend an hour encrypting
transcripts that browsing never decrypts, so the rows go in with plain
`executemany`: the recording indexes are dropped first and re-created afterwards
from the very statements the migration stored, then ANALYZE runs.

The rows follow the distributions of `kaiku_tui/ingest/demo.py` (three years up to
the demo's end date, office hours, 30 % chat, 15 % outbound, lognormal durations
with the demo's medians and σ, 3 organisations, 8 agents, 5 % tagged) from a seeded
generator of its own that is several times faster than the demo's per-row objects.
The filled folder is cached: a marker file records what it holds.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from auditbench import seal_bulk
from measure import Stopwatch

from kaiku_tui.config import Config, load
from kaiku_tui.demo import create_demo_register
from kaiku_tui.domain.dates import day_start
from kaiku_tui.identity import current_identity
from kaiku_tui.index.sqlite_schema import MIGRATIONS
from kaiku_tui.ingest.demo import AGENTS, DEMO_ORGS, QUEUES, TAGS, DemoSpec
from kaiku_tui.vault.keys import MasterKey

MARKER = "bench.json"
BATCH = 100_000
# Everything a bench folder may hold; anything else means it is not ours to delete.
_OURS = {
    "config.toml", "master.key", "index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm",
    "index.sqlite3-journal", "audit-checkpoints.jsonl", "blobs", MARKER,
}  # fmt: skip
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


@dataclass(frozen=True)
class FillReport:
    """How long building the cached register took; `cached` when this run reused it."""

    records: int
    seed: int
    insert_s: float
    index_s: float
    analyze_s: float
    audit_events: int
    audit_s: float
    total_s: float
    cached: bool = False


async def ensure_filled(
    folder: Path, records: int, seed: int, audit_events: int
) -> tuple[Config, FillReport]:
    """The config of a register in `folder` holding `records` rows, built only if missing."""
    marker = folder / MARKER
    if marker.exists():
        saved = json.loads(marker.read_text())
        if saved["records"] != records or saved["seed"] != seed:
            raise SystemExit(
                f"{folder} holds {saved['records']:,} records (seed {saved['seed']}); "
                "pass another --dir or delete it"
            )
        return load(folder / "config.toml"), FillReport(**{**saved, "cached": True})
    _clear(folder)
    with Stopwatch() as total:
        config = await create_demo_register(folder, "Bench Admin")
        report = _fill(config, records, seed, audit_events)
    report = FillReport(**{**asdict(report), "total_s": total.seconds})
    marker.write_text(json.dumps(asdict(report), indent=1))
    return config, report


def set_statistics(path: Path, mode: str) -> str:
    """Put the planner statistics in the state asked for, before anything opens the index.

    The fill runs ANALYZE (as the issue asks); the app itself never does, so a real
    register has no sqlite_stat1 unless an admin ran ANALYZE or `PRAGMA optimize`.
    Plans differ between the two (skip-scans appear with statistics), so both can be
    measured on one cached folder: "none" drops the table, "analyze" re-creates it.
    """
    db = sqlite3.connect(path, isolation_level=None)
    try:
        present = db.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
        ).fetchone()[0]
        if mode == "none":
            if present:
                db.execute("DROP TABLE sqlite_stat1")
            return "none (sqlite_stat1 dropped; the app never runs ANALYZE)"
        if present:
            return "ANALYZE (sqlite_stat1 from the fill)"
        with Stopwatch() as analyze:
            db.execute("ANALYZE")
        return f"ANALYZE (run now, {analyze.seconds:.0f} s)"
    finally:
        db.close()


def _clear(folder: Path) -> None:
    """Remove a half-built bench register (no marker: an interrupted fill), nothing else."""
    if not folder.exists():
        return
    names = {p.name for p in folder.iterdir()}
    if names - _OURS:
        raise SystemExit(f"{folder} holds files a bench register does not; pass another --dir")
    for name in names:
        path = folder / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def _fill(config: Config, records: int, seed: int, audit_events: int) -> FillReport:
    """Bulk rows, indexes, the audit log, then ANALYZE, on one connection with no journal
    (an interrupted fill leaves no marker, so the folder is rebuilt next time)."""
    mac_key = MasterKey.from_env_or_file(config.master_key_file, {}).audit_mac_key()
    db = sqlite3.connect(config.sqlite_path, isolation_level=None)
    try:
        _bulk_pragmas(db)
        create = _drop_recording_indexes(db)
        with Stopwatch() as insert:
            _insert_recordings(db, records, seed)
        with Stopwatch() as index:
            for statement in create:
                db.execute(statement)
        with Stopwatch() as audit:
            added = seal_bulk(db, audit_events, mac_key, current_identity().login)
        with Stopwatch() as analyze:  # last: statistics of a tiny audit log mislead the planner
            db.execute("ANALYZE")
        db.execute("PRAGMA journal_mode = WAL")
    finally:
        db.close()
    return FillReport(
        records, seed, insert.seconds, index.seconds, analyze.seconds, added, audit.seconds, 0.0
    )


def _bulk_pragmas(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1048576")  # 1 GiB: index builds sort in memory
    db.execute("PRAGMA temp_store = MEMORY")
    db.execute("PRAGMA threads = 2")


def _drop_recording_indexes(db: sqlite3.Connection) -> list[str]:
    """Drop the recording indexes; return their CREATE statements, checked to be the
    migration's own, so the rebuilt database has exactly the schema the app creates."""
    found = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'recording' "
        "AND sql IS NOT NULL ORDER BY rowid"
    ).fetchall()
    schema = " ".join(" ".join(MIGRATIONS).split())
    for name, statement in found:
        if " ".join(statement.split()) not in schema:
            raise SystemExit(f"index {name} is not the one in sqlite_schema.py: {statement}")
        db.execute(f"DROP INDEX {name}")
    return [statement for _, statement in found]


def _insert_recordings(db: sqlite3.Connection, records: int, seed: int) -> None:
    for rows, tags in recording_batches(records, seed):
        db.execute("BEGIN")
        db.executemany(_INSERT, rows)
        db.executemany("INSERT INTO recording_tag (tag, recording_id) VALUES (?, ?)", tags)
        db.execute("COMMIT")


Row = tuple[object, ...]


def recording_batches(records: int, seed: int) -> Iterator[tuple[list[Row], list[Row]]]:
    """Rows oldest first (so ids rise with time, as with real ingest), ~BATCH at a time:
    never all ten million in memory. Days and times of day as in demo.generate."""
    rng = random.Random(seed)
    spec = DemoSpec(records=records)
    days = int(spec.years * 365)
    first = spec.end - timedelta(days=days - 1)
    per_day = records / days
    made = 0
    rows: list[Row] = []
    tags: list[Row] = []
    for n in range(days):
        due = round(per_day * (n + 1)) - made
        start = day_start(first + timedelta(days=n)) + 7 * 3600
        for t in sorted(start + int(rng.random() * 46801) for _ in range(due)):
            made += 1
            rows.append(_row(rng, made, t, tags))
        if len(rows) >= BATCH:
            yield rows, tags
            rows, tags = [], []
    if rows:
        yield rows, tags


def _row(rng: random.Random, n: int, started_at: int, tags: list[Row]) -> Row:
    """One recording as demo._one draws it: chat 30 %, outbound 15 %, duration
    lognormal(0, 0.9) × median (240 s call, 600 s chat) in [5 s, 4 h]."""
    r = rng.random
    chat = r() < 0.3
    outbound = r() < 0.15
    median = 600 if chat else 240
    duration = max(5, min(int(math.exp(rng.gauss(0.0, 0.9)) * median), 4 * 3600))
    org = DEMO_ORGS[int(r() * 3)].code
    agent = AGENTS[int(r() * 8)]
    queue = QUEUES[int(r() * 5)]
    no_phone = r() < 0.03
    p = int(r() * 1_000_000)
    if r() < 0.05:
        tags.append((TAGS[int(r() * 4)], n))
    return (
        n, org, int(chat), int(outbound), started_at, duration, agent, queue, f"bench-{n:09d}",
        "" if no_phone else f"+358 50 ••• ••{p % 100:02d}",
        None if no_phone else PHONE_ENC, None if no_phone else _BIDX_POOL[p % 4096],
        TRANSCRIPT_ENC, None, WRAPPED_KEY, int(not chat), 0, None,
    )  # fmt: skip
