"""Who is at the keyboard, as the operating system vouches for it."""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping

from kaiku_tui.domain.access import Identity


def current_identity(environ: Mapping[str, str] = os.environ) -> Identity:
    """The operating-system login (not $USER, which anyone can set) and the SSH client."""
    login = pwd.getpwuid(os.getuid()).pw_name
    ssh = environ.get("SSH_CLIENT", "").split()
    return Identity(login, ssh[0] if ssh else None)
