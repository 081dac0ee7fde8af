"""What the command groups of the command line share: how a group adds its commands,
the shape of a command's handler, opening the register (or the TUI) for the
operating-system login, and the arguments more than one command reads.

Every group module (`persons.py`, `query.py`, …) imports only this module and
`output.py` from `kaiku_tui.cli`, never another group: `main.py` alone wires
the groups together.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from kaiku_tui.config import Config
from kaiku_tui.domain import phone as phones
from kaiku_tui.domain.access import Purpose
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.dates import day_end, day_start, parse_date, parse_duration
from kaiku_tui.domain.org import check_code
from kaiku_tui.domain.recording import Channel, Direction
from kaiku_tui.errors import UsageError
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity


class AddParser(Protocol):
    """Adds one command and returns its parser: the bound `add_parser` of the object
    `ArgumentParser.add_subparsers()` returns (whose class argparse keeps private)."""

    def __call__(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


# A command run with the register open for the person (main.py opens and closes it).
Handler = Callable[[argparse.Namespace, Register], Awaitable[int]]
# Each group's handlers, by (command, action); the action is None for a command without one.
Handlers = dict[tuple[str, str | None], Handler]
# A command that runs before (or instead of) opening a register for the person.
Runner = Callable[[argparse.Namespace], Awaitable[int]]


# -- the register and the TUI ------------------------------------------------------------


async def with_register(config: Config, work: Callable[[Register], Awaitable[int]]) -> int:
    register = await Register.open(config, current_identity())
    try:
        return await work(register)
    finally:
        await register.close()


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


# -- arguments ---------------------------------------------------------------------------


def filter_args(p: argparse.ArgumentParser) -> None:
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


def purpose_of(args: argparse.Namespace, needed: bool) -> Purpose | None:
    if args.purpose is None:
        if needed:
            raise UsageError("--reveal-phone needs --purpose (why you need the number)")
        return None
    return Purpose.parse(args.purpose)
