"""`kaiku-tui ingest`: feeding parsed exports to the register in batches, with a summary.

A face, like the other command groups: the parsers (`kaiku_tui.ingest`) say what each row is,
`Register.add_recordings` encrypts and files a batch in one audited
transaction, and this module only batches, counts and reports.

Why batches: each batch is one transaction with one audit event, and its
audio blobs are written before it. A kill -9 in the middle leaves whole
batches filed and nothing of the batch in flight but unnamed blobs (sealed
under keys never stored: unreadable, harmless); running the same import again
skips what is filed (source id per organisation) and completes the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from kaiku_tui.cli.common import AddParser, Handlers
from kaiku_tui.domain.org import check_code
from kaiku_tui.domain.recording import NewRecording
from kaiku_tui.domain.text import sanitise
from kaiku_tui.errors import EXIT_OK, EXIT_REJECTED_ROWS, UsageError
from kaiku_tui.ingest.asterisk import AsteriskExport, call_recordings
from kaiku_tui.ingest.cdr import DEFAULT_TZ, Rejected, read_cdr
from kaiku_tui.ingest.chatwoot import ChatRejected, chat_recordings
from kaiku_tui.ingest.recordings import RecordingFolder
from kaiku_tui.register import Register

Item = NewRecording | Rejected | ChatRejected
BATCH = 200
# An import of this many rows or more reports progress when stderr is not a terminal.
_QUIET_BELOW = 5_000


def add_commands(add: AddParser) -> None:
    ingest = add("ingest", help="import call-centre exports (admin)")
    isub = ingest.add_subparsers(dest="action", metavar="SOURCE", required=True)
    asterisk = isub.add_parser("asterisk", help="Asterisk cdr_csv and its WAV recordings")
    asterisk.add_argument("--cdr", required=True, metavar="FILE", help="Master.csv")
    asterisk.add_argument(
        "--recordings", required=True, metavar="DIR", help="holds *<uniqueid>.wav (and .vtt)"
    )
    asterisk.add_argument("--org", required=True, metavar="CODE", help="the client's code")
    asterisk.add_argument("--tz", metavar="ZONE", help="the PBX's time zone (Europe/Helsinki)")
    chatwoot = isub.add_parser("chatwoot", help="Chatwoot conversation JSON (files or folders)")
    chatwoot.add_argument("paths", nargs="+", metavar="PATH")
    chatwoot.add_argument("--org", required=True, metavar="CODE", help="the client's code")


def batch_size() -> int:
    """BATCH, or KAIKU_INGEST_BATCH (tests make small batches to stop an import mid-way)."""
    raw = os.environ.get("KAIKU_INGEST_BATCH", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else BATCH


@dataclass
class Tally:
    """What an import did with every row it was given."""

    imported: int = 0
    already: int = 0  # filed by an earlier import, or repeated in this one
    skipped: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejected | ChatRejected] = field(default_factory=list)

    def summary(self, what: str, source: str, org: str) -> str:
        skipped = sum(self.skipped.values())
        why = ", ".join(f"{n} {reason}" for reason, n in self.skipped.items() if n)
        return (
            f"{source} into {org}: imported {self.imported} {what}, "
            f"{self.already} already in the register, "
            f"skipped {skipped}{f' ({why})' if why else ''}, rejected {len(self.rejected)}"
        )

    @property
    def exit_code(self) -> int:
        return EXIT_REJECTED_ROWS if self.rejected else EXIT_OK


class Progress:
    """A bar on a terminal; elsewhere a line now and then for a long import; else nothing."""

    def __init__(self, total: int, what: str, out: TextIO | None = None) -> None:
        self.total, self.what = total, what
        self._out = out or sys.stderr  # looked up now: tests and callers swap sys.stderr
        self._tty = self._out.isatty()
        self._last = 0.0
        self._quiet = not self._tty and total < _QUIET_BELOW

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self._quiet or (now - self._last < (0.1 if self._tty else 10.0) and done < self.total):
            return
        self._last = now
        share = done / self.total if self.total else 1.0
        if self._tty:
            bar = "#" * int(share * 30)
            self._out.write(f"\r[{bar:<30}] {done}/{self.total} {self.what}")
            if done >= self.total:
                self._out.write("\n")
        else:
            self._out.write(f"{done}/{self.total} {self.what} ({share:.0%})\n")
        self._out.flush()


async def add_in_batches(
    register: Register, items: Iterable[Item], tally: Tally, progress: Progress, source: str
) -> None:
    """File the recordings batch by batch; every rejection is kept for the summary.

    The next batch is parsed on a thread while this one is encrypted and
    filed: parsing is Python, filing mostly waits for AES and fsync, so the
    two overlap. Only one thread at a time takes from the iterator.
    """
    done = 0
    iterator: Iterator[Item] = iter(items)
    size = batch_size()
    upcoming = asyncio.ensure_future(asyncio.to_thread(_take, iterator, size))
    try:
        while chunk := await upcoming:
            upcoming = asyncio.ensure_future(asyncio.to_thread(_take, iterator, size))
            batch = [x for x in chunk if isinstance(x, NewRecording)]
            tally.rejected += [x for x in chunk if not isinstance(x, NewRecording)]
            if batch:
                result = await register.intake.add_recordings(batch, source=source)
                tally.imported += result.added
                tally.already += result.duplicates
            done += len(chunk)
            progress.update(done)
    finally:
        if not upcoming.done():
            upcoming.cancel()


def _take(iterator: Iterator[Item], size: int) -> list[Item]:
    return list(itertools.islice(iterator, size))


def report(tally: Tally, summary: str) -> int:
    """Rejections on stderr, one line each; the summary on stdout; the exit code."""
    for rejected in tally.rejected:
        print(f"rejected: {sanitise(str(rejected))}", file=sys.stderr)
    print(sanitise(summary))
    return tally.exit_code


async def ingest_asterisk(args: argparse.Namespace, register: Register) -> int:
    org = check_code(args.org)
    cdr = Path(args.cdr)
    found = read_cdr(cdr, tz=args.tz or DEFAULT_TZ)
    folder = RecordingFolder(Path(args.recordings), {c.uniqueid for c in found.calls})
    export = AsteriskExport(cdr, found, folder, org)
    tally = Tally(already=found.duplicates, rejected=list(found.rejected))
    tally.skipped = {"unanswered": found.skipped_unanswered, "internal": found.skipped_internal}
    progress = Progress(len(found.calls), "calls")
    await add_in_batches(
        register, call_recordings(export), tally, progress, source=f"asterisk {cdr.name}"
    )
    return report(tally, tally.summary("calls", str(cdr), org))


async def ingest_chatwoot(args: argparse.Namespace, register: Register) -> int:
    org = check_code(args.org)
    paths = chat_files([Path(p) for p in args.paths])
    tally = Tally()
    items = list(chat_recordings(paths, org))
    progress = Progress(len(items), "conversations")
    names = paths[0].name if len(paths) == 1 else f"{len(paths)} files"
    await add_in_batches(register, items, tally, progress, source=f"chatwoot {names}")
    return report(tally, tally.summary("conversations", names, org))


def chat_files(paths: list[Path]) -> list[Path]:
    """The files named, and every *.json under a folder named; a path that is neither
    is unusable input (exit 2) before anything is imported."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*.json") if p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    return files


HANDLERS: Handlers = {
    ("ingest", "asterisk"): ingest_asterisk,
    ("ingest", "chatwoot"): ingest_chatwoot,
}
