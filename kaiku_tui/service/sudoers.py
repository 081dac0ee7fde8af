"""The sudo door's one rule, `/etc/sudoers.d/kaiku-tui`: members of the group may run the
program, and nothing else, as the service account — without a password, with sudo's
default `env_reset` (so `PYTHON*`, `KAIKU_*` and the like never reach the service)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from kaiku_tui.errors import ConfigError

NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
SAFE_PATH = re.compile(r"^/[A-Za-z0-9._/+-]+$")


def rule(group: str, service_user: str, program: Path) -> str:
    for what, name in (("group", group), ("service account", service_user)):
        if not NAME.match(name):
            raise ConfigError(f"{name!r} cannot be a {what} name in a sudoers rule")
    if not SAFE_PATH.match(str(program)):
        raise ConfigError(f"{program}: the program's path cannot be written in a sudoers rule")
    return (
        "# kaiku-tui: the sudo door (written by `kaiku-tui install`; edit with care).\n"
        f"%{group} ALL=({service_user}) NOPASSWD: {program}\n"
    )


def check(path: Path) -> None:
    """`visudo -c -f PATH`: a rule sudo cannot read would lock every person out, or
    worse, break sudo for root too."""
    try:
        done = subprocess.run(
            ["visudo", "-c", "-q", "-f", str(path)], capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise ConfigError(f"visudo cannot run ({exc.strerror})") from None
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()
        raise ConfigError(f"{path}: visudo refuses it: {why[0] if why else 'no reason given'}")
