"""`kaiku-tui persons add|set|list|disable`: the named persons of the register and their
roles and scope (admin). A face: arguments into a `Person`, one Register call."""

from __future__ import annotations

import argparse

from kaiku_tui.cli.common import AddParser, Handlers
from kaiku_tui.cli.output import print_json
from kaiku_tui.domain.access import Person, Role
from kaiku_tui.domain.org import check_code
from kaiku_tui.domain.text import sanitise
from kaiku_tui.errors import EXIT_OK
from kaiku_tui.register import Register


def add_commands(add: AddParser) -> None:
    persons = add("persons", help="named persons and their roles")
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
            print_json({**row, "orgs": list(p.orgs), "active": p.active})
        else:
            scope = ",".join(p.orgs) or "all"
            state = "" if p.active else "  (disabled)"
            print(
                sanitise(f"{p.login:<16} {','.join(roles):<28} {scope:<12} {p.display_name}{state}")
            )
    return EXIT_OK


HANDLERS: Handlers = {
    ("persons", "add"): _persons_add,
    ("persons", "set"): _persons_set,
    ("persons", "list"): _persons_list,
    ("persons", "disable"): _persons_disable,
}
