"""Issue 16's "Must show" for the doors, on the real thing: OS users made for the run,
`kaiku-tui install`, real sudo, a real sshd with the distribution's defaults.

Through each door a person's search and opening are audited under their own login and the
door; a reviewer's phone reveal is refused and audited. Outside the doors, as the
reviewer's own OS account, every way around them is refused and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import select
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests.service.machine import Machine


def last(m: Machine, action: str, actor: str) -> dict[str, object]:
    found = [e for e in m.events() if e["action"] == action and e["actor"] == actor]
    assert found, f"no {action} event by {actor}"
    return found[-1]


# -- install --------------------------------------------------------------------------------


def test_install_made_the_owners_and_modes(machine: Machine) -> None:
    m = machine
    service = os.stat(m.data).st_uid
    def mode(p: Path) -> tuple[int, int]:
        st = p.lstat()
        return st.st_uid, stat.S_IMODE(st.st_mode)

    assert mode(m.data) == (service, 0o700)
    assert mode(m.keys) == (service, 0o700)
    assert mode(m.data / ".ssh") == (service, 0o700)
    assert mode(m.data / ".ssh" / "authorized_keys") == (service, 0o600)
    assert mode(m.witness) == (service, 0o600)
    assert mode(m.witness.parent) == (0, 0o750)
    assert mode(m.config) == (0, 0o640)
    assert mode(m.door_file) == (0, 0o644)
    assert mode(m.sudoers) == (0, 0o440)
    rule = [ln for ln in m.sudoers.read_text().splitlines() if not ln.startswith("#")]
    assert rule == [f"%{m.group} ALL=({m.service}) NOPASSWD: {m.program}"]
    assert subprocess.run(["visudo", "-c", "-q", "-f", str(m.sudoers)]).returncode == 0
    account = m.run(["getent", "passwd", m.service]).out.strip().split(":")
    assert account[6] == "/bin/sh" and account[5] == str(m.data)
    assert m.run(["passwd", "-S", m.service]).out.split()[1] == "L"  # no password
    attrs = m.run(["lsattr", "-d", str(m.witness)])
    if attrs.code == 0:
        assert "a" in attrs.out.split()[0], "the witness is append-only where chattr works"


def test_install_again_changes_nothing_and_dry_run_says_so(machine: Machine) -> None:
    m = machine
    argv = [str(m.program), "install", "--service-user", m.service, "--admin", m.admin,
            "--group", m.group, "--data-dir", str(m.data), "--key-store", str(m.keys),
            "--witness", str(m.witness), "--config", str(m.config),
            "--program", str(m.program)]  # fmt: skip
    dry = m.run([*argv, "--dry-run"])
    assert dry.code == 0, dry.err
    assert dry.out and all(ln.startswith("ok ") for ln in dry.out.splitlines()), dry.out
    seq = len(m.events())
    again = m.run(argv)
    assert again.code == 0, again.err
    assert all(ln.startswith("ok ") for ln in again.out.splitlines()), again.out
    assert len(m.events()) == seq


# -- through each door ----------------------------------------------------------------------


def test_sudo_door_search_and_opening_are_audited_as_the_person(machine: Machine) -> None:
    m = machine
    found = m.kaiku(m.supervisor, "query", "--json")
    assert found.code == 0, found.err
    (row,) = [json.loads(line) for line in found.out.splitlines()]
    search = last(m, "search", m.supervisor)
    assert search["door"] == "sudo" and search["revealed"] == [str(row["id"])]
    shown = m.kaiku(m.supervisor, "show", str(row["id"]), "--purpose", "quality", "--json")
    assert shown.code == 0, shown.err
    opened = last(m, "record.open", m.supervisor)
    assert opened["door"] == "sudo" and opened["target"] == str(row["id"])
    assert "key" not in opened and "client" not in opened


def test_ssh_door_search_and_opening_are_audited_with_key_and_client(machine: Machine) -> None:
    m = machine
    found = m.ssh(m.supervisor, "query", "--json")
    assert found.code == 0, found.err
    (row,) = [json.loads(line) for line in found.out.splitlines()]
    shown = m.ssh(m.supervisor, "show", str(row["id"]), "--purpose", "quality", "--json")
    assert shown.code == 0, shown.err
    fingerprint = m.run(["ssh-keygen", "-l", "-E", "sha256", "-f",
                         str(m.client_keys / f"{m.supervisor}.pub")]).out.split()[1]  # fmt: skip
    for action in ("search", "record.open"):
        event = last(m, action, m.supervisor)
        assert event["door"] == "ssh" and event["key"] == fingerprint
        assert str(event["client"]).startswith("127.0.0.1:")
    # The admin sees the same through `audit show --json`.
    shown_log = m.ssh(m.admin, "audit", "show", "--json", "--actor", m.supervisor)
    assert shown_log.code == 0, shown_log.err
    events = [json.loads(line) for line in shown_log.out.splitlines()]
    assert any(e["door"] == "ssh" and e["key"] == fingerprint for e in events)


@pytest.mark.parametrize("door", ["sudo", "ssh"])
def test_a_reviewers_phone_reveal_is_refused_and_audited(machine: Machine, door: str) -> None:
    m = machine
    args = ("show", "1", "--purpose", "quality", "--reveal-phone")
    tried = m.kaiku(m.reviewer, *args) if door == "sudo" else m.ssh(m.reviewer, *args)
    assert tried.code == 4, tried.out + tried.err
    assert "+358" not in tried.out
    refused = [e for e in m.events() if e["actor"] == m.reviewer and e["outcome"] == "denied"]
    assert refused and refused[-1]["door"] == door


def test_ssh_key_list_and_a_disabled_persons_key_stops_at_once(machine: Machine) -> None:
    m = machine
    listed = m.kaiku(m.admin, "persons", "ssh-key", "list")
    assert listed.code == 0 and m.supervisor in listed.out and m.reviewer in listed.out
    extra = f"ke{m.tag}"
    assert m.kaiku(m.admin, "persons", "add", extra, "--role", "reviewer").code == 0
    m.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(m.client_keys / extra)])
    key = (m.client_keys / f"{extra}.pub").read_text()
    added = m.kaiku(m.admin, "persons", "ssh-key", "add", extra, "-", stdin=key)
    assert added.code == 0, added.err
    assert last(m, "person.ssh_key.add", m.admin)["target"] == extra
    assert m.ssh(extra, "query", "--json").code == 0
    assert m.kaiku(m.admin, "persons", "disable", extra).code == 0
    assert last(m, "person.ssh_key.remove", m.admin)["target"] == extra
    assert extra not in (m.data / ".ssh" / "authorized_keys").read_text()
    after = m.ssh(extra, "query", "--json")
    assert after.code == 255 and after.out == ""  # sshd no longer knows the key
    bad = m.kaiku(m.admin, "persons", "ssh-key", "add", m.reviewer, "-", stdin="ssh-rsa xx")
    assert bad.code == 2 and "public key" in bad.err


# -- around the doors: refused, and nothing changed --------------------------------------------


def digest(m: Machine) -> str:
    """The state a refusal must leave alone: the audit chain, the keys, the config."""
    h = hashlib.sha256(json.dumps(m.events()).encode())
    for path in (m.data / ".ssh" / "authorized_keys", m.config, m.door_file, m.sudoers):
        h.update(path.read_bytes())
    return h.hexdigest()


def test_the_reviewers_own_account_cannot_read_the_registers_files(machine: Machine) -> None:
    m = machine
    blobs = [p for p in (m.data / "blobs").rglob("*") if p.is_file()] if (
        m.data / "blobs").exists() else []  # fmt: skip
    targets = [m.keys, m.data / "index.sqlite3", m.data / "master.key", m.config, *blobs[:1]]
    for target in targets:
        tried = m.as_user(m.reviewer, ["cat", str(target)])
        assert tried.code != 0 and "Permission denied" in tried.err, target
    listing = m.as_user(m.reviewer, ["ls", str(m.keys)])
    assert listing.code != 0 and "Permission denied" in listing.err
    db = m.as_user(m.reviewer, ["sqlite3", str(m.data / "index.sqlite3"),
                                "UPDATE person SET roles='dpo,supervisor,admin'"])  # fmt: skip
    assert db.code != 0 and "unable to open database" in db.err


def test_every_way_around_the_doors_is_refused(machine: Machine) -> None:
    m = machine
    home = Path(f"/home/{m.reviewer}")
    evil = home / "evil.toml"
    evil.write_text(f'[register]\ndata_dir = "{m.data}"\n')
    before = digest(m)
    door = ["--door-file", str(m.door_file)]  # the default /etc/kaiku-tui/door.toml, in a prefix
    sudo = ["sudo", "-n", "-u", m.service]
    tries = {
        "sudo sh": m.as_user(m.reviewer, [*sudo, "/bin/sh", "-c", "id"]),
        "sudo --config": m.as_user(m.reviewer, [*sudo, str(m.program), *door, "--config",
                                                str(evil), "persons", "list"]),  # fmt: skip
        "--config": m.kaiku(m.reviewer, "--config", str(evil), "persons", "list"),
        "KAIKU_CONFIG": m.kaiku(m.reviewer, "persons", "list", KAIKU_CONFIG=str(evil)),
        "door": m.kaiku(m.reviewer, "door", "--person", m.admin, "persons", "list"),
        "sudo door": m.as_user(m.reviewer, [*sudo, str(m.program), *door, "door", "--person",
                                            m.admin]),  # fmt: skip
        "ssh query; sh": m.ssh(m.reviewer, "query; sh"),
        "ssh door": m.ssh(m.reviewer, "door", "--person", m.admin, "persons", "list"),
        "ssh --config": m.ssh(m.reviewer, "--config", str(evil), "persons", "list"),
        "ssh install": m.ssh(m.reviewer, "install", "--service-user", "root", "--admin", "x"),
    }
    for name, tried in tries.items():
        assert tried.code != 0, f"{name}: {tried.out}"
        assert "persons" not in tried.out and m.admin not in tried.out, name
    assert tries["sudo sh"].code == 1 and "sudo:" in tries["sudo sh"].err
    for name in ("sudo --config", "--config", "KAIKU_CONFIG", "door", "sudo door",
                 "ssh query; sh", "ssh door", "ssh --config", "ssh install"):  # fmt: skip
        assert tries[name].code == 2, f"{name}: {tries[name].err}"
        assert len(tries[name].err.strip().splitlines()) == 1, f"{name}: {tries[name].err}"
    assert "'query;' is not a command" in tries["ssh query; sh"].err
    assert digest(m) == before, "a refusal changed the register"


def test_python_environment_has_no_effect_on_the_service(machine: Machine) -> None:
    m = machine
    marks = m.prefix / "marks"
    marks.mkdir(mode=0o1777, exist_ok=True)
    marks.chmod(0o1777)
    evil = Path(f"/home/{m.reviewer}/evil")
    evil.mkdir(exist_ok=True)
    (evil / "sitecustomize.py").write_text(
        f"import os\nopen('{marks}/ran-as-' + str(os.getuid()), 'w').close()\n"
    )
    os.chown(evil, *(lambda s: (s.st_uid, s.st_gid))(evil.parent.stat()))
    found = m.kaiku(m.reviewer, "query", "--json", PYTHONPATH=str(evil),
                    KAIKU_MASTER_KEY="A" * 44, PYTHONINSPECT="1")  # fmt: skip
    assert found.code == 0, found.err  # the service ran, unbothered
    service_uid = os.stat(m.data).st_uid
    assert not (marks / f"ran-as-{service_uid}").exists(), "PYTHONPATH reached the service"
    assert last(m, "search", m.reviewer)["door"] == "sudo"


def test_a_running_session_cannot_be_traced_or_read(machine: Machine) -> None:
    """The TUI through the sudo door in a pseudo-terminal; its service process is not
    dumpable: neither the reviewer nor the service account itself may ptrace it."""
    m = machine
    pid, fd = pty.fork()
    if pid == 0:  # the child: the supervisor at a terminal, typing kaiku-tui
        env = m.env(HOME=f"/home/{m.supervisor}", USER=m.supervisor, TERM="xterm")
        os.execvpe("runuser", ["runuser", "-u", m.supervisor, "--", str(m.program)], env)
    try:
        service = _service_process(m, fd)
        st = os.stat(f"/proc/{service}")
        assert st.st_uid == os.stat(m.data).st_uid
        assert os.stat(f"/proc/{service}/mem").st_uid == 0, "not dumpable: /proc is root's"
        for login in (m.reviewer, m.service):
            mem = m.as_user(login, ["dd", f"if=/proc/{service}/mem", "bs=1", "count=1",
                                    "skip=4194304"])  # fmt: skip
            assert mem.code != 0 and "Permission denied" in mem.err, (login, mem.err)
            gdb = m.as_user(login, ["gdb", "-p", str(service), "-batch", "-ex", "info proc"])
            assert "Operation not permitted" in gdb.out + gdb.err, (login, gdb.out, gdb.err)
        limits = Path(f"/proc/{service}/limits").read_text().splitlines()
        (core,) = [ln for ln in limits if ln.startswith("Max core file size")]
        assert core.split()[4:6] == ["0", "0"], "no core files"
    finally:
        os.kill(pid, signal.SIGTERM)
        subprocess.run(["pkill", "-TERM", "-u", m.service, "-f", str(m.program)], check=False)
        os.waitpid(pid, 0)
        os.close(fd)


def _service_process(m: Machine, fd: int) -> int:
    """The service's process serving the TUI, once the TUI has drawn its first screen
    (the register is open: keys in memory)."""
    uid = os.stat(m.data).st_uid
    deadline = time.monotonic() + 60
    drawn = b""
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                drawn += os.read(fd, 65536)
            except OSError:
                break
        if b"chatwoot" not in drawn.lower() and b"KESKI" not in drawn:
            continue
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if entry.stat().st_uid not in (uid, 0):
                    continue
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
                status = (entry / "status").read_text()
            except OSError:
                continue
            uids = [ln for ln in status.splitlines() if ln.startswith("Uid:")][0].split()
            if int(uids[1]) == uid and any(str(m.program).encode() in c for c in cmd):
                return int(entry.name)
    raise AssertionError("the service's process did not start")
