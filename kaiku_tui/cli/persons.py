"""`kaiku-tui persons add|set|list|disable`: the named persons of the register and their
roles and scope (admin). A face: arguments into a `Person`, one Register call."""

from __future__ import annotations

import argparse
import os
import pwd
import sys
from collections.abc import Callable
from pathlib import Path

from kaiku_tui.cli.common import AddParser, Handlers
from kaiku_tui.cli.output import print_json
from kaiku_tui.domain.access import Person, Role
from kaiku_tui.domain.org import check_code
from kaiku_tui.domain.text import sanitise
from kaiku_tui.errors import EXIT_OK, NotFound, UsageError
from kaiku_tui.register import Register
from kaiku_tui.service import sshkeys
from kaiku_tui.service.doorfile import DEFAULT_PATH


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
    keys = psub.add_parser("ssh-key", help="the SSH door's keys (admin; an installation)")
    ksub = keys.add_subparsers(dest="key_action", metavar="KEY_ACTION", required=True)
    kadd = ksub.add_parser("add", help="let a person in through the SSH door with a key")
    kadd.add_argument("login")
    kadd.add_argument("file", metavar="FILE.pub", help="the public key; - reads standard input")
    ksub.add_parser("list", help="the door's keys").add_argument("login", nargs="?")
    kremove = ksub.add_parser("remove", help="a key no longer opens the door")
    kremove.add_argument("login")
    kremove.add_argument("fingerprint", metavar="FINGERPRINT", help="SHA256:… (ssh-key list)")


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
    path = _service_keys_file(args)
    if path is not None:  # their keys stop working at once
        for key in sshkeys.door_keys(sshkeys.read_text(path)):
            if key.login == args.login:
                await _remove_key(args, register, key)
    return EXIT_OK


# -- the SSH door's keys (an installation's service account only) -------------------------


def _service_keys_file(args: argparse.Namespace) -> Path | None:
    """The service account's authorized_keys, when this process is the service's."""
    door = getattr(args, "door_file", None)
    me = pwd.getpwuid(os.getuid())
    if door is None or door.service_user != me.pw_name:
        return None
    return Path(me.pw_dir) / ".ssh" / "authorized_keys"


def _keys_file(args: argparse.Namespace) -> Path:
    """The service account's authorized_keys; only the service's own process writes it."""
    path = _service_keys_file(args)
    if path is None:
        raise UsageError(
            "persons ssh-key: only on a machine with an installation, through its door "
            "(kaiku-tui install)"
        )
    return path


async def _ssh_key_add(args: argparse.Namespace, register: Register) -> int:
    path = _keys_file(args)
    text = sys.stdin.read() if args.file == "-" else _read_key_file(Path(args.file))
    kind, blob = sshkeys.public_key(text)
    fingerprint = sshkeys.fingerprint(kind, blob)
    login = sshkeys.check_login(args.login)
    if any(k.fingerprint == fingerprint for k in sshkeys.door_keys(sshkeys.read_text(path))):
        raise UsageError(f"the key {fingerprint} already opens the door (ssh-key list)")
    door = args.door_file
    named = None if door.path == DEFAULT_PATH else door.path
    command = sshkeys.forced_command(door.program, login, fingerprint, named)
    line = sshkeys.key_line(command, kind, blob, login)

    def change() -> Callable[[], None]:
        before = sshkeys.read_text(path)
        sshkeys.write_atomic(path, before + ("" if before.endswith("\n") or not before else "\n")
                             + line + "\n")  # fmt: skip
        return lambda: sshkeys.write_atomic(path, before)

    await register.persons.ssh_key(login, fingerprint, change, add=True)
    print(f"added {fingerprint} for {login}")
    return EXIT_OK


def _read_key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{path}: cannot be read ({exc}); or give - and the key on stdin"
        ) from None


async def _ssh_key_list(args: argparse.Namespace, register: Register) -> int:
    path = _keys_file(args)

    def read() -> list[sshkeys.DoorKey]:
        keys = sshkeys.door_keys(sshkeys.read_text(path))
        return [k for k in keys if args.login in (None, k.login)]

    for key in await register.persons.ssh_key_listing(read):
        print(sanitise(f"{key.login:<16} {key.fingerprint}"))
    return EXIT_OK


async def _ssh_key_remove(args: argparse.Namespace, register: Register) -> int:
    path = _keys_file(args)
    keys = sshkeys.door_keys(sshkeys.read_text(path))
    found = [k for k in keys if k.login == args.login and k.fingerprint == args.fingerprint]
    if not found:
        raise NotFound(f"{args.login} has no key {args.fingerprint} (ssh-key list)")
    await _remove_key(args, register, found[0])
    return EXIT_OK


async def _remove_key(args: argparse.Namespace, register: Register, key: sshkeys.DoorKey) -> None:
    path = _keys_file(args)

    def change() -> Callable[[], None]:
        before = sshkeys.read_text(path)
        sshkeys.write_atomic(path, sshkeys.without(before, [key]))
        return lambda: sshkeys.write_atomic(path, before)

    await register.persons.ssh_key(key.login, key.fingerprint, change, add=False)
    print(f"removed {key.fingerprint} of {key.login}")


async def _ssh_key(args: argparse.Namespace, register: Register) -> int:
    run = {"add": _ssh_key_add, "list": _ssh_key_list, "remove": _ssh_key_remove}
    return await run[args.key_action](args, register)


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
    ("persons", "ssh-key"): _ssh_key,
}
