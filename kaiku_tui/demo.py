"""`kaiku-tui demo`: a register full of synthetic recordings, made with one command.

The demo register is an ordinary register in its own folder (config, key,
index), so everything a newcomer tries on it — query, show, audit — is the
real thing, audited like the real thing. The current login gets every role.
"""

from __future__ import annotations

import argparse
import itertools
import os
from pathlib import Path

from kaiku_tui.config import load, write_default
from kaiku_tui.domain.access import Role
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.errors import EXIT_OK, UsageError
from kaiku_tui.ingest.demo import DEMO_ORGS, DemoSpec, generate
from kaiku_tui.register import Register

_BATCH = 2_000


async def run_demo(args: argparse.Namespace) -> int:
    from kaiku_tui.cli import current_identity, verify_summary

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
    _explain(config_file, report.checked, [r.id for r in page.rows])
    print(verify_summary(report))
    return EXIT_OK


async def _build(folder: Path, records: int) -> None:
    from kaiku_tui.cli import current_identity

    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder} exists and is not an empty demo folder; use --dir")
    print(f"building a demo register of {records:,} recordings in {folder} ...")
    write_default(folder / "config.toml", folder)
    config = load(folder / "config.toml")
    identity = current_identity()
    register = await Register.initialise(config, identity, "Demo Admin")
    try:
        await register.set_person(identity.login, frozenset(Role), ())
    finally:
        await register.close()
    register = await Register.open(config, identity)
    try:
        for org in DEMO_ORGS:
            await register.add_org(org)
        await _fill(register, records)
    finally:
        await register.close()


async def _fill(register: Register, records: int) -> None:
    rows = generate(DemoSpec(records=records))
    while batch := list(itertools.islice(rows, _BATCH)):
        for org in {r.org for r in batch}:
            await register.add_recordings([r for r in batch if r.org == org], source="demo")


def _explain(config_file: Path, events: int, ids: list[int]) -> None:
    env = (
        f"KAIKU_CONFIG={config_file}" if os.environ.get("KAIKU_CONFIG") != str(config_file) else ""
    )
    example = ids[0] if ids else 1
    print(f"demo register: {config_file.parent}")
    print("the TUI comes in a later version; try the command line on the demo register:")
    print(f"  {env} kaiku-tui query --from 2026-11-01 --min-duration 30:00 --sort -duration")
    print(f"  {env} kaiku-tui show {example} --purpose quality")
    print(f"  {env} kaiku-tui audit show --limit 20")
    print(f"  {env} kaiku-tui audit verify")
