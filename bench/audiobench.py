"""Playback from an encrypted hour: first sound, seek, memory, CPU; and the time-stretch.

Two 60-minute recordings are written through `vault.stream.BlobWriter` to
files (8 kHz mono A-law, 28.8 MB; 48 kHz stereo PCM16, 691 MB) and played as
the register plays them: a `BlobReader` on the file, decrypting 64 KiB
segments on demand, into `Player` and a real `MiniaudioSink` on ALSA, whose
default device is the `null` PCM in a temporary HOME (no sound card needed;
not paced, so the device takes samples as fast as they come).

* first sound: `play()` to the first samples the device thread takes.
* seek: `seek()` while playing to the first samples of the new place (the
  worst of three, across the hour).
* memory: resident memory after 20 s of playing, less before the play.
* CPU: process CPU seconds per second of audio played (unpaced, so this is
  the whole cost of decrypting, decoding and feeding the device), at 1x and
  1.5x (WSOLA); the limit beside it is AES-GCM over the same bytes alone.

Run: `.venv/bin/python bench/audiobench.py` (a few minutes; 0.7 GB in /tmp).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Callable
from math import pi, sin
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kaiku_tui.audio.player import Ended, Player, PlayerEvent
from kaiku_tui.audio.sinks import MiniaudioSink
from kaiku_tui.audio.stretch import TimeStretcher
from kaiku_tui.vault.keys import RecordKey, new_data_key
from kaiku_tui.vault.stream import SEGMENT_SIZE, BlobReader, BlobWriter

HOUR = 3600


def header(tag: int, channels: int, rate: int, bits: int, data_len: int) -> bytes:
    block = channels * bits // 8
    fmt = (
        tag.to_bytes(2, "little")
        + channels.to_bytes(2, "little")
        + rate.to_bytes(4, "little")
        + (rate * block).to_bytes(4, "little")
        + block.to_bytes(2, "little")
        + bits.to_bytes(2, "little")
    )
    if tag != 1:
        fmt += b"\0\0"
    body = b"WAVE" + b"fmt " + len(fmt).to_bytes(4, "little") + fmt
    body += b"data" + data_len.to_bytes(4, "little")
    return b"RIFF" + (len(body) + data_len).to_bytes(4, "little") + body


def one_second(tag: int, channels: int, rate: int) -> bytes:
    """A second of a 300 Hz tone (A-law or PCM16), repeated to make the hour."""
    tone = [round(8000 * sin(2 * pi * 300 * i / rate)) for i in range(rate)]
    if tag == 6:
        return bytes(0xD5 ^ (abs(v) >> 8 & 0x70) for v in tone)  # any A-law codes will do
    return array("h", [v for v in tone for _ in range(channels)]).tobytes()


def write_hour(out: BinaryIO, key: RecordKey, tag: int, channels: int, rate: int) -> None:
    second = one_second(tag, channels, rate)
    with BlobWriter(key, out) as writer:
        writer.write(header(tag, channels, rate, 8 if tag == 6 else 16, len(second) * HOUR))
        for _ in range(HOUR):
            writer.write(second)


class BlobSource:
    def __init__(self, reader: BlobReader) -> None:
        self._reader = reader
        self.size = reader.size

    def read(self, offset: int, length: int) -> bytes:
        return self._reader.read(offset, length)


class TimedSink(MiniaudioSink):
    """Notes when the device thread first takes samples after the start or a discard
    (a seek empties the queue, so the next samples taken are from the new place)."""

    def __init__(self) -> None:
        super().__init__(backends=("ALSA",))
        self.first_taken: float | None = None
        self.taken = 0

    def discard(self) -> int:
        dropped = super().discard()
        self.first_taken = None
        return dropped

    def _take(self, frames: int) -> bytes:
        out = super()._take(frames)
        if out:
            if self.first_taken is None:
                self.first_taken = time.perf_counter()
            self.taken += len(out) // self.frame_bytes
        return out


def wait(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step did not finish")
        time.sleep(0.0005)


def rss_kib() -> int:
    """Resident memory now (not the peak: the file was written by this process)."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def play_hour(path: Path, key: RecordKey, speed: float) -> dict[str, float]:
    with path.open("rb") as file:
        reader = BlobReader(key, file)
        sink = TimedSink()
        ended = threading.Event()

        def on_event(event: PlayerEvent) -> None:
            if isinstance(event, Ended):
                ended.set()

        player = Player(BlobSource(reader), sink, on_event)
        player.set_speed(speed)
        rate = player.format.sample_rate
        rss0 = rss_kib()
        pressed = time.perf_counter()
        player.play()
        wait(lambda: sink.first_taken is not None)
        first = sink.first_taken - pressed  # type: ignore[operator]
        cpu0, taken0 = time.process_time(), sink.taken
        wait(lambda: sink.taken - taken0 >= 20 * rate)
        cpu = (time.process_time() - cpu0) / ((sink.taken - taken0) / rate * speed)
        rss = rss_kib() - rss0
        seeks = []
        for target in (0.71, 0.12, 0.93):
            pressed = time.perf_counter()
            player.seek(HOUR * target)
            wait(lambda t=pressed: sink.first_taken is not None and sink.first_taken > t)
            seeks.append(sink.first_taken - pressed)  # type: ignore[operator]
        seek = max(seeks)
        player.close()
        reader.close()
    return {"first_ms": first * 1000, "seek_ms": seek * 1000, "rss_kib": rss, "cpu": cpu}


def aes_per_second(bytes_per_second: int) -> float:
    """AES-GCM alone over one second of audio in 64 KiB segments: the floor of decryption."""
    aead, nonce = AESGCM(os.urandom(32)), os.urandom(12)
    segment = os.urandom(SEGMENT_SIZE)
    start = time.process_time()
    for _ in range(2000):
        aead.decrypt(nonce, aead.encrypt(nonce, segment, b""), b"")
    per_segment = (time.process_time() - start) / 2000 / 2
    return per_segment * bytes_per_second / SEGMENT_SIZE


def stretch_cost(rate: int, channels: int, speed: float) -> float:
    """CPU seconds of WSOLA per second of recording."""
    pcm = array("h", [round(8000 * sin(i / 7)) for i in range(rate * channels * 5)]).tobytes()
    stretcher = TimeStretcher(rate, channels, speed)
    start = time.process_time()
    step = 2 * channels * rate // 20
    for i in range(0, len(pcm), step):
        stretcher.feed(pcm[i : i + step])
    return (time.process_time() - start) / 5


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / ".asoundrc").write_text("pcm.!default { type null }\n", encoding="utf-8")
        os.environ["HOME"] = str(home)
        key = RecordKey("BENCH/audio-1", new_data_key())
        cases = [("8 kHz mono A-law", 6, 1, 8000), ("48 kHz stereo PCM16", 1, 2, 48000)]
        print(
            "| recording (60 min) | speed | first sound | seek | RSS growth | CPU/s audio "
            "| AES-GCM alone |"
        )
        print("|---|---|---|---|---|---|---|")
        for label, tag, channels, rate in cases:
            path = home / f"{rate}.blob"
            with path.open("wb") as out:
                write_hour(out, key, tag, channels, rate)
            per_second = rate * channels * (1 if tag == 6 else 2)
            floor = aes_per_second(per_second)
            for speed in (1.0, 1.5):
                r = play_hour(path, key, speed)
                print(
                    f"| {label} | {speed:g}x | {r['first_ms']:.1f} ms | {r['seek_ms']:.1f} ms "
                    f"| {r['rss_kib'] / 1024:.1f} MiB | {r['cpu'] * 1000:.2f} ms "
                    f"| {floor * 1e6:.1f} µs |"
                )
            path.unlink()
        print()
        print("| WSOLA alone | 0.75x | 1.5x | 2x |")
        print("|---|---|---|---|")
        for rate, channels in ((8000, 1), (16000, 1), (48000, 2)):
            costs = [stretch_cost(rate, channels, s) * 1000 for s in (0.75, 1.5, 2.0)]
            cells = " | ".join(f"{c:.1f} ms" for c in costs)
            print(f"| {rate // 1000} kHz, {channels} ch (CPU per second of recording) | {cells} |")
        print(f"\npython {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
