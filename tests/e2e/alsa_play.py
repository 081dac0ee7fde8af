"""Play a WAV through a real sink in this process, as the tests in test_audio_alsa.py ask.

Run as `python tests/e2e/alsa_play.py SINK WAV SCENARIO`, with HOME pointing at
a folder whose .asoundrc says where ALSA's default device goes. Prints one
JSON object: the spans reported, the frame a pause or seek happened at, and
the events' kinds. A process of its own because ALSA reads its configuration
once per process, and so that the test sees everything written to stderr.

Scenarios:
  whole        seek to 0.5 s, play to the end
  pause-seek   play; when the player's thread reads the middle of the file,
               pause there; then seek to 0.25 s and play to the end
  no-device    play once and report the failure
  raw-open     open miniaudio's device directly, without our ALSA handler
               (the control: shows that this configuration is noisy)
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from kaiku_tui.audio.player import Ended, Failed, Player, PlayerEvent, SpanClosed
from kaiku_tui.audio.sinks import MiniaudioSink, SimpleaudioSink, Sink
from kaiku_tui.audio.source import BytesSource

WAIT = 20.0


class Gate(BytesSource):
    """Holds the first read at or past `at` until released."""

    def __init__(self, data: bytes, at: int) -> None:
        super().__init__(data)
        self.at = at
        self.reached = threading.Event()
        self.opened = threading.Event()
        self.held = -1

    def read(self, offset: int, length: int) -> bytes:
        if self.at >= 0 and not self.opened.is_set() and offset >= self.at:
            self.held = offset
            self.reached.set()
            self.opened.wait(WAIT)
        return super().read(offset, length)


def make_sink(name: str) -> Sink:
    if name == "miniaudio":
        return MiniaudioSink(backends=("ALSA",))
    if name == "miniaudio-auto":
        return MiniaudioSink()
    return SimpleaudioSink()


def main() -> None:
    sink_name, path, scenario = sys.argv[1:4]
    if scenario == "raw-open":
        import miniaudio

        try:
            miniaudio.PlaybackDevice(nchannels=1, sample_rate=8000)
        except miniaudio.MiniaudioError:
            pass
        return
    data = Path(path).read_bytes()
    events: list[PlayerEvent] = []
    done = threading.Event()

    def on_event(event: PlayerEvent) -> None:
        events.append(event)
        if isinstance(event, Ended | Failed):
            done.set()

    gate = Gate(data, -1)
    player = Player(gate, make_sink(sink_name), on_event)
    fmt = player.format
    out: dict[str, object] = {"rate": fmt.sample_rate, "channels": fmt.channels}
    if scenario == "whole":
        player.seek(0.5)
        player.play()
    elif scenario == "pause-seek":
        gate.at = fmt.data_offset + fmt.data_length // 2
        player.play()
        assert gate.reached.wait(WAIT), "the player never read the middle"
        time.sleep(0.3)  # let a simpleaudio block that is still sounding finish
        player.pause()
        gate.opened.set()
        while not any(isinstance(e, SpanClosed) for e in events):
            time.sleep(0.01)
        out["paused_at"] = player.position_s
        player.seek(0.25)
        player.play()
    else:
        player.play()
    done.wait(WAIT)
    player.close()
    out["spans"] = [[e.span.start_s, e.span.end_s] for e in events if isinstance(e, SpanClosed)]
    out["failed"] = [
        [type(e.error).__name__, getattr(e.error, "problem", None) and e.error.problem.value,
         str(e.error)]
        for e in events
        if isinstance(e, Failed)
    ]  # fmt: skip
    out["ended"] = any(isinstance(e, Ended) for e in events)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
