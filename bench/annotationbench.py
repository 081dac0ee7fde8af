"""Annotation reads at scale: what the TUI's screens will ask of a full register.

    python bench/annotationbench.py --dir /tmp/kaiku-ann-bench [--repeat R]

On a folder `bench/browse.py --keep --notes N --cases M` left: p50/p95 of
`Index.notes` (a recording's notes: the conversation screen), `Index.get_case`,
`Register.list_cases` (all, and one status), `Register.tags` (the vocabulary
with counts over every tag), a tag-filtered first page, its capped count and its
sparkline (30 days): what a tag filter in the TUI asks. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from kaiku_tui.config import load
from kaiku_tui.domain.annotation import CaseFilter, CaseStatus
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity


async def timed(repeat: int, work: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    for n in range(5):
        await work(n)
    times = []
    for n in range(repeat):
        start = time.perf_counter()
        await work(n)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.95) - 1]


async def run(folder: Path, repeat: int) -> str:
    config = load(folder / "config.toml")
    db = sqlite3.connect(config.sqlite_path)
    noted = [r[0] for r in db.execute("SELECT DISTINCT recording_id FROM note LIMIT 5000")]
    cases = [r[0] for r in db.execute("SELECT id FROM feedback_case")]
    newest = db.execute("SELECT max(started_at) FROM recording").fetchone()[0]
    days = [newest - 86_400 * n for n in range(30, -1, -1)]  # the sparkline's 30 days
    counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("recording", "note", "feedback_case", "recording_tag")]  # fmt: skip
    db.close()
    rng = random.Random(7)
    register = await Register.open(config, current_identity(), environ={})
    index = register._index  # the bench looks behind the door on purpose: no keys for these rows
    rows = []
    try:
        cells: list[tuple[str, Callable[[int], Awaitable[object]]]] = [
            ("Index.notes (one recording)", lambda n: index.notes(rng.choice(noted))),
            ("Index.get_case", lambda n: index.get_case(rng.choice(cases))),
            ("Register.list_cases (all)", lambda n: register.cases.find()),
            ("Register.list_cases (open)",
             lambda n: register.cases.find(CaseFilter(CaseStatus.OPEN))),
            ("Register.tags (vocabulary, counts)", lambda n: register.tags.vocabulary()),
            ("Register.search tag=complaint (first page)",
             lambda n: register.recordings.search(RecordingFilter(tag="complaint"))),
            ("Register.count tag=complaint (capped at 10,000)",
             lambda n: register.recordings.count(RecordingFilter(tag="complaint"))),
            ("Register.histogram tag=complaint (30 days)",
             lambda n: register.recordings.histogram(RecordingFilter(tag="complaint"), days)),
        ]  # fmt: skip
        for name, work in cells:
            print(f"{name} ...", file=sys.stderr, flush=True)
            p50, p95 = await timed(repeat, work)
            rows.append(f"| {name} | {p50:.2f} | {p95:.2f} |")
    finally:
        await register.close()
    head = "{:,} recordings, {:,} note versions, {:,} cases, {:,} tags".format(*counts)
    return "\n".join([f"## Annotation reads ({head}; ms)", "", "| read | p50 | p95 |",
                      "|---|---|---|", *rows])  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--dir", required=True)
    p.add_argument("--repeat", type=int, default=100)
    args = p.parse_args()
    print(asyncio.run(run(Path(args.dir), args.repeat)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
