"""Annotations in a bench register: notes, tags, feedback cases and their links (issue 7).

`python bench/browse.py --notes 100000 --cases 10000` adds them (once; a cached
folder keeps them) before measuring, so the browse table shows whether the
annotation tables and indexes cost a page anything. Plain sqlite3 in one
transaction: texts are random bytes standing in for ciphertext, no events.
"""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

STATUSES = ("open", "investigating", "resolved", "closed")


def add_annotations(path: Path, notes: int, cases: int, seed: int, below: int | None = None) -> str:
    """Top the register up to `notes` note versions, `cases` cases (3 links each) and a
    tag on every third annotated recording, on recordings with ids below `below` (all
    if None: the stand-in texts cannot be opened, so keep them off rows that will be);
    returns a line for the setup table."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        rng = random.Random(seed)
        low, high = db.execute(
            "SELECT min(id), max(id) FROM recording WHERE id < ?", (below or 2**62,)
        ).fetchone()
        orgs = [r[0] for r in db.execute("SELECT code FROM organisation")]
        have_notes = db.execute("SELECT count(*) FROM note").fetchone()[0]
        have_cases = db.execute("SELECT count(*) FROM feedback_case").fetchone()[0]
        db.execute("BEGIN")
        ids = [rng.randint(low, high) for _ in range(max(0, notes - have_notes))]
        db.executemany(
            "INSERT INTO note (first_id, version, recording_id, author, written_at, at_s, "
            "message, withdrawn, text_enc) VALUES (NULL, 1, ?, 'bench.reviewer', ?, ?, NULL, "
            "0, ?)",
            [(i, 1_760_000_000 + n, rng.uniform(0, 600), os.urandom(80)) for n, i in
             enumerate(ids)],
        )  # fmt: skip
        db.executemany(
            "INSERT OR IGNORE INTO recording_tag (tag, recording_id) VALUES (?, ?)",
            [(rng.choice(("coaching:empathy", "good-example", "complaint")), i) for i in ids[::3]],
        )
        for n in range(have_cases, cases):
            case_id = db.execute(
                "INSERT INTO feedback_case (org, ref, received, summary, status, owner, "
                "wrapped_key, findings_enc) VALUES (?, ?, '2026-01-02', 'bench case', ?, "
                "'bench.supervisor', ?, ?) RETURNING id",
                (rng.choice(orgs), f"BENCH-{n}", rng.choice(STATUSES), os.urandom(40),
                 os.urandom(120)),
            ).fetchone()[0]  # fmt: skip
            links = {(case_id, rng.randint(low, high)) for _ in range(3)}
            db.executemany("INSERT INTO case_link (case_id, recording_id) VALUES (?, ?)", links)
        db.execute("COMMIT")
        counts = [
            db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("note", "feedback_case", "case_link", "recording_tag")
        ]
    finally:
        db.close()
    return "{:,} notes, {:,} cases, {:,} case links, {:,} tags".format(*counts)
