"""The TUI from the command line: `kaiku-tui` with no command opens it for the person at
the keyboard; `kaiku-tui review REQUEST_REF` opens it as a data subject's review at the
premises. Both run outside the command's event loop: the TUI runs its own."""

from __future__ import annotations

import argparse
import os

from kaiku_tui.cli.common import AddParser, run_tui
from kaiku_tui.config import config_path, load


def add_commands(add: AddParser) -> None:
    review = add(
        "review", help="the TUI for a data subject's review at the premises (DPO)",
        description="Opens the TUI flagged as the review of an access request at the "
        "premises: only that person's recordings, reading and listening only, every "
        "event carrying the request's reference.",
    )  # fmt: skip
    review.add_argument("request_ref", metavar="REQUEST_REF", help="an access request's ref")


def open_tui(args: argparse.Namespace) -> int:
    """`kaiku-tui` without a command."""
    return run_tui(load(config_path(args.config, os.environ)))


def review(args: argparse.Namespace) -> int:
    return run_tui(load(config_path(args.config, os.environ)), args.request_ref)
