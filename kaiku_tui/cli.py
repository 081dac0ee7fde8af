"""The command line: a contract that scripts and admins rely on (README, docs/ARCHITECTURE.md).

Every command opens the register for the operating-system login, does one
thing through `Register`, and exits with the contract's code. Errors meant for
a person are one line on stderr; no traceback reaches a person.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any, TextIO

from kaiku_tui import (
    __version__,
    cli_annotations,
    cli_audit_retention,
    cli_samples,
    cli_subject,
    maintenance_cli,
    retention_cli,
)
from kaiku_tui.config import Config, config_path, load, write_default
from kaiku_tui.domain import phone as phones
from kaiku_tui.domain.access import Person, Purpose, Role
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.browse import RecordingFilter, Sort
from kaiku_tui.domain.dates import (
    day_end,
    day_start,
    fmt_date,
    fmt_duration,
    fmt_time,
    fmt_timestamp,
    iso,
    parse_date,
    parse_duration,
)
from kaiku_tui.domain.migration import MigrationReport, TableCopied
from kaiku_tui.domain.org import Organisation, check_code
from kaiku_tui.domain.recording import Channel, Direction, Recording, RecordingSummary
from kaiku_tui.domain.text import json_safe, sanitise
from kaiku_tui.errors import (
    EXIT_OK,
    EXIT_TAMPERED,
    KaikuError,
    UsageError,
)
from kaiku_tui.importing import ingest_asterisk, ingest_chatwoot
from kaiku_tui.register import Register
from kaiku_tui.register.audit_log import VerifyReport
from kaiku_tui.register.identity import current_identity

Handler = Callable[[argparse.Namespace, Register], Awaitable[int]]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2 (the contract)."""

    def error(self, message: str) -> Any:
        # The command's words after the program's name: main() prints "kaiku-tui: " first.
        _, _, command = self.prog.partition(" ")
        raise UsageError(f"{command}: {message}" if command else message)


# -- arguments ---------------------------------------------------------------------


def _filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="date_from", metavar="D", help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", metavar="D", help="last day (inclusive)")
    p.add_argument("--min-duration", metavar="S", help="seconds, m:ss or h:mm:ss")
    p.add_argument("--max-duration", metavar="S")
    p.add_argument("--channel", choices=[c.value for c in Channel])
    p.add_argument("--direction", choices=[d.value for d in Direction])
    p.add_argument("--org", action="append", default=[], metavar="CODE")
    p.add_argument("--agent")
    p.add_argument("--phone", metavar="NUMBER", help="any Finnish format")
    p.add_argument("--tag", metavar="T")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kaiku-tui",
        description="The register of recorded customer calls and chats: every search and "
        "every opening is audited first; content is encrypted; named persons only.",
        epilog="exit codes: 0 done, 1 audit tampering found, 2 unusable input or config, "
        "3 import rejected rows, 4 refused by the access policy, 5 stopped by a failure "
        "(nothing revealed)",
    )
    parser.add_argument("--version", action="version", version=f"kaiku-tui {__version__}")
    parser.add_argument("--config", metavar="PATH", help="configuration file")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser("demo", help="a demo register with synthetic recordings")
    demo.add_argument("--dir", metavar="D", help="where (default: ./kaiku-demo)")
    demo.add_argument(
        "--records", type=int, default=3_000, metavar="N",
        help="how many (3,000; beyond 50,000 all but 3,000 are metadata only)",
    )  # fmt: skip
    demo.add_argument("--seed", type=int, default=7, metavar="S", help="same seed, same data")
    demo.add_argument("--no-tui", action="store_true", help="build it and print a summary")

    review = sub.add_parser(
        "review", help="the TUI for a data subject's review at the premises (DPO)",
        description="Opens the TUI flagged as the review of an access request at the "
        "premises: only that person's recordings, reading and listening only, every "
        "event carrying the request's reference.",
    )  # fmt: skip
    review.add_argument("request_ref", metavar="REQUEST_REF", help="an access request's ref")

    init = sub.add_parser("init", help="create keys and index; you become admin")
    init.add_argument("--data-dir", metavar="D")
    init.add_argument("--name", help="your display name")

    persons = sub.add_parser("persons", help="named persons and their roles")
    psub = persons.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name in ("add", "set"):
        p = psub.add_parser(name, help=f"{name} a person's roles and scope")
        p.add_argument("login")
        p.add_argument("--role", action="append", required=True, metavar="R")
        p.add_argument("--org", action="append", default=[], metavar="CODE")
        if name == "add":
            p.add_argument("--name", help="display name (default: the login)")
    psub.add_parser("list", help="every person").add_argument("--json", action="store_true")
    psub.add_parser("disable", help="a person may no longer log in").add_argument("login")

    orgs = sub.add_parser("orgs", help="client organisations")
    osub = orgs.add_subparsers(dest="action", metavar="ACTION", required=True)
    oadd = osub.add_parser("add", help="add an organisation and its key")
    oadd.add_argument("code")
    oadd.add_argument("--name", required=True)
    oadd.add_argument("--contract-end", required=True, metavar="YYYY-MM-DD")
    oadd.add_argument("--contract-start", metavar="YYYY-MM-DD")
    osub.add_parser("list", help="every organisation").add_argument("--json", action="store_true")
    retention_cli.add_parsers(sub, osub)

    query = sub.add_parser("query", help="list recordings (audited as a search)")
    _filter_args(query)
    query.add_argument("--sort", default="-date", help="date, -date, duration, -duration")
    query.add_argument("--limit", type=int, default=50, metavar="N")
    query.add_argument("--reveal-phone", action="store_true")
    query.add_argument("--purpose", metavar="P")
    query.add_argument("--json", action="store_true")

    show = sub.add_parser("show", help="one recording's metadata and transcript")
    show.add_argument("id", type=int)
    show.add_argument("--purpose", required=True, metavar="P")
    show.add_argument("--reveal-phone", action="store_true")
    show.add_argument("--json", action="store_true")

    ingest = sub.add_parser("ingest", help="import call-centre exports (admin)")
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

    audit = sub.add_parser("audit", help="the audit log")
    asub = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    asub.add_parser("verify", help="recompute the chain; exit 1 on tampering")
    ashow = asub.add_parser("show", help="list events")
    ashow.add_argument("--since", metavar="D")
    ashow.add_argument("--actor", metavar="L")
    ashow.add_argument("--action", dest="event_action", metavar="A")
    ashow.add_argument("--limit", type=int, default=200, metavar="N")
    ashow.add_argument("--json", action="store_true")
    cli_audit_retention.add_parser(asub)

    cli_annotations.add_parsers(sub)
    cli_subject.add_parsers(sub)
    cli_samples.add_parsers(sub)

    migrate = sub.add_parser(
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
    maintenance_cli.add_parsers(sub)
    return parser


def recording_filter(args: argparse.Namespace) -> RecordingFilter:
    """The filter options as a RecordingFilter; each bad value named in one line."""
    start = day_start(parse_date(args.date_from, "--from")) if args.date_from else None
    end = day_end(parse_date(args.date_to, "--to")) if args.date_to else None
    lo = parse_duration(args.min_duration, "--min-duration") if args.min_duration else None
    hi = parse_duration(args.max_duration, "--max-duration") if args.max_duration else None
    return RecordingFilter(
        started_from=start,
        started_before=end,
        min_duration=lo,
        max_duration=hi,
        channel=Channel(args.channel) if args.channel else None,
        direction=Direction(args.direction) if args.direction else None,
        orgs=tuple(check_code(o) for o in args.org),
        agent=args.agent,
        phone=phones.normalise(args.phone) if args.phone else None,
        tag=args.tag,
    )


# -- entry ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(_joined_sort(sys.argv[1:] if argv is None else argv))
        if args.command is None:
            return run_tui(load(config_path(args.config, os.environ)))
        if args.command == "demo" and not args.no_tui and sys.stdout.isatty():
            return _demo_tui(args)
        if args.command == "review":
            return run_tui(load(config_path(args.config, os.environ)), args.request_ref)
        return asyncio.run(_dispatch(args))
    except KaikuError as err:
        print(f"kaiku-tui: {sanitise(str(err))}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130


def _demo_tui(args: argparse.Namespace) -> int:
    """Build (or reuse) the demo register, then open the TUI on it. Without a terminal
    (a script, a pipe) `demo` prints its summary instead, as with --no-tui."""
    from kaiku_tui.demo import run_demo

    folder = Path(args.dir) if args.dir else None
    config_file = asyncio.run(run_demo(folder, args.records, args.seed))
    return run_tui(load(config_file))


def _joined_sort(argv: Sequence[str]) -> list[str]:
    """`--sort -date` as `--sort=-date`: argparse would take `-date` for an option."""
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg == "--sort" and out[i + 1].startswith("-"):
            out[i : i + 2] = [f"--sort={out[i + 1]}"]
            break
    return out


async def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from kaiku_tui.demo import demo_command

        return await demo_command(args)
    if args.command == "init":
        return await _init(args)
    if args.command == "register-description":  # opens the register only if it can
        return await cli_subject.register_description(args)
    if args.command in maintenance_cli.WITHOUT_REGISTER:
        return await maintenance_cli.run_without_register(args)
    config = load(config_path(args.config, os.environ))
    handler = _HANDLERS[(args.command, getattr(args, "action", None))]
    return await with_register(config, lambda register: handler(args, register))


def run_tui(config: Config, premises: str | None = None) -> int:
    """The TUI on the configured register, for the person at the keyboard; with
    `premises`, flagged as a data subject's review at the premises for that request."""
    from kaiku_tui.ui.app import KaikuApp
    from kaiku_tui.ui.i18n import Texts, choose_language

    async def opener() -> Register:
        register = await Register.open(config, current_identity())
        if premises is not None:
            try:
                await register.subjects.start_premises_review(premises)
            except BaseException:
                await register.close()
                raise
        return register

    texts = Texts(choose_language(config.language, os.environ))
    app = KaikuApp(opener, texts)
    app.run()
    return app.return_code or 0


async def with_register(config: Config, work: Callable[[Register], Awaitable[int]]) -> int:
    register = await Register.open(config, current_identity())
    try:
        return await work(register)
    finally:
        await register.close()


async def _init(args: argparse.Namespace) -> int:
    path = config_path(args.config, os.environ)
    if not path.exists():
        from kaiku_tui.config import from_mapping

        data_dir = Path(args.data_dir).resolve() if args.data_dir else None
        default = from_mapping({}, None).data_dir
        write_default(path, data_dir or default)
        print(f"wrote {path}")
    config = load(path)
    identity = current_identity()
    register = await Register.initialise(config, identity, args.name or identity.login)
    await register.close()
    print(f"register created in {config.data_dir}; {identity.login} is its admin")
    print(f"keep {config.master_key_file} safe: without it the recordings cannot be read")
    return EXIT_OK


# -- persons and organisations ---------------------------------------------------------


def _roles(values: list[str]) -> frozenset[Role]:
    return frozenset(Role.parse(v) for v in values)


async def _persons_add(args: argparse.Namespace, register: Register) -> int:
    orgs = tuple(check_code(o) for o in args.org)
    person = Person(args.login, args.name or args.login, _roles(args.role), orgs)
    await register.persons.add(person)
    print(f"added {args.login}")
    return EXIT_OK


async def _persons_set(args: argparse.Namespace, register: Register) -> int:
    orgs = tuple(check_code(o) for o in args.org)
    await register.persons.change(args.login, _roles(args.role), orgs)
    print(f"set {args.login}")
    return EXIT_OK


async def _persons_disable(args: argparse.Namespace, register: Register) -> int:
    await register.persons.disable(args.login)
    print(f"disabled {args.login}")
    return EXIT_OK


async def _persons_list(args: argparse.Namespace, register: Register) -> int:
    for p in await register.persons.listing():
        roles = sorted(r.value for r in p.roles)
        if args.json:
            row = {"login": p.login, "name": p.display_name, "roles": roles}
            _print_json({**row, "orgs": list(p.orgs), "active": p.active})
        else:
            scope = ",".join(p.orgs) or "all"
            state = "" if p.active else "  (disabled)"
            print(
                sanitise(f"{p.login:<16} {','.join(roles):<28} {scope:<12} {p.display_name}{state}")
            )
    return EXIT_OK


async def _orgs_add(args: argparse.Namespace, register: Register) -> int:
    start = parse_date(args.contract_start, "--contract-start") if args.contract_start else None
    end = parse_date(args.contract_end, "--contract-end")
    await register.orgs.add(Organisation(check_code(args.code), args.name, start, end))
    print(f"added organisation {args.code}")
    return EXIT_OK


async def _orgs_list(args: argparse.Namespace, register: Register) -> int:
    for o in await register.orgs.listing():
        end = o.contract_end.isoformat() if o.contract_end else None
        days = o.retention_days
        if args.json:
            _print_json({"code": o.code, "name": o.name, "contract_end": end,
                         "retention_days": days})  # fmt: skip
        else:
            kept = f"{days} d" if days else "-"
            print(sanitise(f"{o.code:<10} {end or '-':<12} {kept:<8} {o.name}"))
    return EXIT_OK


# -- recordings ------------------------------------------------------------------------


def _purpose(args: argparse.Namespace, needed: bool) -> Purpose | None:
    if args.purpose is None:
        if needed:
            raise UsageError("--reveal-phone needs --purpose (why you need the number)")
        return None
    return Purpose.parse(args.purpose)


async def _query(args: argparse.Namespace, register: Register) -> int:
    where = recording_filter(args)
    sort = Sort.parse(args.sort)
    purpose = _purpose(args, args.reveal_phone)
    if args.limit < 1:
        raise UsageError(f"--limit {args.limit} must be at least 1")
    page = await register.recordings.search(where, sort, limit=args.limit)
    for row in page.rows:
        number = await register.recordings.reveal_phone(row.id, purpose) if purpose else None
        if args.json:
            _print_json(summary_json(row, number))
        else:
            print(summary_line(row, number))
    return EXIT_OK


async def _show(args: argparse.Namespace, register: Register) -> int:
    purpose = Purpose.parse(args.purpose)
    recording = await register.recordings.open_recording(args.id, purpose)
    number = await register.recordings.reveal_phone(args.id, purpose) if args.reveal_phone else None
    if args.json:
        _print_json(recording_json(recording, number))
    else:
        _print_recording(recording, number)
    return EXIT_OK


def summary_json(row: RecordingSummary, number: str | None = None) -> dict[str, object]:
    return {
        "id": row.id,
        "org": row.org,
        "channel": row.channel.value,
        "direction": row.direction.value,
        "started_at": iso(row.started_at),
        "duration_s": row.duration_s,
        "agent": row.agent,
        "queue": row.queue,
        "phone": number or row.phone_masked,
        "source_id": row.source_id,
        "has_audio": row.has_audio,
        "has_transcript": row.has_transcript,
        "tags": list(row.tags),
    }


def recording_json(recording: Recording, number: str | None) -> dict[str, object]:
    lines = [
        {"at": x.at, "speaker": x.speaker, "role": x.role.value, "text": x.text}
        for x in recording.transcript
    ]
    return {**summary_json(recording.summary, number), "transcript": lines}


def summary_line(row: RecordingSummary, number: str | None = None) -> str:
    """One row in 80 columns (a jump host's terminal), tags after it."""
    shown = phones.display(number) if number else row.phone_masked
    way = "in" if row.direction is Direction.INBOUND else "out"
    text = (
        f"{row.id:>7} {fmt_date(row.started_at)} {fmt_time(row.started_at)} "
        f"{fmt_duration(row.duration_s):>7} {row.channel.value:<4} {way:<3} "
        f"{row.org[:6]:<6} {_clip(row.agent, 14):<14} {shown:<16} {' '.join(row.tags)}"
    )
    return sanitise(text.rstrip())


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _print_recording(recording: Recording, number: str | None, out: TextIO = sys.stdout) -> None:
    print(summary_line(recording.summary, number), file=out)
    for line in recording.transcript:
        stamp = fmt_duration(int(line.at))
        print(sanitise(f"  [{stamp:>7}] {line.speaker} ({line.role.value}): {line.text}"), file=out)


def _print_json(obj: object) -> None:
    print(json_safe(json.dumps(obj, ensure_ascii=False)))


# -- audit -----------------------------------------------------------------------------


async def _audit_verify(args: argparse.Namespace, register: Register) -> int:
    report = await register.audit.verify()
    print(verify_summary(report))
    return EXIT_OK if report.problem is None else EXIT_TAMPERED


def verify_summary(report: VerifyReport) -> str:
    if report.problem is not None:
        return f"TAMPERED: {report.problem.message}"
    since = f" from the audit cut at seq {report.cut_seq}" if report.cut_seq else ""
    return (
        f"ok: {report.checked} events verify{since} (head seq {report.head_seq}), "
        f"{report.checkpoints} signed checkpoints agree"
    )


async def _audit_show(args: argparse.Namespace, register: Register) -> int:
    since = day_start(parse_date(args.since, "--since")) if args.since else None
    query = AuditQuery(since, args.actor, args.event_action, args.limit)
    for seq, event in await register.audit.events(query):
        data = {k: v for k, v in vars(event).items() if v not in (None, ())}
        data["at"] = event.at.astimezone(UTC).isoformat()
        if args.json:
            _print_json({"seq": seq, **data})
        else:
            print(_event_line(seq, data))
    return EXIT_OK


def _event_line(seq: int, data: dict[str, Any]) -> str:
    head = (
        f"{seq:>8} {fmt_timestamp(data['at'])} {data['actor']:<12} "
        f"{data['action']:<14} {data['outcome']:<7}"
    )
    rest = " ".join(f"{k}={v}" for k, v in data.items() if k not in _EVENT_HEAD)
    return sanitise(f"{head} {rest}".rstrip())


_EVENT_HEAD = frozenset({"at", "actor", "action", "outcome", "roles"})


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


_HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("persons", "add"): _persons_add,
    ("persons", "set"): _persons_set,
    ("persons", "list"): _persons_list,
    ("persons", "disable"): _persons_disable,
    ("orgs", "add"): _orgs_add,
    ("orgs", "list"): _orgs_list,
    ("query", None): _query,
    ("show", None): _show,
    ("ingest", "asterisk"): ingest_asterisk,
    ("ingest", "chatwoot"): ingest_chatwoot,
    ("audit", "verify"): _audit_verify,
    ("audit", "show"): _audit_show,
    ("audit", "retain"): cli_audit_retention.audit_retain,
    ("migrate", None): _migrate,
    **maintenance_cli.HANDLERS,
    **cli_annotations.HANDLERS,
    **cli_subject.HANDLERS,
    **retention_cli.HANDLERS,
    **cli_samples.HANDLERS,
}
