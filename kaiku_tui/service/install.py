"""`kaiku-tui install`: the plan that makes a machine's register a service (issue 16, item 1).

A list of steps, each with a sentence `--dry-run` prints, a test of whether it is
already in place, and the doing of it: running the plan twice changes nothing the
second time. Root runs it. The register's own files are made by the service account
itself (`runuser -u SERVICE -- kaiku-tui init --admin LOGIN`), so it owns them.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from kaiku_tui.audit.cut import cut_file
from kaiku_tui.errors import ConfigError
from kaiku_tui.service import sudoers
from kaiku_tui.service.doorfile import DoorFile, toml_string
from kaiku_tui.service.sshkeys import write_atomic

SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Options:
    service_user: str
    admin: str
    group: str
    data_dir: Path
    home: Path
    key_store: Path
    witness: Path
    config: Path
    index_url: str
    password_file: Path | None  # PostgreSQL: copied into place beside the configuration
    door_file: Path
    sudoers_file: Path
    program: Path


@dataclass(frozen=True)
class Step:
    says: str
    done: Callable[[], bool]
    run: Callable[[], str | None]  # a note to print after it, e.g. what the system refused


def plan(o: Options) -> list[Step]:
    return [
        Step(f"group {o.group} (who may use the sudo door)", lambda: _group_exists(o.group),
             lambda: _run(["groupadd", "--system", o.group])),
        Step(f"service account {o.service_user}: /bin/sh, home {o.home}, no password",
             lambda: _user_exists(o.service_user), lambda: _add_user(o)),
        Step(f"{o.service_user}'s password locked", lambda: _locked(o.service_user),
             lambda: _run(["passwd", "-q", "-l", o.service_user])),
        *_folder_steps(o),
        Step(f"witness {o.witness}: {o.service_user}'s, 0600, append-only (chattr +a)",
             lambda: _append_only(o.witness), lambda: _witness(o, o.witness)),
        Step(f"witness of audit cuts {_cuts(o)}: the same",
             lambda: _append_only(_cuts(o)), lambda: _witness(o, _cuts(o))),
        *_config_steps(o),
        Step(f"sudoers {o.sudoers_file}: %{o.group} ALL=({o.service_user}) NOPASSWD: "
             f"{o.program}", lambda: _same(o.sudoers_file, _rule(o), 0o440, 0),
             lambda: _sudoers(o)),
        Step(f"register initialised as {o.service_user}, first admin {o.admin}",
             lambda: _initialised(o), lambda: _init(o)),
    ]  # fmt: skip


def _ids(o: Options) -> tuple[int, int]:
    user = pwd.getpwnam(o.service_user)
    return user.pw_uid, user.pw_gid


def _folder_steps(o: Options) -> list[Step]:
    ssh = o.home / ".ssh"
    keys = ssh / "authorized_keys"
    folders = [(o.home, 0o700), (o.data_dir, 0o700), (o.key_store, 0o700), (ssh, 0o700)]
    steps = [
        Step(f"folder {path}: {o.service_user}'s, {mode:04o}",
             partial(_owned_by, o, path, mode, True), partial(_folder_of, o, path, mode))
        for path, mode in dict(folders).items()
    ]  # fmt: skip
    steps.append(
        Step(f"folder {o.witness.parent}: root's, {o.service_user}'s group may enter (0750)",
             lambda: _owned(o.witness.parent, 0, 0o750, True),
             lambda: _folder(o.witness.parent, 0, _ids(o)[1], 0o750))
    )  # fmt: skip
    steps.append(
        Step(f"{keys}: {o.service_user}'s, 0600 (the SSH door's keys; empty at first)",
             partial(_owned_by, o, keys, 0o600, False),
             lambda: _file(keys, None, *_ids(o), 0o600))
    )  # fmt: skip
    return steps


def _owned_by(o: Options, path: Path, mode: int, folder: bool) -> bool:
    return _owned(path, _ids(o)[0], mode, folder)


def _folder_of(o: Options, path: Path, mode: int) -> None:
    _folder(path, *_ids(o), mode)


def _config_steps(o: Options) -> list[Step]:
    door = DoorFile(o.door_file, o.service_user, o.config, o.program, o.group)
    steps = []
    if o.password_file is not None:
        target = password_target(o)
        steps.append(
            Step(f"{target}: the database password, {o.service_user}'s alone (0600)",
                 partial(_owned_by, o, target, 0o600, False),
                 lambda: _copy_password(o, target))
        )  # fmt: skip
    steps += [
        Step(f"folder {o.config.parent}: root's, 0755", lambda: _owned(o.config.parent, 0, 0o755,
             True), lambda: _folder(o.config.parent, 0, 0, 0o755)),
        Step(f"configuration {o.config}: root's, readable by {o.service_user} (0640)",
             lambda: _same(o.config, config_text(o), 0o640, 0),
             lambda: _file(o.config, config_text(o), 0, _ids(o)[1], 0o640)),
        Step(f"folder {o.door_file.parent}: root's, 0755",
             lambda: _owned(o.door_file.parent, 0, 0o755, True),
             lambda: _folder(o.door_file.parent, 0, 0, 0o755)),
        Step(f"door file {o.door_file}: root's, 0644 (service account, configuration)",
             lambda: _same(o.door_file, door.text(), 0o644, 0),
             lambda: _file(o.door_file, door.text(), 0, 0, 0o644)),
    ]  # fmt: skip
    return steps


def password_target(o: Options) -> Path:
    return o.config.parent / "db-password"


def config_text(o: Options) -> str:
    lines = [
        "# kaiku-tui: the service's configuration, written by `kaiku-tui install`.",
        "# config.example.toml documents every key.",
        "",
        "[register]",
        f"data_dir = {toml_string(str(o.data_dir))}",
        f"key_store = {toml_string(str(o.key_store))}",
        "",
        "[audit]",
        f"witness = {toml_string(str(o.witness))}",
    ]
    if o.index_url:
        lines += ["", "[index]", f"url = {toml_string(o.index_url)}"]
        if o.password_file is not None:
            lines.append(f"password_file = {toml_string(str(password_target(o)))}")
    return "\n".join(lines) + "\n"


# -- the checks -------------------------------------------------------------------------


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _locked(name: str) -> bool:
    if not _user_exists(name):
        return False
    done = subprocess.run(["passwd", "-S", name], capture_output=True, text=True, check=False)
    words = done.stdout.split()
    return len(words) > 1 and words[1] == "L"


def _owned(path: Path, uid: int, mode: int, folder: bool) -> bool:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False
    kind_ok = path.is_dir() if folder else path.is_file()
    return kind_ok and not path.is_symlink() and st.st_uid == uid and st.st_mode & 0o7777 == mode


def _same(path: Path, text: str, mode: int, uid: int) -> bool:
    try:
        return _owned(path, uid, mode, False) and path.read_text(encoding="utf-8") == text
    except OSError:
        return False


def _append_only(path: Path) -> bool:
    return path.is_file() and "a" in _attributes(path)


def _attributes(path: Path) -> str:
    done = subprocess.run(["lsattr", "-d", str(path)], capture_output=True, text=True, check=False)
    return done.stdout.split()[0] if done.returncode == 0 and done.stdout else ""


def _initialised(o: Options) -> bool:
    if o.index_url:
        return False  # `init` on a database that has a register refuses on its own
    marks = [o.data_dir / "index.sqlite3", o.data_dir / "master.key"]
    return any(m.exists() for m in marks) or (o.key_store.is_dir() and any(o.key_store.iterdir()))


# -- the doing --------------------------------------------------------------------------


def _run(argv: list[str], **kwargs: object) -> None:
    env = {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"}
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()
        raise ConfigError(f"{argv[0]} failed: {why[-1] if why else f'exit {done.returncode}'}")


def _add_user(o: Options) -> None:
    _run(["useradd", "--system", "--shell", "/bin/sh", "--home-dir", str(o.home),
          "--no-create-home", "--user-group", o.service_user])  # fmt: skip


def _folder(path: Path, uid: int, gid: int, mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        raise ConfigError(f"{path}: is a symbolic link; refusing to use it")
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def _file(path: Path, text: str | None, uid: int, gid: int, mode: int) -> None:
    """Write `text` atomically (None: keep what is there, or an empty file)."""
    if text is None and path.exists():
        if path.is_symlink():
            raise ConfigError(f"{path}: is a symbolic link; refusing to use it")
        os.chown(path, uid, gid)
        os.chmod(path, mode)
        return
    write_atomic(path, text or "", mode, (uid, gid))


def _cuts(o: Options) -> Path:
    """The witness of the audit cuts, beside the witness (audit/cut.py names it)."""
    return cut_file(o.witness).path


def _witness(o: Options, path: Path) -> str | None:
    """The file the service may append to and nothing else: the service account's folder
    is root's, so it cannot make or replace the file, and `chattr +a` stops a rewrite."""
    user = pwd.getpwnam(o.service_user)
    if not path.exists():
        _file(path, None, user.pw_uid, user.pw_gid, 0o600)
    os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(path, 0o600)
    done = subprocess.run(["chattr", "+a", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()
        return (
            f"note: {path} could not be made append-only ({why[-1] if why else 'chattr'}); "
            "this file system does not allow it: the witness is only as safe as its owner"
        )
    return None


def _rule(o: Options) -> str:
    return sudoers.rule(o.group, o.service_user, o.program)


def _sudoers(o: Options) -> None:
    o.sudoers_file.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".kaiku-tui.", dir=o.sudoers_file.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o440)
            out.write(_rule(o))
        sudoers.check(Path(temp))
        os.replace(temp, o.sudoers_file)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _copy_password(o: Options, target: Path) -> None:
    user = pwd.getpwnam(o.service_user)
    assert o.password_file is not None
    text = o.password_file.read_text(encoding="utf-8")
    _file(target, text, user.pw_uid, user.pw_gid, 0o600)


def _init(o: Options) -> None:
    argv = ["runuser", "-u", o.service_user, "--", str(o.program), "--config", str(o.config)]
    argv += ["init", "--admin", o.admin]
    env = {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8", "HOME": str(o.home)}
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env, cwd="/")
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()
        raise ConfigError(f"kaiku-tui init failed: {why[-1] if why else done.returncode}")


def find_program() -> Path:
    """The absolute path of this kaiku-tui (what sudoers and authorized_keys name)."""
    import sys

    found = shutil.which("kaiku-tui", path=os.path.dirname(sys.executable))
    if found is None:
        raise ConfigError("cannot find the kaiku-tui program beside this Python; use --program")
    return Path(found).absolute()
