"""The real app in a pseudo-terminal, on a register holding hostile chat messages.

What reaches a terminal is bytes. These tests read every byte the app writes
while a person opens the hostile chat, and assert that none of the hostile
sequences got through, that their text is visible instead, and that NO_COLOR
means no colour.
"""

from __future__ import annotations

import asyncio
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fcntl import ioctl
from pathlib import Path

import pytest

from kaiku_tui.config import write_default
from kaiku_tui.domain.access import Identity, Person, Role
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Channel, Direction, NewRecording, Speaker, TranscriptLine
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity

HOSTILE = [
    "[bold]lihava[/bold]",
    "[/",
    "[@click=app.quit]x[/]",
    "[link=https://evil.example]linkki[/link]",
    "clear\x1b[2Jscreen",
    "clip\x1b]52;c;c2VjcmV0\x07board",
    "red\x9b31mtext",
    "\u202eesrever",
]


def hostile_chat() -> NewRecording:
    lines = tuple(
        TranscriptLine(float(i), "Asiakas", Speaker.CUSTOMER, text)
        for i, text in enumerate(HOSTILE)
    )
    return NewRecording(
        "ITU", Channel.CHAT, Direction.INBOUND, 1_795_000_000, 120, "Aino", "neuvonta",
        "hostile-1", "+358401234567", lines,
    )  # fmt: skip


@pytest.fixture(scope="module")
def register_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pty")
    config_file = folder / "config.toml"
    write_default(config_file, folder / "data")

    async def build() -> None:
        from kaiku_tui.config import load

        config = load(config_file)
        me = current_identity()
        admin = await Register.initialise(config, Identity("pty.admin"), "Admin")
        try:
            await admin.orgs.add(Organisation("ITU", "Itä-Uusimaa", None, None))
            await admin.persons.add(Person(me.login, "Tester", frozenset({Role.SUPERVISOR})))
            await admin.intake.add_recordings([hostile_chat()], source="test")
        finally:
            await admin.close()

    asyncio.run(build())
    return config_file


class Terminal:
    """A child process on a pty of 100x30; everything it writes is kept in `output`."""

    def __init__(self, fd: int, pid: int) -> None:
        self.fd, self.pid = fd, pid
        self.output = bytearray()

    def read_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                self.output += chunk

    def wait_for(self, text: bytes, seconds: float = 20.0) -> None:
        end = time.monotonic() + seconds
        while text not in self.output:
            if time.monotonic() > end:
                tail = bytes(self.output[-2000:])
                raise AssertionError(f"{text!r} never appeared; last output: {tail!r}")
            self.read_for(0.1)

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def exit_code(self, seconds: float = 20.0) -> int:
        """Wait for the app to end by itself (reading what it writes meanwhile)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.read_for(0.2)
                self.pid = 0
                return os.waitstatus_to_exitcode(status)
            self.read_for(0.1)
        raise AssertionError("the app did not end")


@contextmanager
def app_in_pty(config: Path, **env: str) -> Iterator[Terminal]:
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app, as a person would start it
        environ = {k: v for k, v in os.environ.items() if not k.startswith("KAIKU_")}
        environ.update(TERM="xterm-256color", COLUMNS="100", LINES="30", **env)
        os.execve(
            sys.executable, [sys.executable, "-m", "kaiku_tui", "--config", str(config)], environ
        )
    ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    terminal = Terminal(fd, pid)
    try:
        yield terminal
    finally:
        if terminal.pid:
            os.kill(terminal.pid, signal.SIGTERM)
            os.waitpid(terminal.pid, 0)
        os.close(fd)


def open_the_chat(terminal: Terminal) -> None:
    terminal.wait_for(b"Aino")  # the list shows the row
    terminal.send(b"\r")  # Enter: the purpose of access
    terminal.wait_for(b"Purpose of access")
    terminal.send(b"\x1b[B\r")  # down to "feedback", Enter
    terminal.wait_for(b"esrever")
    terminal.read_for(1.0)


def test_hostile_messages_never_reach_the_terminal(register_config: Path) -> None:
    with app_in_pty(register_config, LANG="en_GB.UTF-8") as terminal:
        terminal.wait_for(b"1 recording \xc2\xb7")  # the list is up
        before = bytes(terminal.output)
        open_the_chat(terminal)
        after = bytes(terminal.output[len(before) :])
        terminal.send(b"\x11")  # ctrl+q
        terminal.read_for(1.0)
    # Textual's own pointer-shape OSC ends in BEL; take it out before looking for BELs.
    out = re.sub(rb"\x1b\]22;[\w-]*\x07", b"", after)
    # Nothing of the hostile sequences as such:
    assert b"\x1b]52;" not in out  # OSC 52 would write the clipboard
    assert b"\x07" not in out and b"\xc2\x9b" not in out  # BEL, C1 CSI
    assert "\u202e".encode() not in out  # a bidi override
    assert b"clear\x1b[2J" not in out and out.count(b"\x1b[2J") <= before.count(b"\x1b[2J")
    # ...and each one visible as text instead (Textual's own CSI sequences taken out):
    visible = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", out)
    for shown in (
        "[bold]lihava[/bold]",
        "[@click=app.quit]x[/]",
        "[link=https://evil.example]linkki[/link]",
        "␛[2Jscreen",
        "␛]52;c;c2VjcmV0",
        "<U+009B>31mtext",
        "<U+202E>",
    ):
        assert shown.encode() in visible, shown


def test_no_color_means_no_colour(register_config: Path) -> None:
    with app_in_pty(register_config, NO_COLOR="1", LANG="en_GB.UTF-8") as terminal:
        terminal.wait_for(b"1 recording \xc2\xb7")  # the list is up
        terminal.read_for(0.5)
        terminal.send(b"\x11")
        terminal.read_for(1.0)
    colours = re.findall(rb"\x1b\[[0-9;]*(?:38|48);[25];[0-9;]*m", bytes(terminal.output))
    assert not colours, colours[:3]


def test_a_person_not_named_is_refused_in_one_line(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    write_default(config_file, tmp_path / "data")

    async def build() -> None:
        from kaiku_tui.config import load

        admin = await Register.initialise(load(config_file), Identity("someone.else"), "Admin")
        await admin.close()

    asyncio.run(build())
    with app_in_pty(config_file) as terminal:
        code = terminal.exit_code()
    text = bytes(terminal.output).decode(errors="replace")
    assert "is not an active named person of this register" in text, text[-500:]
    assert "Traceback" not in text and code == 4
