"""The doctor's checks that need no register: configuration, key file, index file,
SSH and audio. Each is ok / warn / fail with what to do.
"""

from __future__ import annotations

import os
import pwd
import shlex
import sqlite3
import stat
from collections.abc import Mapping

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Person
from kaiku_tui.errors import KaikuError
from kaiku_tui.maintenance.checks import Check, fail, ok, warn
from kaiku_tui.register.keyring import SPLIT_COMMAND, open_key_store
from kaiku_tui.vault.keys import ENV_VAR
from kaiku_tui.vault.keystore import FILES as KEY_FILES


def open_fix(message: str) -> str:
    if "is not the key of the register" in message:
        return (
            "use this register's key store, whose data key is the register's master key "
            "(from where it is kept safe, never from a backup)"
        )
    if "which only the owner of its tables may run" in message:
        return (
            "take a backup, then run kaiku-tui doctor once with a configuration whose "
            "[index] url names the tables' owner: opening runs the migration"
        )
    return "check [index] in the configuration and that the database is up"


def key_file(config: Config, environ: Mapping[str, str]) -> Check:
    """The key store (named "master key" as before: its data key is the master key)."""
    name = "master key"
    detail = f"key store {config.key_store}"
    if ENV_VAR in environ:
        detail += f", the data key from the variable {ENV_VAR}"
    try:
        store = open_key_store(config, environ)
    except KaikuError as err:
        return fail(name, str(err), _key_fix(config, str(err)))
    return ok(
        name, f"{detail}: mode 0700, its files 0600, owned by this login, key id {store.key_id}"
    )


def _key_fix(config: Config, message: str) -> str:
    if SPLIT_COMMAND in message:
        return f"{SPLIT_COMMAND} (once, as an admin; README, 'Keeping a register')"
    store = config.key_store
    for path in (store, *(store / name for name in KEY_FILES)):
        try:
            st = path.lstat()
        except OSError:
            return f"put the key store back at {store} (from where it is kept safe)"
        if stat.S_IMODE(st.st_mode) & 0o077:
            return f"chmod {'700' if path == store else '600'} {shlex.quote(str(path))}"
        if st.st_uid != os.getuid():
            owner, me = _login_of(st.st_uid), _login_of(os.getuid())
            return (
                f"the key file is owned by {owner}: chown {me} {shlex.quote(str(path))} "
                "(only the login that runs kaiku-tui may own and read it)"
            )
    return f"check {store} (a directory holding this register's keys, one 0600 file each)"


def _login_of(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid with no account: the number is all there is
        return str(uid)


def index_file(config: Config) -> list[Check]:
    """SQLite only, read-only and before opening: opening migrates an old index."""
    if config.is_network:
        return []
    from kaiku_tui.index.sqlite_schema import MIGRATIONS

    name = "index migration"
    path = config.sqlite_path
    if not path.is_file():
        return [fail(name, f"no index at {path}", "kaiku-tui init, or kaiku-tui restore --from")]
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error as exc:
        return [fail(name, f"{path}: {exc}", "restore the last backup (kaiku-tui restore)")]
    if version != len(MIGRATIONS):
        return [
            fail(
                name,
                f"{path} is at migration {version}, this kaiku-tui at {len(MIGRATIONS)}",
                "take a backup (kaiku-tui backup --to DIR), then run any kaiku-tui command "
                "once to migrate it; a newer index needs a newer kaiku-tui",
            )
        ]
    return [ok(name, f"{path} at migration {version} (current)")]


def mode(door: str | None, persons: list[Person]) -> Check:
    """Single-user mode or a service reached through a door (docs/ARCHITECTURE.md, "The
    trust boundary"): in single-user mode every person who can use the register holds its
    key and files, so with more than one of them the audit log is only advisory."""
    if door in ("ssh", "sudo"):
        return ok("mode", f"a service, reached through the {door} door: persons hold no key")
    active = sum(1 for p in persons if p.active)
    if active > 1:
        return warn(
            "mode",
            f"single-user, with {active} active persons: the audit log is advisory: "
            "every person holds the key",
            "install the register as a service with doors: kaiku-tui install (README, "
            "'Install for a team')",
        )
    return ok("mode", "single-user (this login holds the key and the files)")


def ssh(environ: Mapping[str, str]) -> Check:
    client = environ.get("SSH_CLIENT") or environ.get("SSH_CONNECTION")
    if client:
        return ok("session", f"under SSH from {client.split()[0]}")
    return ok("session", "a local terminal (not SSH)")


def audio(config: Config, environ: Mapping[str, str]) -> Check:
    """Opening a sink briefly is the only true test of sound: a library can be there and
    the device not. No sound is normal on a jump host: a warning, with the way to it."""
    from kaiku_tui.audio.sinks import NoAudioDevice, choose_sink

    name = "audio"
    if config.audio_sink == "none":
        return ok(name, 'off ([audio] sink = "none")')
    try:
        sink = choose_sink(config.audio_sink, dict(environ))
        sink.open(8000, 1)
        sink.close()
    except NoAudioDevice as err:
        return warn(name, err.detail, "README, 'Sound over SSH'; or [audio] sink = \"none\"")
    except KaikuError as err:
        return warn(name, str(err), "README, 'Listening'")
    return ok(name, f"{sink.name} opens a device")
