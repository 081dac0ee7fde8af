"""The admin's maintenance commands on the command line: migrate, doctor, scan, keys
status|rotate, backup, restore, maintenance. A face: it calls `register.upkeep`,
`Register.migrate_to` and the maintenance functions, and prints what they return
(README, "Keeping a register").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kaiku_tui.cli.common import AddParser, Handlers, Runner
from kaiku_tui.cli.output import ProgressBar
from kaiku_tui.config import config_path, load
from kaiku_tui.domain.migration import MigrationReport, TableCopied
from kaiku_tui.domain.text import json_safe, sanitise
from kaiku_tui.errors import EXIT_OK, EXIT_TAMPERED
from kaiku_tui.maintenance.checks import Check, exit_code
from kaiku_tui.register.identity import current_identity

if TYPE_CHECKING:
    from kaiku_tui.register import Register


def add_commands(add: AddParser) -> None:
    migrate = add(
        "migrate",
        help="copy the register into another, empty database",
        description="Copy the whole register (rows, wrapped keys, blob references, the audit "
        "chain) into an empty PostgreSQL or SQLite database, then verify its chain there. "
        "Blobs stay in the blob store. The copy is usable only when finished; run the same "
        "command again to resume one that stopped. Admins only; audited.",
    )
    migrate.add_argument(
        "--to", required=True, metavar="URL",
        help="postgresql://USER@HOST[:PORT]/DB (password from ~/.pgpass or PGPASSFILE), "
        "sqlite:///PATH or a path",
    )  # fmt: skip
    doctor = add(
        "doctor",
        help="check the register's health (admin); exit 0 ok, 1 warnings, 2 failures",
    )
    doctor.add_argument("--json", action="store_true", help="one JSON object a check")
    scan = add("scan", help="check every recording's blob and transcript against its keys (admin)")
    scan.add_argument("--org", metavar="CODE", help="only this organisation's recordings")
    scan.add_argument("--sample", type=int, metavar="N", help="a random sample of N recordings")
    scan.add_argument("--full", action="store_true", help="decrypt every segment of every blob")
    keys = add("keys", help="the key store's data key and organisation keys (admin)")
    ksub = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    ksub.add_parser("status", help="key ages; which organisations' keys exist or are destroyed")
    rotate = ksub.add_parser(
        "rotate",
        help="a new data key; organisation keys re-wrapped (blobs untouched); the old key "
        "kept as data.key.retired-<id> in the key store for older backups",
    )
    ksub.add_parser(
        "split",
        help="once, on a register made before the key store: move its master key file into "
        "a key store ([register] key_store), one file per key; then delete the old file",
    )
    rotate.add_argument(
        "--destroy-old",
        action="store_true",
        help="delete the old key at once: backups made before cannot be read any more",
    )
    backup = add("backup", help="a consistent copy of the register (admin)")
    backup.add_argument("--to", required=True, metavar="DIR", help="a new or empty directory")
    backup.add_argument(
        "--link", action="store_true", help="hard-link the blobs instead of copying them"
    )
    restore = add("restore", help="a backup into an empty data directory (admin)")
    restore.add_argument("--from", dest="source", required=True, metavar="DIR")
    upkeep = add("maintenance", help="ANALYZE, WAL checkpoint, VACUUM (admin)")
    upkeep.add_argument("--vacuum", action="store_true", help="also VACUUM (rewrites the file)")


async def _doctor_command(args: argparse.Namespace) -> int:
    path = config_path(args.config, os.environ)
    return await _doctor(path, json_lines=args.json)


async def _split_command(args: argparse.Namespace) -> int:
    from kaiku_tui.register import Register

    config = load(config_path(args.config, os.environ))
    report = await Register.split_keys(config, current_identity())
    print(
        f"the keys of the register at {config.data_dir} are in the key store "
        f"{report.key_store} (data key {report.key_id}), one file per key; "
        f"{report.removed} is deleted"
    )
    print(
        "keep the key store, and a copy of it, apart from the data backups: backups "
        "never hold it, and without it the recordings cannot be read"
    )
    for path in report.left:
        print(
            f"left as it was: {path} (an old key for older backups: store it offline with "
            "them, or delete it)"
        )
    return EXIT_OK


async def _restore_command(args: argparse.Namespace) -> int:
    path = config_path(args.config, os.environ)
    return await _restore(path, Path(args.source))


async def _doctor(path: Path, *, json_lines: bool) -> int:
    from kaiku_tui.register.upkeep.diagnose import diagnose

    checks = await diagnose(path, current_identity())
    for check in checks:
        print(_check_json(check) if json_lines else _check_line(check))
    return exit_code(checks)


def _check_line(c: Check) -> str:
    line = sanitise(f"{c.status.upper():5} {c.name}: {c.detail}")
    return line + (f"\n{'':6}-> {sanitise(c.fix)}" if c.fix else "")


def _check_json(c: Check) -> str:
    return json_safe(json.dumps(c.as_json(), ensure_ascii=False))


async def _restore(path: Path, source: Path) -> int:
    from kaiku_tui.register.upkeep.restore import restore

    report = await restore(load(path), current_identity(), source)
    print(
        f"restored {report.index} and {report.blobs} blobs (audit head seq {report.head_seq}); "
        "now run kaiku-tui audit verify and kaiku-tui scan --full"
    )
    return EXIT_OK


async def _scan(args: argparse.Namespace, register: Register) -> int:
    report = await register.upkeep.scan(
        org=args.org, sample=args.sample, full=args.full, progress=ProgressBar()
    )
    for f in report.findings:
        where = f"record {f.record_id}" if f.record_id is not None else "store"
        print(sanitise(f"{where}: {f.kind}: {f.detail}"))
    rate = report.records / report.seconds if report.seconds > 0 else 0.0
    mb = report.blob_bytes / 1e6
    resumed = f" (resumed after record {report.resumed_after})" if report.resumed_after else ""
    print(
        f"scanned {report.records} recordings{resumed}, {report.blobs} blobs ({mb:.1f} MB), "
        f"{report.shredded} destroyed, {len(report.findings)} problems in "
        f"{report.seconds:.1f} s ({rate:,.0f} records/s, {mb / max(report.seconds, 1e-9):.1f} "
        "MB/s)"
    )
    return EXIT_OK if not report.findings else EXIT_TAMPERED


async def _keys_status(args: argparse.Namespace, register: Register) -> int:
    status = await register.upkeep.key_status()
    where = status.master_key_file or "KAIKU_MASTER_KEY"
    since = f", file since {status.master_key_since:%Y-%m-%d}" if status.master_key_since else ""
    print(f"master key {status.master_key_id} (the key store's data key: {where}{since})")
    for org in status.orgs:
        state = "present" if org.present else "DESTROYED (crypto-shredded)"
        added = f", added {org.added:%Y-%m-%d}" if org.added else ""
        wrapped = f", wrapped by {org.master_key_id}" if org.present else ""
        print(sanitise(f"  {org.code} {org.name}: {state}{wrapped}{added}"))
    return EXIT_OK


async def _keys_rotate(args: argparse.Namespace, register: Register) -> int:
    report = await register.upkeep.rotate_keys(os.environ, destroy_old=args.destroy_old)
    print(
        f"master key (the key store's data key) {report.old_key_id} -> {report.new_key_id}: "
        f"{report.orgs} organisation keys re-wrapped, no blob touched"
    )
    if report.retired is not None:
        print(
            f"the old key is kept as {report.retired}: store it offline with the backups made "
            "before now (they need it), and destroy it when they expire"
        )
    else:
        print("the old key is destroyed: backups made before now can no longer be read")
    return EXIT_OK


async def _backup(args: argparse.Namespace, register: Register) -> int:
    report = await register.upkeep.backup(Path(args.to), link=args.link)
    print(
        f"backup in {report.directory}: the index (audit head seq {report.head_seq}), "
        f"{report.blobs} blobs ({report.blob_bytes / 1e6:.1f} MB), manifest.json; "
        f"{report.seconds:.1f} s. The master key is not in it, nor any other key: keep the "
        "key store apart."
    )
    for ref in report.missing:
        print(f"kaiku-tui: blob {ref} named by the index is missing", file=sys.stderr)
    return EXIT_OK if not report.missing else EXIT_TAMPERED


async def _maintenance(args: argparse.Namespace, register: Register) -> int:
    steps = await register.upkeep.tidy(vacuum=args.vacuum)
    for step in steps:
        detail = f" ({step.detail})" if step.detail else ""
        print(f"{step.what}: {step.seconds:.2f} s{detail}")
    print(f"done in {sum(s.seconds for s in steps):.2f} s")
    return EXIT_OK


# -- migrate ---------------------------------------------------------------------------


async def _migrate(args: argparse.Namespace, register: Register) -> int:
    report = await register.audit.migrate_to(args.to, _MigrateProgress())
    print(migrate_summary(report))
    if report.source_ahead:
        print(
            f"kaiku-tui: warning: the source has {report.source_ahead} events after the "
            "copy's last one; they are not in the copy",
            file=sys.stderr,
        )
    return EXIT_OK if report.problem is None else EXIT_TAMPERED


class _MigrateProgress:
    """One line per table on stderr when it is done, and a line every few seconds."""

    def __init__(self, every_s: float = 5.0) -> None:
        self._every_s = every_s
        self._shown = 0.0

    def __call__(self, step: TableCopied) -> None:
        if step.done or step.seconds - self._shown >= self._every_s:
            state = "copied" if step.done else "copying"
            rate = f", {step.rows / step.seconds:,.0f}/s" if step.seconds > 0 else ""
            line = f"{state} {step.table}: {step.rows:,} rows in {step.seconds:.1f} s{rate}"
            print(line, file=sys.stderr, flush=True)
            self._shown = 0.0 if step.done else step.seconds


def migrate_summary(report: MigrationReport) -> str:
    copy = f"{report.rows:,} rows in {len(report.tables)} tables"
    resumed = " (an unfinished copy resumed)" if report.resumed else ""
    if report.problem is not None:
        return (
            f"TAMPERED: copied {copy} to {report.target}{resumed}, but its audit chain does "
            f"not verify: {report.problem}; the copy is left unusable"
        )
    return (
        f"migrated {copy} to {report.target}{resumed}; its audit chain verifies "
        f"({report.checked} events, head seq {report.head_seq}, "
        f"{report.checkpoints} signed checkpoints agree); blobs stay in the blob store"
    )


HANDLERS: Handlers = {
    ("migrate", None): _migrate,
    ("scan", None): _scan,
    ("keys", "status"): _keys_status,
    ("keys", "rotate"): _keys_rotate,
    ("backup", None): _backup,
    ("maintenance", None): _maintenance,
}
# Commands that run before (or instead of) opening a register for the person.
WITHOUT_REGISTER: dict[str, Runner] = {"doctor": _doctor_command, "restore": _restore_command}
# `keys split` opens the register itself: before it, the register refuses to open.
WITHOUT_REGISTER_ACTIONS: dict[tuple[str, str], Runner] = {("keys", "split"): _split_command}
