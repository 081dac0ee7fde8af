"""`kaiku-tui audit verify|show|retain`: the audit log on the command line.

`audit verify` recomputes the chain and exits 1 on tampering; `audit show`
lists events. `audit retain [--yes] [--as-of D]` applies the audit retention
rule (kaiku_tui/register/audit_retention.py). Without --yes it only shows what would be
cut; both are audited."""

from __future__ import annotations

import argparse
from datetime import UTC
from typing import Any

from kaiku_tui.cli.common import AddParser, Handlers
from kaiku_tui.cli.output import print_json, verify_summary
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.dates import day_start, fmt_timestamp, parse_date
from kaiku_tui.domain.text import sanitise
from kaiku_tui.errors import EXIT_OK, EXIT_TAMPERED
from kaiku_tui.register import Register
from kaiku_tui.register.audit_retention import RetainPlan


def add_commands(add: AddParser) -> None:
    audit = add("audit", help="the audit log")
    asub = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    asub.add_parser("verify", help="recompute the chain; exit 1 on tampering")
    ashow = asub.add_parser("show", help="list events")
    ashow.add_argument("--since", metavar="D")
    ashow.add_argument("--actor", metavar="L")
    ashow.add_argument("--action", dest="event_action", metavar="A")
    ashow.add_argument("--limit", type=int, default=200, metavar="N")
    ashow.add_argument("--json", action="store_true")
    retain = asub.add_parser(
        "retain",
        help="cut the audit events older than [audit] retain_years (admin); a dry run "
        "without --yes",
    )
    retain.add_argument("--yes", action="store_true", help="cut; without it only show the plan")
    retain.add_argument("--as-of", metavar="D", help="apply the rule as on this day (not later)")


# -- verify and show -----------------------------------------------------------------------


async def _audit_verify(args: argparse.Namespace, register: Register) -> int:
    report = await register.audit.verify()
    print(verify_summary(report))
    return EXIT_OK if report.ok else EXIT_TAMPERED


async def _audit_show(args: argparse.Namespace, register: Register) -> int:
    since = day_start(parse_date(args.since, "--since")) if args.since else None
    query = AuditQuery(since, args.actor, args.event_action, args.limit)
    for seq, event in await register.audit.events(query):
        data = {k: v for k, v in vars(event).items() if v not in (None, ())}
        data["at"] = event.at.astimezone(UTC).isoformat()
        if args.json:
            print_json({"seq": seq, **data})
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


# -- retain --------------------------------------------------------------------------------


async def audit_retain(args: argparse.Namespace, register: Register) -> int:
    as_of = parse_date(args.as_of, "--as-of") if args.as_of else None
    facet = register.audit_retention
    if not args.yes:
        plan = await facet.plan(as_of)
        print(_plan_line(plan, "would cut"))
        if plan.events:
            print("run again with --yes to cut (a signed cut checkpoint is written first)")
        return EXIT_OK
    plan, removed = await facet.cut(as_of)
    print(_plan_line(plan, "cut"))
    if removed:
        print(f"the log now starts at seq {plan.upto + 1}; kaiku-tui audit verify checks it")
    return EXIT_OK


def _plan_line(plan: RetainPlan, verb: str) -> str:
    rule = f"events before {plan.since} (rule applied as of {plan.as_of})"
    if not plan.events:
        line = f"nothing to cut: {rule}; the log starts at seq {plan.first_seq}"
    else:
        line = f"{verb} {plan.events} {rule}: seq {plan.first_seq}..{plan.upto}"
    why = f"; stops at {plan.kept_because}" if plan.kept_because else ""
    return sanitise(line + why)


HANDLERS: Handlers = {
    ("audit", "verify"): _audit_verify,
    ("audit", "show"): _audit_show,
    ("audit", "retain"): audit_retain,
}
