"""`kaiku-tui audit retain [--yes] [--as-of D]` on the command line: the audit
retention rule (kaiku_tui/audit_retention.py). Without --yes it only shows what
would be cut; both are audited."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from kaiku_tui.domain.dates import parse_date
from kaiku_tui.domain.text import sanitise
from kaiku_tui.errors import EXIT_OK

if TYPE_CHECKING:
    from kaiku_tui.register import Register
    from kaiku_tui.register.audit_retention import RetainPlan


def add_parser(asub: argparse._SubParsersAction[Any]) -> None:
    retain = asub.add_parser(
        "retain",
        help="cut the audit events older than [audit] retain_years (admin); a dry run "
        "without --yes",
    )
    retain.add_argument("--yes", action="store_true", help="cut; without it only show the plan")
    retain.add_argument("--as-of", metavar="D", help="apply the rule as on this day (not later)")


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
