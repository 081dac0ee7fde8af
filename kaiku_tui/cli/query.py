"""`kaiku-tui query` and `kaiku-tui show`: listing recordings (audited as a search) and
opening one (audited as an opening, for a purpose). A face: the filter options into
a `RecordingFilter`, one Register call, the rows printed."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from kaiku_tui.cli.common import AddParser, Handlers, filter_args, purpose_of, recording_filter
from kaiku_tui.cli.output import print_json, summary_json, summary_line
from kaiku_tui.domain.access import Purpose
from kaiku_tui.domain.browse import Sort
from kaiku_tui.domain.dates import fmt_duration
from kaiku_tui.domain.recording import Recording
from kaiku_tui.domain.text import sanitise
from kaiku_tui.errors import EXIT_OK, UsageError
from kaiku_tui.register import Register


def add_commands(add: AddParser) -> None:
    query = add("query", help="list recordings (audited as a search)")
    filter_args(query)
    query.add_argument("--sort", default="-date", help="date, -date, duration, -duration")
    query.add_argument("--limit", type=int, default=50, metavar="N")
    query.add_argument("--reveal-phone", action="store_true")
    query.add_argument("--purpose", metavar="P")
    query.add_argument("--json", action="store_true")

    show = add("show", help="one recording's metadata and transcript")
    show.add_argument("id", type=int)
    show.add_argument("--purpose", required=True, metavar="P")
    show.add_argument("--reveal-phone", action="store_true")
    show.add_argument("--json", action="store_true")


async def _query(args: argparse.Namespace, register: Register) -> int:
    where = recording_filter(args)
    sort = Sort.parse(args.sort)
    purpose = purpose_of(args, args.reveal_phone)
    if args.limit < 1:
        raise UsageError(f"--limit {args.limit} must be at least 1")
    page = await register.recordings.search(where, sort, limit=args.limit)
    for row in page.rows:
        number = await register.recordings.reveal_phone(row.id, purpose) if purpose else None
        if args.json:
            print_json(summary_json(row, number))
        else:
            print(summary_line(row, number))
    return EXIT_OK


async def _show(args: argparse.Namespace, register: Register) -> int:
    purpose = Purpose.parse(args.purpose)
    recording = await register.recordings.open_recording(args.id, purpose)
    number = await register.recordings.reveal_phone(args.id, purpose) if args.reveal_phone else None
    if args.json:
        print_json(recording_json(recording, number))
    else:
        _print_recording(recording, number)
    return EXIT_OK


def recording_json(recording: Recording, number: str | None) -> dict[str, object]:
    lines = [
        {"at": x.at, "speaker": x.speaker, "role": x.role.value, "text": x.text}
        for x in recording.transcript
    ]
    return {**summary_json(recording.summary, number), "transcript": lines}


def _print_recording(recording: Recording, number: str | None, out: TextIO = sys.stdout) -> None:
    print(summary_line(recording.summary, number), file=out)
    for line in recording.transcript:
        stamp = fmt_duration(int(line.at))
        print(sanitise(f"  [{stamp:>7}] {line.speaker} ({line.role.value}): {line.text}"), file=out)


HANDLERS: Handlers = {
    ("query", None): _query,
    ("show", None): _show,
}
