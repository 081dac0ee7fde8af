"""`kaiku-tui init`: the first run. Writes a default configuration if there is none, then
creates the keys and the index; the login that runs it becomes the register's admin."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from kaiku_tui.cli.common import AddParser, Runner
from kaiku_tui.config import config_path, load, write_default
from kaiku_tui.domain.access import Identity
from kaiku_tui.errors import EXIT_OK
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity
from kaiku_tui.service.sshkeys import check_login


def add_commands(add: AddParser) -> None:
    init = add("init", help="create keys and index; you become admin")
    init.add_argument("--data-dir", metavar="D")
    init.add_argument("--name", help="your display name")
    init.add_argument(
        "--admin", metavar="LOGIN",
        help="the first admin, if not you (kaiku-tui install: the service account makes the "
        "register, a person administers it)",
    )  # fmt: skip


async def _init(args: argparse.Namespace) -> int:
    path = config_path(args.config, os.environ)
    if not path.exists():
        from kaiku_tui.config import from_mapping

        data_dir = Path(args.data_dir).resolve() if args.data_dir else None
        default = from_mapping({}, None).data_dir
        write_default(path, data_dir or default)
        print(f"wrote {path}")
    config = load(path)
    identity = current_identity()
    if args.admin:
        identity = Identity(check_login(args.admin), door="local")
    register = await Register.initialise(config, identity, args.name or identity.login)
    await register.close()
    print(f"register created in {config.data_dir}; {identity.login} is its admin")
    print(
        f"keep the key store {config.key_store} safe, and a copy of it apart from the data "
        "backups: without it the recordings cannot be read"
    )
    return EXIT_OK


# There is no register to open yet: init makes it.
WITHOUT_REGISTER: dict[str, Runner] = {"init": _init}
