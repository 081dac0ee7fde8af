"""Each kind of tampering with the audit log is found, and named by its first bad seq.

The attacker here has the database file (and drops the append-only triggers),
but not the master key.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli

Tamper = Callable[[sqlite3.Connection], int]  # returns the seq that must be named


def rows(db: sqlite3.Connection) -> list[tuple[int, str, bytes, bytes, bytes]]:
    return db.execute(
        "SELECT seq, body, prev_hash, hash, mac FROM audit_event ORDER BY seq"
    ).fetchall()


def rewrite(db: sqlite3.Connection, new_rows: list[tuple[int, str, bytes, bytes, bytes]]) -> None:
    db.execute("DELETE FROM audit_event")
    db.executemany(
        "INSERT INTO audit_event (seq, body, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?)",
        new_rows,
    )


def rehash(seq: int, prev: bytes, body: str) -> bytes:
    return hashlib.sha256(prev + seq.to_bytes(8, "big") + body.encode()).digest()


def edit(db: sqlite3.Connection) -> int:
    seq, body = db.execute(
        "SELECT seq, body FROM audit_event WHERE action IN ('record.open', 'search') LIMIT 1"
    ).fetchone()
    db.execute(
        "UPDATE audit_event SET body = ? WHERE seq = ?", (body.replace('"ok"', '"denied"'), seq)
    )
    return int(seq)


def delete(db: sqlite3.Connection) -> int:
    db.execute("DELETE FROM audit_event WHERE seq = 5")
    return 5


def insert(db: sqlite3.Connection) -> int:
    """A forged event slipped in at seq 5, the rest renumbered, hashes chained by hand."""
    old = rows(db)
    forged = old[4][1].replace('"ok"', '"denied"')
    body_rows = [r[1] for r in old[:4]] + [forged] + [r[1] for r in old[4:]]
    new, prev = [], old[3][3]
    new.extend(old[:4])
    for seq, body in enumerate(body_rows[4:], start=5):
        digest = rehash(seq, prev, body)
        new.append((seq, body, prev, digest, b"\0" * 32))
        prev = digest
    rewrite(db, new)
    return 5


def reorder(db: sqlite3.Connection) -> int:
    old = rows(db)
    a, b = old[5], old[6]
    old[5], old[6] = (a[0], *b[1:]), (b[0], *a[1:])
    rewrite(db, old)
    return 6


def rehash_without_key(db: sqlite3.Connection) -> int:
    """Edit seq 7 and re-chain every hash after it: only the MAC (keyed) can tell."""
    old = rows(db)
    new, prev = old[:6], old[5][3]
    for seq, body, _prev, _hash, mac in old[6:]:
        if seq == 7:
            body = body.replace('"ok"', '"error"')
        digest = rehash(seq, prev, body)
        new.append((seq, body, prev, digest, mac))
        prev = digest
    rewrite(db, new)
    return 7


def truncate_tail(db: sqlite3.Connection) -> int:
    last = db.execute("SELECT max(seq) FROM audit_event").fetchone()[0]
    db.execute("DELETE FROM audit_event WHERE seq > ?", (last - 3,))
    # The next session's events take the freed seqs; the signed checkpoint of the
    # old chain disagrees from the first of them.
    return int(last) - 2


@pytest.mark.parametrize(
    "tamper", [edit, delete, insert, reorder, rehash_without_key, truncate_tail],
    ids=lambda t: t.__name__,
)  # fmt: skip
def test_tampering_is_found(cli: Cli, demo: Path, tamper: Tamper) -> None:
    assert cli("query", "--limit", "2").code == 0  # some more events, and a checkpoint
    db = sqlite3.connect(demo.parent / "index.sqlite3", isolation_level=None)
    try:
        db.execute("DROP TRIGGER audit_event_no_update")
        db.execute("DROP TRIGGER audit_event_no_delete")
        with db:
            bad_seq = tamper(db)
    finally:
        db.close()
    result = cli("audit", "verify")
    assert result.code == 1, result
    assert result.out.startswith("TAMPERED")
    named = re.findall(r"seq (\d+)", result.out)
    assert named and int(named[0]) == bad_seq, result.out


def test_clean_log_verifies(cli: Cli) -> None:
    assert cli("audit", "verify").code == 0


def test_triggers_refuse_changes(demo: Path) -> None:
    db = sqlite3.connect(demo.parent / "index.sqlite3")
    try:
        for statement in ("UPDATE audit_event SET body = '{}'", "DELETE FROM audit_event"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                db.execute(statement)
    finally:
        db.close()


def test_forged_checkpoint_is_found(cli: Cli, demo: Path) -> None:
    checkpoints = demo.parent / "audit-checkpoints.jsonl"
    lines = checkpoints.read_text().splitlines()
    lines[-1] = lines[-1].replace('"seq":', '"seq":1', 1)
    checkpoints.write_text("\n".join(lines) + "\n")
    result = cli("audit", "verify")
    assert result.code == 1 and str(checkpoints) in result.err + result.out
