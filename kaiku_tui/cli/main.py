"""The command line: a contract that scripts and admins rely on (README, docs/ARCHITECTURE.md).

Every command opens the register for the operating-system login, does one
thing through `Register`, and exits with the contract's code. Errors meant for
a person are one line on stderr; no traceback reaches a person.

This module only wires the command groups together: each group module adds
its own commands (`add_commands`) and names its handlers (`HANDLERS`, and
`WITHOUT_REGISTER` for the commands that open no register, or open it
themselves); `main` parses, dispatches and maps errors to exit codes
(kaiku_tui/errors.py).
"""

# No `from __future__ import annotations` here: its name is the annotations group's.
import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import kaiku_tui.cli.annotations as annotations
import kaiku_tui.cli.audit as audit
import kaiku_tui.cli.demo as demo
import kaiku_tui.cli.ingest as ingest
import kaiku_tui.cli.init as init
import kaiku_tui.cli.maintenance as maintenance
import kaiku_tui.cli.orgs as orgs
import kaiku_tui.cli.persons as persons
import kaiku_tui.cli.query as query
import kaiku_tui.cli.retention as retention
import kaiku_tui.cli.samples as samples
import kaiku_tui.cli.service as service
import kaiku_tui.cli.subject as subject
import kaiku_tui.cli.tui as tui
from kaiku_tui import __version__
from kaiku_tui.cli.common import AddParser, Handlers, Runner, with_register
from kaiku_tui.config import config_path, load
from kaiku_tui.domain.text import sanitise
from kaiku_tui.errors import EXIT_FAILED, KaikuError, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2 (the contract)."""

    def error(self, message: str) -> Any:
        # The command's words after the program's name: main() prints "kaiku-tui: " first.
        _, _, command = self.prog.partition(" ")
        raise UsageError(f"{command}: {message}" if command else message)


# In the order `kaiku-tui --help` lists their commands.
_GROUPS: tuple[Callable[[AddParser], None], ...] = (
    demo.add_commands,  # demo
    tui.add_commands,  # review
    init.add_commands,  # init
    persons.add_commands,  # persons
    orgs.add_commands,  # orgs
    retention.add_commands,  # retention, hold
    query.add_commands,  # query, show
    ingest.add_commands,  # ingest
    audit.add_commands,  # audit
    annotations.add_commands,  # cases, tags, notes
    subject.add_commands,  # subject, disclose, disclosures, register-description
    samples.add_commands,  # samples
    maintenance.add_commands,  # migrate, doctor, scan, keys, backup, restore, maintenance
    service.add_commands,  # install, door
)

_HANDLERS: Handlers = {
    **persons.HANDLERS,
    **orgs.HANDLERS,
    **query.HANDLERS,
    **ingest.HANDLERS,
    **audit.HANDLERS,
    **maintenance.HANDLERS,
    **annotations.HANDLERS,
    **subject.HANDLERS,
    **retention.HANDLERS,
    **samples.HANDLERS,
}

_WITHOUT_REGISTER: dict[str, Runner] = {
    **demo.WITHOUT_REGISTER,
    **init.WITHOUT_REGISTER,
    **subject.WITHOUT_REGISTER,
    **maintenance.WITHOUT_REGISTER,
    **service.WITHOUT_REGISTER,
}
# One action of a command that opens the register itself (`keys split`).
_WITHOUT_REGISTER_ACTIONS: dict[tuple[str, str], Runner] = {
    **maintenance.WITHOUT_REGISTER_ACTIONS,
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kaiku-tui",
        allow_abbrev=False,  # `--conf` must not pass for --config past the doors' check
        description="The register of recorded customer calls and chats: every search and "
        "every opening is audited first; content is encrypted; named persons only.",
        epilog="exit codes: 0 done, 1 audit tampering found, 2 unusable input or config, "
        "3 import rejected rows, 4 refused by the access policy, 5 stopped by a failure "
        "(nothing revealed)",
    )
    parser.add_argument("--version", action="version", version=f"kaiku-tui {__version__}")
    parser.add_argument("--config", metavar="PATH", help="configuration file")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add_commands in _GROUPS:
        add_commands(sub.add_parser)
    return parser


# -- entry ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    try:
        entered = service.enter(sys.argv[1:] if argv is None else argv)
        args = build_parser().parse_args(_joined_sort(entered.argv))
        if entered.door is not None and args.config is not None:
            raise UsageError("--config is not accepted here: the register's door decides it")
        if entered.config is not None and args.config is None:
            args.config = str(entered.config)
        args.door_file = entered.door_file
        if args.command is None:
            return tui.open_tui(args)
        if args.command == "demo" and not args.no_tui and sys.stdout.isatty():
            return demo.demo_tui(args)
        if args.command == "review":
            return tui.review(args)
        return asyncio.run(_dispatch(args))
    except KaikuError as err:
        print(f"kaiku-tui: {sanitise(str(err))}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never the environment or a traceback
        if os.environ.get("KAIKU_TRACEBACK") == "1":  # single-user debugging; scrubbed in doors
            raise
        print(f"kaiku-tui: stopped by an internal error ({type(exc).__name__})", file=sys.stderr)
        return EXIT_FAILED


def _joined_sort(argv: Sequence[str]) -> list[str]:
    """`--sort -date` as `--sort=-date`: argparse would take `-date` for an option."""
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg == "--sort" and out[i + 1].startswith("-"):
            out[i : i + 2] = [f"--sort={out[i + 1]}"]
            break
    return out


async def _dispatch(args: argparse.Namespace) -> int:
    # demo, init, doctor, restore, and register-description (which opens the register
    # only if it can) run before, or instead of, opening the register for the person.
    run = _WITHOUT_REGISTER.get(args.command) or _WITHOUT_REGISTER_ACTIONS.get(
        (args.command, getattr(args, "action", None) or "")
    )
    if run is not None:
        return await run(args)
    config = load(config_path(args.config, os.environ))
    handler = _HANDLERS[(args.command, getattr(args, "action", None))]
    return await with_register(config, lambda register: handler(args, register))
