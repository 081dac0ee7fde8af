"""The command line of annotations: `cases`, `tags` and `notes` (issue 7).

A face like the other command groups (main.py registers them and dispatches):
arguments into domain objects, one Register call, output through the
sanitiser (text) or `json_safe` (JSON). Case files are written here, after
the register has audited the export.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from kaiku_tui.cli.common import AddParser, Handlers
from kaiku_tui.cli.output import print_json
from kaiku_tui.domain.access import Purpose
from kaiku_tui.domain.annotation import Anchor, CaseFilter, CaseStatus, FeedbackCase, Note
from kaiku_tui.domain.dates import fmt_date, fmt_time, iso, parse_date
from kaiku_tui.domain.org import check_code
from kaiku_tui.domain.recording import RecordingSummary
from kaiku_tui.domain.text import json_safe, sanitise
from kaiku_tui.errors import EXIT_OK, UsageError
from kaiku_tui.register import Register

_STATUSES = [s.value for s in CaseStatus]


def add_commands(add: AddParser) -> None:
    _case_parsers(add("cases", help="feedback cases (palautetapaukset)"))
    tags = add("tags", help="tags of recordings")
    tsub = tags.add_subparsers(dest="action", metavar="ACTION", required=True)
    tsub.add_parser("list", help="the vocabulary with counts").add_argument(
        "--json", action="store_true"
    )
    for name in ("add", "remove"):
        p = tsub.add_parser(name, help=f"{name} a tag (audited)")
        p.add_argument("record_id", type=int, metavar="RECORD_ID")
        p.add_argument("tag")
    notes = add("notes", help="notes on a recording")
    nsub = notes.add_subparsers(dest="action", metavar="ACTION", required=True)
    nadd = nsub.add_parser("add", help="a note on a recording (audited)")
    nadd.add_argument("record_id", type=int, metavar="RECORD_ID")
    nadd.add_argument("text")
    where = nadd.add_mutually_exclusive_group()
    where.add_argument("--at", type=float, metavar="S", help="seconds from the start (a call)")
    where.add_argument("--message", type=int, metavar="N", help="message number (a chat)")
    nadd.add_argument("--purpose", default=Purpose.QUALITY.value, metavar="P")
    nlist = nsub.add_parser("list", help="a recording's notes and their versions (audited)")
    nlist.add_argument("record_id", type=int, metavar="RECORD_ID")
    nlist.add_argument("--purpose", required=True, metavar="P")
    nlist.add_argument("--json", action="store_true")


def _case_parsers(cases: argparse.ArgumentParser) -> None:
    csub = cases.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = csub.add_parser("add", help="a new case, open, owned by you")
    add.add_argument("ref", metavar="REF", help="its reference in the feedback system")
    add.add_argument("--org", required=True, metavar="CODE")
    add.add_argument("--summary", required=True, metavar="TEXT", help="no patient details")
    add.add_argument("--received", metavar="D", help="YYYY-MM-DD (default: today)")
    link = csub.add_parser("link", help="link recordings to a case")
    link.add_argument("case_id", type=int, metavar="CASE_ID")
    link.add_argument("record_ids", type=int, nargs="+", metavar="RECORD_ID")
    listing = csub.add_parser("list", help="cases in your scope, newest first")
    listing.add_argument("--status", choices=_STATUSES)
    listing.add_argument("--org", action="append", default=[], metavar="CODE")
    listing.add_argument("--limit", type=int, default=200, metavar="N")
    listing.add_argument("--json", action="store_true")
    show = csub.add_parser("show", help="one case with its findings (audited)")
    show.add_argument("case_id", type=int, metavar="CASE_ID")
    show.add_argument("--json", action="store_true")
    move = csub.add_parser("move", help="open → investigating → resolved → closed")
    move.add_argument("case_id", type=int, metavar="CASE_ID")
    move.add_argument("status", choices=_STATUSES, metavar="STATUS")
    setter = csub.add_parser("set", help="owner, findings or resolution")
    setter.add_argument("case_id", type=int, metavar="CASE_ID")
    setter.add_argument("--owner", metavar="LOGIN")
    setter.add_argument("--findings", metavar="TEXT")
    setter.add_argument("--resolution", metavar="TEXT")
    export = csub.add_parser("export", help="the case file as JSON (audited as case.export)")
    export.add_argument("case_id", type=int, metavar="CASE_ID")
    export.add_argument("--to", required=True, metavar="FILE", help="a new file (mode 0600)")


# -- cases -------------------------------------------------------------------------------


async def _cases_add(args: argparse.Namespace, register: Register) -> int:
    received = parse_date(args.received, "--received") if args.received else None
    case = await register.cases.add(check_code(args.org), args.ref, args.summary, received)
    print(sanitise(f"case {case.id} added: {case.ref} ({case.org}), open"))
    return EXIT_OK


async def _cases_link(args: argparse.Namespace, register: Register) -> int:
    added = await register.cases.link(args.case_id, args.record_ids)
    print(f"case {args.case_id}: {added} recording(s) linked, {len(args.record_ids) - added} "
          "were already")  # fmt: skip
    return EXIT_OK


async def _cases_list(args: argparse.Namespace, register: Register) -> int:
    status = CaseStatus(args.status) if args.status else None
    where = CaseFilter(status, tuple(check_code(o) for o in args.org), limit=args.limit)
    for case in await register.cases.find(where):
        if args.json:
            print_json(case_json(case))
        else:
            print(case_line(case))
    return EXIT_OK


async def _cases_show(args: argparse.Namespace, register: Register) -> int:
    case = await register.cases.read(args.case_id)
    if args.json:
        print_json(case_json(case))
        return EXIT_OK
    print(case_line(case))
    print(sanitise(f"  received {case.received}; recordings: "
                   f"{', '.join(map(str, case.records)) or '(none)'}"))  # fmt: skip
    for label, text in (("summary", case.summary), ("findings", case.findings),
                        ("resolution", case.resolution)):  # fmt: skip
        if text:
            print(f"  {label}: {sanitise(text, keep_newlines=True)}")
    return EXIT_OK


async def _cases_move(args: argparse.Namespace, register: Register) -> int:
    case = await register.cases.move(args.case_id, CaseStatus(args.status))
    print(sanitise(f"case {case.id} ({case.ref}) is {case.status.value}"))
    return EXIT_OK


async def _cases_set(args: argparse.Namespace, register: Register) -> int:
    if args.owner is None and args.findings is None and args.resolution is None:
        raise UsageError("cases set: give --owner, --findings or --resolution")
    case = await register.cases.change(
        args.case_id, owner=args.owner, findings=args.findings, resolution=args.resolution
    )
    print(sanitise(f"case {case.id} ({case.ref}) changed"))
    return EXIT_OK


async def _cases_export(args: argparse.Namespace, register: Register) -> int:
    """The file is created (new, 0600) before the export is audited, and removed again if
    anything fails before its content is written: no event without a file, no stray file."""
    path = Path(args.to)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise UsageError(f"--to {path}: cannot create a new file ({exc.strerror})") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        try:
            case_file = await register.cases.export(args.case_id, str(path.resolve()))
            recordings = [recording_meta(r) for r in case_file.recordings]
            document = {"case": case_json(case_file.case), "recordings": recordings}
            out.write(json_safe(json.dumps(document, ensure_ascii=False, indent=2)) + "\n")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    print(sanitise(f"case {args.case_id} written to {path} ({len(recordings)} recordings)"))
    return EXIT_OK


def case_json(case: FeedbackCase) -> dict[str, object]:
    return {
        "id": case.id, "ref": case.ref, "org": case.org, "received": case.received,
        "summary": case.summary, "status": case.status.value, "owner": case.owner,
        "findings": case.findings, "resolution": case.resolution, "records": list(case.records),
    }  # fmt: skip


def case_line(case: FeedbackCase) -> str:
    text = (f"{case.id:>6} {case.ref:<16} {case.org:<6} {case.received} "
            f"{case.status.value:<13} {case.owner:<12} {case.summary}")  # fmt: skip
    return sanitise(text[:200])


def recording_meta(row: RecordingSummary) -> dict[str, object]:
    """A linked recording in a case file: metadata only (no transcript, the number masked)."""
    return {
        "id": row.id, "org": row.org, "channel": row.channel.value,
        "direction": row.direction.value, "started_at": iso(row.started_at),
        "duration_s": row.duration_s, "agent": row.agent, "phone": row.phone_masked,
        "source_id": row.source_id, "tags": list(row.tags),
    }  # fmt: skip


# -- tags and notes ------------------------------------------------------------------------


async def _tags_list(args: argparse.Namespace, register: Register) -> int:
    for t in await register.tags.vocabulary():
        if args.json:
            print_json({"tag": t.tag, "count": t.count, "managed": t.managed,
                         "meaning": t.meaning})  # fmt: skip
        else:
            kind = "managed" if t.managed else "free"
            print(sanitise(f"{t.tag:<24} {t.count:>8}  {kind:<7} {t.meaning}".rstrip()))
    return EXIT_OK


async def _tags_add(args: argparse.Namespace, register: Register) -> int:
    changed = await register.tags.add(args.record_id, args.tag)
    print(sanitise(f"{args.record_id}: {args.tag} " + ("added" if changed else "was there")))
    return EXIT_OK


async def _tags_remove(args: argparse.Namespace, register: Register) -> int:
    changed = await register.tags.remove(args.record_id, args.tag)
    print(sanitise(f"{args.record_id}: {args.tag} " + ("removed" if changed else "was not there")))
    return EXIT_OK


async def _notes_add(args: argparse.Namespace, register: Register) -> int:
    anchor = Anchor(at_s=args.at, message=args.message)
    purpose = Purpose.parse(args.purpose)
    note = await register.notes.add(args.record_id, args.text, anchor, purpose)
    print(f"note {note.note_id} added to recording {args.record_id}")
    return EXIT_OK


async def _notes_list(args: argparse.Namespace, register: Register) -> int:
    for note in await register.notes.read(args.record_id, Purpose.parse(args.purpose)):
        if args.json:
            print_json(note_json(note))
            continue
        for v in note.versions:
            place = _place(v.anchor)
            state = " (withdrawn)" if v.withdrawn else ""
            when = f"{fmt_date(v.written_at)} {fmt_time(v.written_at)}"
            line = f"{note.note_id:>6} v{v.version} {when} {v.author} {place}{state}: {v.text}"
            print(sanitise(line))
    return EXIT_OK


def note_json(note: Note) -> dict[str, object]:
    versions = [
        {"version": v.version, "author": v.author, "written_at": iso(v.written_at),
         "at_s": v.anchor.at_s, "message": v.anchor.message, "withdrawn": v.withdrawn,
         "text": v.text}
        for v in note.versions
    ]  # fmt: skip
    return {"id": note.note_id, "record_id": note.record_id, "withdrawn": note.withdrawn,
            "versions": versions}  # fmt: skip


def _place(anchor: Anchor) -> str:
    if anchor.at_s is not None:
        return f"@{anchor.at_s:g}s"
    if anchor.message is not None:
        return f"#message {anchor.message}"
    return "(whole)"


HANDLERS: Handlers = {
    ("cases", "add"): _cases_add,
    ("cases", "link"): _cases_link,
    ("cases", "list"): _cases_list,
    ("cases", "show"): _cases_show,
    ("cases", "move"): _cases_move,
    ("cases", "set"): _cases_set,
    ("cases", "export"): _cases_export,
    ("tags", "list"): _tags_list,
    ("tags", "add"): _tags_add,
    ("tags", "remove"): _tags_remove,
    ("notes", "add"): _notes_add,
    ("notes", "list"): _notes_list,
}
