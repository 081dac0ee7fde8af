"""The retention plan's time and the purge's rate beside raw sqlite3 doing the same rows.

A register with N metadata-only recordings over a year (three organisations,
`fill_synthetic`) is built once and copied twice. Every organisation gets a
retention of 180 days, so about half are due. Then, best of 3 for the plans:

* `register.retention.plan()` against raw sqlite3 counting the same ranges
  and reading the same first ids;
* `register.retention.purge()` (batches of 500, one audit event per
  recording, tombstones, children deleted, secure_delete, fsync per commit)
  against raw sqlite3 on the other copy: the same statements per batch of
  500 with no audit event, and the same rows in one transaction.

    .venv/bin/python bench/retentionbench.py [--records N]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from measure import Stopwatch

from kaiku_tui.config import Config, from_mapping
from kaiku_tui.domain.dates import day_start
from kaiku_tui.ingest.demo import DEMO_ORGS
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity

RUNS = 3
DAYS = 365
KEEP_DAYS = 180


def config_in(folder: Path) -> Config:
    return from_mapping({"register": {"data_dir": str(folder)}}, None)


async def build(folder: Path, records: int) -> None:
    admin = await Register.initialise(config_in(folder), current_identity(), "Bench")
    try:
        for org in DEMO_ORGS:
            await admin.orgs.add(org)
        end = date.today() - timedelta(days=1)
        await admin.intake.fill_synthetic(records, seed=7, end=end, days=DAYS)
        for org in DEMO_ORGS:
            await admin.retention.set_org(org.code, retention_days=KEEP_DAYS)
    finally:
        await admin.close()


async def register_plan(folder: Path) -> tuple[float, int]:
    admin = await Register.open(config_in(folder), current_identity(), environ={})
    try:
        best = float("inf")
        for _ in range(RUNS):
            with Stopwatch() as wall:
                plan = await admin.retention.plan()
            best = min(best, wall.seconds)
        return best, plan.due_now
    finally:
        await admin.close()


def raw_plan(folder: Path) -> float:
    cut = day_start(date.today() - timedelta(days=KEEP_DAYS - 1))
    db = sqlite3.connect(folder / "index.sqlite3")
    best = float("inf")
    for _ in range(RUNS):
        with Stopwatch() as wall:
            for org in DEMO_ORGS:
                db.execute(
                    "SELECT count(*) FROM recording WHERE org = ? AND started_at < ?",
                    (org.code, cut),
                ).fetchone()
                db.execute(
                    "SELECT id FROM recording WHERE org = ? AND started_at < ? "
                    "ORDER BY started_at, id LIMIT 10",
                    (org.code, cut),
                ).fetchall()
        best = min(best, wall.seconds)
    db.close()
    return best


async def register_purge(folder: Path) -> tuple[float, int]:
    admin = await Register.open(config_in(folder), current_identity(), environ={})
    try:
        with Stopwatch() as wall:
            report = await admin.retention.purge(environ={})
        return wall.seconds, report.destroyed
    finally:
        await admin.close()


def raw_purge(folder: Path, *, batch: int | None) -> tuple[float, int]:
    cut = day_start(date.today() - timedelta(days=KEEP_DAYS - 1))
    db = sqlite3.connect(folder / "index.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA secure_delete = ON")
    done = 0
    with Stopwatch() as wall:
        for org in DEMO_ORGS:
            while True:
                limit = batch or -1
                ids = [r[0] for r in db.execute(
                    "SELECT id FROM recording WHERE org = ? AND started_at < ? "
                    "ORDER BY started_at, id LIMIT ?", (org.code, cut, limit),
                )]  # fmt: skip
                if not ids:
                    break
                marks = f"IN ({', '.join('?' * len(ids))})"
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "INSERT INTO tombstone SELECT id, org, channel, started_at, duration_s, 0, "
                    f"'raw', blob_ref FROM recording WHERE id {marks}", ids,
                )  # fmt: skip
                for table in ("note", "sample_score", "recording_tag", "case_link"):
                    db.execute(f"DELETE FROM {table} WHERE recording_id {marks}", ids)
                db.execute(f"DELETE FROM recording WHERE id {marks}", ids)
                db.execute("COMMIT")
                done += len(ids)
    db.close()
    return wall.seconds, done


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        await build(base, args.records)
        copies = {name: Path(tmp) / name for name in ("purge", "raw500", "rawone")}
        for target in copies.values():
            shutil.copytree(base, target)
        plan_s, due = await register_plan(base)
        raw_plan_s = raw_plan(base)
        purge_s, destroyed = await register_purge(copies["purge"])
        raw_s, raw_n = raw_purge(copies["raw500"], batch=500)
        one_s, one_n = raw_purge(copies["rawone"], batch=None)
    versions = f"sqlite {sqlite3.sqlite_version}, python {sys.version.split()[0]}"
    print(f"{args.records:,} recordings over {DAYS} days, retention {KEEP_DAYS} days: "
          f"{due:,} due; {versions}\n")  # fmt: skip
    print("| what | s | records/s |")
    print("|---|---:|---:|")
    print(f"| retention plan (3 organisations) | {plan_s:.4f} | |")
    print(f"| raw sqlite3: the same counts and first ids | {raw_plan_s:.4f} | |")
    print(f"| retention purge ({destroyed:,}) | {purge_s:.2f} | {destroyed / purge_s:,.0f} |")
    print(f"| raw sqlite3, same statements, batches of 500 ({raw_n:,}) | {raw_s:.2f} | "
          f"{raw_n / raw_s:,.0f} |")  # fmt: skip
    print(f"| raw sqlite3, one transaction ({one_n:,}) | {one_s:.2f} | {one_n / one_s:,.0f} |")


if __name__ == "__main__":
    asyncio.run(main())
