"""Every sink that runs here, end to end through ALSA's `file` PCM.

An `.asoundrc` in a temporary HOME sends the default device to a WAV file
(`format "wav"` records the rate and the channels; `truncate false` gives
each opening of the device a file of its own, numbered). The file PCM is not
paced, so these tests check what reached the device, never how long it took:
the samples from the chosen position, sox's decode, exactly; silence allowed
only where playback was paused or after the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from ctypes.util import find_library
from importlib.util import find_spec
from pathlib import Path

import pytest

from kaiku_tui.audio.sinks import simpleaudio_is_safe
from kaiku_tui.audio.source import BytesSource
from kaiku_tui.audio.wav import validate
from tests.conftest import Corpus

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("alsa_play.py")
SINKS = ["miniaudio", "simpleaudio"]


def missing(reason: str) -> None:
    """Skip with the reason on a developer's machine; under CI a missing piece is a failure."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def require(sink: str) -> None:
    """libasound for every sink; simpleaudio only where it is safe, and built."""
    if find_library("asound") is None:
        missing("libasound2 is not installed (apt-get install libasound2)")
    if sink != "simpleaudio":
        return
    if not simpleaudio_is_safe():
        pytest.skip("simpleaudio 1.0.4 crashes on Python >= 3.12; the sink refuses to open")
    if find_spec("simpleaudio") is None:
        reason = (
            "simpleaudio is not installed: apt-get install libasound2-dev, then "
            "pip install -e '.[simpleaudio]'"
        )
        missing(reason)


def capture_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "device.wav"
    (home / ".asoundrc").write_text(
        f'pcm.!default {{ type file; slave.pcm "null"; file "{out}"; format "wav"; '
        "truncate false }\n",
        encoding="utf-8",
    )
    return home


def play(home: Path, sink: str, wav: Path, scenario: str) -> tuple[dict[str, object], str]:
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        # a PulseAudio that is not there: miniaudio then falls to ALSA, and
        # libpulse never tries to start a server of its own
        "PULSE_SERVER": "unix:/nonexistent/pulse-socket",
        "XDG_RUNTIME_DIR": str(home),
    }
    done = subprocess.run(
        [sys.executable, str(SCRIPT), sink, str(wav), scenario],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    out = json.loads(done.stdout) if done.stdout.strip() else {}
    return out, done.stderr.decode(errors="replace")


def captured(tmp_path: Path) -> tuple[list[tuple[int, int]], bytes]:
    """The formats of the device files, in order of opening, and their samples joined."""
    files = sorted(tmp_path.glob("device.wav*"), key=lambda p: (len(p.name), p.name))
    formats, pcm = [], b""
    for path in files:
        data = path.read_bytes()
        fmt = validate(BytesSource(data).read, len(data)) if len(data) > 44 else None
        if fmt is None:
            continue  # an opening that played nothing (a probe)
        formats.append((fmt.sample_rate, fmt.channels))
        pcm += data[fmt.data_offset : fmt.data_offset + fmt.data_length]
    return formats, pcm


def assert_segments(pcm: bytes, segments: list[bytes]) -> None:
    """`pcm` is the segments in order, with nothing but silence between and after them."""
    pos = 0
    for i, segment in enumerate(segments):
        found = pcm.find(segment, pos)
        assert found >= 0, f"segment {i} ({len(segment)} bytes) never reached the device"
        assert not any(pcm[pos:found]), f"sound, not silence, before segment {i}"
        pos = found + len(segment)
    assert not any(pcm[pos:]), "sound after the last segment"


@pytest.mark.parametrize("sink", SINKS)
@pytest.mark.parametrize("name", ["stereo_alaw", "mulaw_8k", "s16_16k"])
def test_the_device_receives_sox_decode_from_the_seek_point(
    corpus: Corpus, tmp_path: Path, sink: str, name: str
) -> None:
    require(sink)
    home = capture_home(tmp_path)
    result, stderr = play(home, sink, corpus.path(name), "whole")
    rate, channels = int(str(result["rate"])), int(str(result["channels"]))
    reference = corpus.sox_pcm16(name)
    start = round(0.5 * rate) * 2 * channels
    formats, pcm = captured(tmp_path)
    assert formats and set(formats) == {(rate, channels)}
    assert_segments(pcm, [reference[start:]])
    duration = len(reference) / 2 / channels / rate
    assert result["spans"] == [[0.5, duration]] and result["ended"]
    assert stderr == ""


@pytest.mark.parametrize("sink", SINKS)
def test_pause_and_seek_land_where_they_should_and_the_spans_match(
    corpus: Corpus, tmp_path: Path, sink: str
) -> None:
    require(sink)
    home = capture_home(tmp_path)
    result, stderr = play(home, sink, corpus.path("stereo_alaw"), "pause-seek")
    reference = corpus.sox_pcm16("stereo_alaw")
    paused = float(str(result["paused_at"]))
    assert 0 < paused < len(reference) / 4 / 8000
    paused_byte = round(paused * 8000) * 4
    _, pcm = captured(tmp_path)
    assert_segments(pcm, [reference[:paused_byte], reference[2000 * 4 :]])
    assert result["spans"] == [[0.0, paused], [0.25, len(reference) / 4 / 8000]]
    assert stderr == ""


@pytest.mark.parametrize("sink", ["miniaudio-auto", "simpleaudio"])
def test_no_device_gives_the_notice_and_nothing_on_stderr(
    corpus: Corpus, tmp_path: Path, sink: str
) -> None:
    require(sink)
    home = tmp_path / "home"
    home.mkdir()  # no .asoundrc: ALSA's default is card 0, and there is none here
    _, noise = play(home, sink, corpus.path("alaw_8k"), "raw-open")
    if "ALSA lib" not in noise:
        pytest.skip("this machine has a sound device, so there is nothing to be quiet about")
    result, stderr = play(home, sink, corpus.path("alaw_8k"), "no-device")
    assert stderr == ""
    [[kind, problem, message]] = result["failed"]  # type: ignore[misc]
    assert (kind, problem) == ("NoAudioDevice", "no-device")
    assert "PULSE_SERVER=tcp:localhost:24713" in message
    assert result["spans"] == []
