"""The network index's password from `[index] password_file`, read when the index opens.

The file is checked as libpq checks ~/.pgpass: a file that group or others may
read or write is refused, because anyone who reads it connects as this login.
The password itself goes only to the driver: never into a message, a log or a
repr (the error messages below name the file and the key, never its content).
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

from kaiku_tui.errors import ConfigError

KEY = "[index] password_file"
_MAX_BYTES = 4096  # a password, not a file someone pointed at by mistake


def read_password_file(path: Path) -> str:
    """The first line of `path`, without its line end; a ConfigError naming file and key."""
    # Open first, then check the open file: the checks and the read see the same file.
    # O_NONBLOCK: a FIFO planted under the name does not hang the app.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file ({KEY})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be opened ({KEY}): {exc.strerror}") from None
    try:
        _check_mode(path, os.fstat(fd))
        data = os.read(fd, _MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({KEY}): {exc.strerror}") from None
    finally:
        os.close(fd)
    return _password_of(path, data)


def _check_mode(path: Path, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{path}: not a regular file ({KEY})")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"{path}: group or others may access it (mode {mode:04o}; {KEY}); "
            f"run chmod 600 {shlex.quote(str(path))}"
        )


def _password_of(path: Path, data: bytes) -> str:
    if len(data) > _MAX_BYTES:
        raise ConfigError(f"{path}: longer than {_MAX_BYTES} bytes, not a password ({KEY})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text ({KEY})") from None
    password = text.splitlines()[0] if text else ""
    if not password:
        raise ConfigError(f"{path}: the first line is empty; it must hold the password ({KEY})")
    return password
