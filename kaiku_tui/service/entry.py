"""Who is asking, and through which door: what `kaiku-tui` decides before it parses its
arguments (docs/ARCHITECTURE.md, "The trust boundary").

* No installation (no door file): single-user mode, as before.
* Root: runs as itself (install, and an admin's own repairs).
* A person's login on a machine with an installation: re-executed through the sudo rule
  (`sudo -n -u SERVICE PROGRAM …`); what could steer the service is refused first.
* The service account with `SUDO_UID`: the sudo door; the person is the login of that uid.
* The service account running `door --person LOGIN` with `SSH_CONNECTION` and without
  `SUDO_UID`: sshd's forced command; the command is `SSH_ORIGINAL_COMMAND`, split with
  shlex (never a shell) and held to an allow-list.
* The service account otherwise: itself, on the installation's configuration.

Pure: the caller passes the arguments, the environment, its uid and the door file.
"""

from __future__ import annotations

import grp
import pwd
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kaiku_tui.service.doorfile import DEFAULT_PATH, DoorFile

SUDO = "/usr/bin/sudo"
DOOR_FILE_OPTION = "--door-file"
# Options a person may never give through a door: the service chooses them.
STEERING = ("--config", "--person", DOOR_FILE_OPTION)
# Commands only root or sshd start.
NEVER_THROUGH_A_DOOR = frozenset({"door", "install"})
# What one SSH command may run: no command that reads or writes files on the service host
# by a path the person names (ingest, backup, restore, migrate), none that makes a register.
SSH_COMMANDS = frozenset(
    {
        "query", "show", "audit", "persons", "orgs", "cases", "tags", "notes", "samples",
        "subject", "disclose", "disclosures", "register-description", "hold", "retention",
        "doctor", "scan", "keys", "review", "maintenance",
    }
)  # fmt: skip
SSH_OPTIONS = frozenset({"-h", "--help", "--version"})


@dataclass(frozen=True)
class Local:
    """Run as this login; `config` is the default configuration (None: the usual one)."""

    config: Path | None = None


@dataclass(frozen=True)
class ReExec:
    """Replace this process with `argv` (the sudo door)."""

    argv: list[str]


@dataclass(frozen=True)
class Through:
    """A person let in by a door: run `argv` for `login` on the service's `config`."""

    door: str  # "sudo" | "ssh"
    login: str
    argv: list[str]
    config: Path
    key: str | None = None
    client_host: str | None = None
    client: str | None = None


@dataclass(frozen=True)
class Refused:
    message: str


Decision = Local | ReExec | Through | Refused


def split_door_file(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """A leading `--door-file PATH` (how the sudo door and a forced command name a door file
    that is not in its default place) and the rest of the arguments."""
    rest = list(argv)
    if len(rest) >= 2 and rest[0] == DOOR_FILE_OPTION:
        return rest[1], rest[2:]
    return None, rest


def decide(
    argv: Sequence[str], environ: Mapping[str, str], uid: int, door: DoorFile | None
) -> Decision:
    args = list(argv)
    if door is None:
        if _command(args) == "door":
            return Refused("door: this machine has no installation of the register")
        return Local()
    try:
        service_uid = pwd.getpwnam(door.service_user).pw_uid
    except KeyError:
        return Refused(f"{door.path}: the service account {door.service_user!r} does not exist")
    if uid == 0:
        if _command(args) == "door":
            return Refused("door: only sshd starts the door, as the service account")
        return Local()
    if uid != service_uid:
        return _person(args, environ, uid, door)
    if _command(args) == "door":
        return _ssh_door(args, environ, door)
    if "SUDO_UID" in environ:
        return _sudo_door(args, environ, door)
    return Local(door.config)


def _person(args: list[str], environ: Mapping[str, str], uid: int, door: DoorFile) -> Decision:
    """A person's own login: refused what could steer the service, else through sudo."""
    refusal = _steering(args)
    if refusal is None and environ.get("KAIKU_CONFIG"):
        refusal = "KAIKU_CONFIG is not used here: the register's configuration is the service's"
    if refusal is not None:
        return Refused(refusal)
    if not _member(uid, door.group):
        login = pwd.getpwuid(uid).pw_name
        return Refused(
            f"this machine's register is reached through its door; {login} is not in the "
            f"group {door.group} (ask an admin), or use the SSH door"
        )
    named = [] if door.path == DEFAULT_PATH else [DOOR_FILE_OPTION, str(door.path)]
    return ReExec([SUDO, "-n", "-u", door.service_user, str(door.program), *named, *args])


def _sudo_door(args: list[str], environ: Mapping[str, str], door: DoorFile) -> Decision:
    refusal = _steering(args)
    if refusal is not None:
        return Refused(refusal)
    try:
        login = pwd.getpwuid(int(environ["SUDO_UID"])).pw_name
    except (KeyError, ValueError):
        return Refused("the sudo door: SUDO_UID names no login")
    return Through("sudo", login, args, door.config)


def _ssh_door(args: list[str], environ: Mapping[str, str], door: DoorFile) -> Decision:
    connection = environ.get("SSH_CONNECTION", "").split()
    if "SUDO_UID" in environ or len(connection) != 4:
        return Refused("door: only sshd starts the door (its forced command)")
    forced = _forced(args[1:])
    if forced is None:
        return Refused("door: usage: door --person LOGIN [--key FINGERPRINT]")
    login, key = forced
    command = environ.get("SSH_ORIGINAL_COMMAND")
    if command is None:
        wanted: list[str] = []
    else:
        try:
            wanted = shlex.split(command)
        except ValueError as exc:
            return Refused(f"the command cannot be read: {exc}")
        refusal = _ssh_refusal(wanted)
        if refusal is not None:
            return Refused(refusal)
    host, port = connection[0], connection[1]
    client = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return Through("ssh", login, wanted, door.config, key, host, client)


def _forced(args: list[str]) -> tuple[str, str | None] | None:
    """`--person LOGIN [--key FINGERPRINT]`, exactly: the forced command's own words."""
    if len(args) not in (2, 4) or args[0] != "--person" or not args[1]:
        return None
    if len(args) == 4:
        if args[2] != "--key" or not args[3]:
            return None
        return args[1], args[3]
    return args[1], None


def _ssh_refusal(wanted: list[str]) -> str | None:
    steering = _steering(wanted)
    if steering is not None:
        return steering
    first = wanted[0] if wanted else ""
    if first in SSH_OPTIONS and len(wanted) == 1:
        return None
    if first not in SSH_COMMANDS:
        allowed = ", ".join(sorted(SSH_COMMANDS))
        return f"{first!r} is not a command the SSH door runs (it runs: {allowed})"
    return None


def _steering(args: list[str]) -> str | None:
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in STEERING:
            return f"{name} is not accepted here: the register's door decides it"
    command = _command(args)
    if command in NEVER_THROUGH_A_DOOR:
        return f"{command}: not through a door (only root runs install; only sshd, door)"
    return None


def _command(args: list[str]) -> str | None:
    """The command word: the first argument that is not an option (or --config's value)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--config", DOOR_FILE_OPTION):
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _member(uid: int, group: str) -> bool:
    try:
        entry = grp.getgrnam(group)
        login = pwd.getpwuid(uid)
    except KeyError:
        return False
    return login.pw_gid == entry.gr_gid or login.pw_name in entry.gr_mem
