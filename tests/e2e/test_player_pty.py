"""The player with no sound device, in a pseudo-terminal: the notice, and no ALSA on screen.

On a jump host ALSA's default device is a card that does not exist, and
libasound says so on stderr, which is the terminal Textual draws on. Here the
app runs in a pty with a HOME of its own (no .asoundrc) and every byte it
writes is read: after play, the notice is there, "ALSA lib" is not, and the
app still answers keys.
"""

from __future__ import annotations

import os
import pty
import signal
import struct
import sys
import termios
from fcntl import ioctl
from pathlib import Path

import pytest

from tests.conftest import Corpus
from tests.e2e.test_audio_alsa import require
from tests.e2e.test_tui_pty import Terminal

APP = Path(__file__).with_name("player_app.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("sink", ["miniaudio", "simpleaudio"])
def test_play_without_a_device_gives_the_notice_and_no_alsa_noise(
    corpus: Corpus, tmp_path: Path, sink: str
) -> None:
    require(sink)
    wav = corpus.path("stereo_alaw")
    pid, fd = pty.fork()
    if pid == 0:
        environ = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "XDG_RUNTIME_DIR": str(tmp_path),
            "PULSE_SERVER": "unix:/nonexistent/pulse-socket",
            "PYTHONPATH": str(ROOT),
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
        }
        os.execve(sys.executable, [sys.executable, str(APP), sink, str(wav)], environ)
    ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    terminal = Terminal(fd, pid)
    try:
        terminal.wait_for(b"paused")
        terminal.send(b" ")
        terminal.wait_for(b"no sound device")
        terminal.send(b"\x1b[C")  # right: +5 s; the app goes on (to the end of the 2.9 s clip)
        terminal.wait_for(b"0:02 / 0:02")
        terminal.send(b"\x11")  # ctrl+q
        assert terminal.exit_code() == 0
    finally:
        if terminal.pid:
            os.kill(terminal.pid, signal.SIGTERM)
            os.waitpid(terminal.pid, 0)
        os.close(fd)
    output = bytes(terminal.output)
    assert b"ALSA lib" not in output and b"Traceback" not in output
    assert b"PULSE_SERVER=tcp:localhost:24713" in output
