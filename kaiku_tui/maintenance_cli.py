"""The admin's maintenance commands on the command line: doctor, scan, keys status,
backup, restore, maintenance. A face: it calls `register.upkeep` and the
maintenance functions, and prints what they return (README, "Keeping a register").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kaiku_tui.config import config_path, load
from kaiku_tui.domain.text import json_safe, sanitise
from kaiku_tui.errors import EXIT_OK, EXIT_TAMPERED
from kaiku_tui.maintenance.checks import Check, exit_code
from kaiku_tui.register.identity import current_identity

if TYPE_CHECKING:
    from kaiku_tui.register import Register

Handler = Callable[[argparse.Namespace, "Register"], Awaitable[int]]
# Commands that run before (or instead of) opening a register for the person.
WITHOUT_REGISTER = ("doctor", "restore")


def add_parsers(sub: argparse._SubParsersAction[Any]) -> None:
    doctor = sub.add_parser(
        "doctor",
        help="check the register's health (admin); exit 0 ok, 1 warnings, 2 failures",
    )
    doctor.add_argument("--json", action="store_true", help="one JSON object a check")
    scan = sub.add_parser(
        "scan", help="check every recording's blob and transcript against its keys (admin)"
    )
    scan.add_argument("--org", metavar="CODE", help="only this organisation's recordings")
    scan.add_argument("--sample", type=int, metavar="N", help="a random sample of N recordings")
    scan.add_argument("--full", action="store_true", help="decrypt every segment of every blob")
    keys = sub.add_parser("keys", help="the master key and organisation keys (admin)")
    ksub = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    ksub.add_parser("status", help="key ages; which organisations' keys exist or are destroyed")
    rotate = ksub.add_parser(
        "rotate",
        help="a new master key; organisation keys re-wrapped (blobs untouched); the old key "
        "kept as <file>.retired-<id> for older backups",
    )
    rotate.add_argument(
        "--destroy-old",
        action="store_true",
        help="delete the old key at once: backups made before cannot be read any more",
    )
    backup = sub.add_parser("backup", help="a consistent copy of the register (admin)")
    backup.add_argument("--to", required=True, metavar="DIR", help="a new or empty directory")
    backup.add_argument(
        "--link", action="store_true", help="hard-link the blobs instead of copying them"
    )
    restore = sub.add_parser("restore", help="a backup into an empty data directory (admin)")
    restore.add_argument("--from", dest="source", required=True, metavar="DIR")
    upkeep = sub.add_parser("maintenance", help="ANALYZE, WAL checkpoint, VACUUM (admin)")
    upkeep.add_argument("--vacuum", action="store_true", help="also VACUUM (rewrites the file)")


async def run_without_register(args: argparse.Namespace) -> int:
    path = config_path(args.config, os.environ)
    if args.command == "doctor":
        return await _doctor(path, json_lines=args.json)
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


class ProgressBar:
    """A bar on stderr when stderr is a terminal; nothing in a pipe or a log."""

    def __init__(self, label: str = "scan") -> None:
        self._on = sys.stderr.isatty()
        self._label = label

    def __call__(self, done: int, total: int) -> None:
        if not self._on or total <= 0:
            return
        share = min(done / total, 1.0)
        bar = "#" * int(share * 30)
        end = "\n" if share >= 1.0 else ""
        print(f"\r{self._label} [{bar:<30}] {share:4.0%}", end=end, file=sys.stderr, flush=True)


async def _keys_status(args: argparse.Namespace, register: Register) -> int:
    status = await register.upkeep.key_status()
    where = status.master_key_file or "KAIKU_MASTER_KEY"
    since = f", file since {status.master_key_since:%Y-%m-%d}" if status.master_key_since else ""
    print(f"master key {status.master_key_id} ({where}{since})")
    for org in status.orgs:
        state = "present" if org.present else "DESTROYED (crypto-shredded)"
        added = f", added {org.added:%Y-%m-%d}" if org.added else ""
        wrapped = f", wrapped by {org.master_key_id}" if org.present else ""
        print(sanitise(f"  {org.code} {org.name}: {state}{wrapped}{added}"))
    return EXIT_OK


async def _keys_rotate(args: argparse.Namespace, register: Register) -> int:
    report = await register.upkeep.rotate_keys(os.environ, destroy_old=args.destroy_old)
    print(
        f"master key {report.old_key_id} -> {report.new_key_id}: "
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
        f"{report.seconds:.1f} s. The master key is not in it: keep it apart."
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


HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("scan", None): _scan,
    ("keys", "status"): _keys_status,
    ("keys", "rotate"): _keys_rotate,
    ("backup", None): _backup,
    ("maintenance", None): _maintenance,
}
