"""The log report's audit query at scale: `SqliteIndex.subject_events` for one person.

A SQLite index with EVENTS audit events about RECORDINGS recordings of PEOPLE
people (open, play and search events, most naming a recording as target, a
share carrying the person's blind index as subject). One person's report —
their subject plus their recordings as targets — is timed through the index,
beside the same two queries on a plain `sqlite3` connection (the limit), and
beside the scan that the report would be without `audit_by_target`.

    python bench/subjectbench.py [--events N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kaiku_tui.audit.chain import GENESIS, AuditEvent, canonical_body, seal
from kaiku_tui.index.sqlite import SqliteIndex

MAC = b"bench-audit-mac-key-32-bytes-xx!"
PEOPLE = 20_000
RECORDINGS = 100_000  # recording r belongs to person r % PEOPLE
INSERT = "INSERT INTO audit_event (seq, body, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?)"


def subject_of(person: int) -> str:
    return f"{person:032x}"


def fill(path: Path, events: int, seed: int = 8) -> None:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("BEGIN")
    prev = GENESIS
    for seq in range(1, events + 1):
        record = rng.randrange(RECORDINGS)
        kind = rng.random()
        fields: dict[str, object] = {}
        if kind < 0.7:  # an event about one recording: target and subject
            fields = {"target": str(record), "subject": subject_of(record % PEOPLE),
                      "purpose": "quality"}  # fmt: skip
        elif kind < 0.8:  # a denial before the recording was read: target only
            fields = {"target": str(record)}
        event = AuditEvent(at=start + timedelta(seconds=seq * 30), actor=f"user{seq % 40}",
                           roles=("supervisor",), action="record.open", outcome="ok",
                           **fields)  # type: ignore[arg-type]  # fmt: skip
        row = seal(seq, prev, canonical_body(seq, event), MAC)
        db.execute(INSERT, (seq, row.body.decode(), row.prev_hash, row.hash, row.mac))
        prev = row.hash
    db.execute("COMMIT")
    db.close()


def raw(path: Path, subject: str, targets: list[str], indexed: bool) -> int:
    db = sqlite3.connect(path)
    try:
        hint = "" if indexed else " NOT INDEXED"
        found = {r[0] for r in db.execute(
            "SELECT seq FROM audit_event WHERE subject = ?", (subject,))}  # fmt: skip
        marks = ", ".join("?" * len(targets))
        found |= {r[0] for r in db.execute(
            f"SELECT seq FROM audit_event{hint} WHERE json_extract(body, '$.target') "
            f"IN ({marks})", targets)}  # fmt: skip
        return len(found)
    finally:
        db.close()


async def through_index(path: Path, subject: str, targets: list[str]) -> tuple[float, int]:
    """The index's own call, timed without opening the index."""
    index = await SqliteIndex.open(path, MAC)
    try:
        began = time.perf_counter()
        found = await index.subject_events(subject, targets)
        return (time.perf_counter() - began) * 1000, len(found)
    finally:
        await index.close()


def timed_raw(path: Path, subject: str, targets: list[str], indexed: bool) -> tuple[float, int]:
    began = time.perf_counter()
    n = raw(path, subject, targets, indexed)
    return (time.perf_counter() - began) * 1000, n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.sqlite3"
        asyncio.run(_create(path))
        began = time.perf_counter()
        fill(path, args.events)
        print(f"{args.events:,} events written in {time.perf_counter() - began:.1f} s")
        rows = []
        for person in range(args.runs):
            targets = [str(r) for r in range(person, RECORDINGS, PEOPLE)]
            subject = subject_of(person)
            idx_ms, n = asyncio.run(through_index(path, subject, targets))
            raw_ms, n_raw = timed_raw(path, subject, targets, True)
            scan_ms, n_scan = timed_raw(path, subject, targets, False)
            assert n == n_raw == n_scan, (n, n_raw, n_scan)
            rows.append((person, len(targets), n, idx_ms, raw_ms, scan_ms))
        print("| person | recordings | events | subject_events ms | raw sqlite3 ms | "
              "without audit_by_target ms |")  # fmt: skip
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.1f} |")


async def _create(path: Path) -> None:
    index = await SqliteIndex.open(path, MAC, create=True)
    await index.close()


if __name__ == "__main__":
    main()
