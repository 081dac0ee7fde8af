"""Retention and legal holds on the command line: retention plan|purge, hold
set|release|list (`orgs set`, an organisation's contract end and retention, is in
orgs.py). A face: it calls `register.retention` and `register.holds` and prints
what they return (README, "Retention and legal holds").
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import TYPE_CHECKING

from kaiku_tui.cli.common import AddParser, Handlers
from kaiku_tui.cli.output import ProgressBar
from kaiku_tui.domain.dates import fmt_date, parse_date
from kaiku_tui.domain.org import check_code
from kaiku_tui.domain.retention import Hold, OrgPlan, Planned, RetentionPlan, hold_purpose
from kaiku_tui.domain.text import json_safe, sanitise
from kaiku_tui.errors import EXIT_OK, UsageError
from kaiku_tui.register.retention import PurgeReport

if TYPE_CHECKING:
    from kaiku_tui.register import Register

AFTER_SHRED = (
    "an organisation key was destroyed and the master key rotated: every backup made before "
    "now can no longer be read at all; take a new backup now (kaiku-tui backup)"
)


def add_commands(add: AddParser) -> None:
    retention = add("retention", help="what is destroyed when, and destroying it (admin)")
    rsub = retention.add_subparsers(dest="action", metavar="ACTION", required=True)
    plan = rsub.add_parser("plan", help="what is due now and within 30 days, per organisation")
    plan.add_argument("--org", metavar="CODE")
    plan.add_argument("--as-of", metavar="YYYY-MM-DD", help="the day to plan for (today)")
    plan.add_argument("--json", action="store_true")
    purge = rsub.add_parser("purge", help="destroy what is due (asks first without --yes)")
    purge.add_argument("--org", metavar="CODE")
    purge.add_argument("--yes", action="store_true", help="do not ask")

    hold = add("hold", help="legal holds on recordings and cases (supervisor, admin)")
    hsub = hold.add_subparsers(dest="action", metavar="ACTION", required=True)
    hset = hsub.add_parser("set", help="hold recordings, or a case's recordings")
    hset.add_argument("--recording", type=int, nargs="+", default=[], metavar="ID")
    hset.add_argument("--case", type=int, metavar="CASE_ID")
    hset.add_argument("--reason", required=True, metavar="TEXT")
    hset.add_argument("--ref", required=True, metavar="REF", help="the matter's reference")
    hset.add_argument("--purpose", default="legal-hold", help="legal-hold, authority or breach")
    hsub.add_parser("release", help="release a hold").add_argument("hold_id", type=int)
    hsub.add_parser("list", help="active holds").add_argument("--json", action="store_true")


# -- retention ---------------------------------------------------------------------------


async def _plan(args: argparse.Namespace, register: Register) -> int:
    as_of = parse_date(args.as_of, "--as-of") if args.as_of else None
    org = check_code(args.org) if args.org else None
    plan = await register.retention.plan(org, as_of)
    if args.json:
        for o in plan.orgs:
            print(json_safe(json.dumps(org_plan_json(o, plan.as_of), ensure_ascii=False)))
    else:
        print_plan(plan)
    return EXIT_OK


def org_plan_json(o: OrgPlan, as_of: date) -> dict[str, object]:
    return {
        "org": o.org,
        "as_of": as_of.isoformat(),
        "retention_days": o.rule.retention_days,
        "contract_end": o.rule.contract_end.isoformat() if o.rule.contract_end else None,
        "grace_days": o.rule.grace_days,
        "due_now": o.due_now,
        "first_due": [_planned_json(p) for p in o.first_due],
        "upcoming": o.upcoming,
        "first_upcoming": [_planned_json(p) for p in o.first_upcoming],
        "held": [_planned_json(p) for p in o.held],
        "key_shred_due": o.shred_due and not o.key_destroyed,
        "key_destroyed": o.key_destroyed,
    }


def _planned_json(p: Planned) -> dict[str, object]:
    out: dict[str, object] = {"id": p.id, "due": p.due.on.isoformat() if p.due else None,
                              "reason": p.due.reason if p.due else None}  # fmt: skip
    if p.hold is not None:
        out["hold"] = {"id": p.hold.id, "ref": p.hold.ref, "reason": p.hold.reason,
                       "purpose": p.hold.purpose.value}  # fmt: skip
    return out


def print_plan(plan: RetentionPlan) -> None:
    print(f"retention plan as of {fmt_date_of(plan.as_of)}")
    for o in plan.orgs:
        print(sanitise(f"{o.org}: {_rule_text(o)}"))
        print(f"  due now: {o.due_now}{_ids(o.first_due, o.due_now)}")
        print(f"  due within 30 days: {o.upcoming}{_ids(o.first_upcoming, o.upcoming)}")
        for p in o.held:
            assert p.hold is not None
            when = f"due {fmt_date_of(p.due.on)}" if p.due else "no rule"
            print(sanitise(f"  kept: {p.id} ({when}): hold {p.hold.id} {p.hold.ref}, "
                           f"{p.hold.purpose.value}: {p.hold.reason}"))  # fmt: skip
        if o.key_destroyed:
            print("  organisation key: destroyed")
        elif o.shred_due:
            print("  organisation key: destroyed by the purge once nothing is left")


def _rule_text(o: OrgPlan) -> str:
    parts = []
    if o.rule.retention_days is not None:
        parts.append(f"retention {o.rule.retention_days} days")
    if o.rule.contract_end is not None:
        parts.append(
            f"contract ends {fmt_date_of(o.rule.contract_end)} + grace {o.rule.grace_days}"
        )
    return ", ".join(parts) or "no rule: nothing is destroyed"


def _ids(first: tuple[Planned, ...], count: int) -> str:
    if not first:
        return ""
    shown = ", ".join(f"{p.id} ({fmt_date_of(p.due.on)})" if p.due else str(p.id) for p in first)
    more = ", …" if count > len(first) else ""
    return f": {shown}{more}"


def fmt_date_of(day: date) -> str:
    return day.strftime("%d.%m.%Y")


async def _purge(args: argparse.Namespace, register: Register) -> int:
    org = check_code(args.org) if args.org else None
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("retention purge: no terminal to ask on; pass --yes to destroy")
        plan = await register.retention.plan(org)
        print_plan(plan)
        answer = input(f"destroy {plan.due_now} recordings for good? type 'yes': ")
        if answer.strip().lower() != "yes":
            print("nothing destroyed")
            return EXIT_OK
    report = await register.retention.purge(org=org, progress=ProgressBar("purge"))
    print(purge_summary(report))
    if report.shredded and report.rekeyed:
        print(f"kaiku-tui: {AFTER_SHRED}", file=sys.stderr)
    if report.rekey_problem:
        print(
            "kaiku-tui: warning: an organisation key was destroyed but the master key could "
            f"not be rotated ({report.rekey_problem}); older backups can still unwrap it",
            file=sys.stderr,
        )
    return EXIT_OK


def purge_summary(r: PurgeReport) -> str:
    text = (
        f"destroyed {r.destroyed} recordings ({r.blobs_deleted} audio files), "
        f"{r.held} kept by holds"
    )
    if r.resumed_blobs:
        text += f"; finished {r.resumed_blobs} blob deletions of an interrupted purge"
    if r.shredded:
        text += f"; organisation keys destroyed: {', '.join(r.shredded)}"
    if r.rekeyed:
        text += f"; new master key {r.rekeyed}, retired keys destroyed"
    return text


# -- holds -------------------------------------------------------------------------------


async def _hold_set(args: argparse.Namespace, register: Register) -> int:
    holds = await register.holds.set(
        record_ids=args.recording, case_id=args.case, reason=args.reason, ref=args.ref,
        purpose=hold_purpose(args.purpose),
    )  # fmt: skip
    for h in holds:
        print(f"hold {h.id} on {_target(h)}")
    return EXIT_OK


async def _hold_release(args: argparse.Namespace, register: Register) -> int:
    hold = await register.holds.release(args.hold_id)
    print(f"hold {hold.id} on {_target(hold)} released")
    return EXIT_OK


async def _hold_list(args: argparse.Namespace, register: Register) -> int:
    for h in await register.holds.list():
        if args.json:
            print(json_safe(json.dumps(hold_json(h), ensure_ascii=False)))
        else:
            print(sanitise(f"{h.id:>5} {_target(h):<12} {h.purpose.value:<11} "
                           f"{fmt_date(h.set_at)} {h.set_by:<12} {h.ref}: {h.reason}"))  # fmt: skip
    return EXIT_OK


def hold_json(h: Hold) -> dict[str, object]:
    return {
        "id": h.id, "recording": h.record_id, "case": h.case_id, "reason": h.reason,
        "ref": h.ref, "purpose": h.purpose.value, "set_by": h.set_by, "set_at": h.set_at,
        "released_by": h.released_by, "released_at": h.released_at,
    }  # fmt: skip


def _target(h: Hold) -> str:
    return f"case {h.case_id}" if h.case_id is not None else f"recording {h.record_id}"


HANDLERS: Handlers = {
    ("retention", "plan"): _plan,
    ("retention", "purge"): _purge,
    ("hold", "set"): _hold_set,
    ("hold", "release"): _hold_release,
    ("hold", "list"): _hold_list,
}
