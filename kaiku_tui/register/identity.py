"""Who is at the keyboard, as the operating system — or the database — vouches for it."""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from kaiku_tui.domain.access import Identity
from kaiku_tui.errors import ConfigError

# Set once per process by the face when a person came in through a door (the sudo door's
# SUDO_UID, the SSH door's forced `--person`): the process then serves that person only.
_through_door: list[Identity] = []


def enter_through_door(identity: Identity) -> None:
    """Who this process serves, as a door vouched for it; every later `current_identity`
    returns it. Called once, before any register is opened."""
    if _through_door:
        raise RuntimeError("the door has already named this process's person")
    _through_door.append(identity)


def current_identity(environ: Mapping[str, str] = os.environ) -> Identity:
    """The person a door let in, or else the operating-system login (not $USER, which
    anyone can set) and the SSH client."""
    if _through_door:
        return _through_door[0]
    login = pwd.getpwuid(os.getuid()).pw_name
    ssh = environ.get("SSH_CLIENT", "").split()
    return Identity(login, ssh[0] if ssh else None, door="local")


@runtime_checkable
class LoginVouching(Protocol):
    """An index whose server authenticated the login it is connected as."""

    async def session_login(self) -> str: ...


async def database_identity(index: object, seen: Identity) -> Identity:
    """The database login the index authenticated as, with the SSH client of `seen`.

    With `[access] identity = "database"` each person connects with a login of
    their own, so the server (which checked the password) says who it is, and
    row-level security (docs/ARCHITECTURE.md) filters by that same login."""
    if not isinstance(index, LoginVouching):  # config.py refuses this combination first
        raise ConfigError('[access] identity = "database" needs a postgresql:// [index] url')
    return Identity(await index.session_login(), seen.client_host, seen.door, seen.key, seen.client)
