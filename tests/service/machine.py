"""A real installation for the door tests and bench/doors.py: OS users made for the run
(unique names), `kaiku-tui install` under a prefix (the door file through KAIKU_DOOR_FILE,
the sudoers rule through KAIKU_SUDOERS_FILE), real sudo, and a real sshd on a free
loopback port with the distribution's defaults. `Machine.remove()` undoes all of it."""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PROGRAM = Path(sys.executable).parent / "kaiku-tui"
SYSTEM_PYTHON = Path("/usr/bin/python3")
CHAT = Path(__file__).resolve().parents[1] / "data" / "chatwoot" / "conversation-4711.json"
SSHD = Path("/usr/sbin/sshd")
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def _others_may_run(path: Path) -> bool:
    """Whether a login other than root may execute `path` (every folder above it too)."""
    real = path.resolve()
    places = [real, *real.parents]
    return all(p.stat().st_mode & 0o001 for p in places) and bool(real.stat().st_mode & 0o004)


def program_for_everyone(prefix: Path) -> Path:
    """This kaiku-tui as a program every login can run. A Python that only root may run
    (pyenv under /root) gets a launcher on the system's Python of the same version,
    isolated (-I), reading this environment's site-packages."""
    if _others_may_run(Path(sys.executable)) and _others_may_run(PROGRAM):
        return PROGRAM
    site = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    launcher = prefix / "bin" / "kaiku-tui"
    launcher.parent.mkdir(mode=0o755)
    launcher.write_text(
        # This environment's packages first: the system's own (older) cryptography must not win.
        f"#!{SYSTEM_PYTHON} -I\nimport site, sys\nsys.path.insert(0, {site!r})\n"
        f"site.addsitedir({site!r})\n"
        "from kaiku_tui.cli import main\nsys.exit(main())\n", encoding="utf-8")  # fmt: skip
    launcher.chmod(0o755)
    return launcher


def cannot_run_here() -> str | None:
    """Why this machine cannot run the real thing, or None."""
    if os.geteuid() != 0:
        return "needs root (it makes OS users, a sudoers rule and an sshd)"
    for tool in ("useradd", "sudo", "visudo", "ssh", "ssh-keygen", "runuser", "sqlite3", "gdb"):
        if shutil.which(tool, path=SYSTEM_PATH) is None:
            return f"{tool} is not installed (apt-get install openssh-server sudo sqlite3 gdb)"
    if not SSHD.exists():
        return "sshd is not installed (apt-get install openssh-server)"
    if not _others_may_run(Path(sys.executable)):
        ask = [str(SYSTEM_PYTHON), "-c", "import sys; print(sys.version_info[:2])"]
        version = subprocess.run(ask, capture_output=True, text=True, check=False).stdout
        if version.strip() != str(sys.version_info[:2]):
            return f"this Python is root's alone; {SYSTEM_PYTHON} is not {sys.version_info[:2]}"
    return None


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Machine:
    tag: str
    prefix: Path
    service: str
    group: str
    admin: str
    supervisor: str
    reviewer: str
    port: int = 0
    users: list[str] = field(default_factory=list)
    sshd: subprocess.Popen[bytes] | None = None
    sudoers: Path = Path("/nonexistent")
    program: Path = PROGRAM

    # -- places ---------------------------------------------------------------------
    @property
    def door_file(self) -> Path:
        return self.prefix / "etc" / "door.toml"

    @property
    def config(self) -> Path:
        return self.prefix / "etc" / "config.toml"

    @property
    def data(self) -> Path:
        return self.prefix / "data"

    @property
    def keys(self) -> Path:
        return self.prefix / "keys"

    @property
    def witness(self) -> Path:
        return self.prefix / "witness" / "witness.jsonl"

    @property
    def client_keys(self) -> Path:
        return self.prefix / "client"

    # -- running --------------------------------------------------------------------
    def env(self, **extra: str) -> dict[str, str]:
        return {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8", "KAIKU_DOOR_FILE": str(self.door_file),
                "KAIKU_SUDOERS_FILE": str(self.sudoers), **extra}  # fmt: skip

    def run(self, argv: list[str], stdin: str | None = None, timeout: float = 120,
            env: dict[str, str] | None = None) -> Run:  # fmt: skip
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True,
                              timeout=timeout, env=env or self.env(), cwd="/")  # fmt: skip
        return Run(done.returncode, done.stdout, done.stderr)

    def as_user(self, login: str, argv: list[str], stdin: str | None = None,
                **extra: str) -> Run:  # fmt: skip
        """`argv` as `login`, in a login-like environment of theirs (HOME, USER)."""
        home = pwd.getpwnam(login).pw_dir
        env = self.env(HOME=home, USER=login, LOGNAME=login, **extra)
        setenv = [f"{k}={v}" for k, v in env.items()]
        return self.run(["runuser", "-u", login, "--", "env", "-i", *setenv, *argv], stdin)

    def kaiku(self, login: str, *args: str, stdin: str | None = None, **extra: str) -> Run:
        """`kaiku-tui ARGS` typed by `login` at their own shell: the sudo door."""
        return self.as_user(login, [str(self.program), *args], stdin, **extra)

    def ssh(self, login: str, *command: str, tty: bool = False) -> Run:
        """`ssh kaiku@127.0.0.1 COMMAND` with `login`'s key (the SSH door)."""
        return self.run(self.ssh_argv(login, *command, tty=tty))

    def ssh_argv(self, login: str, *command: str, tty: bool = False) -> list[str]:
        return ["ssh", "-F", "/dev/null", "-i", str(self.client_keys / login),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes",
                "-p", str(self.port), *(["-tt"] if tty else ["-T"]),
                "--", f"{self.service}@127.0.0.1", *command]  # fmt: skip

    def events(self) -> list[dict[str, object]]:
        """Every audit event, read by root straight from the index (for the assertions)."""
        db = sqlite3.connect(f"file:{self.data / 'index.sqlite3'}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT body FROM audit_event ORDER BY seq").fetchall()
        finally:
            db.close()
        return [json.loads(body) for (body,) in rows]

    # -- making and removing --------------------------------------------------------
    def remove(self) -> None:
        if self.sshd is not None:
            self.sshd.terminate()
            try:
                self.sshd.wait(10)
            except subprocess.TimeoutExpired:
                self.sshd.kill()
        for user in reversed(self.users):
            subprocess.run(["pkill", "-KILL", "-u", user], capture_output=True, check=False)
            subprocess.run(["userdel", "-r", "-f", user], capture_output=True, check=False)
        subprocess.run(["groupdel", self.group], capture_output=True, check=False)
        self.sudoers.unlink(missing_ok=True)
        witness = self.witness
        if witness.exists():
            subprocess.run(["chattr", "-a", str(witness)], capture_output=True, check=False)
        shutil.rmtree(self.prefix, ignore_errors=True)


def make_machine() -> Machine:
    tag = secrets.token_hex(3)
    prefix = Path(tempfile.mkdtemp(prefix=f"kaiku-doors-{tag}-", dir="/tmp"))
    os.chmod(prefix, 0o755)
    m = Machine(tag, prefix, f"kk{tag}", f"kg{tag}", f"ka{tag}", f"ks{tag}", f"kr{tag}")
    m.sudoers = Path(f"/etc/sudoers.d/kaiku-test-{tag}")
    try:
        m.program = program_for_everyone(prefix)
        _install(m)
        _people(m)
        _sshd(m)
    except BaseException:
        m.remove()
        raise
    return m


def _check(result: Run, what: str) -> Run:
    if result.code != 0:
        raise RuntimeError(f"{what} failed ({result.code}): {result.err or result.out}")
    return result


def _install(m: Machine) -> None:
    m.users.append(m.service)
    argv = [str(m.program), "install", "--service-user", m.service, "--admin", m.admin,
            "--program", str(m.program),
            "--group", m.group, "--data-dir", str(m.data), "--key-store", str(m.keys),
            "--witness", str(m.witness), "--config", str(m.config)]  # fmt: skip
    _check(m.run(argv), "kaiku-tui install")


def _people(m: Machine) -> None:
    m.client_keys.mkdir(mode=0o700)
    for login in (m.admin, m.supervisor, m.reviewer):
        m.users.append(login)
        _check(m.run(["useradd", "--create-home", "--shell", "/bin/sh", "-G", m.group, login]),
               f"useradd {login}")  # fmt: skip
        _check(m.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", login,
                      "-f", str(m.client_keys / login)]), "ssh-keygen")  # fmt: skip
    _check(m.kaiku(m.admin, "orgs", "add", "KESKI", "--name", "Keski",
                   "--contract-end", "2099-12-31"), "orgs add")  # fmt: skip
    _check(m.kaiku(m.admin, "persons", "add", m.supervisor, "--role", "supervisor"), "persons add")
    _check(m.kaiku(m.admin, "persons", "add", m.reviewer, "--role", "reviewer"), "persons add")
    _check(m.kaiku(m.admin, "ingest", "chatwoot", str(CHAT), "--org", "KESKI"), "ingest")
    for login in (m.admin, m.supervisor, m.reviewer):
        key = (m.client_keys / f"{login}.pub").read_text(encoding="utf-8")
        _check(m.kaiku(m.admin, "persons", "ssh-key", "add", login, "-", stdin=key), "ssh-key")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sshd(m: Machine) -> None:
    """A private sshd: the distribution's sshd_config with a port, host key and pid file
    of this run (sshd takes the first value of each option: ours come first)."""
    folder = m.prefix / "sshd"
    folder.mkdir(mode=0o700)
    _check(m.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "host")]),
           "host key")  # fmt: skip
    ours = {"port", "listenaddress", "hostkey", "pidfile"}
    distro = [ln for ln in Path("/etc/ssh/sshd_config").read_text(encoding="utf-8").splitlines()
              if not ln.strip() or ln.split()[0].lower() not in ours]  # fmt: skip
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    for _ in range(5):
        m.port = _free_port()
        head = [f"Port {m.port}", "ListenAddress 127.0.0.1", f"HostKey {folder / 'host'}",
                f"PidFile {folder / 'sshd.pid'}"]  # fmt: skip
        (folder / "sshd_config").write_text("\n".join(head + distro) + "\n", encoding="utf-8")
        log = (folder / "sshd.log").open("wb")
        m.sshd = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(folder / "sshd_config")],
                                  stdout=log, stderr=log)  # fmt: skip
        for _ in range(100):
            if m.sshd.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", m.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        m.sshd.kill()
        m.sshd.wait()
        m.sshd = None
    raise RuntimeError(f"sshd did not start: {(folder / 'sshd.log').read_text()}")
