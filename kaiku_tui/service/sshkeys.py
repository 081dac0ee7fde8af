"""The SSH door's keys: one line per key in the service account's `authorized_keys`, each
forcing `kaiku-tui door --person LOGIN --key FINGERPRINT` (the pattern of gitolite and
gitlab-shell), with `restrict` (no forwarding of any kind, no agent, no X11, no
~/.ssh/rc) and `pty` given back so the TUI can draw.

A key is checked with `ssh-keygen -l` before it is written; the file is replaced
atomically (a temporary file in the same folder, fsync, rename) and stays 0600.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kaiku_tui.errors import UsageError

KEY_TYPES = re.compile(
    r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|"
    r"sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$"
)
LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_FORCED = re.compile(r'^command="([^"]*)",restrict,pty (\S+) (\S+)(?: (.*))?$')


@dataclass(frozen=True)
class DoorKey:
    """One key of the SSH door: whose it is, its fingerprint, and the line itself."""

    login: str
    fingerprint: str
    line: str


def check_login(login: str) -> str:
    if not LOGIN.match(login):
        raise UsageError(f"{login!r} cannot name a person of the SSH door (letters, digits, ._-)")
    return login


def public_key(text: str) -> tuple[str, str]:
    """(type, base64) of one OpenSSH public key line, or one line naming what is wrong."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if len(lines) != 1:
        raise UsageError("the key file must hold exactly one public key")
    parts = lines[0].split()
    if len(parts) < 2 or not KEY_TYPES.match(parts[0]):
        raise UsageError("not an OpenSSH public key (ssh-ed25519 AAAA… or similar, no options)")
    try:
        base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise UsageError("not an OpenSSH public key (its base64 does not decode)") from None
    return parts[0], parts[1]


def fingerprint(kind: str, blob: str) -> str:
    """The key's SHA256 fingerprint, as `ssh-keygen -l` (which checks the key) prints it."""
    try:
        done = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f", "/dev/stdin"],
            input=f"{kind} {blob}\n", capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except OSError as exc:
        raise UsageError(f"ssh-keygen cannot run ({exc.strerror})") from None
    words = done.stdout.split()
    if done.returncode != 0 or len(words) < 2 or not words[1].startswith("SHA256:"):
        raise UsageError("ssh-keygen does not accept the key")
    return words[1]


def forced_command(program: Path, login: str, key: str, door_file: Path | None) -> str:
    named = ["--door-file", str(door_file)] if door_file is not None else []
    words = [str(program), *named, "door", "--person", check_login(login), "--key", key]
    return shlex.join(words)


def key_line(command: str, kind: str, blob: str, login: str) -> str:
    if '"' in command or "\n" in command:
        raise UsageError("the forced command cannot be quoted in authorized_keys")
    return f'command="{command}",restrict,pty {kind} {blob} kaiku-tui:{login}'


def door_keys(text: str) -> list[DoorKey]:
    """The door's lines of an authorized_keys text (others are not the door's)."""
    found = []
    for line in text.splitlines():
        match = _FORCED.match(line)
        if match is None:
            continue
        words = shlex.split(match.group(1))
        if "--person" in words and "--key" in words:
            login = words[words.index("--person") + 1]
            found.append(DoorKey(login, words[words.index("--key") + 1], line))
    return found


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def without(text: str, drop: list[DoorKey]) -> str:
    lines = {k.line for k in drop}
    kept = [ln for ln in text.splitlines() if ln not in lines]
    return "".join(f"{ln}\n" for ln in kept)


def write_atomic(
    path: Path, text: str, mode: int = 0o600, owner: tuple[int, int] | None = None
) -> None:
    """Replace `path` with `text`: never half written, `mode` (and `owner`: uid, gid)
    set before a byte is written, durable (the file and its folder fsynced)."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            if owner is not None:
                os.fchown(out.fileno(), *owner)
            os.fchmod(out.fileno(), mode)
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
