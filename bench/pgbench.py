"""kaiku-tui on PostgreSQL: browse pages and concurrent audit appends, each beside its limit.

    python bench/pgbench.py fill --records N --url postgresql://USER@HOST/DB [--dir D]
    python bench/pgbench.py run --dir D [--repeat R] [--writers 20] [--appends 500]

`fill` copies the cached SQLite bench register of N recordings (bench/browse.py
--keep builds it in /tmp/kaiku-bench-N) to D and moves it into the empty
database URL with `kaiku-tui migrate`'s own code (Register.migrate_to: COPY in
batches, then the chain verified on PostgreSQL), then runs VACUUM (ANALYZE) on
the register's tables, which autovacuum would do soon after a bulk load anyway
(an index-only scan needs the visibility map VACUUM sets). The password comes
from ~/.pgpass or PGPASSFILE, as for the app.

`run` prints markdown tables: the browse matrix of bench/browse.py (the same
shapes and paths, `raw SQL` being the index's SQL on one plain asyncpg
connection, bench/rawpg.py) and durable audit appends per second from
`--writers` processes at once, through PostgresIndex.append_audit and as the
same statements on plain asyncpg connections.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import asyncpg
from auditbench import _ids, search_event
from browse import browse_section, progress
from matrix import Context
from measure import rate, table
from rawpg import RawAsyncpg, append_raw_pg

from kaiku_tui.config import Config, load
from kaiku_tui.domain.migration import TableCopied
from kaiku_tui.index.postgres import PostgresIndex
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity
from kaiku_tui.vault.keystore import KeyStore

CONFIG = "pg.toml"
FILLED = "pgfill.json"
TABLES = "register_info, person, organisation, recording, recording_tag, audit_event"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = p.add_subparsers(dest="command", required=True)
    fill = sub.add_parser("fill", help="copy a cached SQLite bench register into PostgreSQL")
    fill.add_argument("--records", type=int, default=1_000_000)
    fill.add_argument("--url", required=True, help="an empty database, no password in it")
    fill.add_argument("--dir", help="the register folder (/tmp/kaiku-pgbench-N)")
    fill.add_argument("--from", dest="source", help="the SQLite cache (/tmp/kaiku-bench-N)")
    run = sub.add_parser("run", help="measure")
    run.add_argument("--dir", required=True)
    run.add_argument("--repeat", type=int, default=200, help="timed trials per cell (200)")
    run.add_argument("--seed", type=int, default=7)
    run.add_argument("--writers", type=int, default=20, help="concurrent processes (20)")
    run.add_argument("--appends", type=int, default=500, help="appends per writer (500)")
    run.add_argument("--explain", action="store_true", help="print every cell's plan")
    return p.parse_args(argv)


# -- fill ------------------------------------------------------------------------------


async def fill(args: argparse.Namespace) -> str:
    cached = Path(args.source or f"/tmp/kaiku-bench-{args.records}").resolve()
    folder = Path(args.dir or f"/tmp/kaiku-pgbench-{args.records}").resolve()
    if not (cached / "bench.json").exists():
        raise SystemExit(f"{cached}: no cached register; run bench/browse.py --keep first")
    started = time.monotonic()
    progress(f"copying {cached} to {folder} (the copy gets the migrate's own events) ...")
    shutil.copytree(cached, folder)
    text = (folder / "config.toml").read_text().replace(str(cached), str(folder))
    (folder / "config.toml").write_text(text)
    copied_s = time.monotonic() - started
    report = await _migrate(load(folder / "config.toml"), args.url)
    migrate_s = time.monotonic() - started - copied_s
    conn = await asyncpg.connect(args.url)
    try:
        await conn.execute(f"VACUUM (ANALYZE) {TABLES}")
    finally:
        await conn.close()
    vacuum_s = time.monotonic() - started - copied_s - migrate_s
    (folder / CONFIG).write_text(f'{text}\n[index]\nurl = "{args.url}"\n')
    done = {"records": args.records, "copy_folder_s": copied_s, "migrate_s": migrate_s,
            "vacuum_analyze_s": vacuum_s, "rows": report}  # fmt: skip
    (folder / FILLED).write_text(json.dumps(done, indent=1))
    return f"filled {folder}/{CONFIG}: {json.dumps(done)}"


async def _migrate(config: Config, url: str) -> dict[str, int]:
    register = await Register.open(config, current_identity(), environ={})

    def step(s: TableCopied) -> None:
        if s.done:
            progress(f"copied {s.table}: {s.rows:,} rows in {s.seconds:.1f} s")

    try:
        report = await register.audit.migrate_to(url, step)
    finally:
        await register.close()
    if report.problem is not None:
        raise SystemExit(f"the copy does not verify: {report.problem}")
    return {t.table: t.rows for t in report.tables} | {"verified": report.checked}


# -- run -------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> str:
    folder = Path(args.dir).resolve()
    config = load(folder / CONFIG)
    identity = current_identity()
    mac_key = KeyStore.open(config.key_store).audit_mac_key
    load_before = os.getloadavg()
    register = await Register.open(config, identity, environ={})
    raw = await RawAsyncpg.connect(config.index_url, mac_key, identity.login)
    try:
        setup_facts = await _facts(raw)
        browse = await browse_section(Context(register, raw, await raw.newest() + 1), args)
    finally:
        await raw.close()
        await register.close()
    appends = _appends_section(folder / CONFIG, identity.login, args)
    setup = _setup(folder, config, setup_facts, load_before)
    return "\n\n".join([setup, browse, appends])


async def _facts(raw: RawAsyncpg) -> dict[str, str]:
    conn = raw.conn
    size = await conn.fetchval("SELECT pg_database_size(current_database())")
    version = await conn.fetchval("SHOW server_version")
    settings = await conn.fetch(
        "SELECT name, setting, unit FROM pg_settings WHERE name IN "
        "('shared_buffers', 'synchronous_commit', 'fsync', 'work_mem', 'effective_cache_size')"
    )
    tuned = ", ".join(f"{r[0]}={r[1]}{r[2] or ''}" for r in settings)
    return {"size": f"{size / 2**30:.2f} GiB", "version": str(version), "settings": tuned}


def _setup(folder: Path, config: Config, facts: dict[str, str], load: tuple[float, ...]) -> str:
    filled = json.loads((folder / FILLED).read_text()) if (folder / FILLED).exists() else {}
    fill = (
        f"copy folder {filled['copy_folder_s']:.0f} s, migrate (COPY + verify on PostgreSQL) "
        f"{filled['migrate_s']:.0f} s, VACUUM (ANALYZE) {filled['vacuum_analyze_s']:.0f} s"
        if filled else "unknown"
    )  # fmt: skip
    after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = [
        ["records", f"{filled.get('records', 0):,}"],
        ["fill", fill],
        ["database", f"{config.index_url} over loopback TCP ({facts['size']})"],
        ["server", f"PostgreSQL {facts['version']}; {facts['settings']}"],
        ["machine", f"{os.cpu_count()} cores; load average "
         f"{' '.join(f'{x:.2f}' for x in load)} before, {after} after (shared machine)"],
        ["software", f"Python {platform.python_version()}, asyncpg {asyncpg.__version__}"],
    ]  # fmt: skip
    return "\n".join(["# kaiku-tui benchmark on PostgreSQL", "", table(["", ""], rows)])


# -- concurrent audit appends ------------------------------------------------------------


def _appends_section(config_file: Path, login: str, args: argparse.Namespace) -> str:
    rows = []
    for writers in (1, args.writers):
        for plain in (False, True):
            progress(f"audit appends: {writers} writers, {'plain' if plain else 'index'} ...")
            events, seconds, p95 = _concurrent(config_file, login, writers, args.appends, plain)
            path = "same statements, plain asyncpg" if plain else "PostgresIndex.append_audit"
            rows.append([path, str(writers), f"{events:,}", f"{seconds:.2f}",
                         rate(events, seconds), f"{p95:.2f}"])  # fmt: skip
    headers = ["append (durable, one by one)", "writer processes", "events", "seconds",
               "events/s", "ms p95 per append"]  # fmt: skip
    note = (
        "Each writer is a process of its own with its own connection(s); all start at one "
        "wall-clock instant; events/s = all events ÷ (last finish − first start). Appends "
        "are serialised by one advisory transaction lock, so writers queue for it: the "
        "rate is that of one chain, and the per-append latency grows with the queue."
    )
    return "\n".join(["## Audit appends on PostgreSQL", "", table(headers, rows), "", note])


def _concurrent(
    config_file: Path, login: str, writers: int, appends: int, plain: bool
) -> tuple[int, float, float]:
    start_at = time.time() + 3 + writers * 0.3  # every process imported and connected
    with ProcessPoolExecutor(writers, mp_context=get_context("spawn")) as pool:
        jobs = [pool.submit(_writer, str(config_file), login, appends, start_at, plain)
                for _ in range(writers)]  # fmt: skip
        results = [j.result() for j in jobs]
    first = min(r[0] for r in results)
    last = max(r[1] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    p95 = latencies[int(0.95 * (len(latencies) - 1))] * 1000
    return writers * appends, last - first, p95


def _writer(
    config_file: str, login: str, appends: int, start_at: float, plain: bool
) -> tuple[float, float, list[float]]:
    return asyncio.run(_write(config_file, login, appends, start_at, plain))


async def _write(
    config_file: str, login: str, appends: int, start_at: float, plain: bool
) -> tuple[float, float, list[float]]:
    config = load(Path(config_file))
    mac_key = KeyStore.open(config.key_store).audit_mac_key
    events = [search_event(login, _ids(i)) for i in range(appends)]
    conn = await asyncpg.connect(config.index_url) if plain else None
    index = None if plain else await PostgresIndex.open(config.index_url, mac_key)
    spent: list[float] = []
    try:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        first = time.time()
        for event in events:
            t0 = time.perf_counter()
            if conn is not None:
                await append_raw_pg(conn, event, mac_key)
            else:
                assert index is not None
                await index.append_audit(event)
            spent.append(time.perf_counter() - t0)
        return first, time.time(), spent
    finally:
        if conn is not None:
            await conn.close()
        if index is not None:
            await index.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    work = fill if args.command == "fill" else run
    print(asyncio.run(work(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
