"""`kaiku-tui orgs add|list|set`: the client organisations, their keys, contract ends and
retention periods (admin). A face: `orgs set` calls `register.retention` (README,
"Retention and legal holds"), the others the Register itself."""

from __future__ import annotations

import argparse
from datetime import date

from kaiku_tui.cli.common import AddParser, Handlers
from kaiku_tui.cli.output import print_json
from kaiku_tui.domain.dates import parse_date
from kaiku_tui.domain.org import Organisation, check_code
from kaiku_tui.domain.text import sanitise
from kaiku_tui.errors import EXIT_OK, UsageError
from kaiku_tui.register import Register
from kaiku_tui.register.retention import KEEP, Keep


def add_commands(add: AddParser) -> None:
    orgs = add("orgs", help="client organisations")
    osub = orgs.add_subparsers(dest="action", metavar="ACTION", required=True)
    oadd = osub.add_parser("add", help="add an organisation and its key")
    oadd.add_argument("code")
    oadd.add_argument("--name", required=True)
    oadd.add_argument("--contract-end", required=True, metavar="YYYY-MM-DD")
    oadd.add_argument("--contract-start", metavar="YYYY-MM-DD")
    osub.add_parser("list", help="every organisation").add_argument("--json", action="store_true")
    oset = osub.add_parser("set", help="change an organisation's contract end and retention")
    oset.add_argument("code")
    oset.add_argument("--contract-end", metavar="YYYY-MM-DD|none")
    oset.add_argument("--retention-days", metavar="N|none")


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
            print_json({"code": o.code, "name": o.name, "contract_end": end,
                        "retention_days": days})  # fmt: skip
        else:
            kept = f"{days} d" if days else "-"
            print(sanitise(f"{o.code:<10} {end or '-':<12} {kept:<8} {o.name}"))
    return EXIT_OK


# -- orgs set ----------------------------------------------------------------------------


def _optional_date(text: str | None) -> date | None | Keep:
    if text is None:
        return KEEP
    return None if text.strip().lower() == "none" else parse_date(text, "--contract-end")


def _optional_days(text: str | None) -> int | None | Keep:
    if text is None:
        return KEEP
    if text.strip().lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"--retention-days {text!r} is not a number of days (or none)") from None


async def _orgs_set(args: argparse.Namespace, register: Register) -> int:
    end, days = _optional_date(args.contract_end), _optional_days(args.retention_days)
    if isinstance(end, Keep) and isinstance(days, Keep):
        raise UsageError("orgs set: give --contract-end and/or --retention-days")
    org = await register.retention.set_org(
        check_code(args.code), contract_end=end, retention_days=days
    )
    shown_end = org.contract_end.isoformat() if org.contract_end else "none"
    print(f"{org.code}: contract end {shown_end}, retention days {org.retention_days or 'none'}")
    return EXIT_OK


HANDLERS: Handlers = {
    ("orgs", "add"): _orgs_add,
    ("orgs", "list"): _orgs_list,
    ("orgs", "set"): _orgs_set,
}
