"""`kaiku-tui demo`: a register full of synthetic recordings, made with one command.

The demo register is an ordinary register in its own folder (config, key,
index), so everything a newcomer tries on it — query, show, audit — is the
real thing, audited like the real thing. The current login gets every role.
"""

from __future__ import annotations

import argparse
import itertools
import shlex
import shutil
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from kaiku_tui.config import Config, load, write_default
from kaiku_tui.domain.access import Role
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.recording import RecordingSummary
from kaiku_tui.errors import EXIT_OK, UsageError
from kaiku_tui.identity import current_identity
from kaiku_tui.ingest.demo import DEMO_ORGS, DemoSpec, generate
from kaiku_tui.register import Register

_BATCH = 2_000


async def run_demo(args: argparse.Namespace) -> int:
    from kaiku_tui.cli import verify_summary

    folder = Path(args.dir or "kaiku-demo").resolve()
    if args.records < 0:
        raise UsageError(f"--records {args.records} must not be negative")
    config_file = folder / "config.toml"
    if not config_file.exists():
        await _build(folder, args.records)
    config = load(config_file)
    register = await Register.open(config, current_identity())
    try:
        report = await register.verify_audit()
        page = await register.search(RecordingFilter(), limit=5)
    finally:
        await register.close()
    _explain(config_file, page.rows)
    print(verify_summary(report))
    return EXIT_OK


async def _build(folder: Path, records: int) -> None:
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder} exists and is not an empty demo folder; use --dir")
    print(f"building a demo register of {records:,} recordings in {folder} ...")
    config = await create_demo_register(folder, "Demo Admin")
    register = await Register.open(config, current_identity())
    try:
        await _fill(register, records)
    finally:
        await register.close()


async def create_demo_register(folder: Path, display_name: str) -> Config:
    """A register in `folder` (config, key, index) with the demo organisations, whose one
    person, the current login, holds every role. The benchmarks start from it too."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_default(folder / "config.toml", folder)
    config = load(folder / "config.toml")
    identity = current_identity()
    register = await Register.initialise(config, identity, display_name)
    try:
        await register.set_person(identity.login, frozenset(Role), ())
    finally:
        await register.close()
    register = await Register.open(config, identity, environ={})
    try:
        for org in DEMO_ORGS:
            await register.add_org(org)
    finally:
        await register.close()
    return config


async def _fill(register: Register, records: int) -> None:
    # Up to yesterday, so that "last 7 days" shows something on any day.
    rows = generate(DemoSpec(records=records, end=date.today() - timedelta(days=1)))
    while batch := list(itertools.islice(rows, _BATCH)):
        for org in {r.org for r in batch}:
            await register.add_recordings([r for r in batch if r.org == org], source="demo")


def _explain(config_file: Path, rows: Sequence[RecordingSummary]) -> None:
    from kaiku_tui.cli import summary_line

    print(f"demo register: {config_file.parent}; the newest recordings:")
    for row in rows:
        print(f"  {summary_line(row)}")
    run = f"KAIKU_CONFIG={shlex.quote(str(config_file))} {_program()}"
    example = rows[0].id if rows else 1
    print("the TUI comes in a later version; try the command line on it:")
    print(f"  {run} query --from 2026-11-01 --min-duration 30:00 --sort -duration")
    print(f"  {run} show {example} --purpose quality")
    print(f"  {run} audit show --limit 20")
    print(f"  {run} audit verify")


def _program() -> str:
    """How this kaiku-tui was started, so the printed commands work as they stand."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "__main__.py":
        return f"{shlex.quote(sys.executable)} -m kaiku_tui"
    found = shutil.which("kaiku-tui")
    if found and Path(found).resolve() == argv0.resolve():
        return "kaiku-tui"
    return shlex.quote(str(argv0))
