"""`kaiku-tui demo`: a register full of synthetic recordings, made with one command.

The demo register is an ordinary register in its own folder (config, index,
blobs; its key store, like every register's, outside it), so everything a
newcomer tries on it — query, show, audit — is the real thing, audited like
the real thing. The current login is its admin and a supervisor; three other
persons show what scopes and roles do.

`run_demo` builds the register (or reuses one built before) and returns its
configuration path; the command then shows it — with the TUI once there is
one, until then with the newest rows and the commands to try.

Up to 50,000 recordings are made the real way (encrypted transcripts, audio
for some calls). Beyond that — `--records 10000000` for performance work —
the first 3,000 are made the real way and the rest are metadata-only rows
written in bulk (`Register.fill_synthetic`): they browse, count and sort like
the real ones, and opening one says its key is destroyed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import shlex
import shutil
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from kaiku_tui.cli.common import AddParser, Runner, run_tui
from kaiku_tui.cli.output import summary_line, verify_summary
from kaiku_tui.config import Config, load, write_default
from kaiku_tui.domain.access import Role
from kaiku_tui.domain.annotation import CaseStatus
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.dates import day_end
from kaiku_tui.domain.recording import RecordingSummary
from kaiku_tui.errors import EXIT_OK, UsageError
from kaiku_tui.ingest.demo import DEMO_ORGS, DEMO_PERSONS, DemoSpec, generate
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity

DEFAULT_RECORDS = 3_000
DEFAULT_SEED = 7
_REAL_AT_MOST = 50_000
_BULK_DAYS = 3 * 365
_BATCH = 500  # recordings with audio hold it in memory until their batch is filed
MARKER = "demo.json"


def add_commands(add: AddParser) -> None:
    demo = add("demo", help="a demo register with synthetic recordings")
    demo.add_argument("--dir", metavar="D", help="where (default: ./kaiku-demo)")
    demo.add_argument(
        "--records", type=int, default=3_000, metavar="N",
        help="how many (3,000; beyond 50,000 all but 3,000 are metadata only)",
    )  # fmt: skip
    demo.add_argument("--seed", type=int, default=7, metavar="S", help="same seed, same data")
    demo.add_argument("--no-tui", action="store_true", help="build it and print a summary")


def demo_tui(args: argparse.Namespace) -> int:
    """Build (or reuse) the demo register, then open the TUI on it. Without a terminal
    (a script, a pipe) `demo` prints its summary instead, as with --no-tui."""
    folder = Path(args.dir) if args.dir else None
    config_file = asyncio.run(run_demo(folder, args.records, args.seed))
    return run_tui(load(config_file))


async def demo_command(args: argparse.Namespace) -> int:
    """The `demo` command: build or reuse, then show how to look at it."""
    config_file = await run_demo(Path(args.dir) if args.dir else None, args.records, args.seed)
    await _show(config_file)
    return EXIT_OK


async def run_demo(
    folder: Path | None = None, records: int = DEFAULT_RECORDS, seed: int = DEFAULT_SEED
) -> Path:
    """The demo register in `folder` (default ./kaiku-demo), built if it is not there
    yet; returns its configuration file."""
    folder = (folder or Path("kaiku-demo")).resolve()
    if records < 0:
        raise UsageError(f"--records {records} must not be negative")
    config_file = folder / "config.toml"
    if config_file.exists():
        _say_reused(folder, records, seed)
        await _split_if_old(load(config_file))
        return config_file
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder} exists and is not an empty demo folder; use --dir")
    print(f"building a demo register of {records:,} recordings in {folder} ...", flush=True)
    await _build(folder, records, seed)
    (folder / MARKER).write_text(json.dumps({"records": records, "seed": seed}) + "\n")
    return config_file


def _say_reused(folder: Path, records: int, seed: int) -> None:
    marker = folder / MARKER
    saved = json.loads(marker.read_text()) if marker.exists() else None
    if saved is None:
        print(f"reusing {folder} (its build did not finish, or an older version made it)")
    elif (saved["records"], saved["seed"]) != (records, seed):
        print(
            f"reusing {folder}: it holds {saved['records']:,} recordings (seed {saved['seed']}); "
            "delete it, or name another --dir, to build another"
        )


async def _split_if_old(config: Config) -> None:
    """A demo folder made before the key store: its keys are split into one at once (the
    demo is single-user and its own; an ordinary register asks for `keys split`)."""
    if config.master_key_file.exists() and not config.key_store.exists():
        report = await Register.split_keys(config, current_identity(), environ={})
        print(f"moved the demo's master key into the key store {report.key_store}")


async def _build(folder: Path, records: int, seed: int) -> None:
    config = await create_demo_register(folder, "Demo Admin")
    register = await Register.open(config, current_identity())
    yesterday = date.today() - timedelta(days=1)  # so "the last 7 days" shows something
    real = records if records <= _REAL_AT_MOST else DEFAULT_RECORDS
    try:
        for person in DEMO_PERSONS:
            await register.persons.add(person)
        await _fill(register, DemoSpec(records=real, seed=seed, end=yesterday))
        await _cases(register, yesterday)
        if records > real:
            print(f"  and {records - real:,} metadata-only rows over three years ...", flush=True)
            await register.intake.fill_synthetic(
                records - real, seed=seed, end=yesterday, days=_BULK_DAYS
            )
    finally:
        await register.close()


async def create_demo_register(folder: Path, display_name: str) -> Config:
    """A register in `folder` (config, key, index) with the demo organisations, whose one
    person, the current login, is admin and supervisor. The benchmarks start from it too."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_default(folder / "config.toml", folder)
    config = load(folder / "config.toml")
    identity = current_identity()
    register = await Register.initialise(config, identity, display_name)
    try:
        await register.persons.change(identity.login, frozenset({Role.ADMIN, Role.SUPERVISOR}), ())
    finally:
        await register.close()
    register = await Register.open(config, identity, environ={})
    try:
        for org in DEMO_ORGS:
            await register.orgs.add(org)
    finally:
        await register.close()
    return config


async def _fill(register: Register, spec: DemoSpec) -> None:
    rows = generate(spec)
    while batch := list(itertools.islice(rows, _BATCH)):
        for org in sorted({r.org for r in batch}):
            await register.intake.add_recordings([r for r in batch if r.org == org], source="demo")


# Feedback cases to find on the cases screen (`c`): (org, reference, summary, days ago).
_DEMO_CASES = (
    ("ITU", "PAL-2026-0101", "Asiakas ei saanut luvattua takaisinsoittoa", 3),
    ("KESKI", "PAL-2026-0102", "Palautteen mukaan chatissa annettiin väärä aukioloaika", 10),
)


async def _cases(register: Register, day: date) -> None:
    """Two cases, each linked to its organisation's last two recordings up to the day it
    was received; the first is being investigated."""
    for i, (org, ref, summary, ago) in enumerate(_DEMO_CASES):
        received = day - timedelta(days=ago)
        where = RecordingFilter(orgs=(org,), started_before=day_end(received))
        page = await register.recordings.search(where, limit=2)
        case = await register.cases.add(org, ref, summary, received)
        await register.cases.link(case.id, [row.id for row in page.rows])
        if i == 0:
            await register.cases.move(case.id, CaseStatus.INVESTIGATING)


async def _show(config_file: Path) -> None:
    register = await Register.open(load(config_file), current_identity())
    try:
        report = await register.audit.verify()
        page = await register.recordings.search(RecordingFilter(), limit=5)
    finally:
        await register.close()
    _explain(config_file, page.rows)
    print(verify_summary(report))


def _explain(config_file: Path, rows: Sequence[RecordingSummary]) -> None:
    print(f"demo register: {config_file.parent}; the newest recordings:")
    for row in rows:
        print(f"  {summary_line(row)}")
    run = f"KAIKU_CONFIG={shlex.quote(str(config_file))} {_program()}"
    # A row with content to show; id 1 always has (the real rows go in before any bulk).
    example = next((r.id for r in rows if r.has_transcript), 1)
    recent = (date.today() - timedelta(days=30)).isoformat()
    print(f"open the TUI on it: {run}")
    print("or try the command line:")
    print(f"  {run} query --from {recent} --min-duration 30:00 --sort -duration")
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


# `demo` makes its own register; it opens it itself.
WITHOUT_REGISTER: dict[str, Runner] = {"demo": demo_command}
