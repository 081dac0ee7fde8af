"""What the doors cost: `query` and opening the TUI in single-user mode, through the sudo
door and through the SSH door, in the same run (median of N). Not part of CI.

    sudo .venv/bin/python bench/doors.py [--repeat 10]

Needs root, sudo and sshd (it builds the real installation of tests/service/machine.py:
OS users, `kaiku-tui install`, an sshd on a loopback port, and removes them at the end).
Single-user mode is root's own register on the same data (root is its admin).
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import signal
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.service.machine import CHAT, Machine, cannot_run_here, make_machine  # noqa: E402


def timed(run: Callable[[], object], repeat: int) -> float:
    run()  # warm-up: page cache, sshd's first fork
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def checked(code: int, what: str) -> None:
    if code != 0:
        raise SystemExit(f"{what} failed ({code})")


def tui_open(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from exec to the first screen showing the register's recording."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    drawn = b""
    try:
        while time.perf_counter() - start < 60:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    drawn += os.read(fd, 65536)
                except OSError:
                    break
            if b"KESKI" in drawn:
                return time.perf_counter() - start
        raise SystemExit(f"the TUI did not draw: {argv}")
    finally:
        os.close(fd)  # the terminal hangs up: the session (runuser, sudo, ssh) ends
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def single_user(m: Machine) -> list[str]:
    """Root's own register (single-user mode) holding the same conversation."""
    config = m.prefix / "single" / "config.toml"
    base = [str(m.program), "--config", str(config)]
    data = str(m.prefix / "single" / "data")
    checked(m.run([*base, "init", "--data-dir", data]).code, "init")
    checked(m.run([*base, "orgs", "add", "KESKI", "--name", "K", "--contract-end",
                   "2099-12-31"]).code, "orgs add")  # fmt: skip
    checked(m.run([*base, "ingest", "chatwoot", str(CHAT), "--org", "KESKI"]).code, "ingest")
    return base


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    repeat = parser.parse_args().repeat
    why = cannot_run_here()
    if why:
        raise SystemExit(f"bench/doors.py: {why}")
    m = make_machine()
    try:
        base = single_user(m)
        sup = m.supervisor
        home = {"HOME": f"/home/{sup}", "USER": sup, "TERM": "xterm"}
        query = {
            "single-user (root's own register)": lambda: checked(
                m.run([*base, "query", "--json"]).code, "query"),
            "runuser alone (the harness's cost)": lambda: checked(
                m.as_user(sup, ["true"]).code, "runuser"),
            "sudo door": lambda: checked(m.kaiku(sup, "query", "--json").code, "sudo query"),
            "SSH door (ssh to 127.0.0.1)": lambda: checked(
                m.ssh(sup, "query", "--json").code, "ssh query"),
        }  # fmt: skip
        tui = {
            "single-user (root's own register)": lambda: tui_open(
                base, m.env(TERM="xterm", HOME="/root")),
            "sudo door": lambda: tui_open(
                ["runuser", "-u", sup, "--", str(m.program)], m.env(**home)),
            "SSH door (ssh -tt to 127.0.0.1)": lambda: tui_open(
                m.ssh_argv(sup, tty=True), m.env(TERM="xterm")),
        }  # fmt: skip
        print(f"| `kaiku-tui query --json` (median of {repeat}) | ms |\n|---|---:|")
        for name, run in query.items():
            print(f"| {name} | {timed(run, repeat):.0f} |", flush=True)
        print(f"\n| opening the TUI to its first screen (median of {repeat}) | ms |\n|---|---:|")
        for name, run in tui.items():
            print(f"| {name} | {timed(run, repeat):.0f} |", flush=True)
    finally:
        m.remove()


if __name__ == "__main__":
    main()
