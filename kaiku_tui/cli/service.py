"""The doors from the command line (docs/ARCHITECTURE.md, "The trust boundary"):
`enter` — what main() asks before it parses anything: run here, re-execute through
the sudo door, or serve the person a door let in —, `kaiku-tui install` (root), and
`kaiku-tui door` (sshd's forced command; `enter` handles it, the parser only names it).
"""

from __future__ import annotations

import argparse
import os
import pwd
import sys
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kaiku_tui.cli.common import AddParser, Runner
from kaiku_tui.domain.access import Identity
from kaiku_tui.errors import EXIT_OK, ConfigError, UsageError
from kaiku_tui.register.identity import enter_through_door
from kaiku_tui.service import entry, install
from kaiku_tui.service.doorfile import DoorFile, door_path, read_door
from kaiku_tui.service.harden import harden

SUDOERS_ENV = "KAIKU_SUDOERS_FILE"  # tests: a sudoers file of their own under /etc/sudoers.d


@dataclass(frozen=True)
class Entered:
    """What main() runs: these arguments, on this default configuration (None: the usual),
    and whether a door let the person in (then no --config was or may be given)."""

    argv: list[str]
    config: Path | None
    door: str | None
    door_file: DoorFile | None  # this machine's installation, if it has one


def enter(argv: Sequence[str]) -> Entered:
    """Decide who is asking; re-execute through sudo (never returns) or refuse (UsageError)."""
    named, rest = entry.split_door_file(argv)
    door = read_door(door_path(os.environ, named))
    if named is not None and door is None:
        raise UsageError(f"{named}: no door file there")
    if door is not None and os.getuid() == _uid(door.service_user):
        harden()  # before anything is read: the service's process, whoever it serves
    decision = entry.decide(rest, os.environ, os.getuid(), door)
    if isinstance(decision, entry.Refused):
        raise UsageError(decision.message)
    if isinstance(decision, entry.ReExec):
        sys.stdout.flush()
        os.execv(decision.argv[0], decision.argv)
    if isinstance(decision, entry.Through):
        _scrub(os.environ)
        identity = Identity(
            decision.login, decision.client_host, decision.door, decision.key, decision.client
        )
        enter_through_door(identity)
        return Entered(decision.argv, decision.config, decision.door, door)
    assert isinstance(decision, entry.Local)
    if decision.config is not None:
        _scrub(os.environ)
    return Entered(rest, decision.config, None, door)


def _uid(login: str) -> int | None:
    try:
        return pwd.getpwnam(login).pw_uid
    except KeyError:
        return None


def _scrub(environ: MutableMapping[str, str]) -> None:
    """The service's process ignores what a person's environment could steer it with."""
    for name in list(environ):
        if name.startswith(("KAIKU_", "PYTHON")):
            del environ[name]


# -- install --------------------------------------------------------------------------------


def add_commands(add: AddParser) -> None:
    p = add("install", help="make this machine's register a service with doors (root)",
            description="Run once as root: the service account, its folders, the "
            "configuration, the door file, the sudoers rule, the SSH door's authorized_keys "
            "and the register itself. Idempotent; --dry-run prints the plan.")  # fmt: skip
    p.add_argument("--service-user", required=True, metavar="LOGIN")
    p.add_argument("--admin", required=True, metavar="LOGIN", help="the first admin")
    p.add_argument("--group", default="kaiku-users", help="who may use the sudo door")
    p.add_argument("--data-dir", default="/var/lib/kaiku-tui", metavar="DIR")
    p.add_argument("--home", metavar="DIR", help="the service account's home (the data dir)")
    p.add_argument("--key-store", default="/var/lib/kaiku-tui-keys", metavar="DIR")
    p.add_argument("--witness", default="/var/log/kaiku-tui/witness/witness.jsonl")
    p.add_argument("--config", dest="service_config", default="/etc/kaiku-tui/config.toml")
    p.add_argument("--index", default="", metavar="URL", help="postgresql://… (default SQLite)")
    p.add_argument("--password-file", metavar="FILE", help="PostgreSQL: the password to use")
    p.add_argument("--program", metavar="PATH", help="this kaiku-tui's absolute path")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    door = add("door", help="the SSH door (sshd's forced command; not for people)")
    door.add_argument("--person", required=True)
    door.add_argument("--key")


async def _install(args: argparse.Namespace) -> int:
    options = _options(args)
    steps = install.plan(options)
    if args.dry_run:
        for step in steps:
            print(f"{'ok  ' if _safely(step.done) else 'todo'} {step.says}")
        return EXIT_OK
    if os.geteuid() != 0:
        raise UsageError("install: run it as root (or see the plan with --dry-run)")
    for step in steps:
        if step.done():
            print(f"ok   {step.says}")
            continue
        note = step.run()
        print(f"done {step.says}")
        if note:
            print(note)
    return EXIT_OK


def _safely(done: object) -> bool:
    try:
        return bool(done())  # type: ignore[operator]
    except (OSError, KeyError):
        return False


def _options(args: argparse.Namespace) -> install.Options:
    def absolute(value: str, what: str) -> Path:
        path = Path(value)
        if not path.is_absolute():
            raise UsageError(f"install: {what} must be an absolute path")
        return path

    data_dir = absolute(args.data_dir, "--data-dir")
    index = args.index
    if index and not index.startswith(("postgresql://", "postgres://", "sqlite:///")):
        raise ConfigError("install: --index must be postgresql://… or sqlite:///PATH")
    return install.Options(
        service_user=args.service_user,
        admin=args.admin,
        group=args.group,
        data_dir=data_dir,
        home=absolute(args.home, "--home") if args.home else data_dir,
        key_store=absolute(args.key_store, "--key-store"),
        witness=absolute(args.witness, "--witness"),
        config=absolute(args.service_config, "--config"),
        index_url=index,
        password_file=Path(args.password_file) if args.password_file else None,
        door_file=door_path(os.environ),
        sudoers_file=Path(os.environ.get(SUDOERS_ENV) or "/etc/sudoers.d/kaiku-tui"),
        program=absolute(args.program, "--program") if args.program else install.find_program(),
    )


async def _door(args: argparse.Namespace) -> int:
    # `enter` serves the door before parsing; reaching here means it was not sshd's.
    raise UsageError("door: only sshd starts the door (its forced command)")


WITHOUT_REGISTER: dict[str, Runner] = {"install": _install, "door": _door}
