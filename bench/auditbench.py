"""The audit log's two rates: durable appends per second and verified events per second.

Each is measured beside its limit in the same run: appends through the index's
writer beside the same four statements on a plain `sqlite3` connection, and
`Register.verify_audit()` beside plain `hashlib` over the very rows it checks.
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from measure import Samples, Stopwatch, timed, timed_async

from kaiku_tui.audit.chain import GENESIS, AuditEvent, canonical_body, seal
from kaiku_tui.domain.access import Role
from kaiku_tui.register import Register
from kaiku_tui.register.audit_log import VerifyReport
from kaiku_tui.register.verification import BATCH as VERIFY_BATCH

ROLES = tuple(sorted(r.value for r in Role))
BATCH = VERIFY_BATCH  # as Register.verify_audit reads them
INSERT = "INSERT INTO audit_event (seq, body, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?)"
HEAD = "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"
_SEQ = struct.Struct(">Q")


def search_event(login: str, ids: Sequence[int]) -> AuditEvent:
    """An event shaped like the one Register.search writes for a page: criteria, sort,
    limit and every revealed id (~0.7 KB of JSON for 50 rows, the common case)."""
    return AuditEvent(
        at=datetime.now(UTC),
        actor=login,
        roles=ROLES,
        action="search",
        outcome="ok",
        criteria={"min_duration": 1800, "max_duration": 3599, "sort": "-date", "limit": 50},
        result_count=len(ids),
        revealed=tuple(str(i) for i in ids),
    )


def _ids(n: int) -> range:
    return range(n * 50, n * 50 + 50)


def append_raw(db: sqlite3.Connection, event: AuditEvent, mac_key: bytes) -> int:
    """What the index's writer does for one event, with nothing around it: the limit."""
    db.execute("BEGIN IMMEDIATE")
    try:
        last = db.execute(HEAD).fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        row = seal(seq, prev, canonical_body(seq, event), mac_key)
        db.execute(INSERT, (seq, row.body.decode("utf-8"), row.prev_hash, row.hash, row.mac))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return seq


def seal_bulk(db: sqlite3.Connection, total: int, mac_key: bytes, login: str) -> int:
    """Extend the chain until it holds `total` events, correctly sealed, ~BATCH per
    transaction; returns how many were added. For a verify over a million events
    without a million fsyncs."""
    added = 0
    while True:
        db.execute("BEGIN IMMEDIATE")
        last = db.execute(HEAD).fetchone()
        seq, prev = last if last else (0, GENESIS)
        rows = []
        for _ in range(min(BATCH, total - seq)):
            seq += 1
            row = seal(seq, prev, canonical_body(seq, search_event(login, _ids(seq))), mac_key)
            rows.append((seq, row.body.decode("utf-8"), row.prev_hash, row.hash, row.mac))
            prev = row.hash
        db.executemany(INSERT, rows)
        db.execute("COMMIT")
        added += len(rows)
        if not rows:
            return added


@dataclass(frozen=True)
class AppendResult:
    events: int
    seconds: float
    samples: Samples


async def append_through_index(register: Register, events: int) -> AppendResult:
    """`events` durable appends one by one through the index (events built beforehand)."""
    login = register.person.login
    batch = [search_event(login, _ids(i)) for i in range(events)]
    samples = Samples()
    index = register._index
    with Stopwatch() as wall:
        for event in batch:
            await timed_async(samples, lambda e=event: index.append_audit(e))  # type: ignore[misc]
    return AppendResult(events, wall.seconds, samples)


def append_plain(db: sqlite3.Connection, mac_key: bytes, login: str, events: int) -> AppendResult:
    batch = [search_event(login, _ids(i)) for i in range(events)]
    samples = Samples()
    with Stopwatch() as wall:
        for event in batch:
            timed(samples, lambda e=event: append_raw(db, e, mac_key))  # type: ignore[misc]
    return AppendResult(events, wall.seconds, samples)


async def verify_through_register(register: Register, runs: int = 3) -> tuple[VerifyReport, float]:
    """The best of `runs` verifies: the first also pays for reading the log into the
    page cache (measured: 2.4 s cold, 1.3 s warm for 1.1 M events), which the
    one-process limit below, measured after it, would not."""
    best = float("inf")
    for _ in range(runs):
        with Stopwatch() as wall:
            report = await register.audit.verify()
        best = min(best, wall.seconds)
    return report, best


@dataclass(frozen=True)
class HashLimit:
    """Seconds spent on each part of a verify done by hand, in one process, over the
    same rows: reading them, SHA-256 of every row, HMAC of every row, and HMAC of
    only the rows the verifier seals-checks (every 64th and each batch's last)."""

    rows: int
    body_bytes: int
    read_s: float
    sha_s: float
    mac_s: float
    sampled_mac_s: float

    @property
    def limit_s(self) -> float:
        """What the verifier must do at least, with nothing around it."""
        return self.read_s + self.sha_s + self.sampled_mac_s


def verify_limit(path: Path, mac_key: bytes, upto: int) -> HashLimit:
    """Read the rows as the index's scan does (text as bytes, batches of VERIFY_BATCH),
    then hash them with plain hashlib: SHA-256 of prev ‖ seq ‖ body (the chain) and
    HMAC-SHA256 with pre-keyed pads (the MAC)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.text_factory = bytes
    inner, outer = _pads(mac_key)
    rows = nbytes = after = 0
    spent = [0, 0, 0, 0]  # read, sha, every mac, sampled macs (ns)
    try:
        while batch := _timed_read(db, after, upto, spent):
            t0 = time.perf_counter_ns()
            digests = [hashlib.sha256(p + _SEQ.pack(s) + b).digest() for s, b, p, _, _ in batch]
            t1 = time.perf_counter_ns()
            _macs(inner, outer, digests)
            t2 = time.perf_counter_ns()
            sampled = [d for (s, *_), d in zip(batch, digests, strict=True) if not s & 63]
            _macs(inner, outer, [*sampled, digests[-1]])
            t3 = time.perf_counter_ns()
            spent[1:] = [spent[1] + t1 - t0, spent[2] + t2 - t1, spent[3] + t3 - t2]
            rows += len(batch)
            nbytes += sum(len(r[1]) for r in batch)
            after = batch[-1][0]
    finally:
        db.close()
    read, sha, mac, sampled_mac = (x / 1e9 for x in spent)
    return HashLimit(rows, nbytes, read, sha, mac, sampled_mac)


def _timed_read(db: sqlite3.Connection, after: int, upto: int, spent: list[int]) -> list[Any]:
    t0 = time.perf_counter_ns()
    batch = db.execute(
        "SELECT seq, body, prev_hash, hash, mac FROM audit_event "
        "WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
        (after, upto, VERIFY_BATCH),
    ).fetchall()
    spent[0] += time.perf_counter_ns() - t0
    return batch


def _macs(inner: hashlib._Hash, outer: hashlib._Hash, digests: list[bytes]) -> None:
    for d in digests:
        i = inner.copy()
        i.update(d)
        o = outer.copy()
        o.update(i.digest())
        o.digest()


def _pads(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """HMAC-SHA256's keyed inner and outer states (RFC 2104), computed once."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return (
        hashlib.sha256(bytes(b ^ 0x36 for b in key)),
        hashlib.sha256(bytes(b ^ 0x5C for b in key)),
    )
