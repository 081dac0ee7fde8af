"""The command line of the data subject's rights (issue 8): `subject`, `disclose`,
`disclosures` and `register-description`.

A face like annotations.py: arguments into domain values, one call of the
Register's `subjects()` facet, output through the sanitiser (text) or
`json_safe` (JSON). The facet writes the copies; this module only prints.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kaiku_tui.cli.common import AddParser, Handlers, Runner
from kaiku_tui.cli.output import json_line, summary_json, summary_line
from kaiku_tui.config import Config, config_path, load
from kaiku_tui.domain.dates import HELSINKI, fmt_date, fmt_timestamp, parse_date
from kaiku_tui.domain.description import RegisterDescription
from kaiku_tui.domain.org import Organisation, check_code
from kaiku_tui.domain.subject import Disclosure, RequestKind, SubjectRequest, Urgency
from kaiku_tui.domain.text import sanitise
from kaiku_tui.errors import EXIT_OK, KaikuError
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity
from kaiku_tui.register.subjects import LogEntry

_KINDS = [k.value for k in RequestKind]


def add_commands(add: AddParser) -> None:
    subject = add("subject", help="a data subject's rights (DPO)")
    ssub = subject.add_subparsers(dest="action", metavar="ACTION", required=True)
    find = ssub.add_parser("find", help="every call and chat of a phone number (audited)")
    find.add_argument("phone", metavar="PHONE", help="any Finnish spelling: 040…, +35840…")
    find.add_argument("--json", action="store_true")
    export = ssub.add_parser("export", help="the access copy for the customer (GDPR art. 15)")
    export.add_argument("phone", metavar="PHONE")
    export.add_argument("--to", required=True, metavar="DIR", help="a new or empty folder")
    export.add_argument("--request-ref", required=True, metavar="REF")
    log = ssub.add_parser("access-log", help="who handled the person's recordings (§11 report)")
    log.add_argument("phone", metavar="PHONE")
    log.add_argument("--from", dest="date_from", metavar="D")
    log.add_argument("--to", dest="date_to", metavar="D")
    log.add_argument("--org", metavar="CODE")
    log.add_argument("--request-ref", metavar="REF", help="a 'log' request it answers")
    log.add_argument("--json", action="store_true")
    _request_parsers(ssub.add_parser("request", help="data subjects' requests and deadlines"))
    disclose = add("disclose", help="a copy of recordings for an authority (DPO)")
    disclose.add_argument("record_ids", type=int, nargs="+", metavar="ID")
    disclose.add_argument("--authority", required=True, metavar="NAME")
    disclose.add_argument("--legal-basis", required=True, metavar="TEXT")
    disclose.add_argument("--request-ref", required=True, metavar="REF")
    disclose.add_argument("--to", required=True, metavar="DIR", help="a new or empty folder")
    disclosures = add("disclosures", help="the disclosure log (luovutusloki)")
    dsub = disclosures.add_subparsers(dest="action", metavar="ACTION", required=True)
    dlist = dsub.add_parser("list", help="newest first")
    dlist.add_argument("--limit", type=int, default=500, metavar="N")
    dlist.add_argument("--json", action="store_true")
    desc = add("register-description", help="the GDPR art. 30 record, from config")
    desc.add_argument("--json", action="store_true")


def _request_parsers(request: argparse.ArgumentParser) -> None:
    rsub = request.add_subparsers(dest="request_action", metavar="ACTION", required=True)
    add = rsub.add_parser("add", help="record a request when it is received")
    add.add_argument("ref", metavar="REF")
    add.add_argument("--kind", required=True, choices=_KINDS)
    add.add_argument("--received", required=True, metavar="D", help="YYYY-MM-DD")
    add.add_argument("--phone", metavar="PHONE", help="whose (not needed for 'authority')")
    listing = rsub.add_parser("list", help="unanswered first; warns of the one-month deadline")
    listing.add_argument("--json", action="store_true")
    answer = rsub.add_parser("answer", help="mark a request answered")
    answer.add_argument("ref", metavar="REF")
    answer.add_argument("--on", metavar="D", help="the day it was answered (default: today)")


# -- find, export, access-log ---------------------------------------------------------------


async def _find(args: argparse.Namespace, register: Register) -> int:
    for row in await register.subjects.find(args.phone):
        print(json_line(summary_json(row)) if args.json else summary_line(row))
    return EXIT_OK


async def _export(args: argparse.Namespace, register: Register) -> int:
    report = await register.subjects.export(args.phone, Path(args.to), args.request_ref)
    print(sanitise(f"copy for request {args.request_ref} written to {report.to}: "
                   f"{report.recordings} recordings, {report.files} files; "
                   f"manifest sha256 {report.manifest_sha256}"))  # fmt: skip
    return EXIT_OK


async def _access_log(args: argparse.Namespace, register: Register) -> int:
    entries = await register.subjects.access_log(
        args.phone,
        since=parse_date(args.date_from, "--from") if args.date_from else None,
        until=parse_date(args.date_to, "--to") if args.date_to else None,
        org=check_code(args.org) if args.org else None,
        request_ref=args.request_ref,
    )
    for entry in entries:
        print(json_line(asdict(entry)) if args.json else log_line(entry))
    if not args.json:
        print(f"{len(entries)} events: {LOG_COVERS}", file=sys.stderr)
    return EXIT_OK


# What the §11 report covers, said under it (docs/ARCHITECTURE.md, "Data subjects' rights").
LOG_COVERS = (
    "every use of the person's recordings: opened, played, annotated, copied, disclosed, "
    "refused, destroyed, and every list, case or sample that showed one of them"
)


def log_line(e: LogEntry) -> str:
    """Who (login, name, roles), when, which recording, what, why, to whom."""
    who = f"{e.actor} ({e.display_name or '?'}; {', '.join(e.roles) or '-'})"
    what = f"{e.action} {e.outcome}"
    if e.target:
        what += f" recording {e.target}" if e.target.isdigit() else f" {e.target}"
    if e.shown:
        what += f" showed recording{'s' if len(e.shown) > 1 else ''} {', '.join(e.shown)}"
    why = f" purpose {e.purpose}" if e.purpose else ""
    ref = f" ref {e.request_ref}" if e.request_ref else ""
    to = (
        f" to {e.recipient}" + (f" ({e.legal_basis})" if e.legal_basis else "")
        if e.recipient
        else ""
    )
    return sanitise(f"{e.seq:>8} {fmt_timestamp(e.at.replace('Z', '+00:00'))} {who} "
                    f"{what}{why}{ref}{to}")  # fmt: skip


# -- requests -------------------------------------------------------------------------------


async def _request(args: argparse.Namespace, register: Register) -> int:
    rights = register.subjects
    if args.request_action == "add":
        received = parse_date(args.received, "--received")
        done = await rights.add_request(
            args.ref, RequestKind.parse(args.kind), received, args.phone
        )
        print(sanitise(f"request {done.ref} ({done.kind}) recorded; answer by "
                       f"{done.deadline.isoformat()}"))  # fmt: skip
    elif args.request_action == "answer":
        day = parse_date(args.on, "--on") if args.on else None
        done = await rights.answer(args.ref, day)
        print(sanitise(f"request {done.ref} answered on {_day(done.answered)}"))
    else:
        _print_requests(await rights.requests(), args.json, datetime.now(HELSINKI).date())
    return EXIT_OK


def _print_requests(requests: list[SubjectRequest], as_json: bool, today: date) -> None:
    for r in requests:
        urgency = r.urgency(today)
        if urgency in (Urgency.OVERDUE, Urgency.NEAR):
            print(sanitise(deadline_warning(r, today)), file=sys.stderr)
        if as_json:
            print(json_line({"ref": r.ref, "kind": r.kind.value, "received": r.received.isoformat(),
                         "deadline": r.deadline.isoformat(), "answered": _day(r.answered),
                         "status": urgency.value, "handled_by": r.handled_by}))  # fmt: skip
        else:
            print(sanitise(f"{r.ref:<16} {r.kind.value:<9} received {fmt_date_day(r.received)} "
                           f"deadline {fmt_date_day(r.deadline)} {urgency.value:<8} "
                           f"{r.handled_by}"))  # fmt: skip


def deadline_warning(r: SubjectRequest, today: date) -> str:
    days = (r.deadline - today).days
    if days < 0:
        return f"warning: request {r.ref} is {-days} days past its deadline {r.deadline}"
    return f"warning: request {r.ref} is due in {days} days ({r.deadline})"


def fmt_date_day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


# -- disclosures ----------------------------------------------------------------------------


async def _disclose(args: argparse.Namespace, register: Register) -> int:
    done = await register.subjects.disclose(
        args.record_ids, args.authority, args.legal_basis, args.request_ref, Path(args.to)
    )
    print(sanitise(f"disclosure {done.id} to {done.authority} written to {args.to}: "
                   f"{len(done.record_ids)} recordings; manifest sha256 "
                   f"{done.manifest_sha256}"))  # fmt: skip
    return EXIT_OK


async def _disclosures(args: argparse.Namespace, register: Register) -> int:
    for d in await register.subjects.disclosures(args.limit):
        print(json_line(disclosure_json(d)) if args.json else disclosure_line(d))
    return EXIT_OK


def disclosure_json(d: Disclosure) -> dict[str, object]:
    return {"id": d.id, "at": d.at, "by": d.by, "authority": d.authority,
            "legal_basis": d.legal_basis, "request_ref": d.request_ref,
            "record_ids": list(d.record_ids), "manifest_sha256": d.manifest_sha256}  # fmt: skip


def disclosure_line(d: Disclosure) -> str:
    ids = ",".join(map(str, d.record_ids))
    return sanitise(f"{d.id:>5} {fmt_date(d.at)} {d.by:<12} {d.authority} ({d.legal_basis}) "
                    f"ref {d.request_ref} recordings {ids}")  # fmt: skip


# -- register description --------------------------------------------------------------------


async def register_description(args: argparse.Namespace) -> int:
    """Printed from the configuration; each organisation's retention from the index when
    the register can be opened for this login, else the configured rule text."""
    config = load(config_path(args.config, os.environ))
    description = config.description.checked()
    orgs = await _orgs(config)
    document = description_json(description, orgs)
    if args.json:
        print(json_line(document))
    else:
        print(description_text(document))
    return EXIT_OK


async def _orgs(config: Config) -> list[Organisation] | None:
    try:
        register = await Register.open(config, current_identity())
    except KaikuError:
        return None  # no register here, or not a person of it: the rule text is the answer
    try:
        return await register.orgs.listing()
    finally:
        await register.close()


def description_json(d: RegisterDescription, orgs: list[Organisation] | None) -> dict[str, Any]:
    retention: dict[str, Any] = {"rule": d.retention}
    if orgs is not None:
        retention["organisations"] = [
            {"org": o.code, "name": o.name, "retention_days": o.retention_days,
             "contract_end": _day(o.contract_end)}
            for o in orgs
        ]  # fmt: skip
    return {
        "controller": d.controller, "controller_contact": d.controller_contact,
        "dpo_contact": d.dpo_contact, "purposes": list(d.purposes),
        "data_subjects": list(d.data_subjects), "data_categories": list(d.data_categories),
        "recipients": list(d.recipients), "transfers": d.transfers, "retention": retention,
        "security": list(d.security),
    }  # fmt: skip


_HEADINGS = (
    ("purposes", "Purposes of processing"), ("data_subjects", "Categories of data subjects"),
    ("data_categories", "Categories of personal data"), ("recipients", "Recipients"),
    ("security", "Security measures"),
)  # fmt: skip


def description_text(doc: dict[str, Any]) -> str:
    lines = ["Register description (GDPR art. 30): kaiku-tui recordings register",
             f"Controller: {doc['controller']}"]  # fmt: skip
    for key, label in (("controller_contact", "Contact"), ("dpo_contact", "DPO")):
        if doc[key]:
            lines.append(f"{label}: {doc[key]}")
    for key, heading in _HEADINGS:
        lines += ["", f"{heading}:"] + [f"  - {item}" for item in doc[key]]
    lines += ["", f"Transfers outside the EU/EEA: {doc['transfers']}", "", "Retention:",
              f"  {doc['retention']['rule']}"]  # fmt: skip
    for o in doc["retention"].get("organisations", []):
        days = f"{o['retention_days']} days" if o["retention_days"] else "no period set"
        end = f"contract ends {o['contract_end']}" if o["contract_end"] else "no contract end"
        lines.append(f"  {o['org']} ({o['name']}): {days}, {end}")
    return sanitise("\n".join(lines), keep_newlines=True)


HANDLERS: Handlers = {
    ("subject", "find"): _find,
    ("subject", "export"): _export,
    ("subject", "access-log"): _access_log,
    ("subject", "request"): _request,
    ("disclose", None): _disclose,
    ("disclosures", "list"): _disclosures,
}
# register-description opens the register only if it can.
WITHOUT_REGISTER: dict[str, Runner] = {"register-description": register_description}
