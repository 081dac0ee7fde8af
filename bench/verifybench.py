"""`audit verify`'s rate alone, beside its one-process hashlib limit, on a log of N events.

    python bench/verifybench.py [--events N] [--dir D]

Builds (or reuses) a register holding only its audit log, sealed in bulk with
the large search events of auditbench.py, then prints one markdown table: the
best of three `Register.audit.verify()` runs, and plain sqlite3 + hashlib over
the same rows (read, SHA-256 of every row, HMAC of every row). browse.py measures
the same beside a million recordings; this one takes a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from pathlib import Path

from auditbench import seal_bulk, verify_limit, verify_through_register
from measure import rate, table

from kaiku_tui.config import from_mapping
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity
from kaiku_tui.vault.keys import MasterKey


async def run(events: int, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    raw = {"register": {"data_dir": str(folder)}, "audit": {"witness": str(folder / "w.jsonl")}}
    try:
        config = from_mapping(raw, folder / "config.toml")
    except Exception:  # a register without a witness: the run before it existed
        config = from_mapping({"register": {"data_dir": str(folder)}}, folder / "config.toml")
    identity = current_identity()
    if not config.sqlite_path.exists():
        register = await Register.initialise(config, identity, "bench")
        await register.close()
    mac_key = MasterKey.from_env_or_file(config.master_key_file, {}).audit_mac_key()
    db = sqlite3.connect(config.sqlite_path, isolation_level=None)
    try:
        seal_bulk(db, events, mac_key, identity.login)
    finally:
        db.close()
    register = await Register.open(config, identity, environ={})
    try:
        verified, seconds = await verify_through_register(register)
    finally:
        await register.close()
    limit = verify_limit(config.sqlite_path, mac_key, verified.head_seq)
    every = limit.read_s + limit.sha_s + limit.mac_s
    n = f"{limit.rows:,}"
    rows = [
        ["audit verify (Register.audit.verify)", f"{verified.checked:,}", f"{seconds:.2f}",
         rate(verified.checked, seconds), str(verified.problem or "ok")],
        ["read, plain sqlite3", n, f"{limit.read_s:.2f}", rate(limit.rows, limit.read_s), ""],
        ["SHA-256 of every row", n, f"{limit.sha_s:.2f}", rate(limit.rows, limit.sha_s), ""],
        ["HMAC of every row", n, f"{limit.mac_s:.2f}", rate(limit.rows, limit.mac_s), ""],
        ["read + SHA-256 + every HMAC, one process (the limit)", n, f"{every:.2f}",
         rate(limit.rows, every), f"verify ÷ limit {seconds / every:.2f}×"],
        ["SHA-256 + every HMAC only, one process", n, f"{limit.sha_s + limit.mac_s:.2f}",
         rate(limit.rows, limit.sha_s + limit.mac_s), f"× {os.cpu_count()} cores"],
    ]  # fmt: skip
    headers = ["what", "events", "seconds", "events/s", "note"]
    return table(headers, rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--dir", default=None)
    args = p.parse_args()
    folder = Path(args.dir or f"/tmp/kaiku-verifybench-{args.events}").resolve()
    print(f"register in {folder}", file=sys.stderr)
    print(asyncio.run(run(args.events, folder)))


if __name__ == "__main__":
    main()
