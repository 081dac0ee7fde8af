"""The rows of a metadata-scale demo or benchmark register: millions, drawn fast.

The distributions are those of `ingest/demo.py` (7–20 o'clock, 30 % chat, 15 %
outbound, lognormal durations with the demo's medians and σ, 3 organisations,
8 agents, 5 % tagged) from a generator that is several times faster than the
demo's per-row objects. The rows carry metadata only. Their content is either
stand-ins sized like real ciphertexts (the benchmarks, which measure row sizes)
or nothing at all (the demo: opening one says its key is destroyed, which is
what it is). `index/sqlite_bulk.py` writes them; used by `Register.fill_synthetic`
and by bench/filldb.py.
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
from kaiku_tui.index import sqlite_bulk
from kaiku_tui.index.sqlite_bulk import BulkBatch, BulkRecording, BulkTag
from kaiku_tui.ingest.demo import AGENTS, DEMO_ORGS, QUEUES, TAGS

BATCH = 100_000
# Stand-ins for ciphertexts, sized like the real ones (sealed format: 1 + 12 + n + 16).
PHONE_ENC = bytes(42)
WRAPPED_KEY = bytes(61)
TRANSCRIPT_ENC = bytes(64)  # real transcripts are ~0.5 KiB; browse only tests IS NOT NULL
_BIDX_POOL = [hashlib.blake2b(i.to_bytes(4, "big"), digest_size=16).digest() for i in range(4096)]


@dataclass(frozen=True)
class BulkSpec:
    records: int
    seed: int
    end: date
    days: int
    max_duration_s: int = 4 * 3600
    stand_ins: bool = True  # ciphertext-sized placeholders; False: no content at all
    source_prefix: str = "bench-"


def fill(path: Path, spec: BulkSpec) -> sqlite_bulk.BulkTimes:
    """The spec's rows into the register at `path` (`sqlite_bulk.fill`: indexes dropped
    and re-created, ANALYZE), ids following the highest there is."""
    return sqlite_bulk.fill(path, lambda first_id: recording_batches(spec, first_id))


def insert_recordings(db: sqlite3.Connection, spec: BulkSpec) -> None:
    """The rows, ~BATCH to a transaction, ids following the highest there is."""
    first_id = sqlite_bulk.next_recording_id(db)
    sqlite_bulk.insert_batches(db, recording_batches(spec, first_id))


def recording_batches(spec: BulkSpec, first_id: int = 1) -> Iterator[BulkBatch]:
    """Rows oldest first (so ids rise with time, as with real ingest), ~BATCH at a time:
    never all ten million in memory. Days and times of day as in demo.generate."""
    rng = random.Random(spec.seed)
    first = spec.end - timedelta(days=spec.days - 1)
    per_day = spec.records / spec.days
    made = 0
    rows: list[BulkRecording] = []
    tags: list[BulkTag] = []
    for n in range(spec.days):
        due = round(per_day * (n + 1)) - made
        start = day_start(first + timedelta(days=n)) + 7 * 3600
        for t in sorted(start + int(rng.random() * 46801) for _ in range(due)):
            made += 1
            rows.append(_row(rng, spec, first_id + made - 1, t, tags))
        if len(rows) >= BATCH:
            yield BulkBatch(rows, tags)
            rows, tags = [], []
    if rows:
        yield BulkBatch(rows, tags)


def _row(
    rng: random.Random, spec: BulkSpec, n: int, started_at: int, tags: list[BulkTag]
) -> BulkRecording:
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


__all__ = ["BulkSpec", "fill", "insert_recordings", "recording_batches"]
