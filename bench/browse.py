"""kaiku-tui benchmark: browse, audit and blob speeds, each beside its limit in the same run.

    python bench/browse.py [--records N] [--dir D] [--keep] [--repeat R]
                           [--notes N --cases M]   (annotations present: bench/annotate.py)

Fills (or reuses) a register of N synthetic recordings, then prints markdown
tables to stdout (progress goes to stderr): p50/p95 of every browse shape
through `Register.search`, through the index alone, and as the same SQL on plain
`sqlite3` with and without the audit append; durable audit appends per second;
audit verification per second beside `hashlib` over the same rows; blob
encryption and decryption beside AES-GCM alone. Targets (DESIGN.md / the issue):
browse p95 ≤ 5 ms and within 5× of plain sqlite3, appends ≥ 2,000/s,
verify ≥ 500,000 events/s. A benchmark, not a test: it reports, it does not fail.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sqlite3
import sys
from pathlib import Path

from annotate import add_annotations
from auditbench import (
    AppendResult,
    HashLimit,
    append_plain,
    append_through_index,
    seal_bulk,
    verify_limit,
    verify_through_register,
)
from blobbench import RUNS, BlobRates, blob_rates
from filldb import MARKER, FillReport, ensure_filled, set_statistics
from matrix import KINDS, Cell, Context, run_cell
from measure import pair, rate, ratio, table
from rawsql import RawSqlite
from shapes import shapes

from kaiku_tui.config import Config
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.register import Register
from kaiku_tui.register.audit_log import VerifyReport
from kaiku_tui.register.identity import current_identity
from kaiku_tui.register.verification import PARALLEL_FROM
from kaiku_tui.vault.keystore import KeyStore

P95_MS = 5.0
MAX_RATIO = 5.0
APPENDS_PER_S = 2_000
VERIFY_PER_S = 500_000


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--records", type=int, default=1_000_000, help="recordings (1,000,000)")
    p.add_argument("--dir", help="register folder, cached between runs (/tmp/kaiku-bench-N)")
    p.add_argument("--keep", action="store_true", help="keep a folder this run built")
    p.add_argument("--repeat", type=int, default=200, help="timed trials per cell (200)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--audit-appends", type=int, default=5_000, help="durable appends (5,000)")
    p.add_argument("--audit-events", type=int, default=1_000_000, help="log size to verify")
    p.add_argument("--blob-mib", type=int, default=64, help="blob size in MiB (64)")
    p.add_argument("--explain", action="store_true", help="print every cell's plan")
    p.add_argument("--notes", type=int, default=0, help="note versions present (issue 7: 100,000)")
    p.add_argument("--cases", type=int, default=0, help="feedback cases present (10,000)")
    p.add_argument(
        "--stats",
        choices=("analyze", "none"),
        default="analyze",
        help="planner statistics: ANALYZE (default, as filled) or none (as the app leaves them)",
    )
    return p.parse_args(argv)


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> str:
    folder = Path(args.dir or f"/tmp/kaiku-bench-{args.records}").resolve()
    built_here = not (folder / MARKER).exists()
    progress(f"{'filling' if built_here else 'reusing'} {folder} ...")
    config, fill = await ensure_filled(folder, args.records, args.seed, args.audit_events)
    if args.notes or args.cases:
        # Opening the register once migrates a folder cached before the annotation tables.
        register = await Register.open(config, current_identity(), environ={})
        await register.close()
        progress(add_annotations(config.sqlite_path, args.notes, args.cases, args.seed))
    stats = set_statistics(config.sqlite_path, args.stats)
    load_before = os.getloadavg()
    try:
        parts = await measure(config, args)
    finally:
        if built_here and not args.keep:
            shutil.rmtree(folder)
            progress(f"removed {folder} (pass --keep to cache it for the next run)")
    setup = setup_section(config, fill, stats, load_before)
    return "\n\n".join([setup, *parts])


async def measure(config: Config, args: argparse.Namespace) -> list[str]:
    """Everything that needs the register open, then the blobs."""
    identity = current_identity()
    mac_key = KeyStore.open(config.key_store).audit_mac_key
    top_up_audit(config, mac_key, identity.login, args.audit_events)
    register = await Register.open(config, identity, environ={})
    raw: RawSqlite | None = None
    try:
        raw = RawSqlite(config.sqlite_path, mac_key, identity.login)
        browse = await browse_section(Context(register, raw, await raw.newest() + 1), args)
        progress("audit appends ...")
        through = await append_through_index(register, args.audit_appends)
        plain = append_plain(raw.writer, mac_key, identity.login, args.audit_appends)
        progress("audit verify ...")
        verified, verify_s = await verify_through_register(register)
        limit = verify_limit(config.sqlite_path, mac_key, verified.head_seq)
    finally:
        if raw is not None:
            raw.close()
        await register.close()
    progress(f"blobs ({args.blob_mib} MiB) ...")
    blobs = blob_rates(args.blob_mib)
    return [browse, audit_section(through, plain, verified, verify_s, limit), blob_section(blobs)]


def top_up_audit(config: Config, mac_key: bytes, login: str, events: int) -> None:
    """A cached folder filled with a smaller log gets sealed events up to `events`."""
    db = sqlite3.connect(config.sqlite_path, isolation_level=None)
    try:
        added = seal_bulk(db, events, mac_key, login)
    finally:
        db.close()
    if added:
        progress(f"sealed {added:,} more audit events")


# -- browse ------------------------------------------------------------------------


async def browse_section(ctx: Context, args: argparse.Namespace) -> str:
    total = await ctx.raw.count(RecordingFilter())
    rows, plans = [], []
    for shape in shapes():
        base = shape.make(None, ctx.end)
        matched = await ctx.raw.count(base.with_orgs(ctx.register.person.scope(base.orgs)))
        for kind in KINDS:
            progress(f"browse: {shape.name} {shape.sort} {kind} ...")
            cell = await run_cell(ctx, shape, kind, args.repeat, args.seed)
            verdict = judge(cell)
            rows.append(browse_row(cell, matched, total, verdict))
            if args.explain or verdict != "OK":
                plans.append(plan_text(cell, verdict))
    heading = (
        f"## Browse ({total:,} recordings; {args.repeat} timed trials per cell after 10 "
        "warm-up; ms p50 / p95; page = 50 rows)"
    )
    headers = [
        "shape", "sort", "page", "rows matched", "Register.search", "Index.page", "raw SQL",
        "raw + audit", "Register ÷ (raw+audit) p95", "Index ÷ raw p95", "target",
    ]  # fmt: skip
    out = [heading, "", table(headers, rows)]
    if plans:
        out += ["", "### Query plans", "", *plans]
    return "\n".join(out)


def judge(cell: Cell) -> str:
    """OK, or which target the cell misses: p95 over 5 ms, or over 5× its raw limit."""
    p = cell.paths
    misses = []
    if p["register"].p95 > P95_MS:
        misses.append("p95")
    if p["register"].p95 > MAX_RATIO * p["raw+audit"].p95:
        misses.append("Register÷limit")
    if p["index"].p95 > MAX_RATIO * p["raw"].p95:
        misses.append("Index÷raw")
    return "OK" if not misses else "FAIL " + ", ".join(misses)


def browse_row(cell: Cell, matched: int, total: int, verdict: str) -> list[str]:
    p = cell.paths
    share = f"{matched:,} ({100 * matched / total:.2f} %)" if total else str(matched)
    return [
        cell.shape.name, str(cell.shape.sort), cell.kind, share,
        pair(p["register"]), pair(p["index"]), pair(p["raw"]), pair(p["raw+audit"]),
        ratio(p["register"].p95, p["raw+audit"].p95), ratio(p["index"].p95, p["raw"].p95),
        verdict,
    ]  # fmt: skip


def plan_text(cell: Cell, verdict: str) -> str:
    title = f"**{cell.shape.name} {cell.shape.sort} {cell.kind}** ({verdict})"
    sql = cell.query.sql if cell.query else "(no query: empty result)"
    params = cell.query.params if cell.query else []
    plan = "\n".join(cell.plan)
    return f"{title}\n\n```\n{sql}\n-- params {params}\n{plan}\n```\n"


# -- audit and blobs -----------------------------------------------------------------


def audit_section(
    through: AppendResult,
    plain: AppendResult,
    verified: VerifyReport,
    verify_s: float,
    limit: HashLimit,
) -> str:
    appends_ok = through.events / through.seconds >= APPENDS_PER_S
    verify_ok = verified.checked / verify_s >= VERIFY_PER_S
    problem = "none" if verified.problem is None else str(verified.problem)
    mb = limit.body_bytes / 1e6
    n = f"{limit.rows:,}"
    rows = [
        _append_row("append via SqliteIndex.append_audit (durable, one by one)", through,
                    f"≥ {APPENDS_PER_S:,}/s {'OK' if appends_ok else 'FAIL'}"),
        _append_row("append, same statements on plain sqlite3", plain, "limit"),
        ["verify via Register.verify_audit", f"{verified.checked:,}", f"{verify_s:.2f}",
         rate(verified.checked, verify_s), "–",
         f"≥ {VERIFY_PER_S:,}/s {'OK' if verify_ok else 'FAIL'}"],
        ["read the same rows, plain sqlite3 (text as bytes)", n, f"{limit.read_s:.2f}",
         rate(limit.rows, limit.read_s), "–", ""],
        [f"hashlib.sha256 of every row's chain input ({mb:,.0f} MB)", n, f"{limit.sha_s:.2f}",
         rate(limit.rows, limit.sha_s), "–", f"{mb / limit.sha_s:,.0f} MB/s"],
        ["HMAC-SHA256 (pre-keyed hashlib) of every row", n, f"{limit.mac_s:.2f}",
         rate(limit.rows, limit.mac_s), "–", "if every MAC were checked"],
        ["HMAC of every 64th row and each batch's last", n, f"{limit.sampled_mac_s:.2f}",
         rate(limit.rows, limit.sampled_mac_s), "–", "what the verifier checks"],
        ["read + sha256 + sampled HMAC, one process (the limit)", n, f"{limit.limit_s:.2f}",
         rate(limit.rows, limit.limit_s), "–",
         f"verify ÷ limit {verify_s / limit.limit_s:.1f}×"],
    ]  # fmt: skip
    headers = ["audit", "events", "seconds", "events/s", "ms p50 / p95", "target / note"]
    note = (
        f"Verify found: {problem} (checkpoints compared: {verified.checkpoints}). "
        f"A log of {PARALLEL_FROM:,} rows or more is verified in two processes "
        "(kaiku_tui/verification.py), so on two free cores the register may beat the "
        "one-process limit; on a shared machine it competes with the other work."
    )
    return "\n".join(["## Audit log", "", table(headers, rows), "", note])


def _append_row(name: str, r: AppendResult, note: str) -> list[str]:
    return [name, f"{r.events:,}", f"{r.seconds:.2f}", rate(r.events, r.seconds),
            pair(r.samples), note]  # fmt: skip


def blob_section(b: BlobRates) -> str:
    mb = b.size / 1e6
    rows = [
        ["encrypt (BlobWriter → BytesIO)", f"{mb / b.stream_encrypt_s:,.0f}",
         f"{mb / b.aesgcm_encrypt_s:,.0f}", ratio(b.stream_encrypt_s, b.aesgcm_encrypt_s),
         f"{mb / b.cipher_only_s:,.0f}"],
        ["decrypt (BlobReader.iter_plaintext)", f"{mb / b.stream_decrypt_s:,.0f}",
         f"{mb / b.aesgcm_decrypt_s:,.0f}", ratio(b.stream_decrypt_s, b.aesgcm_decrypt_s),
         "–"],
    ]  # fmt: skip
    headers = [
        "blob", "vault.stream MB/s", "AESGCM alone, same sink MB/s", "time ÷ AESGCM",
        "AESGCM, output dropped MB/s",
    ]  # fmt: skip
    heading = (
        f"## Blobs ({b.size // 2**20} MiB in memory, 64 KiB segments, best of {RUNS}; MB = 10^6 B)"
    )
    return "\n".join([heading, "", table(headers, rows)])


# -- setup -------------------------------------------------------------------------


def setup_section(config: Config, fill: FillReport, stats: str, load: tuple[float, ...]) -> str:
    fill_note = "cached by an earlier run: " if fill.cached else ""
    size = sum(p.stat().st_size for p in config.sqlite_path.parent.glob("index.sqlite3*"))
    rows = [
        ["records", f"{fill.records:,} (seed {fill.seed})"],
        ["fill", f"{fill_note}{fill.total_s:.0f} s total = insert {fill.insert_s:.0f} s + "
         f"indexes {fill.index_s:.0f} s + {fill.audit_events:,} sealed audit events "
         f"{fill.audit_s:.0f} s + ANALYZE {fill.analyze_s:.0f} s (+ register setup)"],
        ["database", f"{config.sqlite_path} ({size / 2**30:.2f} GiB)"],
        ["planner statistics", stats],
        ["machine", f"{_cpu()}, {os.cpu_count()} cores, {_memory()}; load average "
         f"{_loads(load)} before, {_loads(os.getloadavg())} after (other work shares it)"],
        ["software", f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"],
    ]  # fmt: skip
    return "\n".join(["# kaiku-tui benchmark", "", table(["", ""], rows)])


def _loads(load: tuple[float, ...]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def _memory() -> str:
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        return f"{kib / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        return "RAM unknown"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(asyncio.run(run(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
