"""Build the benchmark register the real way, then fill it with recordings the fast way.

The small parts (keys, schema, the admin person, the organisations) go through
`Register`, so the database is exactly what `kaiku-tui init` makes. The rows go
in the fast way of `kaiku_tui/index/sqlite_bulk.py` (shared with `kaiku-tui demo
--records N`): plain `executemany` with the recording indexes dropped and
re-created, three years up to a fixed end date, ciphertext-sized stand-ins.
The filled folder is cached: a marker file records what it holds.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from auditbench import seal_bulk
from measure import Stopwatch

from kaiku_tui.cli.demo import create_demo_register
from kaiku_tui.config import Config, load
from kaiku_tui.index.sqlite_bulk import bulk_pragmas, drop_recording_indexes
from kaiku_tui.ingest.demo_bulk import BulkSpec, insert_recordings
from kaiku_tui.register.identity import current_identity
from kaiku_tui.vault.keystore import KeyStore

MARKER = "bench.json"
# The rows of every cached register so far: three years up to this day.
END = date(2026, 11, 27)
DAYS = 3 * 365
# Everything a bench folder may hold; anything else means it is not ours to delete.
_OURS = {
    "config.toml", "master.key", "index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm",
    "index.sqlite3-journal", "audit-checkpoints.jsonl", "blobs", MARKER,
}  # fmt: skip


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
    mac_key = KeyStore.open(config.key_store).audit_mac_key
    db = sqlite3.connect(config.sqlite_path, isolation_level=None)
    try:
        bulk_pragmas(db, journal=False)
        create = drop_recording_indexes(db)
        with Stopwatch() as insert:
            insert_recordings(db, BulkSpec(records, seed, END, DAYS))
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
