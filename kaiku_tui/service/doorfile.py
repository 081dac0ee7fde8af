"""The door file, `/etc/kaiku-tui/door.toml`: the one file a person's `kaiku-tui` reads to
find the service. It names the service account, the service's configuration, the program
the sudoers rule allows and the group whose members may use the sudo door.

It is trusted only when root owns it and every folder above it, and none of them is
writable by anyone else: a door file a person could write would let them steer the
service to a configuration of their own. (The boundary itself is the files' owners and
modes; the door file only makes the right way the easy way.)
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kaiku_tui.errors import ConfigError

DEFAULT_PATH = Path("/etc/kaiku-tui/door.toml")
ENV_VAR = "KAIKU_DOOR_FILE"  # an installation under a prefix, for tests


@dataclass(frozen=True)
class DoorFile:
    path: Path
    service_user: str
    config: Path
    program: Path
    group: str

    def text(self) -> str:
        return (
            "# kaiku-tui: where this machine's register is; written by `kaiku-tui install`.\n"
            f"service_user = {toml_string(self.service_user)}\n"
            f"config = {toml_string(str(self.config))}\n"
            f"program = {toml_string(str(self.program))}\n"
            f"group = {toml_string(self.group)}\n"
        )


def door_path(environ: Mapping[str, str], explicit: str | None = None) -> Path:
    if explicit:
        return Path(explicit)
    return Path(environ.get(ENV_VAR) or DEFAULT_PATH)


def read_door(path: Path) -> DoorFile | None:
    """The installation's door file, None where there is none; an untrusted or broken one
    is refused (one line), never read."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    _check_trusted(path, info)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable door file ({exc})") from None
    values = {}
    for key in ("service_user", "config", "program", "group"):
        value = raw.get(key)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: {key} must be a non-empty string")
        values[key] = value
    config, program = Path(values["config"]), Path(values["program"])
    if not config.is_absolute() or not program.is_absolute():
        raise ConfigError(f"{path}: config and program must be absolute paths")
    return DoorFile(path, values["service_user"], config, program, values["group"])


def _check_trusted(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{path}: the door file must be a regular file")
    for place, st in [(path, info), *((p, p.stat()) for p in path.absolute().parents)]:
        if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            if place != path and st.st_mode & stat.S_ISVTX and st.st_uid == 0:
                continue  # /tmp: sticky and root's; only root may replace root's entries
            raise ConfigError(
                f"{place}: not trusted as (part of) the door file's place: "
                "it must be root's and writable by root alone"
            )


def toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
